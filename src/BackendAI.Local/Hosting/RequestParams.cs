using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Client.Errors;
using Microsoft.AspNetCore.Http;

namespace BackendAI.Local.Hosting;

/// <summary>
/// The parameters of a request, read as upstream does (auth-and-transport.md §2.3): the JSON body when
/// the request has one (also on GET/DELETE), else the query string; validated strictly. Collects
/// problems and throws one <c>400 invalid-api-params</c> "Input validation error" from <see cref="ThrowIfInvalid"/>.
/// </summary>
public sealed class RequestParams
{
    private readonly JsonObject _values;
    private readonly JsonObject _errors = [];
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    private RequestParams(JsonObject values) => _values = values;

    /// <summary>The raw parameters.</summary>
    public JsonObject Values => _values;

    /// <summary>True when the request carries a body (non-zero Content-Length or chunked).</summary>
    public static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);

    /// <summary>Reads the body (JSON object; "Malformed body" otherwise) or the query string.</summary>
    /// <param name="context">The request.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public static async Task<RequestParams> ReadAsync(HttpContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (!HasBody(request)) return FromQuery(request.Query);

        // Bounded: a parameter body never needs more than MaxBodyBytes.
        if (request.ContentLength > MaxBodyBytes) throw TooLarge();
        using var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) throw TooLarge();
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0) return new RequestParams([]);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
        catch (JsonException)
        {
            throw ApiProblemException.InvalidParams("Malformed body");
        }
        return node switch
        {
            JsonObject o => new RequestParams(o),
            null => new RequestParams([]),
            _ => throw ApiProblemException.InvalidParams("Malformed body"),
        };

        static ApiProblemException TooLarge() =>
            ApiProblemException.InvalidParams($"Malformed body (larger than {MaxBodyBytes} bytes)");
    }

    /// <summary>The largest JSON parameter body accepted (8 MiB).</summary>
    public const int MaxBodyBytes = 8 << 20;

    /// <summary>Parameters from an already-built JSON object (e.g. a merged create-from-template body).</summary>
    public static RequestParams FromJson(JsonObject values) => new(values ?? throw new ArgumentNullException(nameof(values)));

    /// <summary>Parameters from the query string only (repeated keys become a list).</summary>
    public static RequestParams FromQuery(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var o = new JsonObject();
        foreach (var (key, values) in query)
        {
            if (values.Count == 1) o[key] = values[0];
            else o[key] = new JsonArray([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);
        }
        return new RequestParams(o);
    }

    /// <summary>Declares the accepted keys (with aliases); any other key is reported as "&lt;key&gt; is not allowed key".</summary>
    public RequestParams Allow(params string[] keys)
    {
        foreach (var k in keys) _known.Add(k);
        foreach (var (key, _) in _values)
            if (!_known.Contains(key)) _errors[key] = $"{key} is not allowed key";
        return this;
    }

    /// <summary>True when one of the spellings is present (even as null).</summary>
    public bool Has(params string[] spellings) => spellings.Any(_values.ContainsKey);

    /// <summary>The node under the first present spelling, or null.</summary>
    public JsonNode? Node(params string[] spellings)
    {
        foreach (var s in spellings)
            if (_values.TryGetPropertyValue(s, out var n)) return n;
        return null;
    }

    private string KeyOf(string[] spellings) => spellings.FirstOrDefault(_values.ContainsKey) ?? spellings[0];

    /// <summary>An optional string (null when absent or null).</summary>
    public string? String(params string[] spellings)
    {
        var n = Node(spellings);
        if (n is null) return null;
        if (n is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        _errors[KeyOf(spellings)] = "value is not a string";
        return null;
    }

    /// <summary>A required string; reports "is required" when absent.</summary>
    public string RequiredString(params string[] spellings)
    {
        if (Node(spellings) is null)
        {
            _errors[spellings[0]] = "is required";
            return "";
        }
        return String(spellings) ?? "";
    }

    /// <summary>A to-bool value (JSON bool, number, null, or t/true/y/yes/on/1/1.0 and false/n/no/off/0/none/0.0).</summary>
    public bool Bool(bool defaultValue, params string[] spellings)
    {
        if (!Has(spellings)) return defaultValue;
        var n = Node(spellings);
        if (TryToBool(n, out var b)) return b;
        _errors[KeyOf(spellings)] = "value can't be converted to bool";
        return defaultValue;
    }

    /// <summary>The to-bool rules of upstream.</summary>
    public static bool TryToBool(JsonNode? n, out bool value)
    {
        value = false;
        if (n is null) return true;
        if (n is not JsonValue v) return false;
        switch (v.GetValueKind())
        {
            case JsonValueKind.True: value = true; return true;
            case JsonValueKind.False: return true;
            case JsonValueKind.Number: value = v.GetValue<double>() != 0; return true;
            case JsonValueKind.String:
                switch (v.GetValue<string>().Trim().ToLowerInvariant())
                {
                    case "t" or "true" or "y" or "yes" or "on" or "1" or "1.0": value = true; return true;
                    case "false" or "n" or "no" or "off" or "0" or "none" or "0.0": return true;
                    default: return false;
                }
            default: return false;
        }
    }

    /// <summary>An integer (numeric strings accepted), range-checked.</summary>
    public int Int(int defaultValue, int min, int max, params string[] spellings)
    {
        var n = Node(spellings);
        if (n is null) return defaultValue;
        if (n is JsonValue v)
        {
            if (v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i) && i >= min && i <= max) return i;
            if (v.TryGetValue<string>(out var s) && int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out i) && i >= min && i <= max) return i;
        }
        _errors[KeyOf(spellings)] = $"value is not an integer within {min}..{max}";
        return defaultValue;
    }

    /// <summary>Records a problem with one key.</summary>
    public void Error(string key, string message) => _errors[key] = message;

    /// <summary>True when no problem was recorded.</summary>
    public bool IsValid => _errors.Count == 0;

    /// <summary>Throws <c>400 invalid-api-params</c> "Input validation error" with <c>data</c> = key → problem.</summary>
    public void ThrowIfInvalid()
    {
        if (_errors.Count > 0)
            throw new ApiProblemException(ProblemTypes.InvalidApiParams, "Input validation error", _errors.DeepClone());
    }
}

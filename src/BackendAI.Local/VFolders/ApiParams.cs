using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using Microsoft.AspNetCore.Http;

namespace BackendAI.Local.VFolders;

/// <summary>
/// Request parameters read the upstream way (auth-and-transport.md §2.3): the JSON body when the request has one,
/// otherwise the query string; unknown keys are refused.
/// </summary>
internal sealed class ApiParams
{
    private readonly JsonObject _values;

    private ApiParams(JsonObject values) => _values = values;

    /// <summary>Reads the parameters of <paramref name="context"/> with the server's shared rules (body, else query string).</summary>
    public static async Task<ApiParams> ReadAsync(HttpContext context, CancellationToken cancellationToken) =>
        new((await RequestParams.ReadAsync(context, cancellationToken).ConfigureAwait(false)).Values);

    /// <summary>Parameters from a JSON object (tests, internal callers).</summary>
    public static ApiParams From(JsonObject values) => new(values);

    /// <summary>Refuses keys outside <paramref name="allowed"/> (400 "Input validation error").</summary>
    public ApiParams AllowOnly(params string[] allowed)
    {
        var bad = new JsonObject();
        foreach (var (key, _) in _values)
            if (!allowed.Contains(key, StringComparer.Ordinal)) bad[key] = $"{key} is not allowed key";
        if (bad.Count > 0) throw ApiProblemException.InvalidParams("Input validation error", bad);
        return this;
    }

    /// <summary>Whether any of the names is present (even with a null value).</summary>
    public bool Has(params string[] names) => names.Any(_values.ContainsKey);

    /// <summary>The raw JSON value of a parameter (first present alias), or null.</summary>
    public JsonNode? Node(string key, params string[] aliases) => Lookup(key, aliases).Node;

    /// <summary>A string parameter (first present alias), or null.</summary>
    public string? String(string key, params string[] aliases)
    {
        var (name, node) = Lookup(key, aliases);
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        throw Invalid(name, "value is not a string");
    }

    /// <summary>A required string parameter.</summary>
    public string RequiredString(string key, params string[] aliases) =>
        String(key, aliases) ?? throw Invalid(key, "is required");

    /// <summary>A "to-bool" flag: JSON booleans, numbers, null and the usual strings.</summary>
    public bool Bool(string key, bool defaultValue, params string[] aliases)
    {
        var (name, node) = Lookup(key, aliases);
        if (!Has([key, .. aliases])) return defaultValue;
        if (RequestParams.TryToBool(node, out var value)) return value;
        throw Invalid(name, "value can't be converted to Bool");
    }

    /// <summary>A strict JSON boolean (null when absent or null).</summary>
    public bool? StrictBool(string key)
    {
        var node = _values[key];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
        throw Invalid(key, "value should be True or False");
    }

    /// <summary>A non-negative integer parameter (numeric strings accepted), or null.</summary>
    public long? Long(string key, params string[] aliases)
    {
        var (name, node) = Lookup(key, aliases);
        if (node is null) return null;
        if (node is JsonValue v)
        {
            if (v.TryGetValue<long>(out var l) && l >= 0) return l;
            if (v.TryGetValue<double>(out var d) && d >= 0 && d == Math.Floor(d) && d < long.MaxValue) return (long)d;
            if (v.TryGetValue<string>(out var s) && long.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var p)) return p;
        }
        throw Invalid(name, "value is not a non-negative integer");
    }

    /// <summary>A list of strings (a JSON array, or a single string).</summary>
    public IReadOnlyList<string>? StringList(string key, params string[] aliases)
    {
        var (name, node) = Lookup(key, aliases);
        switch (node)
        {
            case null: return null;
            case JsonValue v when v.TryGetValue<string>(out var one): return [one];
            case JsonArray a:
                var list = new List<string>(a.Count);
                foreach (var item in a)
                {
                    if (item is JsonValue iv && iv.TryGetValue<string>(out var s)) list.Add(s);
                    else throw Invalid(name, "value is not a list of strings");
                }
                return list;
            default: throw Invalid(name, "value is not a list of strings");
        }
    }

    private (string Name, JsonNode? Node) Lookup(string key, string[] aliases)
    {
        if (_values.TryGetPropertyValue(key, out var node)) return (key, node);
        foreach (var a in aliases)
            if (_values.TryGetPropertyValue(a, out node)) return (a, node);
        return (key, null);
    }

    /// <summary>The 400 "Input validation error" naming one key.</summary>
    public static ApiProblemException Invalid(string key, string reason) =>
        ApiProblemException.InvalidParams("Input validation error", new JsonObject { [key] = reason });
}

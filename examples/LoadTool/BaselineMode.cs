using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Client.Auth;
using BackendAI.Client.Config;

namespace BackendAI.Examples.LoadTool;

/// <summary>
/// The baseline: the same requests the runtime makes, written by hand — one shared <see cref="HttpClient"/>,
/// <see cref="RequestSigner"/> for the HMAC, <c>POST /session</c>, <c>POST /session/{name}</c> (query, then
/// <c>continue</c> while <c>continued</c>) and <c>DELETE /session/{name}</c>. No retries, no actors, no events.
/// </summary>
public sealed class BaselineMode : ILoadMode
{
    private const string ApiVersion = "v6.20220315";
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly RequestSigner _signer;
    private readonly string _domain, _group;

    /// <summary>Creates the baseline for the target's endpoint and keypair.</summary>
    public BaselineMode(BackendAIClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _endpoint = options.Endpoints[0];
        _signer = new RequestSigner(options.AccessKey, options.SecretKey);
        _domain = options.Domain;
        _group = options.Group;
        _http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = int.MaxValue,
            AutomaticDecompression = DecompressionMethods.None,
        })
        { Timeout = TimeSpan.FromMinutes(5) };
    }

    /// <inheritdoc />
    public string Name => "baseline";

    /// <inheritdoc />
    public async Task<ILoadSession> StartAsync(string name, string image, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["name"] = name,
            ["image"] = image,
            ["config"] = new JsonObject { ["mounts"] = new JsonArray(), ["resources"] = new JsonObject() },
            ["type"] = "interactive",
            ["domain"] = _domain,
            ["group"] = _group,
            ["enqueueOnly"] = false,
            ["maxWaitSeconds"] = 0,
            ["reuseIfExists"] = true,
        };
        using var _ = await SendAsync(HttpMethod.Post, "/session", body, cancellationToken).ConfigureAwait(false);
        return new Session(this, name);
    }

    private async Task<JsonDocument> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct)
    {
        var uri = new Uri(_endpoint, path);
        using var request = new HttpRequestMessage(method, uri);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        var date = RequestSigner.FormatDate(DateTimeOffset.UtcNow);
        var contentType = body is null ? "application/octet-stream" : "application/json";
        request.Headers.TryAddWithoutValidation("Date", date);
        request.Headers.TryAddWithoutValidation("X-BackendAI-Version", ApiVersion);
        request.Headers.TryAddWithoutValidation("Authorization",
            _signer.Authorization(new SignatureInput(method.Method, uri.PathAndQuery, date, uri.Authority, contentType, ApiVersion)));
        using var response = await _http.SendAsync(request, cancellationToken: ct).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw new BaselineHttpException((int)response.StatusCode, Encoding.UTF8.GetString(bytes));
        return bytes.Length == 0 ? JsonDocument.Parse("{}") : JsonDocument.Parse(bytes);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class Session(BaselineMode mode, string name) : ILoadSession
    {
        public async Task<string> ExecuteAsync(string code, CancellationToken cancellationToken)
        {
            var stdout = new StringBuilder();
            string? runId = null;
            var body = new JsonObject { ["mode"] = "query", ["code"] = code, ["runId"] = null };
            while (true)
            {
                using var doc = await mode.SendAsync(HttpMethod.Post, "/session/" + Uri.EscapeDataString(name), body, cancellationToken).ConfigureAwait(false);
                var result = doc.RootElement.GetProperty("result");
                if (result.TryGetProperty("console", out var console) && console.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in console.EnumerateArray())
                        if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() >= 2 && item[0].GetString() == "stdout")
                            stdout.Append(item[1].GetString());
                }
                var status = result.GetProperty("status").GetString();
                runId ??= result.TryGetProperty("runId", out var r) ? r.GetString() : null;
                switch (status)
                {
                    case "finished" or "exec-timeout":
                        return stdout.ToString();
                    case "continued":
                        body = new JsonObject { ["mode"] = "continue", ["code"] = "", ["runId"] = runId };
                        break;
                    default:
                        throw new InvalidOperationException($"Unexpected execute status '{status}'.");
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            using var _ = await mode.SendAsync(HttpMethod.Delete, "/session/" + Uri.EscapeDataString(name), null, CancellationToken.None).ConfigureAwait(false);
        }
    }
}

/// <summary>A non-2xx answer in the baseline loop; its type name is the error bucket, so the status is in the name.</summary>
public sealed class BaselineHttpException(int status, string body)
    : Exception($"HTTP {status}: {(body.Length > 300 ? body[..300] : body)}")
{
    /// <summary>The HTTP status.</summary>
    public int Status { get; } = status;
}

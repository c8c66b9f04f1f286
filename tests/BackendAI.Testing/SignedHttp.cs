using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Client.Auth;
using BackendAI.Local.Hosting;

namespace BackendAI.Testing;

/// <summary>
/// Raw, signed HTTP requests for tests: builds requests exactly as client-py would (ISO date,
/// <c>X-BackendAI-Version</c>, HMAC over the raw target, Host and media type) with <see cref="RequestSigner"/>.
/// Use <see cref="Build"/> to tweak a request before sending (bad signatures, odd dates, no auth).
/// </summary>
public sealed class SignedHttp : IDisposable
{
    private readonly bool _ownsClient;

    /// <summary>Creates a helper for one keypair (null = anonymous: no Authorization header).</summary>
    /// <param name="endpoint">Server base URL.</param>
    /// <param name="accessKey">Access key, or null for anonymous requests.</param>
    /// <param name="secretKey">Secret key.</param>
    /// <param name="client">Optional shared HttpClient (not disposed by this helper).</param>
    public SignedHttp(Uri endpoint, string? accessKey, string? secretKey, HttpClient? client = null)
    {
        Endpoint = endpoint;
        AccessKey = accessKey;
        SecretKey = secretKey;
        _ownsClient = client is null;
        Client = client ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>Creates a helper for a server keypair.</summary>
    public SignedHttp(Uri endpoint, LocalKeypair keypair, HttpClient? client = null)
        : this(endpoint, keypair.AccessKey, keypair.SecretKey, client)
    {
    }

    /// <summary>Server base URL.</summary>
    public Uri Endpoint { get; }

    /// <summary>Access key (null = anonymous).</summary>
    public string? AccessKey { get; }

    private string? SecretKey { get; }

    /// <summary>The underlying client (infinite timeout; pass cancellation tokens).</summary>
    public HttpClient Client { get; }

    /// <summary><c>X-BackendAI-Version</c> to send.</summary>
    public string ApiVersion { get; set; } = "v6.20220315";

    /// <summary>Hash for signatures.</summary>
    public SignatureHash Hash { get; set; } = SignatureHash.Sha256;

    /// <summary>The absolute URI of a path (+query) relative to the endpoint.</summary>
    public Uri UriOf(string pathAndQuery) => new(Endpoint.GetLeftPart(UriPartial.Authority) + "/" + pathAndQuery.TrimStart('/'));

    /// <summary>Builds a signed request. <paramref name="date"/> defaults to now.</summary>
    public HttpRequestMessage Build(HttpMethod method, string pathAndQuery, HttpContent? content = null, DateTimeOffset? date = null)
    {
        var uri = UriOf(pathAndQuery);
        var request = new HttpRequestMessage(method, uri) { Content = content };
        var dateText = RequestSigner.FormatDate(date ?? DateTimeOffset.UtcNow);
        request.Headers.TryAddWithoutValidation("Date", dateText);
        request.Headers.TryAddWithoutValidation("X-BackendAI-Version", ApiVersion);
        request.Headers.TryAddWithoutValidation("User-Agent", "BackendAI.Testing");
        if (AccessKey is not null && SecretKey is not null)
        {
            var contentType = content?.Headers.ContentType?.MediaType ?? "application/octet-stream";
            var signer = new RequestSigner(AccessKey, SecretKey, Hash);
            request.Headers.TryAddWithoutValidation("Authorization", signer.Authorization(
                new SignatureInput(method.Method, uri.PathAndQuery, dateText, uri.Authority, contentType, ApiVersion)));
        }
        return request;
    }

    /// <summary>Sends a signed request.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string pathAndQuery, HttpContent? content = null,
        CancellationToken cancellationToken = default) =>
        Client.SendAsync(Build(method, pathAndQuery, content), cancellationToken);

    /// <summary>Signed GET (optionally with a JSON body, as client-py does for files/download).</summary>
    public Task<HttpResponseMessage> GetAsync(string pathAndQuery, JsonNode? body = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, pathAndQuery, body is null ? null : Json(body), cancellationToken);

    /// <summary>Signed POST with a JSON body (null = no body).</summary>
    public Task<HttpResponseMessage> PostAsync(string pathAndQuery, JsonNode? body = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, pathAndQuery, body is null ? null : Json(body), cancellationToken);

    /// <summary>Signed DELETE (optionally with a JSON body).</summary>
    public Task<HttpResponseMessage> DeleteAsync(string pathAndQuery, JsonNode? body = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, pathAndQuery, body is null ? null : Json(body), cancellationToken);

    /// <summary>Signed PATCH without body.</summary>
    public Task<HttpResponseMessage> PatchAsync(string pathAndQuery, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, pathAndQuery, null, cancellationToken);

    /// <summary>Sends and parses a JSON response body; fails with the body text when the status differs from <paramref name="expectedStatus"/>.</summary>
    public async Task<JsonNode?> JsonAsync(HttpMethod method, string pathAndQuery, JsonNode? body = null, int expectedStatus = 200,
        CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(method, pathAndQuery, body is null ? null : Json(body), cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if ((int)response.StatusCode != expectedStatus)
            throw new HttpRequestException($"{method} {pathAndQuery}: expected {expectedStatus}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>A JSON body with <c>Content-Type: application/json</c> (no charset, as client-py sends).</summary>
    public static HttpContent Json(JsonNode body)
    {
        var c = new StringContent(body.ToJsonString(), Encoding.UTF8);
        c.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return c;
    }

    /// <summary>Reads a response body as JSON.</summary>
    public static async Task<JsonNode?> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsClient) Client.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() => $"SignedHttp({Endpoint}, {AccessKey ?? "anonymous"})";
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BackendAI.Client.Auth;
using BackendAI.Client.Config;
using BackendAI.Client.Errors;
using BackendAI.Client.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace BackendAI.Client.Rest;

/// <summary>The <c>X-RateLimit-*</c> values of the latest successful response (auth-and-transport.md §7).</summary>
/// <param name="Limit">Requests allowed per window.</param>
/// <param name="Remaining">Requests left in the rolling window.</param>
/// <param name="WindowSeconds">The window length in seconds (900 upstream).</param>
public sealed record RateLimitInfo(long Limit, long Remaining, int WindowSeconds);

/// <summary>One API call, described before it is sent; each attempt builds a fresh message from it.</summary>
internal sealed class ApiRequest
{
    public ApiRequest(HttpMethod method, string path)
    {
        Method = method;
        Path = path;
    }

    /// <summary>HTTP method.</summary>
    public HttpMethod Method { get; }
    /// <summary>API path such as <c>/session/abc</c> (segments already escaped).</summary>
    public string Path { get; }
    /// <summary>Query parameters (unescaped), in order.</summary>
    public List<KeyValuePair<string, string>> Query { get; } = [];
    /// <summary>Creates the body for one attempt; null = empty <c>text/plain</c> body.</summary>
    public Func<HttpContent>? Content { get; set; }
    /// <summary>SSE / WebSocket style: no Content-Type and no body, signed as <c>application/octet-stream</c>.</summary>
    public bool NoContentType { get; set; }
    /// <summary>Overrides the method-based idempotency (GET/HEAD/PUT/DELETE/OPTIONS retry).</summary>
    public bool? Idempotent { get; set; }
    /// <summary>Send without Authorization even when a keypair is configured.</summary>
    public bool Unsigned { get; set; }

    public ApiRequest With(string key, string? value)
    {
        if (value is not null) Query.Add(new(key, value));
        return this;
    }

    public bool IsIdempotent => Idempotent ?? (Method == HttpMethod.Get || Method == HttpMethod.Head || Method == HttpMethod.Put
        || Method == HttpMethod.Delete || Method == HttpMethod.Options);
}

/// <summary>
/// The wire core: one <see cref="SocketsHttpHandler"/>, URL building, fresh Date + signature per attempt,
/// failover across endpoints on connection-level errors, Polly retries for idempotent requests, error mapping.
/// </summary>
internal sealed partial class ApiTransport : IAsyncDisposable
{
    private static readonly HttpRequestOptionsKey<bool> NoRetry = new("backendai.no-retry");
    private readonly BackendAIClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RequestSigner? _signer;
    private readonly SocketsHttpHandler _handler;
    private readonly SocketsHttpHandler _storageHandler;
    private readonly Uri[] _endpoints;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _versionGate = new(1, 1);
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;
    private int _current;
    private ApiVersion? _version;

    public ApiTransport(BackendAIClientOptions options, ILoggerFactory? loggerFactory, TimeProvider? time)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)loggerFactory?.CreateLogger("BackendAI.Client") ?? NullLogger.Instance;
        if (options.EndpointType == EndpointType.Api && options.AccessKey.Length > 0)
            _signer = new RequestSigner(options.AccessKey, options.SecretKey, SignatureHash.Get(options.HashType));
        _endpoints = [.. options.Endpoints];
        if (options.ShuffleEndpoints && _endpoints.Length > 1) Random.Shared.Shuffle(_endpoints);
        Cookies = options.Cookies ?? new CookieContainer();
        _handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(25), // below the server's 30 s keep-alive
            ConnectTimeout = options.ConnectionTimeout,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            UseCookies = options.EndpointType == EndpointType.Session,
            CookieContainer = Cookies,
            MaxConnectionsPerServer = 64,
            EnableMultipleHttp2Connections = true,
        };
        if (options.SkipSslVerification)
            _handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        _storageHandler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = options.ConnectionTimeout,
            AllowAutoRedirect = false,
            UseCookies = false,
        };
        if (options.SkipSslVerification)
            _storageHandler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        Http = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        StorageHttp = new HttpClient(_storageHandler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        StorageHttp.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", options.UserAgent);
        _retry = BuildRetryPipeline();
    }

    /// <summary>The manager client (infinite timeout; per-call cancellation).</summary>
    public HttpClient Http { get; }
    /// <summary>The storage-proxy client: no Backend.AI headers, TLS verified unless the user turned it off.</summary>
    public HttpClient StorageHttp { get; }
    /// <summary>Cookies of the <c>session</c> endpoint type.</summary>
    public CookieContainer Cookies { get; }
    public BackendAIClientOptions Options => _options;
    public TimeProvider Time => _time;
    public ILogger Logger => _logger;
    public ApiVersion? NegotiatedVersion => _version;
    public RateLimitInfo? RateLimit { get; private set; }
    public event Action<RateLimitInfo>? RateLimitUpdated;

    /// <summary>The shared handler (for WebSocket connections through <see cref="HttpMessageInvoker"/>).</summary>
    public SocketsHttpHandler Handler => _handler;

    /// <summary>Moves past <paramref name="failed"/> if it is still the current endpoint (persistent rotation).</summary>
    public void Rotate(Uri failed)
    {
        lock (_gate)
        {
            if (_endpoints[_current] == failed) _current = (_current + 1) % _endpoints.Length;
        }
    }

    /// <summary>The endpoint requests currently go to (the one that worked last).</summary>
    public Uri CurrentEndpoint
    {
        get
        {
            lock (_gate) return _endpoints[_current];
        }
    }

    // ------------------------------------------------------------------ version

    public async Task<ApiVersion> EnsureVersionAsync(CancellationToken ct)
    {
        if (_options.ApiVersion is { } fixedVersion) return fixedVersion;
        if (_version is { } v) return v;
        await _versionGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_version is { } done) return done;
            var negotiated = await ProbeAsync(ct).ConfigureAwait(false);
            _version = negotiated;
            return negotiated;
        }
        finally
        {
            _versionGate.Release();
        }
    }

    public async Task<ApiVersion> NegotiateAsync(CancellationToken ct)
    {
        if (_options.ApiVersion is { } fixedVersion) return fixedVersion;
        await _versionGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var negotiated = await ProbeAsync(ct).ConfigureAwait(false);
            _version = negotiated;
            return negotiated;
        }
        finally
        {
            _versionGate.Release();
        }
    }

    private async Task<ApiVersion> ProbeAsync(CancellationToken ct)
    {
        var endpoint = CurrentEndpoint;
        var uri = _options.EndpointType == EndpointType.Session ? BuildUri(endpoint, "/func/", []) : endpoint;
        try
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, uri);
            req.Headers.TryAddWithoutValidation("User-Agent", _options.UserAgent);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(_options.ReadTimeout > TimeSpan.Zero ? _options.ReadTimeout : _options.ConnectionTimeout + TimeSpan.FromSeconds(10));
            using var resp = await Http.SendAsync(req, HttpCompletionOption.ResponseContentRead, cts.Token).ConfigureAwait(false);
            if (!resp.IsSuccessStatusCode) throw new HttpRequestException($"status {(int)resp.StatusCode}");
            var hello = await resp.Content.ReadFromJsonAsyncSafe(BackendAIJsonContext.Default.HelloResponse, cts.Token).ConfigureAwait(false);
            if (!ApiVersion.TryParse(hello?.Version, out var server)) throw new FormatException("no version in the hello response");
            if (server.Value > ApiVersion.Current) LogServerNewer(_logger, server.Value.ToString());
            if (server.Value < ApiVersion.OldestSupported) LogServerTooOld(_logger, server.Value.ToString());
            return ApiVersion.Min(server.Value, ApiVersion.Current);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogProbeFailed(_logger, endpoint.ToString(), ex.Message);
            return ApiVersion.Current;
        }
    }

    // ------------------------------------------------------------------ URL building and signing

    /// <summary>Builds the request URL as client-py does (endpoint path + API path, <c>func/</c> prefix in session mode).</summary>
    public Uri BuildUri(Uri endpoint, string apiPath, IReadOnlyList<KeyValuePair<string, string>> query)
    {
        var basePath = endpoint.AbsolutePath.TrimEnd('/');
        var path = apiPath.TrimStart('/');
        if (_options.EndpointType == EndpointType.Session && !path.StartsWith("server", StringComparison.Ordinal))
            path = "func/" + path;
        var sb = new StringBuilder();
        sb.Append(endpoint.Scheme).Append("://").Append(endpoint.Authority).Append(basePath).Append('/').Append(path);
        if (query.Count > 0)
        {
            sb.Append('?');
            for (var i = 0; i < query.Count; i++)
            {
                if (i > 0) sb.Append('&');
                sb.Append(EscapeQuery(query[i].Key)).Append('=').Append(EscapeQuery(query[i].Value));
            }
        }
        return new Uri(sb.ToString());
    }

    /// <summary>Escapes a query component like yarl: unreserved plus <c>* : @ , /</c> stay literal.</summary>
    public static string EscapeQuery(string value) =>
        Uri.EscapeDataString(value).Replace("%2A", "*", StringComparison.Ordinal).Replace("%3A", ":", StringComparison.Ordinal)
            .Replace("%40", "@", StringComparison.Ordinal).Replace("%2C", ",", StringComparison.Ordinal).Replace("%2F", "/", StringComparison.Ordinal);

    /// <summary>Escapes one path segment (session names, vfolder names).</summary>
    public static string Segment(string value) => Uri.EscapeDataString(value);

    /// <summary>The Backend.AI headers of one attempt: fresh Date, version, domain and (unless anonymous) Authorization.</summary>
    public List<KeyValuePair<string, string>> SignedHeaders(HttpMethod method, Uri uri, string signedContentType, ApiVersion version, bool unsigned = false)
    {
        var date = RequestSigner.FormatDate(_time.GetUtcNow());
        var headers = new List<KeyValuePair<string, string>>(5)
        {
            new("User-Agent", _options.UserAgent),
            new("X-BackendAI-Domain", _options.Domain),
            new("X-BackendAI-Version", version.ToString()),
            new("Date", date),
        };
        if (_signer is not null && !unsigned)
        {
            var input = new SignatureInput(method.Method, uri.PathAndQuery, date, uri.Authority, signedContentType, version.ToString());
            headers.Add(new("Authorization", _signer.Authorization(input, date[..10].Replace("-", "", StringComparison.Ordinal))));
        }
        return headers;
    }

    // ------------------------------------------------------------------ sending

    /// <summary>Sends with failover and (idempotent only) retries; returns a 2xx response with headers read.
    /// Error statuses are mapped and thrown.</summary>
    public Task<HttpResponseMessage> SendAsync(ApiRequest request, CancellationToken ct) =>
        Diagnostics.ClientTelemetry.IsActive ? Diagnostics.ClientTelemetry.TraceAsync(this, request, ct) : SendCoreAsync(request, ct);

    /// <summary><see cref="SendAsync"/> without telemetry.</summary>
    internal async Task<HttpResponseMessage> SendCoreAsync(ApiRequest request, CancellationToken ct)
    {
        var version = await EnsureVersionAsync(ct).ConfigureAwait(false);
        HttpResponseMessage response;
        if (request.IsIdempotent && _options.Retry.MaxAttempts > 1)
        {
            var context = ResilienceContextPool.Shared.Get(ct);
            try
            {
                response = await _retry.ExecuteAsync(
                    static async (ctx, state) => await state.Self.SendWithFailoverAsync(state.Request, state.Version, ctx.CancellationToken).ConfigureAwait(false),
                    context, (Self: this, Request: request, Version: version)).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }
        else
        {
            response = await SendWithFailoverAsync(request, version, ct).ConfigureAwait(false);
        }

        if (response.IsSuccessStatusCode)
        {
            CaptureRateLimit(response);
            return response;
        }
        using (response)
        {
            throw await ToExceptionAsync(response, request.Path, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Sends and parses a JSON body (an empty body gives an undefined element).</summary>
    public async Task<JsonElement> SendJsonAsync(ApiRequest request, CancellationToken ct)
    {
        using var response = await SendAsync(request, ct).ConfigureAwait(false);
        return await ReadJsonAsync(response, ct).ConfigureAwait(false);
    }

    /// <summary>Sends and discards the body.</summary>
    public async Task SendNoContentAsync(ApiRequest request, CancellationToken ct)
    {
        using var response = await SendAsync(request, ct).ConfigureAwait(false);
    }

    public async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        using var cts = ReadTimeoutSource(ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false);
        if (bytes.Length == 0) return default;
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new BackendProtocolException($"The server sent a malformed JSON body ({(int)response.StatusCode}, {bytes.Length} bytes).", ex);
        }
    }

    private CancellationTokenSource ReadTimeoutSource(CancellationToken ct)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (_options.ReadTimeout > TimeSpan.Zero) cts.CancelAfter(_options.ReadTimeout);
        return cts;
    }

    private async Task<HttpResponseMessage> SendWithFailoverAsync(ApiRequest request, ApiVersion version, CancellationToken ct)
    {
        Exception? last = null;
        for (var attempt = 0; attempt < _endpoints.Length; attempt++)
        {
            Uri endpoint;
            lock (_gate) endpoint = _endpoints[_current];
            var uri = BuildUri(endpoint, request.Path, request.Query);
            using var message = new HttpRequestMessage(request.Method, uri);
            string signedType;
            if (request.NoContentType)
            {
                signedType = "application/octet-stream";
            }
            else
            {
                var content = request.Content?.Invoke() ?? new ByteArrayContent([]) { Headers = { ContentType = new MediaTypeHeaderValue("text/plain") } };
                message.Content = content;
                var media = content.Headers.ContentType?.MediaType;
                if (media is null)
                {
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    media = "application/octet-stream";
                }
                signedType = media.ToLowerInvariant();
            }
            foreach (var (name, value) in SignedHeaders(request.Method, uri, signedType, version, request.Unsigned))
                message.Headers.TryAddWithoutValidation(name, value);

            using var cts = ReadTimeoutSource(ct);
            try
            {
                var response = await Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
                LogResponse(_logger, request.Method.Method, request.Path, (int)response.StatusCode);
                return response;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && IsConnectionLevel(ex, out var beforeSend))
            {
                last = ex;
                LogConnectionFailed(_logger, endpoint.ToString(), ex.Message);
                if (!request.IsIdempotent && !beforeSend)
                    throw new BackendConnectionException(
                        $"The connection to {endpoint} failed after the {request.Method} {request.Path} request may have been sent; it is not repeated because it is not idempotent.", ex);
                Rotate(endpoint);
            }
        }
        throw new BackendConnectionException(
            "Request to the API endpoint has failed. Check your network connection and/or the server status. Tried: "
            + string.Join(", ", _endpoints.Select(e => e.ToString())), last);
    }

    /// <summary>Connection-level failure (connect refused/reset, DNS, TLS, timeouts). <paramref name="beforeSend"/> is true
    /// when the request cannot have reached the server (the connection was never established).</summary>
    public static bool IsConnectionLevel(Exception ex, out bool beforeSend)
    {
        beforeSend = false;
        switch (ex)
        {
            case HttpRequestException h:
                beforeSend = h.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                    or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError
                    || h.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.HostUnreachable or SocketError.NetworkUnreachable };
                return true;
            case OperationCanceledException oce:
                // Not the caller's token: a connect timeout (TimeoutException inside) or our read timeout.
                beforeSend = oce.InnerException is TimeoutException;
                return true;
            case IOException or SocketException:
                return true;
            default:
                return false;
        }
    }

    private ResiliencePipeline<HttpResponseMessage> BuildRetryPipeline()
    {
        var r = _options.Retry;
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time };
        builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = Math.Max(1, r.MaxAttempts - 1),
            BackoffType = DelayBackoffType.Constant,
            UseJitter = false,
            Delay = r.InitialBackoff,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
            {
                { Exception: BackendConnectionException } => true,
                { Result: { } resp } => IsTransient(resp) && (RetryAfterOf(resp) is not { } ra || ra <= r.MaxRetryAfter),
                _ => false,
            }),
            DelayGenerator = args =>
            {
                if (args.Outcome.Result is { } resp && RetryAfterOf(resp) is { } ra) return ValueTask.FromResult<TimeSpan?>(ra);
                var baseMs = r.InitialBackoff.TotalMilliseconds * Math.Pow(r.BackoffMultiplier, args.AttemptNumber);
                var capped = Math.Min(baseMs, r.MaxBackoff.TotalMilliseconds);
                var jittered = capped * (0.8 + (Random.Shared.NextDouble() * 0.4));
                return ValueTask.FromResult<TimeSpan?>(TimeSpan.FromMilliseconds(Math.Min(jittered, r.MaxBackoff.TotalMilliseconds)));
            },
            OnRetry = args =>
            {
                LogRetry(_logger, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds,
                    args.Outcome.Result is { } resp ? ((int)resp.StatusCode).ToString(CultureInfo.InvariantCulture) : args.Outcome.Exception?.GetType().Name ?? "?");
                return default;
            },
        });
        return builder.Build();
    }

    private static bool IsTransient(HttpResponseMessage resp) =>
        resp.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    internal TimeSpan? RetryAfterOf(HttpResponseMessage resp)
    {
        var ra = resp.Headers.RetryAfter;
        if (ra is null) return null;
        if (ra.Delta is { } d) return d < TimeSpan.Zero ? TimeSpan.Zero : d;
        if (ra.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }

    private void CaptureRateLimit(HttpResponseMessage resp)
    {
        if (!TryHeaderLong(resp, "X-RateLimit-Limit", out var limit) || !TryHeaderLong(resp, "X-RateLimit-Remaining", out var remaining)) return;
        var window = TryHeaderLong(resp, "X-RateLimit-Window", out var w) ? (int)w : 900;
        var info = new RateLimitInfo(limit, remaining, window);
        RateLimit = info;
        RateLimitUpdated?.Invoke(info);
    }

    private static bool TryHeaderLong(HttpResponseMessage resp, string name, out long value)
    {
        value = 0;
        return resp.Headers.TryGetValues(name, out var values)
            && long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Reads (at most 1 MiB of) an error body and maps it.</summary>
    public async Task<BackendApiException> ToExceptionAsync(HttpResponseMessage response, string path, CancellationToken ct)
    {
        string body;
        try
        {
            using var cts = ReadTimeoutSource(ct);
            await using var stream = await response.Content.ReadAsStreamAsync(cts.Token).ConfigureAwait(false);
            var buffer = new byte[1 << 20];
            var total = 0;
            int n;
            while (total < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(total), cts.Token).ConfigureAwait(false)) > 0) total += n;
            body = Encoding.UTF8.GetString(buffer, 0, total);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            body = string.Empty;
        }
        return ProblemMapper.Map((int)response.StatusCode, response.ReasonPhrase ?? response.StatusCode.ToString(), body, path, RetryAfterOf(response));
    }

    /// <summary>Rewrites a storage-proxy URL with <see cref="BackendAIClientOptions.StorageProxyOverrides"/> and sets <c>?token=</c>.</summary>
    public Uri StorageUri(string url, string token)
    {
        var overrides = _options.StorageProxyOverrides;
        if (overrides.Count > 0)
        {
            if (overrides.TryGetValue(url, out var mapped)) url = mapped;
            else
            {
                var hit = overrides.FirstOrDefault(kv => url.StartsWith(kv.Key, StringComparison.Ordinal));
                if (hit.Key is null)
                    throw new BackendClientException($"The storage proxy URL '{url}' is not in override-storage-proxy.", "override-storage-proxy");
                url = hit.Value + url[hit.Key.Length..];
            }
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u))
            throw new BackendProtocolException($"The server returned an invalid storage URL '{url}'.");
        var b = new UriBuilder(u) { Query = "token=" + Uri.EscapeDataString(token) };
        return b.Uri;
    }

    public ValueTask DisposeAsync()
    {
        Http.Dispose();
        StorageHttp.Dispose();
        _handler.Dispose();
        _storageHandler.Dispose();
        _versionGate.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(1001, LogLevel.Debug, "{Method} {Path} -> {Status}")]
    private static partial void LogResponse(ILogger logger, string method, string path, int status);

    [LoggerMessage(1002, LogLevel.Warning, "Connection to {Endpoint} failed: {Reason}")]
    private static partial void LogConnectionFailed(ILogger logger, string endpoint, string reason);

    [LoggerMessage(1003, LogLevel.Information, "Retry {Attempt} in {DelayMs} ms after {Outcome}")]
    private static partial void LogRetry(ILogger logger, int attempt, double delayMs, string outcome);

    [LoggerMessage(1004, LogLevel.Debug, "Version probe of {Endpoint} failed ({Reason}); using the client's own version")]
    private static partial void LogProbeFailed(ILogger logger, string endpoint, string reason);

    [LoggerMessage(1005, LogLevel.Warning, "The server API version {Version} is newer than this client's; consider upgrading the client")]
    private static partial void LogServerNewer(ILogger logger, string version);

    [LoggerMessage(1006, LogLevel.Warning, "The server API version {Version} is older than the oldest supported (v5.20191215)")]
    private static partial void LogServerTooOld(ILogger logger, string version);
}

internal static class HttpContentJsonExtensions
{
    public static async Task<T?> ReadFromJsonAsyncSafe<T>(this HttpContent content, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, CancellationToken ct)
    {
        var bytes = await content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        return bytes.Length == 0 ? default : JsonSerializer.Deserialize(bytes, info);
    }
}

using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Client.Errors;
using BackendAI.Client.Json;
using BackendAI.Client.Models;
using BackendAI.Client.Rest;
using BackendAI.Client.Sessions;

namespace BackendAI.Client.WebSockets;

/// <summary>WebSocket streams (streaming.md part B) and the app list. Every connection is signed afresh
/// (Date, X-BackendAI-Version, Authorization; no Content-Type, signed as <c>application/octet-stream</c>) and pings every 30 s.</summary>
public class StreamsApi
{
    /// <summary>Largest accepted message (the upstream server's limit).</summary>
    public const int MaxMessageBytes = 16 << 20;
    private readonly ApiTransport _t;

    /// <summary>For mocks.</summary>
    protected StreamsApi() => _t = null!;

    internal StreamsApi(ApiTransport transport) => _t = transport;

    /// <summary>The WebSocket keep-alive ping interval (30 s like client-py).</summary>
    public static TimeSpan KeepAliveInterval { get; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may wait for its pong before the connection counts as dead and is aborted (half the interval,
    /// as aiohttp's heartbeat in client-py).</summary>
    public static TimeSpan KeepAliveTimeout { get; } = TimeSpan.FromSeconds(15);

    /// <summary>The ping interval of this instance's connections (tests shorten it).</summary>
    internal TimeSpan PingInterval { get; set; } = KeepAliveInterval;

    /// <summary>The pong timeout of this instance's connections.</summary>
    internal TimeSpan PongTimeout { get; set; } = KeepAliveTimeout;

    private async Task<string> StreamPathAsync(string sessionRef, string tail, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(sessionRef)) throw new BackendClientException("The session reference must not be empty.", "sessionRef");
        var v = await _t.EnsureVersionAsync(ct).ConfigureAwait(false);
        return $"/stream/{(v.UsesLegacyNaming ? "kernel" : "session")}/{ApiTransport.Segment(sessionRef)}/{tail}";
    }

    /// <summary>Opens one signed WebSocket, failing over across endpoints on connection-level errors.</summary>
    internal async Task<ClientWebSocket> ConnectAsync(ApiRequest request, CancellationToken ct)
    {
        var version = await _t.EnsureVersionAsync(ct).ConfigureAwait(false);
        Exception? last = null;
        for (var attempt = 0; attempt < _t.Options.Endpoints.Count; attempt++)
        {
            var endpoint = _t.CurrentEndpoint;
            var http = _t.BuildUri(endpoint, request.Path, request.Query);
            var ws = new ClientWebSocket();
            // An interval alone only sends unsolicited PONGs; with a timeout .NET sends real PINGs and aborts when no PONG comes.
            ws.Options.KeepAliveInterval = PingInterval;
            ws.Options.KeepAliveTimeout = PongTimeout;
            ws.Options.CollectHttpResponseDetails = true;
            foreach (var (name, value) in _t.SignedHeaders(HttpMethod.Get, http, "application/octet-stream", version))
                ws.Options.SetRequestHeader(name, value);
            var wsUri = new UriBuilder(http) { Scheme = http.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" }.Uri;
            try
            {
                using var invoker = new HttpMessageInvoker(_t.Handler, disposeHandler: false);
                await ws.ConnectAsync(wsUri, invoker, ct).ConfigureAwait(false);
                return ws;
            }
            catch (WebSocketException ex) when (ws.HttpStatusCode is var status && (int)status >= 400)
            {
                ws.Dispose();
                throw await UpgradeFailureAsync(request, (int)status, ex, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && (ex is WebSocketException or HttpRequestException or IOException or OperationCanceledException))
            {
                ws.Dispose();
                last = ex;
                _t.Rotate(endpoint);
            }
        }
        throw new BackendConnectionException("The WebSocket connection to every API endpoint has failed.", last);
    }

    private async Task<BackendException> UpgradeFailureAsync(ApiRequest request, int status, Exception cause, CancellationToken ct)
    {
        // The WebSocket API hides the problem body; ask again with a plain signed GET to read it.
        try
        {
            var probe = new ApiRequest(HttpMethod.Get, request.Path) { NoContentType = true, Idempotent = false };
            probe.Query.AddRange(request.Query);
            using var resp = await _t.SendAsync(probe, ct).ConfigureAwait(false);
        }
        catch (BackendApiException api)
        {
            return api;
        }
        catch (BackendException other)
        {
            return other;
        }
        return ProblemMapper.Create(status, "WebSocket upgrade refused", ProblemTypes.GenericError.Uri,
            $"The WebSocket upgrade was refused with HTTP {status}.", cause.Message, null, request.Path);
    }

    /// <summary>Streaming execute (<c>/stream/session/{id}/execute</c>): sends the first JSON frame, then read results.</summary>
    public virtual async Task<ExecuteStream> OpenExecuteAsync(string sessionRef, string code, string mode = "query", BatchOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        if (mode is not ("query" or "batch")) throw new BackendClientException($"Streaming execute mode must be query or batch (was '{mode}').", "mode");
        var path = await StreamPathAsync(sessionRef, "execute", cancellationToken).ConfigureAwait(false);
        var ws = await ConnectAsync(new ApiRequest(HttpMethod.Get, path) { NoContentType = true }, cancellationToken).ConfigureAwait(false);
        var opts = new JsonObject();
        if (mode == "batch")
        {
            var o = options ?? new BatchOptions("*", "*", "*");
            opts["clean"] = o.Clean;
            opts["build"] = o.Build;
            opts["buildLog"] = false;
            opts["exec"] = o.Exec;
        }
        var first = new JsonObject { ["code"] = code ?? string.Empty, ["mode"] = mode, ["options"] = opts };
        var stream = new ExecuteStream(ws);
        try
        {
            await stream.SendTextAsync(first.ToJsonString(), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return stream;
    }

    /// <summary>The terminal stream (<c>/stream/session/{id}/pty</c>).</summary>
    public virtual async Task<PtyStream> OpenPtyAsync(string sessionRef, CancellationToken cancellationToken = default)
    {
        var path = await StreamPathAsync(sessionRef, "pty", cancellationToken).ConfigureAwait(false);
        var ws = await ConnectAsync(new ApiRequest(HttpMethod.Get, path) { NoContentType = true }, cancellationToken).ConfigureAwait(false);
        return new PtyStream(ws);
    }

    /// <summary>A raw TCP tunnel to an app service (<c>/stream/session/{id}/tcpproxy?app=…</c>); BINARY frames both ways.</summary>
    public virtual async Task<WebSocket> OpenTcpProxyAsync(string sessionRef, string app, int? port = null,
        IReadOnlyDictionary<string, object?>? arguments = null, IReadOnlyDictionary<string, string>? envs = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(app)) throw new BackendClientException("The app name is required.", "app");
        if (port is < 1024 or > 65535) throw new BackendClientException($"port must be within 1024–65535 (was {port}).", "port");
        var path = await StreamPathAsync(sessionRef, "tcpproxy", cancellationToken).ConfigureAwait(false);
        var req = new ApiRequest(HttpMethod.Get, path) { NoContentType = true }.With("app", app)
            .With("port", port?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (arguments is { Count: > 0 }) req.With("arguments", Wire.ToNode(arguments.ToDictionary(kv => kv.Key, kv => kv.Value))!.ToJsonString());
        if (envs is { Count: > 0 }) req.With("envs", Wire.Map(envs)!.ToJsonString());
        return await ConnectAsync(req, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The session's app services (<c>GET /stream/session/{id}/apps</c>).</summary>
    public virtual async Task<IReadOnlyList<ServicePort>> GetAppsAsync(string sessionRef, CancellationToken cancellationToken = default)
    {
        var path = await StreamPathAsync(sessionRef, "apps", cancellationToken).ConfigureAwait(false);
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Get, path), cancellationToken).ConfigureAwait(false);
        return SessionsApi.ParseServicePorts(j);
    }

    /// <summary>Parses a JSON text frame of the named stream, or throws <see cref="BackendProtocolException"/>.</summary>
    internal static JsonElement ParseJsonFrame(byte[] payload, string stream)
    {
        try
        {
            return Wire.Parse(Encoding.UTF8.GetString(payload));
        }
        catch (JsonException ex)
        {
            throw new BackendProtocolException($"The {stream} stream sent a frame that is not JSON.", ex);
        }
    }

    internal static async Task<(WebSocketMessageType Type, byte[] Payload)?> ReceiveMessageAsync(WebSocket ws, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var ms = new MemoryStream();
            while (true)
            {
                ValueWebSocketReceiveResult r;
                try
                {
                    r = await ws.ReceiveAsync(buffer.AsMemory(), ct).ConfigureAwait(false);
                }
                catch (WebSocketException) when (ws.State is WebSocketState.Closed or WebSocketState.Aborted or WebSocketState.CloseReceived)
                {
                    return null;
                }
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    if (ws.State == WebSocketState.CloseReceived)
                        await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct).ConfigureAwait(false);
                    return null;
                }
                if (ms.Length + r.Count > MaxMessageBytes)
                    throw new BackendProtocolException($"A WebSocket message exceeds {MaxMessageBytes >> 20} MiB.");
                ms.Write(buffer, 0, r.Count);
                if (r.EndOfMessage) return (r.MessageType, ms.ToArray());
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>One streaming-execute run. Read results until <see cref="ExecutionResult.IsFinished"/>; answer
/// <c>waiting-input</c> with <see cref="SendInputAsync"/>.</summary>
public sealed class ExecuteStream : IAsyncDisposable
{
    private readonly ClientWebSocket _ws;

    internal ExecuteStream(ClientWebSocket ws) => _ws = ws;

    /// <summary>The underlying socket.</summary>
    public WebSocket Socket => _ws;

    internal Task SendTextAsync(string text, CancellationToken ct) =>
        _ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, ct);

    /// <summary>Sends the user's input as a plain text frame.</summary>
    public Task SendInputAsync(string input, CancellationToken cancellationToken = default) => SendTextAsync(input ?? string.Empty, cancellationToken);

    /// <summary>The next result, or null once the server closed the stream.</summary>
    /// <exception cref="BackendApiException">The server sent <c>{"status": "error"}</c>.</exception>
    /// <exception cref="BackendConnectionException">The server sent <c>server-restarting</c> (connect again).</exception>
    public async Task<ExecutionResult?> ReadAsync(CancellationToken cancellationToken = default)
    {
        var msg = await StreamsApi.ReceiveMessageAsync(_ws, cancellationToken).ConfigureAwait(false);
        if (msg is null) return null;
        var j = StreamsApi.ParseJsonFrame(msg.Value.Payload, "execute");
        switch (j.Str("status"))
        {
            case "error":
                throw new BackendApiException(500, "Stream error", ProblemTypes.GenericError.Uri, "The execute stream reported an error.", j.Str("msg"));
            case "server-restarting":
                throw new BackendConnectionException("The API server is restarting or the session is terminating: " + j.Str("msg"));
        }
        return SessionsApi.ParseExecutionResult(j);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_ws.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        _ws.Dispose();
    }
}

/// <summary>A terminal attached to a session: base64 JSON frames both ways.</summary>
public sealed class PtyStream : IAsyncDisposable
{
    private readonly ClientWebSocket _ws;

    internal PtyStream(ClientWebSocket ws) => _ws = ws;

    private Task SendAsync(JsonObject o, CancellationToken ct) =>
        _ws.SendAsync(Encoding.UTF8.GetBytes(o.ToJsonString()), WebSocketMessageType.Text, true, ct);

    /// <summary>Sends keystrokes/bytes.</summary>
    public Task SendStdinAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) =>
        SendAsync(new JsonObject { ["type"] = "stdin", ["chars"] = Convert.ToBase64String(bytes.Span) }, cancellationToken);

    /// <summary>Sets the terminal size.</summary>
    public Task ResizeAsync(int rows, int cols, CancellationToken cancellationToken = default) =>
        SendAsync(new JsonObject { ["type"] = "resize", ["rows"] = rows, ["cols"] = cols }, cancellationToken);

    /// <summary>Keeps the session from idling out.</summary>
    public Task PingAsync(CancellationToken cancellationToken = default) => SendAsync(new JsonObject { ["type"] = "ping" }, cancellationToken);

    /// <summary>The next output bytes, or null when the stream closed.</summary>
    /// <exception cref="BackendApiException">The server sent <c>{"type": "error"}</c>.</exception>
    public async Task<byte[]?> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var msg = await StreamsApi.ReceiveMessageAsync(_ws, cancellationToken).ConfigureAwait(false);
            if (msg is null) return null;
            var j = StreamsApi.ParseJsonFrame(msg.Value.Payload, "terminal");
            switch (j.Str("type"))
            {
                case "out":
                    try
                    {
                        return Convert.FromBase64String(j.Str("data") ?? string.Empty);
                    }
                    catch (FormatException ex)
                    {
                        throw new BackendProtocolException("The terminal output is not base64.", ex);
                    }
                case "error":
                    throw new BackendApiException(500, "Stream error", ProblemTypes.GenericError.Uri, "The terminal stream reported an error.", j.Str("data"));
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_ws.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        _ws.Dispose();
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using BackendAI.Client.Errors;
using BackendAI.Local.Hosting;
using BackendAI.Local.Kernels;
using Microsoft.AspNetCore.Routing;

namespace BackendAI.Local.Streams;

/// <summary>
/// Maps the <c>/stream/session/{id}/...</c> endpoints (streaming.md Part B): streaming execute,
/// a real pseudo-terminal, the app list and the TCP/HTTP app proxy. Sessions are resolved through
/// <see cref="ISessionResolver"/> with the caller's <see cref="LocalIdentity"/>; failures before the
/// upgrade are thrown as <see cref="ApiProblemException"/> (problem+json via the server's error middleware).
/// </summary>
public static class StreamEndpoints
{
    /// <summary>Largest accepted WebSocket message (upstream: 16 MiB).</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>How often streaming execute flushes output (upstream: 0.2 s).</summary>
    public static readonly TimeSpan ExecuteFlushInterval = TimeSpan.FromMilliseconds(200);

    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    /// <summary>
    /// Maps the endpoints. The host must add the WebSocket middleware (<c>app.UseWebSockets()</c>) and the
    /// auth middleware that sets the caller (<see cref="HttpContextExtensions.GetIdentity"/>).
    /// </summary>
    public static IEndpointRouteBuilder MapStreamEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup("/stream/session/{id}");
        group.MapGet("/execute", ExecuteAsync);
        group.MapGet("/pty", PtyAsync);
        group.MapGet("/apps", AppsAsync);
        group.MapGet("/tcpproxy", ProxyAsync);
        group.MapGet("/httpproxy", ProxyAsync);
        return app;
    }

    // ---------------------------------------------------------------- common

    private static LocalSessionHandle Resolve(HttpContext context, string id)
    {
        var resolver = context.RequestServices.GetService<ISessionResolver>()
            ?? throw new ApiProblemException(ProblemTypes.InternalServerError, "No session resolver is registered.");
        return resolver.Resolve(context.GetIdentity(), id);
    }

    private static void RequireWebSocket(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
            throw new ApiProblemException(ProblemTypes.GenericBadRequest, "This endpoint requires a WebSocket upgrade.");
    }

    private static Task SendJsonAsync(WebSocket ws, JsonNode node, CancellationToken ct) =>
        ws.SendAsync(Encoding.UTF8.GetBytes(node.ToJsonString(Compact)), WebSocketMessageType.Text, true, ct);

    private static async Task CloseQuietlyAsync(WebSocket ws, WebSocketCloseStatus status, string? description = null)
    {
        try
        {
            if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await ws.CloseOutputAsync(status, description, cts.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
    }

    /// <summary>One whole message (type, bytes), or null when the peer closed. Oversized messages throw.</summary>
    private static async Task<(WebSocketMessageType Type, byte[] Data)?> ReceiveMessageAsync(WebSocket ws, CancellationToken ct)
    {
        var buffer = new byte[16384];
        using var ms = new MemoryStream();
        while (true)
        {
            var r = await ws.ReceiveAsync(buffer, ct).ConfigureAwait(false);
            if (r.MessageType == WebSocketMessageType.Close) return null;
            if (ms.Length + r.Count > MaxMessageBytes) throw new MessageTooBigException();
            ms.Write(buffer, 0, r.Count);
            if (r.EndOfMessage) return (r.MessageType, ms.ToArray());
        }
    }

    private sealed class MessageTooBigException : Exception
    {
        public MessageTooBigException() : base($"WebSocket message larger than {MaxMessageBytes} bytes.") { }
    }

    // ---------------------------------------------------------------- execute (B.1)

    private static async Task ExecuteAsync(HttpContext context, string id)
    {
        RequireWebSocket(context);
        var session = Resolve(context, id);
        using var ws = await FaultInjectingWebSocket.AcceptAsync(context).ConfigureAwait(false);
        try
        {
            await RunExecuteStreamAsync(ws, session, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // the client went away
        }
    }

    private static async Task TrySendAsync(WebSocket ws, JsonNode node)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await SendJsonAsync(ws, node, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
    }

    private static async Task SendErrorAndCloseAsync(WebSocket ws, string msg)
    {
        await TrySendAsync(ws, new JsonObject { ["status"] = "error", ["msg"] = msg }).ConfigureAwait(false);
        await CloseQuietlyAsync(ws, WebSocketCloseStatus.NormalClosure).ConfigureAwait(false);
    }

    private static async Task RunExecuteStreamAsync(WebSocket ws, LocalSessionHandle session, CancellationToken aborted)
    {
        (WebSocketMessageType Type, byte[] Data)? first;
        try
        {
            first = await ReceiveMessageAsync(ws, aborted).ConfigureAwait(false);
        }
        catch (MessageTooBigException ex)
        {
            await SendErrorAndCloseAsync(ws, "Invalid API parameters: " + ex.Message).ConfigureAwait(false);
            return;
        }
        if (first is null)
        {
            await CloseQuietlyAsync(ws, WebSocketCloseStatus.NormalClosure).ConfigureAwait(false);
            return;
        }
        if (!TryParseFirstFrame(first.Value.Data, out var request, out var problem))
        {
            await SendErrorAndCloseAsync(ws, "Invalid API parameters: " + problem).ConfigureAwait(false);
            return;
        }
        if (session.Kernel is not { } kernel)
        {
            await SendErrorAndCloseAsync(ws, $"BackendError: the session is not running (status {session.View.Status}).").ConfigureAwait(false);
            return;
        }

        // a reader runs alongside: input lines go to a channel; a client close interrupts the run
        var inputs = Channel.CreateBounded<string>(new BoundedChannelOptions(16) { FullMode = BoundedChannelFullMode.DropOldest });
        using var receiving = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        using var running = CancellationTokenSource.CreateLinkedTokenSource(aborted, session.Terminating);
        var reader = ReadInputsAsync(ws, inputs.Writer, running, receiving.Token);
        var over = false;
        try
        {
            var call = request;
            while (true)
            {
                var result = await kernel.ExecuteAsync(call, ExecuteFlushInterval, running.Token).ConfigureAwait(false);
                if (result.Status != "continued" || result.Console.Count > 0)
                    await SendJsonAsync(ws, ResultFrame(result), running.Token).ConfigureAwait(false);
                switch (result.Status)
                {
                    case "finished":
                    case "exec-timeout":
                        over = true;
                        await CloseQuietlyAsync(ws, WebSocketCloseStatus.NormalClosure).ConfigureAwait(false);
                        return;
                    case "waiting-input":
                        var line = await inputs.Reader.ReadAsync(running.Token).ConfigureAwait(false);
                        call = new KernelExecuteRequest(KernelExecuteMode.Input, request.RunId, line);
                        break;
                    default:
                        call = new KernelExecuteRequest(KernelExecuteMode.Continue, request.RunId, "");
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (session.Terminating.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            await TrySendAsync(ws, new JsonObject
            {
                ["status"] = "server-restarting",
                ["msg"] = "The API server is going to restart for maintenance. Please connect again with the same run ID.",
            }).ConfigureAwait(false);
            await CloseQuietlyAsync(ws, WebSocketCloseStatus.EndpointUnavailable).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            // the client closed before finished
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not WebSocketException and not IOException)
        {
            await SendErrorAndCloseAsync(ws, "BackendError: " + ex.Message).ConfigureAwait(false);
            over = true;
        }
        finally
        {
            if (!over)
            {
                try
                {
                    await kernel.InterruptAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
                {
                }
            }
            // let the client answer our close frame before the socket goes
            await reader.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await receiving.CancelAsync().ConfigureAwait(false);
            await reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (ws.State == WebSocketState.CloseReceived) await CloseQuietlyAsync(ws, WebSocketCloseStatus.NormalClosure).ConfigureAwait(false);
        }
    }

    private static async Task ReadInputsAsync(WebSocket ws, ChannelWriter<string> inputs, CancellationTokenSource running, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var message = await ReceiveMessageAsync(ws, ct).ConfigureAwait(false);
                if (message is null) break;
                if (message.Value.Type == WebSocketMessageType.Text) inputs.TryWrite(Encoding.UTF8.GetString(message.Value.Data));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or MessageTooBigException)
        {
        }
        inputs.TryComplete();
        try
        {
            // the client is gone (or closed): stop waiting for the run
            await running.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Parses the first execute frame; <paramref name="problem"/> names what is wrong.</summary>
    internal static bool TryParseFirstFrame(byte[] data, out KernelExecuteRequest request, out string problem)
    {
        request = null!;
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(data);
        }
        catch (JsonException)
        {
            problem = "the first message must be a JSON object {\"code\", \"mode\", \"options\"}.";
            return false;
        }
        if (node is not JsonObject o)
        {
            problem = "the first message must be a JSON object {\"code\", \"mode\", \"options\"}.";
            return false;
        }
        string? mode, code;
        try
        {
            mode = (string?)o["mode"];
            code = (string?)o["code"] ?? "";
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            problem = "mode and code must be strings.";
            return false;
        }
        var runId = Guid.NewGuid().ToString("N");
        switch (mode)
        {
            case "query":
                request = new KernelExecuteRequest(KernelExecuteMode.Query, runId, code);
                break;
            case "batch":
                var options = o["options"] as JsonObject;
                string? Opt(string key) => options?[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                request = new KernelExecuteRequest(KernelExecuteMode.Batch, runId, code, Opt("clean"), Opt("build"), Opt("exec"));
                break;
            case null or "":
                problem = "mode is missing or empty!";
                return false;
            default:
                problem = $"mode must be query or batch on a streaming execute, not '{mode}'.";
                return false;
        }
        problem = "";
        return true;
    }

    internal static JsonObject ResultFrame(KernelResult result)
    {
        var console = new JsonArray();
        foreach (var item in result.Console) console.Add(new JsonArray(item.Type, item.Data.DeepClone()));
        return new JsonObject
        {
            ["status"] = result.Status,
            ["console"] = console,
            ["exitCode"] = result.ExitCode,
            ["options"] = result.Status == "waiting-input" ? new JsonObject { ["is_password"] = result.IsPassword } : null,
            ["files"] = null,
        };
    }

    // ---------------------------------------------------------------- pty (B.2)

    private static async Task PtyAsync(HttpContext context, string id)
    {
        RequireWebSocket(context);
        var session = Resolve(context, id);
        if (session.Kernel is null)
            throw new ApiProblemException(ProblemTypes.GenericBadRequest, $"The session is not running (status {session.View.Status}).");
        var options = context.RequestServices.GetService<Microsoft.Extensions.Options.IOptions<LocalKernelOptions>>()?.Value;
        await using var pty = PseudoTerminal.Start(session.WorkDirectory, new Dictionary<string, string>(), options?.BashExecutable ?? "bash");
        using var ws = await FaultInjectingWebSocket.AcceptAsync(context).ConfigureAwait(false);
        using var output = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, session.Terminating);
        using var receiving = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var sendLock = new SemaphoreSlim(1, 1);

        async Task SendAsync(JsonObject frame, CancellationToken ct)
        {
            await sendLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await SendJsonAsync(ws, frame, ct).ConfigureAwait(false);
            }
            finally
            {
                sendLock.Release();
            }
        }

        async Task PumpOutputAsync()
        {
            await foreach (var chunk in pty.Output.ReadAllAsync(output.Token).ConfigureAwait(false))
                await SendAsync(new JsonObject { ["type"] = "out", ["data"] = Convert.ToBase64String(chunk) }, output.Token).ConfigureAwait(false);
        }

        async Task PumpInputAsync()
        {
            while (await ReceiveMessageAsync(ws, receiving.Token).ConfigureAwait(false) is { } message)
            {
                if (message.Type != WebSocketMessageType.Text) continue;
                var error = await HandlePtyMessageAsync(pty, session, message.Data, receiving.Token).ConfigureAwait(false);
                if (error is not null) await SendAsync(new JsonObject { ["type"] = "error", ["data"] = error }, receiving.Token).ConfigureAwait(false);
            }
        }

        var outputDone = PumpOutputAsync();
        var inputDone = PumpInputAsync();
        await Task.WhenAny(outputDone, inputDone).ConfigureAwait(false);
        if (outputDone.IsCompleted)
        {
            // the shell ended or the session is terminating: close, then give the client a moment to answer
            await sendLock.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await CloseQuietlyAsync(ws, session.Terminating.IsCancellationRequested ? WebSocketCloseStatus.EndpointUnavailable : WebSocketCloseStatus.NormalClosure)
                .ConfigureAwait(false);
            await inputDone.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        else
        {
            await output.CancelAsync().ConfigureAwait(false);
            await outputDone.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await CloseQuietlyAsync(ws, WebSocketCloseStatus.NormalClosure).ConfigureAwait(false);
        }
        await receiving.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(outputDone, inputDone).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Applies one client pty message; returns an error text for the client, or null.</summary>
    private static async Task<string?> HandlePtyMessageAsync(PseudoTerminal pty, LocalSessionHandle session, byte[] data, CancellationToken ct)
    {
        JsonObject? o;
        try
        {
            o = JsonNode.Parse(data) as JsonObject;
        }
        catch (JsonException)
        {
            return "Messages must be JSON objects with a \"type\".";
        }
        if (o is null) return "Messages must be JSON objects with a \"type\".";
        try
        {
            switch ((string?)o["type"])
            {
                case "stdin":
                    var bytes = Convert.FromBase64String((string?)o["chars"] ?? "");
                    await pty.WriteAsync(bytes, ct).ConfigureAwait(false);
                    return null;
                case "resize":
                    pty.Resize((int?)o["rows"] ?? 24, (int?)o["cols"] ?? 80);
                    return null;
                case "ping":
                    return null;
                case "restart":
                    if (session.Kernel is { } kernel) await kernel.RestartAsync(ct).ConfigureAwait(false);
                    return null;
                default:
                    return $"Unknown message type '{(string?)o["type"]}'.";
            }
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or ArgumentException)
        {
            return ex.Message;
        }
    }

    // ---------------------------------------------------------------- apps (B.3)

    private static async Task AppsAsync(HttpContext context, string id)
    {
        var session = Resolve(context, id);
        var array = new JsonArray();
        foreach (var port in ServicePortsOf(session)) array.Add(port.ToJson());
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(array.ToJsonString(Compact), context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// The session's service ports: those its kernel offers (<see cref="IKernelAppServices"/>) followed by
    /// those recorded on the session view (e.g. <c>preopen</c> ports), without duplicate names.
    /// </summary>
    internal static IReadOnlyList<KernelServicePort> ServicePortsOf(LocalSessionHandle session) =>
        AppsOf(session).Select(a => a.Port).ToList();

    /// <summary>Service ports with, for those recorded on the view, their host ports (index-aligned with the ports).</summary>
    private static List<(KernelServicePort Port, IReadOnlyList<int>? HostPorts)> AppsOf(LocalSessionHandle session)
    {
        var list = new List<(KernelServicePort, IReadOnlyList<int>?)>();
        if (session.Kernel is IKernelAppServices services)
            foreach (var p in services.ServicePorts) list.Add((p, null));
        if (string.IsNullOrEmpty(session.View.ServicePortsJson)) return list;
        try
        {
            if (JsonNode.Parse(session.View.ServicePortsJson) is not JsonArray array) return list;
            foreach (var item in array.OfType<JsonObject>())
            {
                if ((string?)item["name"] is not { } name || list.Any(x => x.Item1.Name == name)) continue;
                static int[] Ints(JsonNode? n) => n is JsonArray a ? a.Select(x => (int?)x ?? 0).Where(x => x > 0).ToArray() : [];
                var ports = Ints(item["container_ports"] ?? item["ports"]);
                var hostPorts = Ints(item["host_ports"]);
                list.Add((new KernelServicePort(name, (string?)item["protocol"] ?? "tcp", ports, (string?)item["url_template"]),
                    hostPorts.Length == ports.Length ? hostPorts : null));
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            // an unreadable record list is treated as no extra services
        }
        return list;
    }

    // ---------------------------------------------------------------- app proxy (B.4)

    private static readonly HashSet<string> ProxyKeys = ["app", "service", "port", "arguments", "envs", "owner_access_key"];

    private static async Task ProxyAsync(HttpContext context, string id)
    {
        var (app, port) = ValidateProxyQuery(context.Request.Query);
        var session = Resolve(context, id);
        var (service, hostPorts) = AppsOf(session).FirstOrDefault(s => s.Port.Name == app);
        if (service is null) throw new ApiProblemException(ProblemTypes.ObjectNotFound, $"{id}:{app}", title: "No such app service.");
        if (service.Protocol == "pty")
            throw ApiProblemException.InvalidParams($"Service {app} uses the unsupported protocol 'pty' for proxying.");
        if (service.Ports.Count == 0)
            throw new ApiProblemException(ProblemTypes.InternalServerError, $"Service {app} has no ports.");
        int containerPort;
        if (port is { } requested)
        {
            if (!service.Ports.Contains(requested))
                throw ApiProblemException.InvalidParams($"Service {app} does not open the port number {requested}.");
            containerPort = requested;
        }
        else containerPort = service.Ports[0];
        RequireWebSocket(context);

        IPEndPoint target;
        try
        {
            if (hostPorts is not null)
                target = new IPEndPoint(IPAddress.Loopback, hostPorts[service.Ports.ToList().IndexOf(containerPort)]);
            else if (session.Kernel is IKernelAppServices services)
                target = await services.StartServiceAsync(app, containerPort, context.RequestAborted).ConfigureAwait(false);
            else
                throw new InvalidOperationException("The session's kernel cannot start app services.");
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or SocketException)
        {
            throw new ApiProblemException(ProblemTypes.InternalServerError, ex.Message, JsonValue.Create(ex.Message), title: "Failed to launch the app service");
        }

        using var ws = await FaultInjectingWebSocket.AcceptAsync(context).ConfigureAwait(false);
        using var life = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, session.Terminating);
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(target, life.Token).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            var code = ex.SocketErrorCode == SocketError.ConnectionRefused ? (WebSocketCloseStatus)1013 : WebSocketCloseStatus.InternalServerError;
            await CloseQuietlyAsync(ws, code, ex.SocketErrorCode.ToString()).ConfigureAwait(false);
            return;
        }
        await RelayAsync(ws, tcp.GetStream(), life).ConfigureAwait(false);
    }

    internal static (string App, int? Port) ValidateProxyQuery(IQueryCollection query)
    {
        var data = new JsonObject();
        foreach (var key in query.Keys)
            if (!ProxyKeys.Contains(key)) data[key] = $"{key} is not allowed key";
        string? app = query.TryGetValue("app", out var a) ? a.ToString() : query.TryGetValue("service", out var s) ? s.ToString() : null;
        if (string.IsNullOrEmpty(app)) data["app"] = "app is required";
        int? port = null;
        if (query.TryGetValue("port", out var p) && !string.IsNullOrEmpty(p.ToString()))
        {
            if (int.TryParse(p.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 1024 and <= 65535) port = n;
            else data["port"] = "port must be an integer between 1024 and 65535";
        }
        foreach (var key in (string[])["arguments", "envs"])
        {
            if (!query.TryGetValue(key, out var v) || string.IsNullOrEmpty(v.ToString())) continue;
            try
            {
                if (JsonNode.Parse(v.ToString()) is not JsonObject) data[key] = $"{key} must be a JSON object";
            }
            catch (JsonException)
            {
                data[key] = $"{key} must be a JSON object";
            }
        }
        if (data.Count > 0) throw new ApiProblemException(ProblemTypes.InvalidApiParams, "Input validation error", data);
        return (app!, port);
    }

    private static async Task RelayAsync(WebSocket ws, NetworkStream tcp, CancellationTokenSource life)
    {
        using var receiving = new CancellationTokenSource();
        var ct = life.Token;

        async Task TcpToWsAsync()
        {
            var buffer = new byte[65536];
            while (true)
            {
                var n = await tcp.ReadAsync(buffer, ct).ConfigureAwait(false);
                if (n == 0) return;
                await ws.SendAsync(buffer.AsMemory(0, n), WebSocketMessageType.Binary, true, ct).ConfigureAwait(false);
            }
        }

        async Task WsToTcpAsync()
        {
            var buffer = new byte[65536];
            while (true)
            {
                var r = await ws.ReceiveAsync(buffer.AsMemory(), receiving.Token).ConfigureAwait(false);
                if (r.MessageType == WebSocketMessageType.Close) return;
                if (r.MessageType == WebSocketMessageType.Binary && r.Count > 0)
                    await tcp.WriteAsync(buffer.AsMemory(0, r.Count), ct).ConfigureAwait(false);
            }
        }

        var up = TcpToWsAsync();
        var down = WsToTcpAsync();
        await Task.WhenAny(up, down).ConfigureAwait(false);
        if (up.IsCompleted)
        {
            // service EOF → 1001 (going away); session terminating → 1001 as well
            await CloseQuietlyAsync(ws, up.IsCompletedSuccessfully || life.IsCancellationRequested ? WebSocketCloseStatus.EndpointUnavailable : WebSocketCloseStatus.InternalServerError)
                .ConfigureAwait(false);
            await down.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        else
        {
            // the client closed: close the TCP side and answer the close
            await life.CancelAsync().ConfigureAwait(false);
            await up.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await CloseQuietlyAsync(ws, WebSocketCloseStatus.NormalClosure).ConfigureAwait(false);
        }
        tcp.Close();
        await receiving.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(up, down).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}

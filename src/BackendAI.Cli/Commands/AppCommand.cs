using System.Buffers;
using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Cli.Parsing;
using BackendAI.Client;

namespace BackendAI.Cli.Commands;

/// <summary>
/// <c>backend.ai app SESSION SERVICE -b [HOST:]PORT</c>: a local TCP port forwarder to an app service of
/// the session (streaming.md B.4): every accepted TCP connection gets its own signed WebSocket to
/// <c>/stream/session/{id}/tcpproxy</c>, and bytes are pumped both ways until either side closes.
/// Runs until Ctrl+C.
/// </summary>
internal static class AppCommand
{
    private const int BufferSize = 64 * 1024;
    private const int MaxConnections = 256;

    public static Command Create(CliContext context)
    {
        var session = new Argument<string>("SESSION") { Description = "The session name or id." };
        var service = new Argument<string>("SERVICE") { Description = "The app service name, e.g. jupyter, sshd, ttyd." };
        var bind = new Option<string>("--bind", "-b") { Description = "[HOST:]PORT to listen on (a bare port means 127.0.0.1; port 0 picks a free one).", DefaultValueFactory = _ => "127.0.0.1:8080" };
        var port = new Option<int?>("--port", "-p") { Description = "A secondary container port of the service." };
        var args = new Option<string[]>("--arg") { Description = "\"--option value\" passed to the app when it starts (repeatable)." };
        var envs = new Option<string[]>("--env", "-e") { Description = "NAME=VALUE environment variable for the app (repeatable)." };
        var command = new Command("app", "Forward a local TCP port to an app service of a compute session.") { session, service, bind, port, args, envs };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var sessionRef = parseResult.GetValue(session)!;
            var app = parseResult.GetValue(service)!;
            var address = BindAddress.Parse(parseResult.GetValue(bind)!);
            var arguments = ToDictionary(AppArguments.ParseArguments(parseResult.GetValue(args)));
            var environment = KeyValueOptions.ParseEnvironment(parseResult.GetValue(envs)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            var servicePort = parseResult.GetValue(port);

            var client = context.Client;
            var apps = await client.Streams.GetAppsAsync(sessionRef, ct).ConfigureAwait(false);
            var info = apps.FirstOrDefault(a => string.Equals(a.Name, app, StringComparison.Ordinal))
                ?? throw new CliUsageException($"The app \"{app}\" is not supported by the session.");

            using var listener = new TcpListener(address.ResolveAddress(), address.Port);
            listener.Start();
            var actualPort = ((IPEndPoint)listener.LocalEndpoint).Port;
            var url = (info.UrlTemplate ?? "{protocol}://{host}:{port}")
                .Replace("{protocol}", "tcp", StringComparison.Ordinal)
                .Replace("{host}", address.Host, StringComparison.Ordinal)
                .Replace("{port}", actualPort.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            context.Info($"∙ A local proxy to the application \"{app}\" provided by the session \"{sessionRef}\" is available at:");
            await context.Out.WriteLineAsync(url).ConfigureAwait(false);
            await context.Out.FlushAsync(ct).ConfigureAwait(false);
            if (address.Host is "0.0.0.0" or "*")
                context.Info("∙ Replace \"0.0.0.0\" with the actual hostname you use to connect with the CLI app proxy.");

            using var slots = new SemaphoreSlim(MaxConnections, MaxConnections);
            var connections = new List<Task>();
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    await slots.WaitAsync(ct).ConfigureAwait(false);
                    TcpClient tcp;
                    try
                    {
                        tcp = await listener.AcceptTcpClientAsync(ct).ConfigureAwait(false);
                    }
                    catch
                    {
                        slots.Release();
                        throw;
                    }
                    connections.RemoveAll(t => t.IsCompleted);
                    connections.Add(ServeAsync(context, client, sessionRef, app, servicePort, arguments, environment, tcp, slots, ct));
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl+C: stop accepting, let the open tunnels close.
            }
            listener.Stop();
            await Task.WhenAll(connections).ConfigureAwait(false);
            context.Info("∙ Shutting down the proxy.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task ServeAsync(
        CliContext context, BackendAIClient client, string sessionRef, string app, int? port,
        IReadOnlyDictionary<string, object?>? arguments, IReadOnlyDictionary<string, string> envs,
        TcpClient tcp, SemaphoreSlim slots, CancellationToken ct)
    {
        using var _ = tcp;
        var stream = tcp.GetStream();
        try
        {
            WebSocket ws;
            try
            {
                ws = await client.Streams.OpenTcpProxyAsync(sessionRef, app, port, arguments, envs.Count > 0 ? envs : null, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await ReplyUnavailableAsync(stream, ErrorMessages.OneLine(e)).ConfigureAwait(false);
                return;
            }
            using (ws)
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var up = PumpTcpToWebSocketAsync(stream, ws, linked.Token);
                var down = PumpWebSocketToTcpAsync(ws, stream, linked.Token);
                var first = await Task.WhenAny(up, down).ConfigureAwait(false);
                if (first == down && down.IsCompletedSuccessfully && down.Result is { } failure)
                    await ReplyUnavailableAsync(stream, failure).ConfigureAwait(false);
                await linked.CancelAsync().ConfigureAwait(false);
                try { await Task.WhenAll(up, down).ConfigureAwait(false); } catch (Exception) { /* one side's cancellation */ }
                if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    using var closeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    try { await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, closeTimeout.Token).ConfigureAwait(false); }
                    catch (Exception) { /* the peer went away */ }
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or WebSocketException or OperationCanceledException)
        {
            // The local client or the tunnel went away.
        }
        finally
        {
            slots.Release();
        }
    }

    private static async Task PumpTcpToWebSocketAsync(NetworkStream tcp, WebSocket ws, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var n = await tcp.ReadAsync(buffer.AsMemory(0, BufferSize), ct).ConfigureAwait(false);
                if (n == 0)
                    return;
                await ws.SendAsync(buffer.AsMemory(0, n), WebSocketMessageType.Binary, true, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Returns null when the tunnel closed normally, else the reason to report to the TCP client.
    private static async Task<string?> PumpWebSocketToTcpAsync(WebSocket ws, NetworkStream tcp, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var r = await ws.ReceiveAsync(buffer.AsMemory(0, BufferSize), ct).ConfigureAwait(false);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    return ws.CloseStatus is null or WebSocketCloseStatus.NormalClosure or WebSocketCloseStatus.EndpointUnavailable
                        ? null
                        : $"{(int)ws.CloseStatus} {ws.CloseStatusDescription}";
                }
                if (r.MessageType == WebSocketMessageType.Binary && r.Count > 0)
                    await tcp.WriteAsync(buffer.AsMemory(0, r.Count), ct).ConfigureAwait(false);
            }
        }
        catch (WebSocketException e)
        {
            return e.Message;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task ReplyUnavailableAsync(NetworkStream tcp, string reason)
    {
        var text = $"HTTP/1.1 503 Service Unavailable\r\nConnection: Closed\r\n\r\nWebSocket reply: {reason}";
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await tcp.WriteAsync(Encoding.UTF8.GetBytes(text), timeout.Token).ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or OperationCanceledException) { /* the client is gone */ }
    }

    private static Dictionary<string, object?>? ToDictionary(JsonObject? args)
    {
        if (args is null)
            return null;
        var d = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in args)
        {
            d[key] = value switch
            {
                null => null,
                JsonArray a => a.Select(v => v!.GetValue<string>()).ToArray(),
                _ => value.GetValue<string>(),
            };
        }
        return d;
    }
}

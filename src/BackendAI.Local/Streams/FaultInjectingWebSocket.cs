using System.Net.WebSockets;
using BackendAI.Local.Hosting;

namespace BackendAI.Local.Streams;

/// <summary>
/// Fault injection for stream handlers: a WebSocket that is aborted (no close frame) once the server
/// has sent <see cref="FaultInjection.WebSocketCloseAfterMessages"/> messages on it.
/// </summary>
internal sealed class FaultInjectingWebSocket(WebSocket inner, int closeAfterMessages) : WebSocket
{
    private int _remaining = closeAfterMessages;

    /// <summary>Accepts the upgrade; wraps the socket when the server's fault settings ask for abrupt closes.</summary>
    public static async Task<WebSocket> AcceptAsync(HttpContext context)
    {
        var ws = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        if (context.RequestServices.GetService<FaultInjection>()?.WebSocketCloseAfterMessages is not { } n) return ws;
        var wrapped = new FaultInjectingWebSocket(ws, n);
        if (n <= 0) wrapped.Abort();
        return wrapped;
    }

    private void Count()
    {
        if (Interlocked.Decrement(ref _remaining) > 0) return;
        inner.Abort();
        throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "Fault injection: the WebSocket was closed abruptly.");
    }

    public override WebSocketCloseStatus? CloseStatus => inner.CloseStatus;
    public override string? CloseStatusDescription => inner.CloseStatusDescription;
    public override WebSocketState State => inner.State;
    public override string? SubProtocol => inner.SubProtocol;
    public override void Abort() => inner.Abort();
    public override void Dispose() => inner.Dispose();

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseAsync(closeStatus, statusDescription, cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        inner.CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

    public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
        inner.ReceiveAsync(buffer, cancellationToken);

    public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        inner.ReceiveAsync(buffer, cancellationToken);

    public override async Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        await inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken).ConfigureAwait(false);
        if (endOfMessage) Count();
    }

    public override async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        await inner.SendAsync(buffer, messageType, endOfMessage, cancellationToken).ConfigureAwait(false);
        if (endOfMessage) Count();
    }
}

using System.Net;
using System.Net.Sockets;

namespace BackendAI.Testing;

/// <summary>
/// A loopback TCP proxy in front of a server, for tests that must see or cut the bytes on the wire: every accepted
/// connection is piped to the target, and <see cref="ClientToServer"/> / <see cref="ServerToClient"/> see each chunk
/// before it is forwarded. A tap that returns false drops the connection at once (both sockets reset), as a broken
/// network would. Dispose stops the listener and every pipe.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pipes = [];
    private readonly Task _accepting;
    private int _connections;

    private TcpProxy(IPEndPoint target)
    {
        _target = target;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        _accepting = AcceptLoopAsync();
    }

    /// <summary>The proxy's base URL.</summary>
    public Uri Endpoint { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Sees bytes from the client (connection number, chunk); false drops the connection.</summary>
    public Func<int, ReadOnlyMemory<byte>, bool>? ClientToServer { get; set; }

    /// <summary>Sees bytes from the server (connection number, chunk); false drops the connection.</summary>
    public Func<int, ReadOnlyMemory<byte>, bool>? ServerToClient { get; set; }

    /// <summary>Starts a proxy to <paramref name="target"/> (a loopback <c>http://host:port/</c>).</summary>
    public static TcpProxy Start(Uri target) => new(new IPEndPoint(IPAddress.Parse(target.Host), target.Port));

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            var id = Interlocked.Increment(ref _connections);
            lock (_pipes) _pipes.Add(ServeAsync(id, client));
        }
    }

    private async Task ServeAsync(int id, Socket client)
    {
        using var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var _ = client;
        client.NoDelay = true;
        try
        {
            await server.ConnectAsync(_target, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            return;
        }
        using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var up = PumpAsync(id, client, server, () => ClientToServer, done);
        var down = PumpAsync(id, server, client, () => ServerToClient, done);
        await Task.WhenAll(up, down).ConfigureAwait(false);
    }

    private static async Task PumpAsync(int id, Socket from, Socket to, Func<Func<int, ReadOnlyMemory<byte>, bool>?> tap, CancellationTokenSource done)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, done.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                if (tap() is { } t && !t(id, buffer.AsMemory(0, n)))
                {
                    Reset(from);
                    Reset(to);
                    await done.CancelAsync().ConfigureAwait(false);
                    return;
                }
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, done.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            Reset(from);
            Reset(to);
            await done.CancelAsync().ConfigureAwait(false);
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0); // RST instead of FIN
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _accepting.ConfigureAwait(false);
        Task[] pipes;
        lock (_pipes) pipes = [.. _pipes];
        await Task.WhenAll(pipes).ConfigureAwait(false);
        _stop.Dispose();
    }
}

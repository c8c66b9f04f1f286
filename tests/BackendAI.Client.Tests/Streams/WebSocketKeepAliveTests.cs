using System.Text;
using BackendAI.Client.Config;
using BackendAI.Local.Hosting;
using BackendAI.Testing;

namespace BackendAI.Client.Tests.Streams;

/// <summary>Checklist item 27 against the local server, with a TCP proxy that reads the WebSocket frames on the wire.</summary>
public sealed class WebSocketKeepAliveTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>
{
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Client27_long_lived_websocket_streams_send_ping_frames_that_the_server_answers_with_pongs()
    {
        using var cts = new CancellationTokenSource(s_budget);
        var (_, name) = await fx.CreateSessionAsync(fx.User, "sim", cancellationToken: cts.Token);
        await using var proxy = TcpProxy.Start(fx.Endpoint);
        var frames = new WebSocketFrameCounter();
        proxy.ClientToServer = frames.FromClient;
        proxy.ServerToClient = frames.FromServer;
        await using var client = new BackendAIClient(new BackendAIClientOptions
        {
            Endpoints = [proxy.Endpoint],
            AccessKey = WellKnownKeypairs.User.AccessKey,
            SecretKey = WellKnownKeypairs.User.SecretKey,
        });
        Assert.Equal(TimeSpan.FromSeconds(30), client.Streams.PingInterval); // the default, as client-py's heartbeat
        client.Streams.PingInterval = TimeSpan.FromMilliseconds(100);

        await using var pty = await client.Streams.OpenPtyAsync(name, cts.Token);
        var reading = ReadUntilAsync(pty, "ws-42-alive", cts.Token);

        // Real PING frames (opcode 0x9) go out on their own, and the server answers each with a PONG.
        await frames.WaitAsync(() => frames.ClientPings >= 3 && frames.ServerPongs >= 3, cts.Token);
        Assert.Equal(0, frames.ClientPongs); // not the unsolicited PONGs a bare KeepAliveInterval sends

        // The connection is still healthy after the heartbeats.
        await pty.SendStdinAsync(Encoding.UTF8.GetBytes("echo ws-$((40+2))-alive\n"), cts.Token);
        Assert.Contains("ws-42-alive", await reading); // the shell's output, not the echoed input
    }

    private static async Task<string> ReadUntilAsync(BackendAI.Client.WebSockets.PtyStream pty, string marker, CancellationToken ct)
    {
        var text = new StringBuilder();
        while (!text.ToString().Contains(marker, StringComparison.Ordinal))
        {
            var chunk = await pty.ReadAsync(ct) ?? throw new InvalidOperationException($"The terminal closed before '{marker}'; got: {text}");
            text.Append(Encoding.UTF8.GetString(chunk));
        }
        return text.ToString();
    }

    /// <summary>Parses the WebSocket frames of each proxied connection once its upgrade is done, and counts control frames.</summary>
    private sealed class WebSocketFrameCounter
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<(int, bool), Direction> _directions = [];
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int ClientPings { get; private set; }
        public int ClientPongs { get; private set; }
        public int ServerPongs { get; private set; }

        public bool FromClient(int connection, ReadOnlyMemory<byte> chunk) => Feed(connection, fromClient: true, chunk);

        public bool FromServer(int connection, ReadOnlyMemory<byte> chunk) => Feed(connection, fromClient: false, chunk);

        public async Task WaitAsync(Func<bool> condition, CancellationToken ct)
        {
            while (true)
            {
                Task changed;
                lock (_gate)
                {
                    if (condition()) return;
                    changed = _changed.Task;
                }
                await changed.WaitAsync(ct);
            }
        }

        private bool Feed(int connection, bool fromClient, ReadOnlyMemory<byte> chunk)
        {
            lock (_gate)
            {
                if (!_directions.TryGetValue((connection, fromClient), out var d))
                    _directions[(connection, fromClient)] = d = new Direction(fromClient ? "upgrade: websocket" : "HTTP/1.1 101");
                foreach (var opcode in d.Feed(chunk.Span))
                {
                    if (fromClient && opcode == 0x9) ClientPings++;
                    if (fromClient && opcode == 0xA) ClientPongs++;
                    if (!fromClient && opcode == 0xA) ServerPongs++;
                }
                var changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                changed.TrySetResult();
            }
            return true;
        }

        private sealed class Direction(string upgradeMarker)
        {
            private readonly List<byte> _pending = [];
            private bool _upgraded;

            public List<int> Feed(ReadOnlySpan<byte> chunk)
            {
                _pending.AddRange(chunk.ToArray());
                var opcodes = new List<int>();
                if (!_upgraded)
                {
                    var text = Encoding.Latin1.GetString(_pending.ToArray());
                    var marker = text.IndexOf(upgradeMarker, StringComparison.OrdinalIgnoreCase);
                    var end = marker < 0 ? -1 : text.IndexOf("\r\n\r\n", marker, StringComparison.Ordinal);
                    if (end < 0) return opcodes;
                    _pending.RemoveRange(0, end + 4);
                    _upgraded = true;
                }
                while (_pending.Count >= 2)
                {
                    var len = (long)(_pending[1] & 0x7F);
                    var header = 2;
                    if (len == 126)
                    {
                        if (_pending.Count < 4) break;
                        len = (_pending[2] << 8) | _pending[3];
                        header = 4;
                    }
                    else if (len == 127)
                    {
                        if (_pending.Count < 10) break;
                        len = 0;
                        for (var i = 2; i < 10; i++) len = (len << 8) | _pending[i];
                        header = 10;
                    }
                    if ((_pending[1] & 0x80) != 0) header += 4; // masking key
                    if (_pending.Count < header + len) break;
                    opcodes.Add(_pending[0] & 0x0F);
                    _pending.RemoveRange(0, header + (int)len);
                }
                return opcodes;
            }
        }
    }
}

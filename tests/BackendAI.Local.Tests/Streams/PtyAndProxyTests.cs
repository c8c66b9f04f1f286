using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Local.Kernels;

namespace BackendAI.Local.Tests.Streams;

public sealed class PtyStreamTests : IAsyncLifetime
{
    private StreamTestHost _host = null!;

    public async Task InitializeAsync() => _host = await StreamTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static JsonObject Stdin(string text) => new() { ["type"] = "stdin", ["chars"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)) };

    /// <summary>Reads "out" frames until the decoded terminal output contains <paramref name="expected"/>.</summary>
    private static async Task<string> ReadOutputUntilAsync(ClientWebSocket ws, string expected)
    {
        var text = new StringBuilder();
        using var cts = new CancellationTokenSource(WebSocketTestExtensions.Generous);
        while (!text.ToString().Contains(expected, StringComparison.Ordinal))
        {
            var frame = await ws.ReceiveJsonAsync(WebSocketTestExtensions.Generous)
                ?? throw new InvalidOperationException($"closed before '{expected}' arrived; got: {text}");
            Assert.Equal("out", (string?)frame["type"]);
            text.Append(Encoding.UTF8.GetString(Convert.FromBase64String((string)frame["data"]!)));
        }
        return text.ToString();
    }

    [Fact]
    public async Task Server113_pty_stdin_frames_are_answered_with_base64_out_frames()
    {
        var s = await _host.AddSessionAsync("t", "python:3.11");
        using var ws = await _host.ConnectAsync($"/stream/session/{s.Id}/pty");

        await ws.SendJsonAsync(Stdin("echo $((6*7))-marker\n"));

        await ReadOutputUntilAsync(ws, "42-marker");
    }

    [Fact]
    public async Task Pty_is_a_real_terminal_in_the_work_directory_and_resize_changes_stty_size()
    {
        var s = await _host.AddSessionAsync("t", "bash");
        using var ws = await _host.ConnectAsync($"/stream/session/{s.Id}/pty");

        await ws.SendJsonAsync(new JsonObject { ["type"] = "ping" });
        await ws.SendJsonAsync(new JsonObject { ["type"] = "resize", ["rows"] = 33, ["cols"] = 111 });
        await ws.SendJsonAsync(Stdin("tty -s && echo is-a-tty; stty size; pwd\n"));

        var output = await ReadOutputUntilAsync(ws, s.WorkDirectory);
        Assert.Contains("is-a-tty", output);
        Assert.Contains("33 111", output);
    }

    [Fact]
    public async Task Pty_closes_when_the_session_terminates()
    {
        var s = await _host.AddSessionAsync("t", "bash");
        using var ws = await _host.ConnectAsync($"/stream/session/{s.Id}/pty");
        await ws.SendJsonAsync(Stdin("echo ready-marker\n"));
        await ReadOutputUntilAsync(ws, "ready-marker");

        s.Terminate();

        while (await ws.ReceiveMessageAsync() is not null)
        {
        }
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, ws.CloseStatus);
    }

    [Fact]
    public async Task Pty_closes_normally_when_the_shell_exits()
    {
        var s = await _host.AddSessionAsync("t", "bash");
        using var ws = await _host.ConnectAsync($"/stream/session/{s.Id}/pty");

        await ws.SendJsonAsync(Stdin("exit\n"));

        while (await ws.ReceiveMessageAsync() is not null)
        {
        }
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
    }
}

public sealed class AppProxyTests : IAsyncLifetime
{
    private StreamTestHost _host = null!;

    public async Task InitializeAsync() => _host = await StreamTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Server108_apps_lists_the_python_http_service_and_nothing_for_sim()
    {
        var py = await _host.AddSessionAsync("py", "python:3.11");
        var sim = await _host.AddSessionAsync("sim", "sim");

        var (status, body) = await _host.GetAsync($"/stream/session/{py.Id}/apps");
        Assert.Equal(HttpStatusCode.OK, status);
        var app = Assert.Single(JsonNode.Parse(body)!.AsArray())!;
        Assert.Equal("http", (string?)app["name"]);
        Assert.Equal("http", (string?)app["protocol"]);
        Assert.Equal(PythonKernel.HttpServicePort, (int?)app["ports"]![0]);

        var (simStatus, simBody) = await _host.GetAsync($"/stream/session/{sim.Id}/apps");
        Assert.Equal(HttpStatusCode.OK, simStatus);
        Assert.Equal("[]", simBody);
    }

    [Fact]
    public async Task Server109_tcpproxy_to_an_unknown_app_is_404_no_such_app_service()
    {
        var py = await _host.AddSessionAsync("py", "python:3.11");

        var (status, body) = await _host.FailedUpgradeAsync($"/stream/session/{py.Id}/tcpproxy?app=jupyter");

        Assert.Equal(HttpStatusCode.NotFound, status);
        var problem = JsonNode.Parse(body)!;
        Assert.EndsWith("object-not-found", (string?)problem["type"]);
        Assert.Equal("No such app service.", (string?)problem["title"]);
    }

    [Theory]
    [InlineData("?app=http&port=80", "port")]
    [InlineData("?app=http&bogus=1", "bogus")]
    [InlineData("?port=8080", "app")]
    [InlineData("?app=http&envs=notjson", "envs")]
    public async Task Proxy_query_is_validated_strictly(string query, string badKey)
    {
        var py = await _host.AddSessionAsync("py", "python:3.11");

        var (status, body) = await _host.FailedUpgradeAsync($"/stream/session/{py.Id}/tcpproxy{query}");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(JsonNode.Parse(body)!["data"]![badKey]);
    }

    [Fact]
    public async Task Proxy_port_not_opened_by_the_service_is_400()
    {
        var py = await _host.AddSessionAsync("py", "python:3.11");

        var (status, body) = await _host.FailedUpgradeAsync($"/stream/session/{py.Id}/tcpproxy?app=http&port=9999");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("does not open the port number 9999", (string?)JsonNode.Parse(body)!["msg"]);
    }

    [Fact]
    public async Task Server110_tcpproxy_relays_binary_frames_byte_exactly_and_Server112_closes_1001_on_service_eof()
    {
        await using var echo = EchoServer.Start(closeAfterBytes: 200_000);
        var s = await _host.AddSessionAsync("echo", "sim", new ServiceKernel(echo.Endpoint));
        using var ws = await _host.ConnectAsync($"/stream/session/{s.Id}/tcpproxy?app=echo");

        var payload = new byte[200_000];
        new Random(42).NextBytes(payload);
        var sent = 0;
        foreach (var size in new[] { 1, 1000, 65536, 200_000 - 66537 })
        {
            await ws.SendAsync(payload.AsMemory(sent, size), WebSocketMessageType.Binary, true, new CancellationTokenSource(WebSocketTestExtensions.Generous).Token);
            sent += size;
        }
        using var received = new MemoryStream();
        while (await ws.ReceiveMessageAsync() is { } m)
        {
            Assert.Equal(WebSocketMessageType.Binary, m.Type);
            received.Write(m.Data);
        }

        Assert.Equal(payload, received.ToArray());
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, ws.CloseStatus);
    }

    [Fact]
    public async Task Server111_tcpproxy_to_a_refusing_port_closes_with_1013()
    {
        var closedPort = new IPEndPoint(IPAddress.Loopback, EchoServer.UnusedPort());
        var s = await _host.AddSessionAsync("dead", "sim", new ServiceKernel(closedPort));
        using var ws = await _host.ConnectAsync($"/stream/session/{s.Id}/httpproxy?service=echo");

        Assert.Null(await ws.ReceiveMessageAsync());
        Assert.Equal((WebSocketCloseStatus)1013, ws.CloseStatus);
    }

    [Fact]
    public async Task Tcpproxy_reaches_the_python_sessions_real_http_service()
    {
        var py = await _host.AddSessionAsync("py", "python:3.11");
        await File.WriteAllTextAsync(Path.Combine(py.WorkDirectory, "hello.txt"), "served from the work dir");
        using var ws = await _host.ConnectAsync($"/stream/session/{py.Id}/tcpproxy?app=http");

        await ws.SendAsync("GET /hello.txt HTTP/1.0\r\nHost: x\r\n\r\n"u8.ToArray(), WebSocketMessageType.Binary, true,
            new CancellationTokenSource(WebSocketTestExtensions.Generous).Token);
        using var received = new MemoryStream();
        while (await ws.ReceiveMessageAsync() is { } m) received.Write(m.Data);

        var response = Encoding.UTF8.GetString(received.ToArray());
        Assert.StartsWith("HTTP/1.0 200", response);
        Assert.EndsWith("served from the work dir", response);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, ws.CloseStatus);
    }

    /// <summary>A sim kernel that also offers an <c>echo</c> tcp service at a fixed endpoint (to exercise the proxy's relay and error paths).</summary>
    private sealed class ServiceKernel(IPEndPoint endpoint) : IKernel, IKernelAppServices
    {
        private readonly SimKernel _inner = new(new KernelStartInfo(Guid.NewGuid(), "sim", Path.GetTempPath(), new Dictionary<string, string>(), null), new LocalKernelOptions());

        public IReadOnlyList<KernelServicePort> ServicePorts { get; } = [new KernelServicePort("echo", "tcp", [7000])];

        public Task<IPEndPoint> StartServiceAsync(string name, int containerPort, CancellationToken cancellationToken) => Task.FromResult(endpoint);

        public string RunnerName => "sim";
        public Task<int?> Exited => _inner.Exited;
        public Task StartAsync(CancellationToken cancellationToken) => _inner.StartAsync(cancellationToken);
        public Task<KernelResult> ExecuteAsync(KernelExecuteRequest request, TimeSpan flushWindow, CancellationToken cancellationToken) =>
            _inner.ExecuteAsync(request, flushWindow, cancellationToken);
        public Task InterruptAsync(CancellationToken cancellationToken) => _inner.InterruptAsync(cancellationToken);
        public Task RestartAsync(CancellationToken cancellationToken) => _inner.RestartAsync(cancellationToken);
        public Task<IReadOnlyList<string>> CompleteAsync(string code, CancellationToken cancellationToken) => _inner.CompleteAsync(code, cancellationToken);
        public string GetLogs() => _inner.GetLogs();
        public ValueTask DisposeAsync() => _inner.DisposeAsync();
    }

    /// <summary>A loopback TCP server that echoes one connection and closes it after N bytes.</summary>
    private sealed class EchoServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Task _loop;

        private EchoServer(TcpListener listener, int closeAfterBytes)
        {
            _listener = listener;
            _loop = ServeAsync(closeAfterBytes);
        }

        public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

        public static EchoServer Start(int closeAfterBytes)
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            return new EchoServer(l, closeAfterBytes);
        }

        public static int UnusedPort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            var port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return port;
        }

        private async Task ServeAsync(int closeAfterBytes)
        {
            try
            {
                using var client = await _listener.AcceptTcpClientAsync();
                var stream = client.GetStream();
                var buffer = new byte[8192];
                var total = 0;
                while (total < closeAfterBytes)
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, closeAfterBytes - total)));
                    if (n == 0) break;
                    await stream.WriteAsync(buffer.AsMemory(0, n));
                    total += n;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _loop;
        }
    }
}

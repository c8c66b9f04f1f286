using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using BackendAI.Testing;

namespace BackendAI.Local.Tests.Streams;

/// <summary>The stream endpoints inside the real local server: signed upgrades, its auth and error middleware, its sessions.</summary>
public sealed class LocalServerStreamTests : IClassFixture<LocalServerFixture>
{
    private readonly LocalServerFixture _server;

    public LocalServerStreamTests(LocalServerFixture server) => _server = server;

    /// <summary>Opens a WebSocket signed like client-py: no Content-Type, signed as application/octet-stream.</summary>
    private async Task<ClientWebSocket> ConnectSignedAsync(SignedHttp http, string pathAndQuery)
    {
        using var template = http.Build(HttpMethod.Get, pathAndQuery);
        var ws = new ClientWebSocket();
        ws.Options.CollectHttpResponseDetails = true;
        foreach (var name in (string[])["Date", "X-BackendAI-Version", "Authorization", "User-Agent"])
            if (template.Headers.TryGetValues(name, out var values)) ws.Options.SetRequestHeader(name, string.Join(",", values));
        var uri = new UriBuilder(http.UriOf(pathAndQuery)) { Scheme = "ws" }.Uri;
        using var cts = new CancellationTokenSource(WebSocketTestExtensions.Generous);
        await ws.ConnectAsync(uri, cts.Token);
        return ws;
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> FailedUpgradeAsync(SignedHttp http, string pathAndQuery)
    {
        using var request = http.Build(HttpMethod.Get, pathAndQuery);
        request.Headers.Add("Connection", "Upgrade");
        request.Headers.Add("Upgrade", "websocket");
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        using var response = await http.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static async Task<List<JsonObject>> ReadUntilCloseAsync(WebSocket ws)
    {
        var frames = new List<JsonObject>();
        while (await ws.ReceiveJsonAsync() is { } frame) frames.Add(frame);
        return frames;
    }

    private static string StdoutOf(IEnumerable<JsonObject> frames) =>
        string.Concat(frames.SelectMany(f => f["console"]!.AsArray()).Where(r => (string?)r![0] == "stdout").Select(r => (string?)r![1]));

    [Fact]
    public async Task Server102_Server104_signed_execute_upgrade_without_content_type_runs_python_and_closes_1000()
    {
        var (id, _) = await _server.CreateSessionAsync(_server.User, "cr.backend.ai/stable/python:3.9-ubuntu20.04");
        using var ws = await ConnectSignedAsync(_server.User, $"/stream/session/{id}/execute");
        Assert.Equal(HttpStatusCode.SwitchingProtocols, ws.HttpStatusCode);

        await ws.SendJsonAsync(new JsonObject { ["code"] = "x = 20\nprint(x + 22)", ["mode"] = "query", ["options"] = new JsonObject() });
        var frames = await ReadUntilCloseAsync(ws);

        Assert.Equal("finished", (string?)frames[^1]["status"]);
        Assert.Equal("42\n", StdoutOf(frames));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
    }

    [Fact]
    public async Task Server105_execute_input_over_the_real_server()
    {
        var (_, name) = await _server.CreateSessionAsync(_server.User, "python:3.11");
        using var ws = await ConnectSignedAsync(_server.User, $"/stream/session/{name}/execute");

        await ws.SendJsonAsync(new JsonObject { ["code"] = "import getpass\npw = getpass.getpass('pw? ')\nprint(pw[::-1])", ["mode"] = "query", ["options"] = new JsonObject() });
        var prompt = await ws.ReceiveJsonAsync();
        Assert.Equal("waiting-input", (string?)prompt!["status"]);
        Assert.True((bool?)prompt["options"]!["is_password"]);

        await ws.SendTextAsync("abc");
        var frames = await ReadUntilCloseAsync(ws);
        Assert.Equal("cba\n", StdoutOf(frames));
    }

    [Fact]
    public async Task Server103_execute_upgrade_for_an_unknown_session_is_404_problem_json()
    {
        var (status, body) = await FailedUpgradeAsync(_server.User, "/stream/session/no-such-session/execute");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.EndsWith("object-not-found", (string?)body!["type"]);
    }

    [Fact]
    public async Task Streams_are_isolated_per_owner_and_need_a_signature()
    {
        var (id, _) = await _server.CreateSessionAsync(_server.User, "sim");

        var (otherStatus, _) = await FailedUpgradeAsync(_server.DomainAdmin, $"/stream/session/{id}/execute");
        var (anonStatus, _) = await FailedUpgradeAsync(_server.Anonymous, $"/stream/session/{id}/execute");

        Assert.Equal(HttpStatusCode.NotFound, otherStatus);
        Assert.Equal(HttpStatusCode.Unauthorized, anonStatus);
    }

    [Fact]
    public async Task Server108_apps_lists_python_http_and_preopen_ports()
    {
        var (id, _) = await _server.CreateSessionAsync(_server.User, "python:3.11", extra: new JsonObject { ["config"] = new JsonObject { ["preopenPorts"] = new JsonArray(23456) } });

        var apps = (await _server.User.JsonAsync(HttpMethod.Get, $"/stream/session/{id}/apps"))!.AsArray();

        Assert.Contains(apps, a => (string?)a!["name"] == "http" && (int?)a["ports"]![0] == 8080);
        Assert.Contains(apps, a => (string?)a!["name"] == "preopen-23456" && (string?)a["protocol"] == "preopen" && (int?)a["ports"]![0] == 23456);
        var (simId, _) = await _server.CreateSessionAsync(_server.User, "sim");
        Assert.Empty((await _server.User.JsonAsync(HttpMethod.Get, $"/stream/session/{simId}/apps"))!.AsArray());
    }

    [Fact]
    public async Task Server109_tcpproxy_unknown_app_is_404_no_such_app_service()
    {
        var (id, _) = await _server.CreateSessionAsync(_server.User, "sim");

        var (status, body) = await FailedUpgradeAsync(_server.User, $"/stream/session/{id}/tcpproxy?app=jupyter");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("No such app service.", (string?)body!["title"]);
    }

    [Fact]
    public async Task Server110_Server112_tcpproxy_relays_to_a_preopen_port_byte_exactly_and_closes_1001_on_eof()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var (id, _) = await _server.CreateSessionAsync(_server.User, "sim", extra: new JsonObject { ["config"] = new JsonObject { ["preopenPorts"] = new JsonArray(port) } });
        var service = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[4];
            await stream.ReadExactlyAsync(buffer);
            await stream.WriteAsync(buffer.Reverse().ToArray());
        });

        using var ws = await ConnectSignedAsync(_server.User, $"/stream/session/{id}/tcpproxy?app=preopen-{port}");
        await ws.SendAsync(new byte[] { 1, 2, 0, 255 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        using var received = new MemoryStream();
        while (await ws.ReceiveMessageAsync() is { } m) received.Write(m.Data);
        await service;

        Assert.Equal(new byte[] { 255, 0, 2, 1 }, received.ToArray());
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, ws.CloseStatus);
    }

    [Fact]
    public async Task Server113_pty_of_a_real_session_answers_stdin_and_closes_when_the_session_is_destroyed()
    {
        var (id, _) = await _server.CreateSessionAsync(_server.User, "bash");
        using var ws = await ConnectSignedAsync(_server.User, $"/stream/session/{id}/pty");

        await ws.SendJsonAsync(new JsonObject { ["type"] = "stdin", ["chars"] = Convert.ToBase64String("echo pty-$((1+1))\n"u8.ToArray()) });
        var output = new StringBuilder();
        while (!output.ToString().Contains("pty-2", StringComparison.Ordinal))
        {
            var frame = await ws.ReceiveJsonAsync() ?? throw new InvalidOperationException("closed early: " + output);
            output.Append(Encoding.UTF8.GetString(Convert.FromBase64String((string)frame["data"]!)));
        }

        using var destroy = await _server.User.DeleteAsync($"/session/{id}");
        Assert.True(destroy.IsSuccessStatusCode);
        while (await ws.ReceiveMessageAsync() is not null)
        {
        }
        Assert.NotNull(ws.CloseStatus);
    }

    [Fact]
    public async Task Fault_injection_closes_execute_streams_abruptly_after_n_messages()
    {
        var (id, _) = await _server.CreateSessionAsync(_server.User, "python:3.11");
        _server.Backend.Faults.Set(new FaultSettings { WebSocketCloseAfterMessages = 1 });
        try
        {
            using var ws = await ConnectSignedAsync(_server.User, $"/stream/session/{id}/execute");
            await ws.SendJsonAsync(new JsonObject { ["code"] = "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.3)", ["mode"] = "query", ["options"] = new JsonObject() });

            // an abort may reset the connection before the client reads the one message: count what arrives
            var frames = 0;
            var error = await Record.ExceptionAsync(async () =>
            {
                while (await ws.ReceiveJsonAsync() is not null) frames++;
            });

            Assert.IsType<WebSocketException>(error);
            Assert.InRange(frames, 0, 1);
            Assert.Null(ws.CloseStatus);
        }
        finally
        {
            _server.Backend.Faults.Reset();
        }
    }
}

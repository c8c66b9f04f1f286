using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using BackendAI.Client.Errors;
using BackendAI.Client.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace BackendAI.Client.Tests.Streams;

public class WebSocketTests
{
    private static async Task<string?> ReceiveText(WebSocket ws)
    {
        var buf = new byte[64 * 1024];
        using var ms = new MemoryStream();
        while (true)
        {
            var r = await ws.ReceiveAsync(buf, CancellationToken.None);
            if (r.MessageType == WebSocketMessageType.Close) return null;
            ms.Write(buf, 0, r.Count);
            if (r.EndOfMessage) return Encoding.UTF8.GetString(ms.ToArray());
        }
    }

    private static Task SendText(WebSocket ws, string text) =>
        ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    [Fact]
    public async Task Client6_Client26_streaming_execute_is_signed_without_content_type_and_drives_input()
    {
        var frames = new List<string>();
        await using var server = await LoopbackServer.StartAsync(async (ctx, req) =>
        {
            if (!ctx.WebSockets.IsWebSocketRequest)
            {
                ctx.Response.StatusCode = 400;
                return;
            }
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            frames.Add((await ReceiveText(ws))!);
            await SendText(ws, "{\"status\": \"waiting-input\", \"console\": [[\"stdout\", \"name? \"]], \"exitCode\": null, \"options\": {\"is_password\": false}, \"files\": null}");
            frames.Add((await ReceiveText(ws))!);
            await SendText(ws, "{\"status\": \"finished\", \"console\": [[\"stdout\", \"hi Lablup\\n\"]], \"exitCode\": 0, \"options\": null, \"files\": null}");
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        });
        await using var client = server.Client();
        await using (var run = await client.Streams.OpenExecuteAsync("5c3ad8c9", "name = input(\"name? \")"))
        {
            var first = await run.ReadAsync();
            Assert.Equal("waiting-input", first!.Status);
            Assert.Equal("name? ", first.Console[0].Text);
            await run.SendInputAsync("Lablup");
            var done = await run.ReadAsync();
            Assert.Equal(("finished", 0), (done!.Status, done.ExitCode));
            Assert.True(done.IsFinished);
            Assert.Null(await run.ReadAsync());
        }
        var r = server.Requests.Single();
        Assert.Equal("/stream/session/5c3ad8c9/execute", r.RawTarget);
        Assert.False(r.HasHeader("Content-Type"));
        Assert.Equal("application/octet-stream", r.SignedContentType);
        Assert.True(r.SignatureValid);
        Assert.True(r.HasHeader("Date"));
        Assert.Equal("v6.20220315", r.Header("X-BackendAI-Version"));
        var firstFrame = JsonDocument.Parse(frames[0]).RootElement;
        Assert.Equal("query", firstFrame.GetProperty("mode").GetString());
        Assert.Equal("name = input(\"name? \")", firstFrame.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Object, firstFrame.GetProperty("options").ValueKind);
        Assert.Equal("Lablup", frames[1]);
    }

    [Fact]
    public async Task Client26_error_and_server_restarting_statuses_surface_as_typed_errors()
    {
        await using var server = await LoopbackServer.StartAsync(async (ctx, req) =>
        {
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            var first = await ReceiveText(ws);
            var status = first!.Contains("batch") ? "server-restarting" : "error";
            await SendText(ws, $"{{\"status\": \"{status}\", \"msg\": \"Invalid API parameters: nope\"}}");
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        });
        await using var client = server.Client();
        await using (var run = await client.Streams.OpenExecuteAsync("s1", "x"))
        {
            var ex = await Assert.ThrowsAsync<BackendApiException>(() => run.ReadAsync());
            Assert.Contains("Invalid API parameters", ex.Msg);
        }
        await using (var batch = await client.Streams.OpenExecuteAsync("s1", "", "batch", new Models.BatchOptions("*", "make", "./a.out")))
            await Assert.ThrowsAsync<BackendConnectionException>(() => batch.ReadAsync());
        await Assert.ThrowsAsync<BackendClientException>(() => client.Streams.OpenExecuteAsync("s1", "", "continue"));
    }

    [Fact]
    public async Task Refused_upgrade_surfaces_the_problem_body()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => LoopbackServer.WriteProblem(ctx, 404, "object-not-found", "No such session."));
        await using var client = server.Client();
        await Assert.ThrowsAsync<SessionNotFoundException>(() => client.Streams.OpenExecuteAsync("missing", "print(1)"));
    }

    [Fact]
    public async Task Pty_sends_base64_stdin_and_resize_and_decodes_output()
    {
        var received = new List<string>();
        await using var server = await LoopbackServer.StartAsync(async (ctx, req) =>
        {
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            received.Add((await ReceiveText(ws))!);
            received.Add((await ReceiveText(ws))!);
            await SendText(ws, "{\"type\": \"out\", \"data\": \"" + Convert.ToBase64String("$ ls\r\n"u8) + "\"}");
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        });
        await using var client = server.Client();
        await using (var pty = await client.Streams.OpenPtyAsync("s1"))
        {
            await pty.SendStdinAsync("ls\n"u8.ToArray());
            await pty.ResizeAsync(25, 80);
            Assert.Equal("$ ls\r\n", Encoding.UTF8.GetString((await pty.ReadAsync())!));
            Assert.Null(await pty.ReadAsync());
        }
        var stdin = JsonDocument.Parse(received[0]).RootElement;
        Assert.Equal("stdin", stdin.GetProperty("type").GetString());
        Assert.Equal("ls\n", Encoding.UTF8.GetString(Convert.FromBase64String(stdin.GetProperty("chars").GetString()!)));
        var resize = JsonDocument.Parse(received[1]).RootElement;
        Assert.Equal((25, 80), (resize.GetProperty("rows").GetInt32(), resize.GetProperty("cols").GetInt32()));
        Assert.Equal("/stream/session/s1/pty", server.Requests.Single().RawTarget);
    }

    [Fact]
    public async Task Tcpproxy_passes_app_port_arguments_and_envs_and_pumps_binary_frames()
    {
        await using var server = await LoopbackServer.StartAsync(async (ctx, req) =>
        {
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            var buf = new byte[1024];
            var r = await ws.ReceiveAsync(buf, CancellationToken.None);
            await ws.SendAsync(buf.AsMemory(0, r.Count).ToArray().Reverse().ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None);
            await ws.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, null, CancellationToken.None);
        });
        await using var client = server.Client();
        using var ws = await client.Streams.OpenTcpProxyAsync("s1", "jupyter", 8070,
            new Dictionary<string, object?> { ["-P"] = "12345", ["--flag"] = null }, new Dictionary<string, string> { ["PASSWORD"] = "x" });
        await ws.SendAsync("abc"u8.ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None);
        var buf = new byte[16];
        var got = await ws.ReceiveAsync(buf, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Binary, got.MessageType);
        Assert.Equal("cba", Encoding.ASCII.GetString(buf, 0, got.Count));
        var target = Uri.UnescapeDataString(server.Requests.Single().RawTarget);
        Assert.StartsWith("/stream/session/s1/tcpproxy?app=jupyter&port=8070&arguments=", target);
        Assert.Contains("{\"-P\":\"12345\",\"--flag\":null}", target);
        Assert.Contains("envs={\"PASSWORD\":\"x\"}", target);
        Assert.True(server.Requests.Single().SignatureValid);
    }

    [Fact]
    public async Task Apps_list_parses_service_ports()
    {
        await using var server = await LoopbackServer.StartJsonAsync(
            "[{\"name\": \"jupyter\", \"protocol\": \"http\", \"ports\": [8070], \"url_template\": \"{protocol}://{host}:{port}/\"}, {\"name\": \"sshd\", \"protocol\": \"tcp\", \"ports\": [2200]}]");
        await using var client = server.Client();
        var apps = await client.Streams.GetAppsAsync("s1");
        Assert.Equal(["jupyter", "sshd"], apps.Select(a => a.Name));
        Assert.Null(apps[1].UrlTemplate);
        Assert.Equal("/stream/session/s1/apps", server.Api.Single().RawTarget);
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using BackendAI.Local.Kernels;

namespace BackendAI.Local.Tests.Streams;

public sealed class ExecuteStreamTests : IAsyncLifetime
{
    private StreamTestHost _host = null!;

    public async Task InitializeAsync() => _host = await StreamTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static string StdoutOf(IEnumerable<JsonObject> frames) =>
        string.Concat(frames.SelectMany(f => f["console"]!.AsArray()).Where(r => (string?)r![0] == "stdout").Select(r => (string?)r![1]));

    private static async Task<List<JsonObject>> ReadUntilCloseAsync(ClientWebSocket ws)
    {
        var frames = new List<JsonObject>();
        while (await ws.ReceiveJsonAsync() is { } frame) frames.Add(frame);
        return frames;
    }

    [Fact]
    public async Task Server104_execute_query_streams_frames_and_closes_1000_after_finished()
    {
        var s = await _host.AddSessionAsync("py", "python:3.11");
        using var ws = await _host.ConnectAsync($"/stream/session/{s.Id}/execute");
        Assert.Equal(HttpStatusCode.SwitchingProtocols, ws.HttpStatusCode);

        await ws.SendJsonAsync(new JsonObject { ["code"] = "print(1)", ["mode"] = "query", ["options"] = new JsonObject() });
        var frames = await ReadUntilCloseAsync(ws);

        var last = frames[^1];
        Assert.Equal("finished", (string?)last["status"]);
        Assert.Equal(0, (int?)last["exitCode"]);
        Assert.True(last.ContainsKey("options") && last.ContainsKey("files") && last.ContainsKey("console"));
        Assert.Equal("1\n", StdoutOf(frames));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
    }

    [Fact]
    public async Task Server105_waiting_input_is_answered_by_a_plain_text_frame()
    {
        var s = await _host.AddSessionAsync("py", "python:3.11");
        using var ws = await _host.ConnectAsync($"/stream/session/{s.Name}/execute");

        await ws.SendJsonAsync(new JsonObject { ["code"] = "name = input('name? ')\nprint('hi', name)", ["mode"] = "query", ["options"] = new JsonObject() });
        var prompt = await ws.ReceiveJsonAsync();
        Assert.Equal("waiting-input", (string?)prompt!["status"]);
        Assert.False((bool?)prompt["options"]!["is_password"]);
        Assert.Equal("name? ", StdoutOf([prompt]));

        await ws.SendTextAsync("Lablup");
        var frames = await ReadUntilCloseAsync(ws);
        Assert.Equal("finished", (string?)frames[^1]["status"]);
        Assert.Equal("hi Lablup\n", StdoutOf(frames));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
    }

    [Theory]
    [InlineData("this is not json")]
    [InlineData("{\"code\": \"\", \"mode\": \"continue\", \"options\": {}}")]
    [InlineData("{\"code\": \"print(1)\"}")]
    public async Task Server106_bad_first_frame_yields_an_error_frame_and_a_close(string firstFrame)
    {
        var s = await _host.AddSessionAsync("sim", "sim");
        using var ws = await _host.ConnectAsync($"/stream/session/{s.Id}/execute");

        await ws.SendTextAsync(firstFrame);
        var frame = await ws.ReceiveJsonAsync();

        Assert.Equal("error", (string?)frame!["status"]);
        Assert.StartsWith("Invalid API parameters: ", (string?)frame["msg"]);
        Assert.Null(await ws.ReceiveJsonAsync());
        Assert.NotNull(ws.CloseStatus);
    }

    [Fact]
    public async Task Server103_unknown_session_answers_404_problem_json_instead_of_upgrading()
    {
        var (status, body) = await _host.FailedUpgradeAsync("/stream/session/nonexistent/execute");

        Assert.Equal(HttpStatusCode.NotFound, status);
        var problem = JsonNode.Parse(body)!;
        Assert.EndsWith("object-not-found", (string?)problem["type"]);
        Assert.Equal("No such session.", (string?)problem["title"]);
    }

    [Fact]
    public async Task Server107_exec_timeout_is_sent_and_the_stream_closes()
    {
        var dir = Path.Combine(Path.GetTempPath(), "bai-stream-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var options = new LocalKernelOptions { ExecutionTimeout = TimeSpan.FromMilliseconds(300) };
        var kernel = new LocalKernelFactory(options).Create(new KernelStartInfo(Guid.NewGuid(), "bash", dir, new Dictionary<string, string>(), null));
        await kernel.StartAsync(CancellationToken.None);
        var s = await _host.AddSessionAsync("slow", "bash", kernel);
        using var ws = await _host.ConnectAsync($"/stream/session/{s.Id}/execute");

        await ws.SendJsonAsync(new JsonObject { ["code"] = "sleep 20", ["mode"] = "query", ["options"] = new JsonObject() });
        var frames = await ReadUntilCloseAsync(ws);

        Assert.Equal("exec-timeout", (string?)frames[^1]["status"]);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
    }

    [Fact]
    public async Task Batch_mode_streams_build_finished_then_finished()
    {
        var s = await _host.AddSessionAsync("b", "bash");
        using var ws = await _host.ConnectAsync($"/stream/session/{s.Id}/execute");

        await ws.SendJsonAsync(JsonNode.Parse("{\"code\": \"\", \"mode\": \"batch\", \"options\": {\"clean\": null, \"build\": \"echo built\", \"buildLog\": false, \"exec\": \"echo ran\"}}")!);
        var frames = await ReadUntilCloseAsync(ws);

        var statuses = frames.Select(f => (string?)f["status"]).Where(x => x != "continued").ToList();
        Assert.Equal(["build-finished", "finished"], statuses);
        Assert.Equal("built\nran\n", StdoutOf(frames));
    }

    [Fact]
    public async Task Closing_the_socket_before_finished_interrupts_the_running_code()
    {
        var s = await _host.AddSessionAsync("py", "python:3.11");
        var ws = await _host.ConnectAsync($"/stream/session/{s.Id}/execute");
        await ws.SendJsonAsync(new JsonObject { ["code"] = "import time\nprint('sleeping', flush=True)\ntime.sleep(60)", ["mode"] = "query", ["options"] = new JsonObject() });
        var first = await ws.ReceiveJsonAsync();
        Assert.Equal("continued", (string?)first!["status"]);
        var sw = Stopwatch.StartNew();

        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", new CancellationTokenSource(WebSocketTestExtensions.Generous).Token);
        ws.Dispose();

        // the next run is queued behind the sleeping one: it only finishes early if the sleep was interrupted
        using var cts = new CancellationTokenSource(WebSocketTestExtensions.Generous);
        var runId = Guid.NewGuid().ToString("N");
        var result = await s.Kernel.ExecuteAsync(new KernelExecuteRequest(KernelExecuteMode.Query, runId, "print('next')"), TimeSpan.FromSeconds(25), cts.Token);
        Assert.Equal("finished", result.Status);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
    }
}

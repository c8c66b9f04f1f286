using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Testing;

namespace BackendAI.Local.Tests.Sessions;

/// <summary>Session + execute end to end through the REST endpoints with the real python kernel (Server 63–65, 69, 71–74).</summary>
public class ExecuteEndToEndTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>
{
    private const string Python = "python:3.9-ubuntu20.04";

    private static CancellationToken Budget(int seconds = 30) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    private Task<JsonNode?> ExecAsync(string session, string mode, string code, string? runId, JsonObject? options = null, CancellationToken ct = default)
    {
        var body = new JsonObject { ["mode"] = mode, ["code"] = code, ["runId"] = runId };
        if (options is not null) body["options"] = options;
        return fx.User.JsonAsync(HttpMethod.Post, $"/session/{session}", body, cancellationToken: ct);
    }

    /// <summary>Continues a run until a terminal status; returns every result.</summary>
    private async Task<List<JsonNode>> DriveAsync(string session, JsonNode first, CancellationToken ct)
    {
        var results = new List<JsonNode> { first };
        var runId = first["runId"]!.GetValue<string>();
        while (results[^1]["status"]!.GetValue<string>() is "continued" or "clean-finished" or "build-finished")
            results.Add((await ExecAsync(session, "continue", "", runId, ct: ct))!["result"]!);
        return results;
    }

    private static string Stream(IEnumerable<JsonNode> results, string stream)
    {
        var sb = new StringBuilder();
        foreach (var r in results)
            foreach (var item in r["console"]!.AsArray())
                if (item![0]!.GetValue<string>() == stream) sb.Append(item[1]!.GetValue<string>());
        return sb.ToString();
    }

    [Fact]
    public async Task Server65_execute_query_returns_finished_with_console()
    {
        var ct = Budget();
        var (_, name) = await fx.CreateSessionAsync(fx.User, Python, cancellationToken: ct);
        var body = await ExecAsync(name, "query", "print(1)", null, ct: ct);
        var results = await DriveAsync(name, body!["result"]!, ct);
        var last = results[^1];
        Assert.Equal("finished", last["status"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(last["runId"]!.GetValue<string>()));
        Assert.Equal(0, last["exitCode"]!.GetValue<int>());
        Assert.Null(last["options"]);
        Assert.Null(last["files"]);
        Assert.Equal("1\n", Stream(results, "stdout"));
    }

    [Fact]
    public async Task Server69_long_query_continues_and_the_output_adds_up()
    {
        var ct = Budget();
        var (_, name) = await fx.CreateSessionAsync(fx.User, Python, cancellationToken: ct);
        const string code = "import time\nfor i in range(6):\n    print(i, flush=True)\n    time.sleep(0.25)\n";
        var sw = Stopwatch.StartNew();
        var first = (await ExecAsync(name, "query", code, null, ct: ct))!["result"]!;
        Assert.Equal("continued", first["status"]!.GetValue<string>());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1.4), $"first answer took {sw.Elapsed}"); // 300 ms flush window in the fixture
        var results = await DriveAsync(name, first, ct);
        Assert.Equal("finished", results[^1]["status"]!.GetValue<string>());
        Assert.All(results, r => Assert.Equal(first["runId"]!.GetValue<string>(), r["runId"]!.GetValue<string>()));
        Assert.Equal("0\n1\n2\n3\n4\n5\n", Stream(results, "stdout"));
    }

    [Fact]
    public async Task Server71_input_prompt_then_input_mode_resumes()
    {
        var ct = Budget();
        var (_, name) = await fx.CreateSessionAsync(fx.User, Python, cancellationToken: ct);
        var results = await DriveAsync(name, (await ExecAsync(name, "query", "n = input('name? ')\nprint('hi', n)", null, ct: ct))!["result"]!, ct);
        var waiting = results[^1];
        Assert.Equal("waiting-input", waiting["status"]!.GetValue<string>());
        Assert.False(waiting["options"]!["is_password"]!.GetValue<bool>());
        Assert.Equal("name? ", Stream(results, "stdout"));
        var resumed = await DriveAsync(name, (await ExecAsync(name, "input", "Lablup", waiting["runId"]!.GetValue<string>(), ct: ct))!["result"]!, ct);
        Assert.Equal("finished", resumed[^1]["status"]!.GetValue<string>());
        Assert.Equal("hi Lablup\n", Stream(resumed, "stdout"));
    }

    [Fact]
    public async Task Server72_73_batch_build_failure_skips_exec_with_127_and_null_clean_reports_nothing()
    {
        var ct = Budget();
        var (_, name) = await fx.CreateSessionAsync(fx.User, Python, cancellationToken: ct);
        var options = new JsonObject { ["clean"] = null, ["build"] = "exit 1", ["buildLog"] = false, ["exec"] = "echo x" };
        var results = await DriveAsync(name, (await ExecAsync(name, "batch", "", null, options, ct))!["result"]!, ct);
        var statuses = results.Select(r => r["status"]!.GetValue<string>()).Where(s => s != "continued").ToList();
        Assert.Equal(["build-finished", "finished"], statuses);
        Assert.Equal(1, results.First(r => r["status"]!.GetValue<string>() == "build-finished")["exitCode"]!.GetValue<int>());
        Assert.Equal(127, results[^1]["exitCode"]!.GetValue<int>());
        Assert.DoesNotContain("x", Stream(results, "stdout"));
    }

    [Fact]
    public async Task Server74_a_second_run_waits_for_the_first_fifo()
    {
        var ct = Budget();
        var (_, name) = await fx.CreateSessionAsync(fx.User, Python, cancellationToken: ct);
        var first = (await ExecAsync(name, "query", "import time\ntime.sleep(1)\nprint('first')", null, ct: ct))!["result"]!;
        Assert.Equal("continued", first["status"]!.GetValue<string>());
        var second = Task.Run(async () =>
        {
            var r = (await ExecAsync(name, "query", "print('second')", null, ct: ct))!["result"]!;
            return (await DriveAsync(name, r, ct), DateTime.UtcNow);
        }, ct);
        var firstResults = await DriveAsync(name, first, ct);
        var firstDone = DateTime.UtcNow;
        var (secondResults, secondDone) = await second;
        Assert.Equal("first\n", Stream(firstResults, "stdout"));
        Assert.Equal("finished", secondResults[^1]["status"]!.GetValue<string>());
        Assert.Equal("second\n", Stream(secondResults, "stdout"));
        Assert.True(secondDone >= firstDone.AddMilliseconds(-50), "the second run finished before the first");
        Assert.NotEqual(first["runId"]!.GetValue<string>(), secondResults[0]["runId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server64_interrupt_ends_a_long_sleep_early()
    {
        var ct = Budget();
        var (_, name) = await fx.CreateSessionAsync(fx.User, Python, cancellationToken: ct);
        var sw = Stopwatch.StartNew();
        var first = (await ExecAsync(name, "query", "import time\ntime.sleep(60)", null, ct: ct))!["result"]!;
        Assert.Equal("continued", first["status"]!.GetValue<string>());
        using (var r = await fx.User.PostAsync($"/session/{name}/interrupt", cancellationToken: ct))
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        var results = await DriveAsync(name, first, ct);
        Assert.Equal("finished", results[^1]["status"]!.GetValue<string>());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30));
        Assert.Contains("KeyboardInterrupt", Stream(results, "stderr"));
    }

    [Fact]
    public async Task Server63_restart_loses_variables_and_keeps_files()
    {
        var ct = Budget(45);
        var (id, name) = await fx.CreateSessionAsync(fx.User, Python, cancellationToken: ct);
        await DriveAsync(name, (await ExecAsync(name, "query", "x = 42\nopen('kept.txt', 'w').write('yes')", null, ct: ct))!["result"]!, ct);
        var before = await DriveAsync(name, (await ExecAsync(name, "query", "print(x)", null, ct: ct))!["result"]!, ct);
        Assert.Equal("42\n", Stream(before, "stdout"));

        using (var r = await fx.User.PatchAsync($"/session/{name}", ct))
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        var after = await DriveAsync(name, (await ExecAsync(name, "query", "print(x)", null, ct: ct))!["result"]!, ct);
        Assert.Contains("NameError", Stream(after, "stderr"));
        var file = await DriveAsync(name, (await ExecAsync(name, "query", "print(open('kept.txt').read())", null, ct: ct))!["result"]!, ct);
        Assert.Equal("yes\n", Stream(file, "stdout"));
        Assert.True(File.Exists(Path.Combine(fx.Backend.Paths.SessionsDirectory, id.ToString(), "work", "kept.txt")));
    }

    [Fact]
    public async Task Restart_emits_session_started_again()
    {
        var ct = Budget();
        var (id, name) = await fx.CreateSessionAsync(fx.User, Python, cancellationToken: ct);
        using var response = await fx.User.Client.SendAsync(fx.User.Build(HttpMethod.Get, $"/events/session?sessionId={id}"), HttpCompletionOption.ResponseHeadersRead, ct);
        using var sse = new SseReader(await response.Content.ReadAsStreamAsync(ct));
        using (var r = await fx.User.PatchAsync($"/session/{name}", ct))
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        Assert.Equal("session_started", (await sse.ReadAsync(ct))!.Event);
    }

    [Fact]
    public async Task Kernel_exiting_by_itself_terminates_the_session_as_self_terminated()
    {
        var ct = Budget();
        var (id, name) = await fx.CreateSessionAsync(fx.User, Python, cancellationToken: ct);
        using var response = await fx.User.Client.SendAsync(fx.User.Build(HttpMethod.Get, $"/events/session?sessionId={id}"), HttpCompletionOption.ResponseHeadersRead, ct);
        using var sse = new SseReader(await response.Content.ReadAsStreamAsync(ct));
        try
        {
            await ExecAsync(name, "query", "import os\nos._exit(3)", null, ct: ct);
        }
        catch (HttpRequestException)
        {
            // the run may report an error as the process vanishes; the lifecycle is what matters here
        }
        var events = await sse.ReadUntilAsync("session_terminated", ct);
        Assert.Equal("self-terminated", JsonNode.Parse(events[^1].Data)!["reason"]!.GetValue<string>());
        var view = fx.Backend.Services.GetRequiredService<BackendAI.Local.Hosting.ISessionQuerySource>().Find(id)!;
        Assert.Equal("TERMINATED", view.Status);
        Assert.Equal("self-terminated", view.StatusInfo);
    }
}

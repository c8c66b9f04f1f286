using BackendAI.Local.Hosting;
using Xunit.Abstractions;

namespace BackendAI.Actors.Tests.EndToEnd;

/// <summary><see cref="ExecuteOptions.UseWebSocket"/> against a real BackendAI.Local server (streaming.md B.1).</summary>
[Collection(nameof(WebSocketExecuteTests))]
public sealed class WebSocketExecuteTests(RoomyServerFixture server, ITestOutputHelper output)
    : IClassFixture<RoomyServerFixture>, IAsyncLifetime
{
    private const string Python = "python:3.9-ubuntu20.04";
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(40);
    private BackendAIRuntime _runtime = null!;

    public Task InitializeAsync()
    {
        server.Backend.Faults.Set(new FaultSettings());
        _runtime = BackendAIRuntime.Create(server.ClientOptions(), RoomyServerFixture.FastRuntimeConfig);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _runtime.DisposeAsync();

    private static string UniqueName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Websocket_execute_gives_the_same_outcome_as_rest()
    {
        using var cts = new CancellationTokenSource(s_budget);
        await using var session = await _runtime.StartSessionAsync(Python, new SessionStartOptions { Name = UniqueName("ws-same") }, cts.Token);
        const string code = "import sys\nfor i in range(3): print('line', i)\nprint('oops', file=sys.stderr)\nprint('done')";

        var rest = await session.ExecuteAsync(code, cancellationToken: cts.Token);
        var ws = await session.ExecuteAsync(code, new ExecuteOptions { UseWebSocket = true }, cts.Token);

        output.WriteLine($"rest: {rest.Status} {rest.Stdout}| ws: {ws.Status} {ws.Stdout}");
        Assert.Equal("line 0\nline 1\nline 2\ndone\n", ws.Stdout);
        Assert.Equal((rest.Status, rest.ExitCode, rest.Stdout, rest.Stderr), (ws.Status, ws.ExitCode, ws.Stdout, ws.Stderr));
        Assert.Equal("oops\n", ws.Stderr);

        // The streaming variant yields the same records.
        var streamed = new List<string>();
        await foreach (var r in session.Execute(code, new ExecuteOptions { UseWebSocket = true }, cts.Token))
            if (r.Type == "stdout") streamed.Add(r.Text!);
        Assert.Equal(rest.Stdout, string.Concat(streamed));
    }

    [Fact]
    public async Task Websocket_execute_answers_an_input_prompt_through_the_input_provider()
    {
        using var cts = new CancellationTokenSource(s_budget);
        await using var session = await _runtime.StartSessionAsync(Python, new SessionStartOptions { Name = UniqueName("ws-input") }, cts.Token);
        var prompts = new List<InputPrompt>();

        var outcome = await session.ExecuteAsync("n = input('name? ')\nprint('hi', n)", new ExecuteOptions
        {
            UseWebSocket = true,
            InputProvider = (p, _) => { prompts.Add(p); return ValueTask.FromResult("Lablup"); },
        }, cts.Token);

        Assert.Equal("name? ", Assert.Single(prompts).Prompt);
        Assert.EndsWith("hi Lablup\n", outcome.Stdout);
        Assert.Equal("finished", outcome.Status);
    }

    [Fact]
    public async Task Websocket_execute_cancelled_by_its_consumer_closes_the_socket_and_interrupts_the_run()
    {
        using var cts = new CancellationTokenSource(s_budget);
        await using var session = await _runtime.StartSessionAsync(Python, new SessionStartOptions { Name = UniqueName("ws-cancel") }, cts.Token);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var seen = 0;

        // Runs for about 60 s unless interrupted.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in session.Execute("import time\nfor i in range(600):\n    print(i, flush=True)\n    time.sleep(0.1)",
                               new ExecuteOptions { UseWebSocket = true }, stop.Token))
                if (++seen == 3) await stop.CancelAsync();
        });

        // The server interrupts the run when the socket closes, so the kernel is free again: the next run
        // finishes long before the cancelled one would have (a run waits while an earlier run goes on).
        var started = DateTime.UtcNow;
        var next = await session.ExecuteAsync("print('after')", cancellationToken: cts.Token);
        Assert.Equal("after\n", next.Stdout);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30), $"the next run waited {DateTime.UtcNow - started}");
    }
}

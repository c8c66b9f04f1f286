using Akka.Streams;
using Akka.Streams.Dsl;
using BackendAI.Actors.Tests.Fakes;
using BackendAI.Client;
using Xunit.Abstractions;

namespace BackendAI.Actors.Tests.Kernels;

public sealed class RunLoopSpec(ITestOutputHelper output) : BackendAISpec(output, "backendai.run-loop.buffer-size = 8")
{
    private readonly FakeSessionApi _api = new();

    private async Task<(BackendAIRuntime Runtime, ComputeSession Session)> StartAsync()
    {
        var runtime = FakeRuntime.Create(Sys, _api);
        var session = await runtime.StartSessionAsync("sim", new SessionStartOptions { Name = "run" });
        return (runtime, session);
    }

    [Fact]
    public async Task Client18_Client19_run_loop_continues_until_finished_and_keeps_the_server_run_id()
    {
        var n = 0;
        _api.OnExecute = (_, r) => Task.FromResult(++n < 4
            ? FakeSessionApi.Result("continued", "srv-run", null, ("stdout", $"{n}\n"))
            : FakeSessionApi.Result("finished", "srv-run", 0, ("stdout", "4\n"), ("stderr", "warn\n")));
        var (_, session) = await StartAsync();

        var outcome = await session.ExecuteAsync("for i in range(4): print(i+1)");

        Assert.Equal("1\n2\n3\n4\n", outcome.Stdout);
        Assert.Equal("warn\n", outcome.Stderr);
        Assert.Equal(("finished", 0, "srv-run"), (outcome.Status, outcome.ExitCode, outcome.RunId));
        var calls = _api.ExecuteCalls.Select(c => c.Request).ToArray();
        Assert.Equal(new ExecuteRequest(ExecuteMode.Query, "for i in range(4): print(i+1)", null), calls[0]);
        Assert.All(calls.Skip(1), c => Assert.Equal(new ExecuteRequest(ExecuteMode.Continue, "", "srv-run"), c));
        Assert.Equal(4, calls.Length);
    }

    [Fact]
    public async Task Client18_run_loop_answers_waiting_input_through_the_input_provider_with_password_flag()
    {
        _api.OnExecute = (_, r) => Task.FromResult(r.Mode switch
        {
            ExecuteMode.Query => new ExecutionResult("waiting-input", "r-1", null, true, [FakeSessionApi.Record("stdout", "password? ")], null),
            ExecuteMode.Input => FakeSessionApi.Result("finished", "r-1", 0, ("stdout", $"got {r.Code}\n")),
            _ => throw new InvalidOperationException("unexpected mode " + r.Mode),
        });
        var (_, session) = await StartAsync();
        var prompts = new List<InputPrompt>();

        var outcome = await session.ExecuteAsync("getpass()", new ExecuteOptions
        {
            InputProvider = (p, _) => { prompts.Add(p); return ValueTask.FromResult("s3cret"); },
        });

        Assert.Equal([new InputPrompt(session.Id, "password? ", true)], prompts);
        Assert.Equal("password? got s3cret\n", outcome.Stdout);
        Assert.Equal(new ExecuteRequest(ExecuteMode.Input, "s3cret", "r-1"), _api.ExecuteCalls.Last().Request);
    }

    [Fact]
    public async Task Run_loop_fails_clearly_when_input_is_needed_but_no_provider_is_set()
    {
        _api.OnExecute = (_, _) => Task.FromResult(new ExecutionResult("waiting-input", "r-2", null, false, [], null));
        var (_, session) = await StartAsync();
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => session.ExecuteAsync("input()"));
        Assert.Contains("InputProvider", ex.Message);
    }

    [Fact]
    public async Task Client18_batch_mode_continues_after_clean_and_build_finished()
    {
        var statuses = new Queue<string>(["clean-finished", "build-finished", "continued", "finished"]);
        _api.OnExecute = (_, _) => Task.FromResult(FakeSessionApi.Result(statuses.Dequeue(), "batch-run", 0, ("stdout", "x")));
        var (_, session) = await StartAsync();
        var outcome = await session.ExecuteAsync("", new ExecuteOptions { Mode = ExecuteMode.Batch, Batch = new BatchOptions("*", "make", "./a.out") });
        Assert.Equal("xxxx", outcome.Stdout);
        var calls = _api.ExecuteCalls.Select(c => c.Request).ToArray();
        Assert.Equal(ExecuteMode.Batch, calls[0].Mode);
        Assert.Equal(new BatchOptions("*", "make", "./a.out"), calls[0].Options);
        Assert.Equal([ExecuteMode.Continue, ExecuteMode.Continue, ExecuteMode.Continue], calls.Skip(1).Select(c => c.Mode).ToArray());
    }

    [Fact]
    public async Task Run_loop_backpressure_a_slow_consumer_bounds_the_continue_requests_issued()
    {
        const int perCall = 4, totalCalls = 50;
        var calls = 0;
        _api.OnExecute = (_, _) =>
        {
            var i = Interlocked.Increment(ref calls);
            var records = Enumerable.Range(0, perCall).Select(k => ("stdout", $"{(i - 1) * perCall + k}\n")).ToArray();
            return Task.FromResult(FakeSessionApi.Result(i < totalCalls ? "continued" : "finished", "bp", i < totalCalls ? null : 0, records));
        };
        var (runtime, session) = await StartAsync();
        var (outcomeTask, queue) = session.ExecuteSource("endless()")
            .ToMaterialized(Sink.Queue<ConsoleRecord>().WithAttributes(Attributes.CreateInputBuffer(1, 1)), Keep.Both)
            .Run(runtime.Materializer);

        var consumed = new List<string>();
        for (var i = 0; i < 10; i++) consumed.Add((await queue.PullAsync()).Value.Text!);
        await Task.Delay(500);    // give an unbounded producer every chance to run ahead
        var issued = Volatile.Read(ref calls);
        // 10 consumed + run-loop buffer (8) + sink buffer (1) + one batch in flight, 4 records per call.
        var bound = (int)Math.Ceiling((10 + 8 + 1 + perCall) / (double)perCall) + 1;
        Assert.InRange(issued, 3, bound);
        await Task.Delay(300);
        Assert.Equal(issued, Volatile.Read(ref calls));   // nothing more until the consumer pulls

        while ((await queue.PullAsync()) is { HasValue: true } next) consumed.Add(next.Value.Text!);
        Assert.Equal(totalCalls, calls);
        Assert.Equal(Enumerable.Range(0, perCall * totalCalls).Select(k => $"{k}\n"), consumed);
        Assert.Equal("finished", (await outcomeTask).Status);
    }

    [Fact]
    public async Task Run_loop_stops_calling_the_server_when_the_consumer_cancels()
    {
        var calls = 0;
        _api.OnExecute = (_, _) =>
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult(FakeSessionApi.Result("continued", "c", null, ("stdout", "tick\n")));
        };
        var (_, session) = await StartAsync();
        using var cts = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in session.Execute("while True: tick()", cancellationToken: cts.Token))
                if (++seen == 3) cts.Cancel();
        });
        await Task.Delay(300);
        var after = Volatile.Read(ref calls);
        await Task.Delay(300);
        Assert.Equal(after, Volatile.Read(ref calls));
        // 3 consumed + the channel bridge (8) + the run's buffer (8) + one record in flight, one record per call.
        Assert.InRange(after, 3, 3 + 8 + 8 + 2);
    }

    [Fact]
    public async Task Concurrent_runs_of_one_session_keep_their_own_run_ids_and_outputs()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _api.OnExecute = async (_, r) =>
        {
            if (r.Mode == ExecuteMode.Query)
            {
                await gate.Task;   // both runs are in flight before either answers
                return FakeSessionApi.Result("continued", "srv-" + r.Code, null, ("stdout", r.Code + "-1\n"));
            }
            var name = r.RunId!["srv-".Length..];
            return FakeSessionApi.Result("finished", r.RunId!, 0, ("stdout", name + "-2\n"));
        };
        var (_, session) = await StartAsync();

        var a = session.ExecuteAsync("a");
        var b = session.ExecuteAsync("b");
        await AwaitConditionAsync(() => _api.ExecuteCalls.Count == 2);
        gate.SetResult();

        Assert.Equal(("a-1\na-2\n", "srv-a"), ((await a).Stdout, (await a).RunId));
        Assert.Equal(("b-1\nb-2\n", "srv-b"), ((await b).Stdout, (await b).RunId));
        var continues = _api.ExecuteCalls.Select(c => c.Request).Where(c => c.Mode == ExecuteMode.Continue).Select(c => c.RunId).Order();
        Assert.Equal(["srv-a", "srv-b"], continues);

        // Later runs of the session are served too (by the same long-lived run loop).
        _api.OnExecute = (_, r) => Task.FromResult(FakeSessionApi.Result("finished", "srv-c", 0, ("stdout", "c\n")));
        Assert.Equal("c\n", (await session.ExecuteAsync("c")).Stdout);
    }

    [Fact]
    public async Task A_failed_call_fails_only_its_own_run()
    {
        _api.OnExecute = (_, r) => r.Code == "boom"
            ? Task.FromException<ExecutionResult>(new InvalidOperationException("kernel exploded"))
            : Task.FromResult(FakeSessionApi.Result("finished", "ok-run", 0, ("stdout", "fine\n")));
        var (_, session) = await StartAsync();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => session.ExecuteAsync("boom"));
        Assert.Equal("kernel exploded", ex.Message);
        Assert.Equal("fine\n", (await session.ExecuteAsync("print('fine')")).Stdout);
    }
}

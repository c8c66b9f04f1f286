using Akka.Actor;
using BackendAI.Actors.Sessions;
using BackendAI.Local.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace BackendAI.Actors.Tests.EndToEnd;

/// <summary>The runtime against a real BackendAI.Local server over loopback.</summary>
[Collection(nameof(RuntimeEndToEndTests))]
public sealed class RuntimeEndToEndTests(RoomyServerFixture server, ITestOutputHelper output)
    : IClassFixture<RoomyServerFixture>, IAsyncLifetime
{
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(30);
    private BackendAIRuntime _runtime = null!;

    public Task InitializeAsync()
    {
        server.Backend.Faults.Set(new FaultSettings());
        _runtime = BackendAIRuntime.Create(server.ClientOptions(), RoomyServerFixture.FastRuntimeConfig);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        server.Backend.Faults.Set(new FaultSettings());
        await _runtime.DisposeAsync();
    }

    private static string UniqueName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Runtime_runs_hello_world_in_python_and_destroys_the_session_on_dispose()
    {
        using var cts = new CancellationTokenSource(s_budget);
        string id;
        await using (var session = await _runtime.StartSessionAsync("python:3.9-ubuntu20.04",
                         new SessionStartOptions { Name = UniqueName("hello") }, cts.Token))
        {
            id = session.Id;
            Assert.Equal(SessionStatus.Running, await session.WaitForStatusAsync(s => s == SessionStatus.Running, cts.Token));
            var outcome = await session.ExecuteAsync("print('hello, world')", cancellationToken: cts.Token);
            Assert.Equal(("finished", 0), (outcome.Status, outcome.ExitCode));
            Assert.Equal("hello, world\n", outcome.Stdout);
            Assert.False(string.IsNullOrEmpty(outcome.RunId));
        }

        // Disposal destroyed it on the server. The destroy reply comes once termination is requested (TERMINATING,
        // sessions.md §6); the session is gone (404) when it reaches TERMINATED.
        var ex = await Assert.ThrowsAnyAsync<BackendAI.Client.Errors.BackendApiException>(async () =>
        {
            while (true)
            {
                var info = await _runtime.Client.Sessions.GetInfoAsync(id, cancellationToken: cts.Token);
                Assert.Equal(SessionStatus.Terminating, info.Status);
                await Task.Delay(20, cts.Token);
            }
        });
        Assert.Equal(404, ex.Status);
    }

    [Fact]
    public async Task Runtime_destroy_twice_and_dispose_succeed_while_the_server_is_still_terminating()
    {
        using var cts = new CancellationTokenSource(s_budget);
        var options = BackendAI.Testing.LocalServerFixture.FastOptions();
        options.LifecycleStepDelay = TimeSpan.FromSeconds(1); // TERMINATING lasts at least a second
        await using var backend = await BackendAI.Local.LocalBackend.StartAsync(options, cts.Token);
        var k = backend.UserKeypair;
        await using var runtime = BackendAIRuntime.Create(
            new BackendAI.Client.Config.BackendAIClientOptions { Endpoints = [backend.Endpoint], AccessKey = k.AccessKey, SecretKey = k.SecretKey },
            RoomyServerFixture.FastRuntimeConfig);
        var session = await runtime.StartSessionAsync("sim", new SessionStartOptions { Name = UniqueName("twice") }, cts.Token);
        await session.DestroyAsync(ct: cts.Token);
        await session.DestroyAsync(ct: cts.Token);   // termination already requested: not an error
        await session.DisposeAsync();
        var view = backend.Services.GetRequiredService<ISessionQuerySource>().Find(Guid.Parse(session.Id))!;
        Assert.Contains(view.Status, new[] { "TERMINATING", "TERMINATED" });
    }

    [Fact]
    public async Task Runtime_answers_a_python_input_prompt_through_the_input_provider()
    {
        using var cts = new CancellationTokenSource(s_budget);
        await using var session = await _runtime.StartSessionAsync("python:3.9-ubuntu20.04",
            new SessionStartOptions { Name = UniqueName("input") }, cts.Token);
        var prompts = new List<InputPrompt>();
        var outcome = await session.ExecuteAsync("n = input('name? ')\nprint('hi', n)", new ExecuteOptions
        {
            InputProvider = (p, _) => { prompts.Add(p); return ValueTask.FromResult("Lablup"); },
        }, cts.Token);
        var prompt = Assert.Single(prompts);
        Assert.Equal("name? ", prompt.Prompt);
        Assert.False(prompt.IsPassword);
        Assert.EndsWith("hi Lablup\n", outcome.Stdout);
        Assert.Equal("finished", outcome.Status);
    }

    [Fact]
    public async Task Runtime_streams_console_records_and_reports_status_changes_until_terminated()
    {
        using var cts = new CancellationTokenSource(s_budget);
        var session = await _runtime.StartSessionAsync("sim", new SessionStartOptions { Name = UniqueName("stream") }, cts.Token);
        var statuses = new List<SessionStatus>();
        var terminated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sub = session.Status.Subscribe(s => { lock (statuses) statuses.Add(s); }, () => terminated.TrySetResult());

        var records = new List<string>();
        await foreach (var r in session.Execute("print('streamed')", cancellationToken: cts.Token)) records.Add(r.Text!);
        Assert.Equal("print('streamed')", string.Concat(records));   // the sim kernel echoes the code

        var files = await session.ListFilesAsync(".", cts.Token);
        Assert.NotNull(files);
        await session.DestroyAsync(ct: cts.Token);
        await terminated.Task.WaitAsync(cts.Token);
        lock (statuses)
        {
            Assert.Equal(SessionStatus.Running, statuses[0]);            // replays the current status first
            Assert.Equal(SessionStatus.Terminated, statuses[^1]);
        }
        var ex = await Assert.ThrowsAsync<SessionStateException>(() => session.ExecuteAsync("1", cancellationToken: cts.Token));
        Assert.Equal(SessionStatus.Terminated, ex.Status);
        await session.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(DropCases))]
    public async Task Client22_sse_dropped_after_n_events_at_every_lifecycle_stage_never_loses_the_final_status(int dropAfter, bool enqueueOnly)
    {
        using var cts = new CancellationTokenSource(s_budget);
        // The reconcile timer is far beyond the budget: only SSE events and the reconcile after each
        // reconnect can deliver the final status.
        await using var runtime = BackendAIRuntime.Create(server.ClientOptions(),
            Akka.Configuration.ConfigurationFactory.ParseString("backendai.session.reconcile-interval = 10m")
                .WithFallback(RoomyServerFixture.FastRuntimeConfig));
        var reconnects = new ReconnectCounter(runtime.System);
        await AwaitAsync(() => reconnects.Count >= 1, cts.Token);     // the stream is open before the session exists
        server.Backend.Faults.Set(new FaultSettings { SseDropAfterEvents = dropAfter });

        var session = await runtime.StartSessionAsync("sim",
            new SessionStartOptions { Name = UniqueName($"drop{dropAfter}"), KeepOnDispose = true, EnqueueOnly = enqueueOnly }, cts.Token);
        var seen = new List<SessionStatus>();
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sub = session.Status.Subscribe(s => { lock (seen) seen.Add(s); }, () => ended.TrySetResult());
        // With enqueueOnly the session is PENDING here: the execute waits (stashed) for RUNNING,
        // which only the dropping event stream or a reconnect's reconcile can report.
        var outcome = await session.ExecuteAsync("print(1)", cancellationToken: cts.Token);
        Assert.Equal("print(1)", outcome.Stdout);

        // Destroyed behind the runtime's back: it learns only through the (dropping) event stream.
        await runtime.Client.Sessions.DestroyAsync(session.Id, cancellationToken: cts.Token);
        Assert.Equal(SessionStatus.Terminated, await session.WaitForStatusAsync(SessionLifecycle.IsTerminal, cts.Token));
        await ended.Task.WaitAsync(cts.Token);
        lock (seen)
        {
            output.WriteLine($"drop after {dropAfter} (enqueueOnly {enqueueOnly}): statuses {string.Join(",", seen)}; connections {reconnects.Count}");
            Assert.Equal(SessionStatus.Terminated, seen[^1]);
            Assert.Single(seen, SessionStatus.Terminated);
            for (var i = 1; i < seen.Count; i++) Assert.True(SessionLifecycle.CanMove(seen[i - 1], seen[i]), $"{seen[i - 1]} -> {seen[i]}");
        }
        // A create emits at least 6 events on the open stream, so small limits must have dropped it.
        if (dropAfter <= 5) Assert.True(reconnects.Count >= 2, "the fault dropped the stream at least once");
    }

    public static TheoryData<int, bool> DropCases()
    {
        var data = new TheoryData<int, bool>();
        for (var n = 1; n <= 9; n++)
        {
            data.Add(n, false);
            data.Add(n, true);
        }
        return data;
    }

    private static async Task AwaitAsync(Func<bool> condition, CancellationToken ct)
    {
        while (!condition()) await Task.Delay(20, ct);
    }

    [Fact]
    public async Task Runtime_runs_200_concurrent_sim_sessions_with_complete_non_duplicated_output()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        const int n = 200;
        var prefix = UniqueName("many");
        using var creating = new SemaphoreSlim(32);   // creations in flight; all 200 sessions then live at once
        var sessions = await Task.WhenAll(Enumerable.Range(0, n).Select(async i =>
        {
            await creating.WaitAsync(cts.Token);
            try
            {
                return await _runtime.StartSessionAsync("sim", new SessionStartOptions { Name = $"{prefix}-{i}" }, cts.Token);
            }
            finally
            {
                creating.Release();
            }
        }));
        try
        {
            Assert.Equal(n, sessions.Select(s => s.Id).Distinct().Count());
            var outcomes = await Task.WhenAll(sessions.Select((s, i) => s.ExecuteAsync($"print({i})", cancellationToken: cts.Token)));
            for (var i = 0; i < n; i++)
            {
                Assert.Equal($"print({i})", outcomes[i].Stdout);
                Assert.Equal("finished", outcomes[i].Status);
                Assert.Single(outcomes[i].Console);
            }
        }
        finally
        {
            await Task.WhenAll(sessions.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    private sealed class ReconnectCounter
    {
        private int _count;

        public ReconnectCounter(ActorSystem system)
        {
            var actor = system.ActorOf(Props.Create(() => new Listener(this)));
            system.EventStream.Subscribe(actor, typeof(EventStreamReconnected));
        }

        public int Count => Volatile.Read(ref _count);

        private sealed class Listener : ReceiveActor
        {
            public Listener(ReconnectCounter owner) => Receive<EventStreamReconnected>(_ => Interlocked.Increment(ref owner._count));
        }
    }
}

using BackendAI.Actors;
using BackendAI.Client;
using BackendAI.Client.Config;
using BackendAI.Examples.MonitoringConsole;
using BackendAI.Testing;
using Spectre.Console;

namespace BackendAI.Examples.Tests.MonitoringConsole;

public sealed class MonitorSmokeTests(LocalServerFixture server) : IClassFixture<LocalServerFixture>
{
    private static readonly MonitorOptions Fast = new()
    {
        ListInterval = TimeSpan.FromMilliseconds(300),
        AgentInterval = TimeSpan.FromMilliseconds(300),
        RefreshInterval = TimeSpan.FromMilliseconds(100),
        ReconnectMinDelay = TimeSpan.FromMilliseconds(100),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
    };

    private BackendAIRuntime CreateRuntime() => BackendAIRuntime.Create(new BackendAIClientOptions
    {
        Endpoints = [server.Endpoint],
        AccessKey = server.Backend.AdminKeypair.AccessKey,
        SecretKey = server.Backend.AdminKeypair.SecretKey,
    });

    private static (IAnsiConsole Console, StringWriter Output) TextConsole(int width = 160, int height = 60)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = width;
        console.Profile.Height = height;
        return (console, output);
    }

    [Fact]
    public async Task Dashboard_follows_sessions_created_and_destroyed_and_renders_them()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        await using var runtime = CreateRuntime();
        var model = new DashboardModel(server.Endpoint.ToString());
        var monitor = new Dashboard(runtime, model, Fast);
        var (console, output) = TextConsole();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var run = monitor.RunAsync(console, stop.Token);
        await model.WaitForAsync(s => s.Stream == StreamState.Live, "the event stream");

        var prefix = "mon" + Guid.NewGuid().ToString("N")[..6];
        await using var keep = await runtime.StartSessionAsync("sim", new SessionStartOptions { Name = prefix + "-keep" }, cts.Token);
        var gone = await runtime.StartSessionAsync("sim", new SessionStartOptions { Name = prefix + "-gone" }, cts.Token);
        await model.WaitForAsync(s => s.Sessions.Count(r => r.Name.StartsWith(prefix, StringComparison.Ordinal) && r.Status == SessionStatus.Running) == 2,
            "both sessions running");
        await gone.DisposeAsync();
        var snapshot = await model.WaitForAsync(
            s => s.Sessions.Any(r => r.Name == prefix + "-gone" && r.Status == SessionStatus.Terminated)
                 && s.Sessions.Any(r => r.Name == prefix + "-keep" && r.Status == SessionStatus.Running && (r.Image ?? "").Contains("sim", StringComparison.Ordinal))
                 && s.Agents.Count > 0
                 && s.LastListing is not null,
            "one session terminated, one running (with its image from the listing), agents listed");

        Assert.Contains(snapshot.Feed, f => f.SessionName == prefix + "-gone" && f.Name == "session_terminated");
        Assert.True(snapshot.Counts[SessionStatus.Running] >= 1);
        Assert.Contains(snapshot.Agents, a => a.Available.GetValueOrDefault("cpu") > 0);

        var (frameConsole, frame) = TextConsole();
        frameConsole.Write(monitor.Frame(frameConsole));
        var text = frame.ToString();
        Assert.Contains(prefix + "-keep", text, StringComparison.Ordinal);
        Assert.Contains(prefix + "-gone", text, StringComparison.Ordinal);
        Assert.Contains("TERMINATED", text, StringComparison.Ordinal);
        Assert.Contains("RUNNING", text, StringComparison.Ordinal);
        Assert.Contains("live", text, StringComparison.Ordinal);

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains(prefix + "-keep", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Narrow_short_terminal_gets_a_frame_that_fits()
    {
        var model = new DashboardModel("http://127.0.0.1:1/");
        for (var i = 0; i < 40; i++)
            model.Apply(new SessionEvent("session_started", "", $"s{i:00}", "AK", $"id{i}", null, null, null));
        var (console, output) = TextConsole(width: 60, height: 24);

        console.Write(DashboardView.Render(model.Snapshot(), 60, 24));

        var lines = output.ToString().Split('\n');
        Assert.True(lines.Length <= 26, $"{lines.Length} lines for a 24-line terminal");
        Assert.All(lines, l => Assert.True(l.TrimEnd('\r').Length <= 60, $"line too wide: '{l}'"));
        Assert.Contains("more (enlarge the terminal)", output.ToString(), StringComparison.Ordinal);
    }
}

public sealed class MonitorReconnectTests : IAsyncLifetime
{
    private LocalServerFixture _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Dropped_event_stream_shows_reconnecting_then_reconciles_the_table()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        await using var runtime = BackendAIRuntime.Create(new BackendAIClientOptions
        {
            Endpoints = [_server.Endpoint],
            AccessKey = _server.Backend.AdminKeypair.AccessKey,
            SecretKey = _server.Backend.AdminKeypair.SecretKey,
        });
        var model = new DashboardModel(_server.Endpoint.ToString());
        var monitor = new Dashboard(runtime, model, new MonitorOptions
        {
            ListInterval = TimeSpan.FromSeconds(30), // only the reconcile after a reconnect can fix the table in time
            AgentInterval = TimeSpan.FromSeconds(30),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(300),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(300),
        });
        var states = new List<StreamState>();
        model.Changed += () =>
        {
            lock (states)
            {
                var s = model.Snapshot().Stream;
                if (states.Count == 0 || states[^1] != s) states.Add(s);
            }
        };
        var feeds = monitor.RunFeedsAsync(cts.Token);
        await model.WaitForAsync(s => s.Stream == StreamState.Live && s.LastReconcile is not null, "the first reconcile");

        _server.Backend.Faults.Set(new BackendAI.Local.Hosting.FaultSettings { SseDropAfterEvents = 1 });
        var name = "rc" + Guid.NewGuid().ToString("N")[..6];
        await using var session = await runtime.StartSessionAsync("sim", new SessionStartOptions { Name = name }, cts.Token);
        await model.WaitForAsync(s => s.Reconnects >= 1, "a dropped stream");
        _server.Backend.Faults.Reset();

        var after = await model.WaitForAsync(
            s => s.Stream == StreamState.Live && s.Sessions.Any(r => r.Name == name && r.Status == SessionStatus.Running && (r.Image ?? "").Contains("sim", StringComparison.Ordinal)),
            "the reconcile after the reconnect");
        Assert.True(after.Reconnects >= 1);
        lock (states)
        {
            var i = states.IndexOf(StreamState.Reconnecting);
            Assert.True(i >= 0 && states.Skip(i).Contains(StreamState.Live), string.Join(" → ", states));
        }
        await cts.CancelAsync();
        await feeds.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

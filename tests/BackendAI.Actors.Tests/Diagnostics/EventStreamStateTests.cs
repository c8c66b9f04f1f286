using System.Threading.Channels;
using BackendAI.Actors.Diagnostics;
using BackendAI.Actors.Events;
using BackendAI.Actors.Tests.EndToEnd;
using BackendAI.Local.Hosting;

namespace BackendAI.Actors.Tests.Diagnostics;

/// <summary><see cref="BackendAIRuntime.EventStreamStates"/> against the local server's fault injection.</summary>
[Collection(nameof(TelemetryTests))]
public sealed class EventStreamStateTests(RoomyServerFixture server) : IClassFixture<RoomyServerFixture>
{
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Client22_a_dropped_stream_is_reported_as_Reconnecting_then_Connected_in_order_and_counted()
    {
        server.Backend.Faults.Set(new FaultSettings());
        using var recorder = new TelemetryRecorder();
        using var cts = new CancellationTokenSource(s_budget);
        await using var runtime = BackendAIRuntime.Create(server.ClientOptions(), RoomyServerFixture.FastRuntimeConfig);
        var states = Channel.CreateUnbounded<EventStreamState>();
        using var sub = runtime.EventStreamStates.Subscribe(s => states.Writer.TryWrite(s), () => states.Writer.TryComplete());

        // The first subscription replays the current state, then sees the first connection.
        var first = await NextAsync(states, cts.Token);
        Assert.True(first.Status is EventStreamStatus.Connecting or EventStreamStatus.Connected, first.ToString());
        if (first.Status == EventStreamStatus.Connecting) first = await NextAsync(states, cts.Token);
        Assert.Equal(new EventStreamState(EventStreamStatus.Connected, 1), first);

        server.Backend.Faults.Set(new FaultSettings { SseDropAfterEvents = 2 });
        await using var session = await runtime.StartSessionAsync("sim",
            new SessionStartOptions { Name = "state-" + Guid.NewGuid().ToString("N")[..8] }, cts.Token);

        var reconnecting = await NextAsync(states, cts.Token);
        Assert.Equal(EventStreamStatus.Reconnecting, reconnecting.Status);
        Assert.Equal(1, reconnecting.Attempt);
        Assert.IsType<EventStreamDroppedException>(reconnecting.LastError);
        Assert.InRange(reconnecting.Delay!.Value, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500));   // reconnect.min/max-backoff
        server.Backend.Faults.Set(new FaultSettings());
        var again = await NextAsync(states, cts.Token);
        Assert.Equal(new EventStreamState(EventStreamStatus.Connected, 2), again);
        Assert.Equal(again, runtime.EventStreamState);

        await TelemetryTests.AwaitAsync(() => recorder.Of(ActorsTelemetry.EventStreamReconnects).Sum(m => m.Value) >= 1, cts.Token);
    }

    [Fact]
    public async Task A_late_subscriber_gets_the_current_state_and_disposal_ends_every_subscription_with_Stopped()
    {
        server.Backend.Faults.Set(new FaultSettings());
        using var cts = new CancellationTokenSource(s_budget);
        var runtime = BackendAIRuntime.Create(server.ClientOptions(), RoomyServerFixture.FastRuntimeConfig);
        var early = Channel.CreateUnbounded<EventStreamState>();
        using var a = runtime.EventStreamStates.Subscribe(s => early.Writer.TryWrite(s), () => early.Writer.TryComplete());
        while ((await NextAsync(early, cts.Token)).Status != EventStreamStatus.Connected)
        {
        }

        var late = Channel.CreateUnbounded<EventStreamState>();
        using var b = runtime.EventStreamStates.Subscribe(s => late.Writer.TryWrite(s), () => late.Writer.TryComplete());
        Assert.Equal(new EventStreamState(EventStreamStatus.Connected, 1), await NextAsync(late, cts.Token));

        await runtime.DisposeAsync();
        Assert.Equal(EventStreamStatus.Stopped, (await NextAsync(late, cts.Token)).Status);
        var rest = new List<EventStreamState>();
        await foreach (var s in early.Reader.ReadAllAsync(cts.Token)) rest.Add(s);   // completes: the subscription ended
        Assert.Equal(EventStreamStatus.Stopped, rest[^1].Status);
        Assert.False(await late.Reader.WaitToReadAsync(cts.Token));
        Assert.Equal(EventStreamStatus.Stopped, runtime.EventStreamState.Status);
    }

    private static async Task<EventStreamState> NextAsync(Channel<EventStreamState> states, CancellationToken ct) =>
        await states.Reader.ReadAsync(ct);
}

using Akka.Streams;
using Akka.Streams.Dsl;
using BackendAI.Actors.Events;
using BackendAI.Actors.Hosting;
using BackendAI.Actors.Sessions;
using BackendAI.Actors.Tests.Fakes;
using Xunit.Abstractions;

namespace BackendAI.Actors.Tests.Events;

public sealed class EventStreamSpec(ITestOutputHelper output)
    : BackendAISpec(output, "backendai.event-stream.reconnect { min-backoff = 20ms, max-backoff = 200ms }")
{
    private readonly FakeSessionApi _api = new();

    private async Task<FakeConnection> NextConnection() =>
        await _api.Connections.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));

    [Fact]
    public async Task Client22_event_stream_reconnects_after_a_drop_with_a_new_signed_open_and_tells_sessions_to_reconcile()
    {
        var sessions = CreateTestProbe();
        Sys.ActorOf(SessionEventStreamActor.Props(_api, new SessionEventFilter(), Settings.EventStream, sessions));

        var first = await NextConnection();
        Assert.Equal(1, (await sessions.ExpectMsgAsync<EventStreamReconnected>()).Attempt);
        first.Push(FakeSessionApi.Event("session_enqueued", "a"));
        Assert.Equal("session_enqueued", (await sessions.ExpectMsgAsync<SessionEventObserved>()).Event.Name);

        first.Drop();
        var second = await NextConnection();       // OpenSessionEventsAsync called again: a fresh, re-dated request
        await first.Disposed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(2, (await sessions.ExpectMsgAsync<EventStreamReconnected>()).Attempt);
        second.Push(FakeSessionApi.Event("session_started", "a"));
        Assert.Equal("session_started", (await sessions.ExpectMsgAsync<SessionEventObserved>()).Event.Name);
        Assert.Equal(2, _api.OpenedConnections);
    }

    [Fact]
    public async Task Client22_server_close_ends_the_stream_without_reconnecting()
    {
        var sessions = CreateTestProbe();
        Sys.ActorOf(SessionEventStreamActor.Props(_api, new SessionEventFilter(), Settings.EventStream, sessions));
        var first = await NextConnection();
        await sessions.ExpectMsgAsync<EventStreamReconnected>();
        first.Close();
        await first.Disposed.WaitAsync(TimeSpan.FromSeconds(5));
        await sessions.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500));
        Assert.Equal(1, _api.OpenedConnections);
    }

    [Fact]
    public async Task Event_source_backpressures_a_slow_reader_down_to_the_connection()
    {
        var settings = Settings.EventStream with { BufferSize = 4 };
        var source = SessionEventStreamActor.Connect(_api, new SessionEventFilter(), settings);
        var queue = source.RunWith(Sink.Queue<SessionEventStreamActor.Item>().WithAttributes(Attributes.CreateInputBuffer(1, 1)), Sys.Materializer());
        var conn = await NextConnection();
        for (var i = 0; i < 100; i++) conn.Push(FakeSessionApi.Event("kernel_preparing", $"s{i}"));

        Assert.Null((await queue.PullAsync()).Value.Event);               // the "opened" marker
        Assert.Equal("s0", (await queue.PullAsync()).Value.Event!.SessionId);
        await Task.Delay(300);   // give an unbounded reader every chance to drain the socket
        // 1 consumed + buffer (4) + the sink's one + Akka's UnfoldResourceAsync read-ahead (up to 16)
        // + one read in flight: bounded, and far fewer than the 100 frames waiting on the socket.
        Assert.InRange(conn.Reads, 2, 1 + 4 + 1 + 16 + 2);
        // Nothing is lost and nothing is reordered: the rest arrive in order once pulled.
        for (var i = 1; i < 100; i++) Assert.Equal($"s{i}", (await queue.PullAsync()).Value.Event!.SessionId);
    }

    [Fact]
    public async Task Runtime_events_reach_every_subscriber_through_the_bounded_hub()
    {
        var runtime = FakeRuntime.Create(Sys, _api);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var a = runtime.EventsAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var b = runtime.EventsAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var moveA = a.MoveNextAsync().AsTask();
        var moveB = b.MoveNextAsync().AsTask();
        var conn = await NextConnection();
        // The hub is hot (no replay) and a subscription attaches asynchronously: push until both have one.
        var both = Task.WhenAll(moveA, moveB);
        while (!both.IsCompleted && !cts.IsCancellationRequested)
        {
            conn.Push(FakeSessionApi.Event("session_started", "x"));
            await Task.WhenAny(both, Task.Delay(50, cts.Token));
        }
        Assert.True(await moveA);
        Assert.True(await moveB);
        Assert.Equal("session_started", a.Current.Name);
        Assert.Equal("session_started", b.Current.Name);
        await a.DisposeAsync();
        await b.DisposeAsync();
    }
}

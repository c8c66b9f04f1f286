using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
using BackendAI.Actors.Diagnostics;
using BackendAI.Actors.Hosting;
using BackendAI.Actors.Internal;
using BackendAI.Actors.Sessions;
using BackendAI.Client;

namespace BackendAI.Actors.Events;

/// <summary>Ask for the event stream's shared source; answered by <see cref="EventSourceAnswered"/>.</summary>
public sealed record GetEventSource;

/// <summary>The hot source of every session event of this connection (materialize it to subscribe).</summary>
public sealed record EventSourceAnswered(Source<SessionEvent, NotUsed> Events);

/// <summary>
/// One multiplexed SSE connection (one filter, e.g. every session of the access key): bytes →
/// client parser → typed events → a bounded buffer (overflow configurable) → a broadcast hub
/// feeding the session actors and every subscriber. The connection is re-opened (and re-signed)
/// with exponential backoff and jitter whenever it drops; after each (re)connect the sessions
/// reconcile, because the server replays nothing.
/// </summary>
internal sealed class SessionEventStreamActor : ReceiveActor
{
    private readonly ISessionApi _api;
    private readonly SessionEventFilter _filter;
    private readonly EventStreamSettings _settings;
    private readonly IActorRef _sessions;
    private readonly EventStreamStateCell? _states;
    /// <summary>Events the hub holds for its slowest consumer (a power of two); larger means fewer consumer wake-ups.</summary>
    private const int HubBufferSize = 256;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private UniqueKillSwitch? _killSwitch;
    private Source<SessionEvent, NotUsed>? _hub;
    private int _connects;

    public SessionEventStreamActor(ISessionApi api, SessionEventFilter filter, EventStreamSettings settings, IActorRef sessions,
        EventStreamStateCell? states = null)
    {
        _states = states;
        _api = api;
        _filter = filter;
        _settings = settings;
        _sessions = sessions;
        Receive<GetEventSource>(_ => Sender.Tell(new EventSourceAnswered(_hub!)));
        Receive<Connected>(_ =>
        {
            _connects++;
            if (_connects > 1)
            {
                _log.Info("Session event stream reconnected (connection {0})", _connects);
                ActorsTelemetry.Reconnected();
            }
            var fact = new EventStreamReconnected(_connects);
            _sessions.Tell(fact);
            Context.System.EventStream.Publish(fact);
        });
    }

    internal static Props Props(ISessionApi api, SessionEventFilter filter, EventStreamSettings settings, IActorRef sessions,
        EventStreamStateCell? states = null) =>
        Akka.Actor.Props.Create(() => new SessionEventStreamActor(api, filter, settings, sessions, states)).WithDispatcher(settings.Dispatcher);

    /// <summary>How many connections were opened (for tests and diagnostics).</summary>
    internal int Connects => _connects;

    /// <inheritdoc />
    protected override void PreStart()
    {
        var mat = Context.Materializer();
        var self = Self;
        var (killSwitch, hub) = Connect(_api, _filter, _settings, _states)
            .ViaMaterialized(KillSwitches.Single<Item>(), Keep.Right)
            .ToMaterialized(BroadcastHub.Sink<Item>(bufferSize: HubBufferSize), Keep.Both)
            .Run(mat);
        _killSwitch = killSwitch;

        // The dispatch consumer is always attached, so the hub never runs without a consumer.
        hub.RunForeach(item =>
        {
            if (item.Event is { } e)
            {
                ActorsTelemetry.EventReceived(e);
                _sessions.Tell(new SessionEventObserved(e.SessionId, e));
            }
            else self.Tell(Connected.Instance);
        }, mat);

        _hub = hub.Where(i => i.Event is not null).Select(i => i.Event!);
    }

    /// <inheritdoc />
    protected override void PostStop() => _killSwitch?.Shutdown();

    /// <summary>
    /// The reconnecting event source: a <c>null</c>-event item marks every (re)connect. A connection that fails to open
    /// or drops is reopened (and re-signed) after <c>reconnect</c> backoff with jitter, the delay growing with each
    /// consecutive failure and reset by a connection that delivers events; <paramref name="states"/> sees every step.
    /// </summary>
    internal static Source<Item, NotUsed> Connect(ISessionApi api, SessionEventFilter filter, EventStreamSettings settings,
        EventStreamStateCell? states = null)
    {
        // The connection reconnects by itself (so the states carry the real attempt, delay and error); the restart
        // source around it only catches a failure escaping it, which then starts a fresh connection after a backoff.
        // Events already parsed and waiting in the reader's buffer are taken as one batch (one stage callback instead of
        // one per event); a batch is at most a sixteenth of buffer-size, so the read-ahead stays about buffer-size events.
        var restart = RestartSettings.Create(settings.Reconnect.MinBackoff, settings.Reconnect.MaxBackoff, settings.Reconnect.RandomFactor);
        var maxBatch = Math.Clamp(settings.BufferSize / 16, 1, 256);
        return RestartSource.OnFailuresWithBackoff(() =>
                    Source.UnfoldResourceAsync<IReadOnlyList<Item>, Connection>(
                        () => Task.FromResult(new Connection(api, filter, settings.Reconnect, states, maxBatch)),
                        c => c.ReadBatchAsync(),
                        c => c.CloseAsync()),
                restart)
            .SelectMany(batch => batch)
            .Buffer(settings.BufferSize, settings.Overflow);
    }

    internal sealed record Item(SessionEvent? Event)
    {
        public static readonly Item Opened = new((SessionEvent?)null);
    }

    /// <summary>One logical stream over successive SSE connections (one read at a time, as the stage guarantees).</summary>
    internal sealed class Connection(ISessionApi api, SessionEventFilter filter, BackoffSettings backoff, EventStreamStateCell? states,
        int maxBatch = 1)
    {
        private readonly CancellationTokenSource _closed = new();
        private ISessionEventConnection? _current;
        private ValueTask<SessionEvent?>? _pending;   // a read started by the batching loop, not yet awaited
        private bool _serverClosed;
        private int _connects;
        private int _failures;
        private bool _delivered;

        /// <summary>The next event (or open marker), followed by every further event the connection has ready now.</summary>
        public async Task<Option<IReadOnlyList<Item>>> ReadBatchAsync()
        {
            var first = await ReadAsync().ConfigureAwait(false);
            if (!first.HasValue) return Option<IReadOnlyList<Item>>.None;
            if (maxBatch <= 1 || first.Value.Event is null || _current is null) return Option<IReadOnlyList<Item>>.Create([first.Value]);
            List<Item>? batch = null;
            while ((batch?.Count ?? 1) < maxBatch)
            {
                var next = _current.ReadAsync(_closed.Token);
                if (!next.IsCompletedSuccessfully)
                {
                    _pending = next;   // not ready (or failed): the next read awaits it
                    break;
                }
                if (next.Result is not { } e)
                {
                    _serverClosed = true;
                    break;
                }
                batch ??= [first.Value];
                batch.Add(new Item(e));
            }
            return Option<IReadOnlyList<Item>>.Create(batch ?? [first.Value]);
        }

        public async Task<Option<Item>> ReadAsync()
        {
            var ct = _closed.Token;
            while (true)
            {
                if (_current is null)
                {
                    try
                    {
                        _current = await api.OpenSessionEventsAsync(filter, ct).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (!ct.IsCancellationRequested)
                    {
                        await BackoffAsync(ex, ct).ConfigureAwait(false);
                        continue;
                    }
                    _connects++;
                    _delivered = false;
                    states?.Set(new EventStreamState(EventStreamStatus.Connected, _connects));
                    return Option<Item>.Create(Item.Opened);   // the connection is open: tell the sessions before the first event
                }
                try
                {
                    SessionEvent? e;
                    if (_serverClosed) e = null;
                    else if (_pending is { } pending)
                    {
                        _pending = null;
                        e = await pending.ConfigureAwait(false);
                    }
                    else e = await _current.ReadAsync(ct).ConfigureAwait(false);
                    if (e is null)
                    {
                        states?.Set(new EventStreamState(EventStreamStatus.Stopped));   // server_close: do not reconnect
                        return Option<Item>.None;
                    }
                    if (!_delivered)
                    {
                        _delivered = true;
                        _failures = 0;
                    }
                    return Option<Item>.Create(new Item(e));
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    var broken = _current;
                    _current = null;
                    _pending = null;
                    await DisposeQuietlyAsync(broken).ConfigureAwait(false);
                    await BackoffAsync(ex, ct).ConfigureAwait(false);
                }
            }
        }

        private async Task BackoffAsync(Exception error, CancellationToken ct)
        {
            var delay = backoff.Delay(_failures);
            _failures++;
            states?.Set(new EventStreamState(EventStreamStatus.Reconnecting, _failures, delay, error));
            await Task.Delay(delay, ct).ConfigureAwait(false);
        }

        public async Task<Done> CloseAsync()
        {
            await _closed.CancelAsync().ConfigureAwait(false);
            var current = _current;
            _current = null;
            await DisposeQuietlyAsync(current).ConfigureAwait(false);
            return Done.Instance;
        }

        private static async Task DisposeQuietlyAsync(ISessionEventConnection? connection)
        {
            if (connection is null) return;
            try
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or ObjectDisposedException)
            {
                // the connection is broken already
            }
        }
    }

    private sealed record Connected
    {
        public static readonly Connected Instance = new();
    }
}

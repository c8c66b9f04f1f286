using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
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
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private UniqueKillSwitch? _killSwitch;
    private Source<SessionEvent, NotUsed>? _hub;
    private int _connects;

    public SessionEventStreamActor(ISessionApi api, SessionEventFilter filter, EventStreamSettings settings, IActorRef sessions)
    {
        _api = api;
        _filter = filter;
        _settings = settings;
        _sessions = sessions;
        Receive<GetEventSource>(_ => Sender.Tell(new EventSourceAnswered(_hub!)));
        Receive<Connected>(_ =>
        {
            _connects++;
            if (_connects > 1) _log.Info("Session event stream reconnected (connection {0})", _connects);
            var fact = new EventStreamReconnected(_connects);
            _sessions.Tell(fact);
            Context.System.EventStream.Publish(fact);
        });
    }

    internal static Props Props(ISessionApi api, SessionEventFilter filter, EventStreamSettings settings, IActorRef sessions) =>
        Akka.Actor.Props.Create(() => new SessionEventStreamActor(api, filter, settings, sessions)).WithDispatcher(settings.Dispatcher);

    /// <summary>How many connections were opened (for tests and diagnostics).</summary>
    internal int Connects => _connects;

    /// <inheritdoc />
    protected override void PreStart()
    {
        var mat = Context.Materializer();
        var self = Self;
        var (killSwitch, hub) = Connect(_api, _filter, _settings)
            .ViaMaterialized(KillSwitches.Single<Item>(), Keep.Right)
            .ToMaterialized(BroadcastHub.Sink<Item>(bufferSize: 16), Keep.Both)
            .Run(mat);
        _killSwitch = killSwitch;

        // The dispatch consumer is always attached, so the hub never runs without a consumer.
        hub.RunForeach(item =>
        {
            if (item.Event is { } e) _sessions.Tell(new SessionEventObserved(e.SessionId, e));
            else self.Tell(Connected.Instance);
        }, mat);

        _hub = hub.Where(i => i.Event is not null).Select(i => i.Event!);
    }

    /// <inheritdoc />
    protected override void PostStop() => _killSwitch?.Shutdown();

    /// <summary>The reconnecting event source: a <c>null</c>-event item marks every (re)connect.</summary>
    internal static Source<Item, NotUsed> Connect(ISessionApi api, SessionEventFilter filter, EventStreamSettings settings)
    {
        var restart = RestartSettings.Create(settings.Reconnect.MinBackoff, settings.Reconnect.MaxBackoff, settings.Reconnect.RandomFactor);
        return RestartSource.OnFailuresWithBackoff(() =>
                    Source.UnfoldResourceAsync<Item, Connection>(
                        async () => new Connection(await api.OpenSessionEventsAsync(filter, CancellationToken.None).ConfigureAwait(false)),
                        c => c.ReadAsync(),
                        c => c.CloseAsync()),
                restart)
            .Buffer(settings.BufferSize, settings.Overflow);
    }

    internal sealed record Item(SessionEvent? Event)
    {
        public static readonly Item Opened = new((SessionEvent?)null);
    }

    internal sealed class Connection(ISessionEventConnection connection)
    {
        private bool _announced;

        public async Task<Option<Item>> ReadAsync()
        {
            if (!_announced)
            {
                _announced = true;   // the connection is open: tell the sessions before the first event
                return Option<Item>.Create(Item.Opened);
            }
            var e = await connection.ReadAsync(CancellationToken.None).ConfigureAwait(false);
            return e is null ? Option<Item>.None : Option<Item>.Create(new Item(e));
        }

        public async Task<Done> CloseAsync()
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            return Done.Instance;
        }
    }

    private sealed record Connected
    {
        public static readonly Connected Instance = new();
    }
}

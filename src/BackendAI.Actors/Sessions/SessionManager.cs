using Akka.Actor;
using Akka.Event;
using BackendAI.Actors.Hosting;
using BackendAI.Actors.Internal;
using BackendAI.Client;

namespace BackendAI.Actors.Sessions;

/// <summary>Create (or reuse) a session on the server and register its actor; answered by <see cref="SessionRegistered"/>.</summary>
public sealed record CreateSession(string? SessionName, SessionCreateRequest Request, TimeSpan? MaxWait);

/// <summary>Follow an existing session by id or name; answered by <see cref="SessionRegistered"/>.</summary>
public sealed record AttachSession(string SessionId);

/// <summary>A session actor is ready.</summary>
/// <param name="SessionId">The key the actor answers to (the session id after a create).</param>
/// <param name="SessionName">The name, when known.</param>
/// <param name="Session">The session actor.</param>
/// <param name="Status">The status the server reported (null when not known yet).</param>
/// <param name="CreateResult">The server's create response (null for an attached session).</param>
public sealed record SessionRegistered(string SessionId, string? SessionName, IActorRef Session, SessionStatus? Status,
    SessionCreateResult? CreateResult = null) : ISessionMessage;

/// <summary>The event stream (re)connected: every session reconciles, since the server replays nothing.</summary>
public sealed record EventStreamReconnected(int Attempt);

/// <summary>
/// Parent of the session actors: one per compute session, addressed by session id (and by name
/// for sessions attached by name). Routes SSE events to them and tells them all to reconcile
/// after the event stream reconnects.
/// </summary>
internal sealed class SessionManager : ReceiveActor
{
    private readonly ISessionApi _api;
    private readonly BackendAISettings _settings;
    private readonly IActorRef _transfers;
    private readonly Dictionary<string, IActorRef> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _keyByName = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public SessionManager(ISessionApi api, BackendAISettings settings, IActorRef transfers)
    {
        _api = api;
        _settings = settings;
        _transfers = transfers;

        Receive<CreateSession>(cmd =>
        {
            var replyTo = Sender;
            _api.CreateAsync(cmd.Request, CancellationToken.None).PipeTo(Self,
                success: r => new Created(r, cmd.MaxWait, replyTo),
                failure: ex => new Replied(replyTo, new Status.Failure(SessionActor.Unwrap(ex))));
        });
        Receive<Created>(c =>
        {
            var status = ParseCreateStatus(c.Result.Status);
            var actor = Register(c.Result.SessionId, c.Result.SessionName, c.MaxWait);
            if (status is { } s) actor.Tell(new SessionStatusObserved(c.Result.SessionId, s, "create"));
            c.ReplyTo.Tell(new SessionRegistered(c.Result.SessionId, c.Result.SessionName, actor, status, c.Result));
        });
        Receive<AttachSession>(cmd =>
        {
            var replyTo = Sender;
            _api.GetInfoAsync(cmd.SessionId, CancellationToken.None).PipeTo(Self,
                success: info => new Attached(cmd.SessionId, info, replyTo),
                failure: ex => new Replied(replyTo, new Status.Failure(SessionActor.Unwrap(ex))));
        });
        Receive<Attached>(a =>
        {
            var name = Guid.TryParse(a.SessionRef, out _) ? null : a.SessionRef;
            var actor = Register(a.SessionRef, name, null);
            actor.Tell(new SessionStatusObserved(a.SessionRef, a.Info.Status, "attach"));
            a.ReplyTo.Tell(new SessionRegistered(a.SessionRef, name, actor, a.Info.Status));
        });
        Receive<Replied>(r => r.ReplyTo.Tell(r.Message));
        Receive<SessionEventObserved>(Route);
        Receive<EventStreamReconnected>(_ =>
        {
            foreach (var (key, actor) in _byKey) actor.Tell(new ReconcileSession(key));
        });
        Receive<ISessionMessage>(m =>
        {
            if (_byKey.TryGetValue(m.SessionId, out var actor)) actor.Forward(m);
            else Sender.Tell(new Status.Failure(new SessionStateException(m.SessionId, null, $"No session actor for '{m.SessionId}'.")));
        });
        Receive<Terminated>(t =>
        {
            var key = _byKey.FirstOrDefault(kv => kv.Value.Equals(t.ActorRef)).Key;
            if (key is null) return;
            _byKey.Remove(key);
            foreach (var name in _keyByName.Where(kv => kv.Value == key).Select(kv => kv.Key).ToList()) _keyByName.Remove(name);
        });
    }

    internal static Props Props(ISessionApi api, BackendAISettings settings, IActorRef transfers) =>
        Akka.Actor.Props.Create(() => new SessionManager(api, settings, transfers)).WithDispatcher(settings.Session.Dispatcher);

    /// <summary>The supervision table of docs/architecture.md for session actors.</summary>
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(_settings.Session.MaxRestarts, _settings.Session.RestartWindow, Decide);

    internal static Directive Decide(Exception ex) => ex switch
    {
        ActorInitializationException => Directive.Stop,
        SessionReconcileException => Directive.Restart,    // network / 5xx / timeout: rebuild from the server after a backoff
        _ => FailureKinds.Classify(ex) switch
        {
            FailureKind.Fatal => Directive.Stop,            // auth / config / protocol: retrying cannot help
            FailureKind.Bug => Directive.Restart,           // a bug in one session: restart it alone, from the server's truth
            _ => Directive.Restart,
        },
    };

    /// <summary>Keeps the session actors across a restart of the manager and re-indexes them.</summary>
    protected override void PreRestart(Exception reason, object message) => PostStop();

    /// <inheritdoc />
    protected override void PostRestart(Exception reason)
    {
        foreach (var child in Context.GetChildren())
        {
            var key = Uri.UnescapeDataString(child.Path.Name["session-".Length..]);
            _byKey[key] = child;
            Context.Watch(child);
        }
        base.PostRestart(reason);
    }

    private IActorRef Register(string key, string? name, TimeSpan? maxWait)
    {
        if (!_byKey.TryGetValue(key, out var actor))
        {
            actor = Context.ActorOf(SessionActor.Props(key, name, _api, _settings.Session, _settings.RunLoop, _transfers, maxWait),
                "session-" + Uri.EscapeDataString(key));
            Context.Watch(actor);
            _byKey[key] = actor;
        }
        if (name is not null) _keyByName[name] = key;
        return actor;
    }

    private void Route(SessionEventObserved e)
    {
        if (_byKey.TryGetValue(e.Event.SessionId, out var actor))
            actor.Tell(e with { SessionId = e.Event.SessionId });
        else if (_keyByName.TryGetValue(e.Event.SessionName, out var key) && _byKey.TryGetValue(key, out actor))
            actor.Tell(e with { SessionId = key });
        else
            _log.Debug("Event {0} for a session nobody follows", e.Event.Name);
    }

    /// <summary>The create response's status; <c>TIMEOUT</c> means "still queued" (Client 17).</summary>
    internal static SessionStatus? ParseCreateStatus(string wire) =>
        wire == "TIMEOUT" ? SessionStatus.Pending
        : SessionStatuses.TryParse(wire, out var s) ? s : null;

    private sealed record Created(SessionCreateResult Result, TimeSpan? MaxWait, IActorRef ReplyTo);

    private sealed record Attached(string SessionRef, SessionInfo Info, IActorRef ReplyTo);

    private sealed record Replied(IActorRef ReplyTo, object Message);
}

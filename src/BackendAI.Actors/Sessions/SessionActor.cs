using Akka;
using Akka.Actor;
using Akka.Event;
using BackendAI.Actors.Hosting;
using BackendAI.Actors.Internal;
using BackendAI.Actors.Kernels;
using BackendAI.Client;
using BackendAI.Client.Errors;

namespace BackendAI.Actors.Sessions;

/// <summary>
/// One compute session. Its state follows the server's status through <see cref="SessionLifecycle"/>;
/// commands wait (stashed) until RUNNING. It never trusts memory across restarts: every
/// (re)start reads the status from the server first.
/// </summary>
internal sealed class SessionActor : ReceiveActor, IWithStash, IWithTimers
{
    private readonly string _id;
    private readonly ISessionApi _api;
    private readonly SessionSettings _settings;
    private readonly RunLoopSettings _runLoopSettings;
    private readonly IActorRef _transfers;
    private readonly TimeSpan _maxWait;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private string? _name;
    private SessionStatus? _status;
    private bool _everRunning;
    private bool _startDeadlinePassed;
    private bool _restarted;
    private bool _reconcileInFlight;
    private IActorRef? _runLoop;

    /// <inheritdoc />
    public IStash Stash { get; set; } = null!;

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    public SessionActor(string sessionId, string? sessionName, ISessionApi api, SessionSettings settings,
        RunLoopSettings runLoop, IActorRef transfers, TimeSpan? maxWait)
    {
        _id = sessionId;
        _name = sessionName;
        _api = api;
        _settings = settings;
        _runLoopSettings = runLoop;
        _transfers = transfers;
        _maxWait = maxWait ?? settings.StartMaxWait;
        Starting();
    }

    internal static Props Props(string sessionId, string? sessionName, ISessionApi api, SessionSettings settings,
        RunLoopSettings runLoop, IActorRef transfers, TimeSpan? maxWait = null) =>
        Akka.Actor.Props.Create(() => new SessionActor(sessionId, sessionName, api, settings, runLoop, transfers, maxWait))
            .WithDispatcher(settings.Dispatcher);

    /// <inheritdoc />
    protected override void PreStart()
    {
        Timers.StartPeriodicTimer(ReconcileTick.Key, ReconcileTick.Instance, _settings.ReconcileInterval);
        Timers.StartSingleTimer(StartDeadlinePassed.Key, StartDeadlinePassed.Instance, _maxWait);
        if (_restarted)
            Timers.StartSingleTimer(ReconcileNow.Key, ReconcileNow.Instance, _settings.RestartBackoff.Delay(0));
        else
            Reconcile();
    }

    /// <summary>Keeps the run loops alive: they do not depend on the session actor's memory.</summary>
    protected override void PreRestart(Exception reason, object message) => PostStop();

    /// <inheritdoc />
    protected override void PostStop() => Diagnostics.ActorsTelemetry.Released(_status);

    /// <inheritdoc />
    protected override void PostRestart(Exception reason)
    {
        _restarted = true;
        _log.Warning("Session {0} restarted after {1}; rebuilding its state from the server", _id, reason.GetType().Name);
        base.PostRestart(reason);
    }

    /// <summary>Run loops that throw are stopped: their callers get the failure through their stream.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    // ---- states -----------------------------------------------------------------------------

    /// <summary>Nothing known yet, or PENDING … PULLING, or RESTARTING: commands wait.</summary>
    private void Starting()
    {
        Receive<StartDeadlinePassed>(_ =>
        {
            _startDeadlinePassed = true;
            FailStash(() => new SessionStartTimeoutException(_id, _status, _maxWait));
        });
        Receive<DestroySession>(Destroy);
        Receive<GetSessionInfo>(Info);
        Receive<ISessionCommand>(_ =>
        {
            if (_startDeadlinePassed && (_status is null || SessionLifecycle.IsStarting(_status.Value)))
                Sender.Tell(new Status.Failure(new SessionStartTimeoutException(_id, _status, _maxWait)));
            else
                Stash.Stash();
        });
        Observations();
    }

    /// <summary>RUNNING: commands go to the server.</summary>
    private void Running()
    {
        Receive<StartRun>(run => RunLoop().Forward(run));
        Receive<UploadFiles>(cmd => _transfers.Forward(cmd));
        Receive<DownloadFiles>(cmd => _transfers.Forward(cmd));
        Receive<ListFiles>(cmd => _api.ListFilesAsync(_id, cmd.Path, CancellationToken.None)
            .PipeTo(Sender, success: entries => new FilesListed(_id, entries), failure: Fail));
        Receive<InterruptSession>(_ => _api.InterruptAsync(_id, CancellationToken.None)
            .PipeTo(Sender, success: () => Done.Instance, failure: Fail));
        Receive<RestartSession>(_ =>
        {
            var task = _api.RestartAsync(_id, CancellationToken.None);
            task.PipeTo(Sender, success: () => Done.Instance, failure: Fail);
            task.PipeTo(Self, success: () => new ReconcileSession(_id), failure: _ => new ReconcileSession(_id));
        });
        Receive<DestroySession>(Destroy);
        Receive<GetSessionInfo>(Info);
        Observations();
    }

    /// <summary>TERMINATING or ERROR: only destroy and info still make sense.</summary>
    private void Stopping()
    {
        Receive<DestroySession>(Destroy);
        Receive<GetSessionInfo>(Info);
        Receive<ISessionCommand>(cmd => Sender.Tell(new Status.Failure(NotRunning(cmd))));
        Observations();
    }

    /// <summary>TERMINATED or CANCELLED: final.</summary>
    private void Terminated()
    {
        Receive<DestroySession>(_ => Sender.Tell(Done.Instance));
        Receive<ISessionCommand>(cmd => Sender.Tell(new Status.Failure(NotRunning(cmd))));
        Receive<GetSessionSnapshot>(_ => Sender.Tell(Snapshot()));
        Receive<ReleaseSession>(_ => Context.Stop(Self));
        ReceiveAny(_ => { });  // late events, ticks and fetch results change nothing now
    }

    /// <summary>The server refused us for good (auth, not found, protocol): every command gets that error.</summary>
    private void Failed(Exception cause)
    {
        Receive<ISessionCommand>(_ => Sender.Tell(new Status.Failure(cause)));
        Receive<GetSessionSnapshot>(_ => Sender.Tell(Snapshot()));
        Receive<ReleaseSession>(_ => Context.Stop(Self));
        ReceiveAny(_ => { });
    }

    /// <summary>What every live state does with observations and queries.</summary>
    private void Observations()
    {
        Receive<SessionStatusObserved>(o => Advance(o.Status, o.Source));
        Receive<SessionEventObserved>(e =>
        {
            _name ??= e.Event.SessionName;
            if (SessionLifecycle.StatusOf(e.Event.Name) is { } status) Advance(status, "event:" + e.Event.Name);
        });
        Receive<ReconcileTick>(_ => Reconcile());
        Receive<ReconcileNow>(_ => Reconcile());
        Receive<ReconcileSession>(_ => Reconcile());
        Receive<SessionInfoFetched>(f =>
        {
            _reconcileInFlight = false;
            Advance(f.Info.Status, "reconcile");
        });
        Receive<SessionInfoFetchFailed>(f => OnReconcileFailed(f.Cause));
        Receive<GetSessionSnapshot>(_ => Sender.Tell(Snapshot()));
        Receive<ReleaseSession>(_ => Context.Stop(Self));
        Receive<Akka.Actor.Terminated>(t =>
        {
            if (t.ActorRef.Equals(_runLoop)) _runLoop = null;   // a new one is created on the next run
        });
    }

    // ---- transitions ------------------------------------------------------------------------

    private void Advance(SessionStatus next, string cause)
    {
        if (!SessionLifecycle.CanMove(_status, next)) return;  // duplicate, stale or after the end: ignore
        var previous = _status;
        _status = next;
        Context.System.EventStream.Publish(new SessionTransitioned(_id, previous, next, cause));
        Diagnostics.ActorsTelemetry.Transitioned(previous, next);

        if (next == SessionStatus.Running)
        {
            _everRunning = true;
            Timers.Cancel(StartDeadlinePassed.Key);
            Become(Running);
            Stash.UnstashAll();
        }
        else if (SessionLifecycle.IsTerminal(next))
        {
            Timers.CancelAll();
            FailStash(() => new SessionStateException(_id, next, $"Session '{_id}' is {SessionStatuses.ToWire(next)}."));
            Become(Terminated);
        }
        else if (next is SessionStatus.Terminating or SessionStatus.Error)
        {
            FailStash(() => new SessionStateException(_id, next, $"Session '{_id}' is {SessionStatuses.ToWire(next)}."));
            Become(Stopping);
        }
        else
        {
            Become(Starting);
        }
    }

    private void Reconcile()
    {
        if (_reconcileInFlight) return;
        _reconcileInFlight = true;
        Diagnostics.ActorsTelemetry.Reconcile(_id, () => _api.GetInfoAsync(_id, CancellationToken.None))
            .PipeTo(Self, success: info => new SessionInfoFetched(info), failure: ex => new SessionInfoFetchFailed(ex));
    }

    private void OnReconcileFailed(Exception cause)
    {
        _reconcileInFlight = false;
        var ex = Unwrap(cause);
        switch (FailureKinds.Classify(ex))
        {
            case FailureKind.NotFound when _status is not null:
                Advance(SessionLifecycle.GoneStatus(_status, _everRunning), "reconcile:404");
                break;
            case FailureKind.NotFound:
            case FailureKind.Fatal:
                GiveUp(ex);
                break;
            case FailureKind.RateLimited:
                Timers.StartSingleTimer(ReconcileNow.Key, ReconcileNow.Instance,
                    FailureKinds.RetryAfter(ex) ?? _settings.RestartBackoff.Delay(1));
                break;
            default:
                // Transient (network, 5xx, timeout): let the supervisor restart us; the new
                // incarnation waits a jittered backoff and rebuilds its state from the server.
                throw new SessionReconcileException(_id, ex);
        }
    }

    private void GiveUp(Exception cause)
    {
        _log.Warning("Session {0} stops following the server: {1}", _id, cause.Message);
        Timers.CancelAll();
        Context.System.EventStream.Publish(new SessionFailed(_id, cause));
        FailStash(() => cause);
        Become(() => Failed(cause));
    }

    // ---- commands ---------------------------------------------------------------------------

    private void Destroy(DestroySession cmd)
    {
        var task = _api.DestroyAsync(_id, cmd.Forced, CancellationToken.None);
        task.PipeTo(Sender, success: () => Done.Instance, failure: Fail);
        task.PipeTo(Self, success: () => new ReconcileSession(_id), failure: _ => new ReconcileSession(_id));
    }

    /// <summary>The session's run loop (one child serving every run), created on the first run. A
    /// restarted session actor finds the one its previous incarnation left running.</summary>
    private IActorRef RunLoop()
    {
        if (_runLoop is { } loop) return loop;
        var existing = Context.Child(RunLoopName);
        loop = existing.IsNobody() ? Context.ActorOf(KernelRunLoop.Props(_id, _api, _runLoopSettings), RunLoopName) : existing;
        Context.Watch(loop);
        _runLoop = loop;
        return loop;
    }

    private void Info(GetSessionInfo _) =>
        _api.GetInfoAsync(_id, CancellationToken.None)
            .PipeTo(Sender, success: info => new SessionInfoAnswered(_id, info), failure: Fail);

    private void FailStash(Func<Exception> error)
    {
        foreach (var envelope in Stash.ClearStash())
            envelope.Sender.Tell(new Status.Failure(error()));
    }

    private SessionStateException NotRunning(ISessionCommand cmd) => new(_id, _status,
        $"Session '{_id}' is {(_status is { } s ? SessionStatuses.ToWire(s) : "unknown")}; {cmd.GetType().Name} needs a RUNNING session.");

    private SessionSnapshot Snapshot() => new(_id, _name, _status);

    private const string RunLoopName = "runs";

    private static object Fail(Exception ex) => new Status.Failure(Unwrap(ex));

    internal static Exception Unwrap(Exception ex) =>
        ex is AggregateException { InnerExceptions.Count: 1 } agg ? Unwrap(agg.InnerExceptions[0]) : ex;

    // ---- private messages -------------------------------------------------------------------

    private sealed record ReconcileTick
    {
        public const string Key = "reconcile";
        public static readonly ReconcileTick Instance = new();
    }

    private sealed record ReconcileNow
    {
        public const string Key = "reconcile-now";
        public static readonly ReconcileNow Instance = new();
    }

    private sealed record StartDeadlinePassed
    {
        public const string Key = "start-deadline";
        public static readonly StartDeadlinePassed Instance = new();
    }

    private sealed record SessionInfoFetched(SessionInfo Info);

    private sealed record SessionInfoFetchFailed(Exception Cause);
}

/// <summary>A transient failure while reading the session's status; the session actor is restarted.</summary>
public sealed class SessionReconcileException : BackendException
{
    /// <summary>Creates the error.</summary>
    public SessionReconcileException(string sessionId, Exception innerException)
        : base($"Reading the status of session '{sessionId}' failed: {innerException.Message}", innerException) =>
        SessionId = sessionId;

    /// <summary>The session.</summary>
    public string SessionId { get; }
}

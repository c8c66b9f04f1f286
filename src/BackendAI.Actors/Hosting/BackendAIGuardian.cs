using System.Collections.Concurrent;
using Akka.Actor;
using BackendAI.Actors.Events;
using BackendAI.Actors.Internal;
using BackendAI.Actors.Reactive;
using BackendAI.Actors.Sessions;
using BackendAI.Actors.Transfers;
using BackendAI.Client;

namespace BackendAI.Actors.Hosting;

/// <summary>Ask the guardian for its children; answered by <see cref="RuntimeRefs"/>.</summary>
public sealed record GetRuntimeRefs
{
    /// <summary>The message.</summary>
    public static readonly GetRuntimeRefs Instance = new();
}

/// <summary>The guardian's children.</summary>
public sealed record RuntimeRefs(IActorRef Sessions, IActorRef Events, IActorRef Transfers);

/// <summary>
/// The root of one runtime: supervises the transfer pool, the sessions manager, the event
/// stream and the status relay (docs/architecture.md).
/// </summary>
internal sealed class BackendAIGuardian : ReceiveActor
{
    public BackendAIGuardian(ISessionApi api, BackendAISettings settings, SessionEventFilter filter,
        ConcurrentDictionary<string, SessionStatusCell> cells, EventStreamStateCell? streamStates = null)
    {
        var transfers = Context.ActorOf(TransferActor.Props(api, settings.Transfer), "transfers");
        var sessions = Context.ActorOf(SessionManager.Props(api, settings, transfers), "sessions");
        var events = Context.ActorOf(SessionEventStreamActor.Props(api, filter, settings.EventStream, sessions, streamStates), "events");
        Context.ActorOf(Akka.Actor.Props.Create(() => new StatusRelay(cells)), "status");
        var refs = new RuntimeRefs(sessions, events, transfers);
        Receive<GetRuntimeRefs>(_ => Sender.Tell(refs));
    }

    internal static Props Props(ISessionApi api, BackendAISettings settings, SessionEventFilter filter,
        ConcurrentDictionary<string, SessionStatusCell> cells, EventStreamStateCell? streamStates = null) =>
        Akka.Actor.Props.Create(() => new BackendAIGuardian(api, settings, filter, cells, streamStates));

    /// <summary>
    /// Children that throw are restarted: the manager keeps its sessions across a restart, the
    /// event stream reconnects (and the sessions reconcile), the transfer pool starts empty.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(10, TimeSpan.FromMinutes(1), ex => ex is ActorInitializationException ? Directive.Stop : Directive.Restart);
}

/// <summary>Feeds the published transitions into the per-session status cells the app observes.</summary>
internal sealed class StatusRelay : ReceiveActor
{
    public StatusRelay(ConcurrentDictionary<string, SessionStatusCell> cells)
    {
        Receive<SessionTransitioned>(t =>
        {
            if (cells.TryGetValue(t.SessionId, out var cell)) cell.Set(t.Current);
        });
        Receive<SessionFailed>(f =>
        {
            if (cells.TryGetValue(f.SessionId, out var cell)) cell.Fail(f.Cause);
        });
    }

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(SessionTransitioned));
        Context.System.EventStream.Subscribe(Self, typeof(SessionFailed));
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using BackendAI.Actors.Sessions;
using BackendAI.Client;

namespace BackendAI.Actors.Diagnostics;

/// <summary>
/// The names of the runtime's <see cref="ActivitySource"/> and <see cref="Meter"/> (both <c>BackendAI.Actors</c>), for
/// <c>AddSource</c>/<c>AddMeter</c>. Span: <c>SessionActor.Reconcile</c> (tag <c>backendai.session.id</c>). Instruments:
/// <c>backendai.sessions.active</c>, <c>backendai.session.transitions</c> (tag <c>status</c>),
/// <c>backendai.events.received</c> (tag <c>event</c>), <c>backendai.event_stream.reconnects</c>,
/// <c>backendai.transfer.bytes</c> (tag <c>direction</c>). Session ids appear on spans only, never on metrics.
/// </summary>
public static class ActorsTelemetry
{
    /// <summary>The activity source name.</summary>
    public const string ActivitySourceName = "BackendAI.Actors";

    /// <summary>The meter name.</summary>
    public const string MeterName = "BackendAI.Actors";

    /// <summary>Sessions followed by the runtime that have not ended (up-down counter).</summary>
    public const string SessionsActive = "backendai.sessions.active";

    /// <summary>Session status transitions (counter, tag <c>status</c> = the new wire status).</summary>
    public const string SessionTransitions = "backendai.session.transitions";

    /// <summary>Session events received from the event stream (counter, tag <c>event</c>).</summary>
    public const string EventsReceived = "backendai.events.received";

    /// <summary>Event stream reconnections (counter).</summary>
    public const string EventStreamReconnects = "backendai.event_stream.reconnects";

    /// <summary>Bytes uploaded or downloaded by the transfer pool (counter, tag <c>direction</c> = upload/download).</summary>
    public const string TransferBytes = "backendai.transfer.bytes";

    /// <summary>The reconcile span name.</summary>
    public const string ReconcileSpan = "SessionActor.Reconcile";

    internal static readonly ActivitySource Source = new(ActivitySourceName, typeof(ActorsTelemetry).Assembly.GetName().Version?.ToString());
    internal static readonly Meter Meter = new(MeterName, typeof(ActorsTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly UpDownCounter<long> s_active = Meter.CreateUpDownCounter<long>(SessionsActive, "{session}",
        "Sessions followed by the runtime that have not reached a terminal status.");
    private static readonly Counter<long> s_transitions = Meter.CreateCounter<long>(SessionTransitions, "{transition}",
        "Session status transitions observed by the session actors.");
    private static readonly Counter<long> s_events = Meter.CreateCounter<long>(EventsReceived, "{event}",
        "Session events received over the runtime's event stream.");
    private static readonly Counter<long> s_reconnects = Meter.CreateCounter<long>(EventStreamReconnects, "{reconnect}",
        "Times the session event stream was reopened after a drop.");
    private static readonly Counter<long> s_transferBytes = Meter.CreateCounter<long>(TransferBytes, "By",
        "Bytes moved by the runtime's transfer pool.");

    /// <summary>Counts a transition (and moves the active gauge when a session starts or ends being followed).</summary>
    internal static void Transitioned(SessionStatus? previous, SessionStatus next)
    {
        if (s_transitions.Enabled) s_transitions.Add(1, new KeyValuePair<string, object?>("status", SessionStatuses.ToWire(next)));
        if (!s_active.Enabled) return;
        var wasLive = previous is { } p && !SessionLifecycle.IsTerminal(p);
        var isLive = !SessionLifecycle.IsTerminal(next);
        if (wasLive != isLive) s_active.Add(isLive ? 1 : -1);
    }

    /// <summary>The session actor stops (or restarts) while its session is live: it is no longer followed.</summary>
    internal static void Released(SessionStatus? status)
    {
        if (s_active.Enabled && status is { } s && !SessionLifecycle.IsTerminal(s)) s_active.Add(-1);
    }

    /// <summary>Counts one received event.</summary>
    internal static void EventReceived(SessionEvent e)
    {
        if (s_events.Enabled) s_events.Add(1, new KeyValuePair<string, object?>("event", e.Name));
    }

    /// <summary>Counts one reconnection.</summary>
    internal static void Reconnected()
    {
        if (s_reconnects.Enabled) s_reconnects.Add(1);
    }

    /// <summary>The reconcile call (<c>GET /session/{id}</c>) inside a <c>SessionActor.Reconcile</c> span; the span does
    /// not become the actor thread's current activity.</summary>
    internal static Task<SessionInfo> Reconcile(string sessionId, Func<Task<SessionInfo>> fetch)
    {
        if (!Source.HasListeners()) return fetch();
        var previous = Activity.Current;
        var activity = Source.StartActivity(ReconcileSpan, ActivityKind.Internal);
        Task<SessionInfo> task;
        try
        {
            activity?.SetTag("backendai.session.id", sessionId);
            task = fetch();   // the HTTP call starts under the span (the span flows with its execution context)
        }
        finally
        {
            Activity.Current = previous;
        }
        if (activity is null) return task;
        return task.ContinueWith(static (t, state) =>
        {
            var a = (Activity)state!;
            if (t.IsFaulted) a.SetStatus(ActivityStatusCode.Error, t.Exception!.InnerException?.GetType().Name);
            else if (t.IsCompletedSuccessfully) a.SetTag("backendai.session.status", SessionStatuses.ToWire(t.Result.Status));
            a.Dispose();
            return t;
        }, activity, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Counts the bytes of the uploaded files once the upload succeeds (no work when nobody listens).</summary>
    internal static Task CountUpload(Task upload, IReadOnlyList<string> localPaths)
    {
        if (!s_transferBytes.Enabled) return upload;
        return upload.ContinueWith(static (t, state) =>
        {
            if (t.IsCompletedSuccessfully) AddBytes((IReadOnlyList<string>)state!, "upload");
            return t;
        }, localPaths, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Counts the bytes of the downloaded files once the download succeeds (no work when nobody listens).</summary>
    internal static Task<IReadOnlyList<string>> CountDownload(Task<IReadOnlyList<string>> download, string destinationDirectory)
    {
        if (!s_transferBytes.Enabled) return download;
        return download.ContinueWith(static (t, state) =>
        {
            if (t.IsCompletedSuccessfully) AddBytes(t.Result, "download", (string)state!);
            return t;
        }, destinationDirectory, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
    }

    private static void AddBytes(IReadOnlyList<string> paths, string direction, string? baseDirectory = null)
    {
        long total = 0;
        foreach (var p in paths)
        {
            try
            {
                var info = new FileInfo(baseDirectory is null ? p : Path.Combine(baseDirectory, p));   // relative paths are under the destination
                if (info.Exists) total += info.Length;
            }
            catch (IOException)
            {
                // best effort: a file removed meanwhile is not counted
            }
            catch (UnauthorizedAccessException)
            {
                // best effort
            }
        }
        s_transferBytes.Add(total, new KeyValuePair<string, object?>("direction", direction));
    }
}

using BackendAI.Client;

namespace BackendAI.Actors.Sessions;

/// <summary>
/// The pure rules of the session lifecycle (sessions.md §13.2, streaming.md §A.2). Observations
/// arrive from three sources — the create response, SSE events and reconciliation — possibly
/// duplicated, late or out of order, so the rules accept forward moves (skipping missed steps),
/// the two legitimate back-and-forth pairs (PREPARING⇄PULLING, RUNNING⇄RESTARTING) and nothing
/// out of a terminal state.
/// </summary>
public static class SessionLifecycle
{
    /// <summary>True when the status is final: TERMINATED or CANCELLED.</summary>
    public static bool IsTerminal(SessionStatus status) => status is SessionStatus.Terminated or SessionStatus.Cancelled;

    /// <summary>True for the statuses before the session first became RUNNING.</summary>
    public static bool IsStarting(SessionStatus status) => Rank(status) < 3;

    /// <summary>
    /// Whether moving from <paramref name="from"/> (<c>null</c> = nothing known yet) to
    /// <paramref name="to"/> is a transition. <c>false</c> means "ignore the observation":
    /// it is a duplicate, stale, or would leave a terminal state.
    /// </summary>
    public static bool CanMove(SessionStatus? from, SessionStatus to)
    {
        if (from is not { } f) return true;
        if (f == to || IsTerminal(f)) return false;
        if (to == SessionStatus.Error) return true;                       // any live state can fail
        if (f == SessionStatus.Error) return to is SessionStatus.Terminating or SessionStatus.Terminated;
        if (to == SessionStatus.Terminated) return true;                  // container gone / forced destroy / missed events
        if (to == SessionStatus.Cancelled) return IsStarting(f);          // "never started"
        if (IsPair(f, to, SessionStatus.Preparing, SessionStatus.Pulling)) return true;
        if (IsPair(f, to, SessionStatus.Running, SessionStatus.Restarting)) return true;
        return Rank(to) > Rank(f);
    }

    /// <summary>
    /// The status an SSE event implies (streaming.md §A.2), or <c>null</c> for events that carry
    /// no session status of their own (kernel_started, kernel_cancelled, kernel_terminated,
    /// session_success, session_failure, unknown names).
    /// </summary>
    public static SessionStatus? StatusOf(string eventName) => eventName switch
    {
        "session_enqueued" => SessionStatus.Pending,
        "session_scheduled" => SessionStatus.Scheduled,
        "kernel_preparing" or "kernel_creating" => SessionStatus.Preparing,
        "kernel_pulling" => SessionStatus.Pulling,
        "session_started" => SessionStatus.Running,
        "session_cancelled" => SessionStatus.Cancelled,
        "kernel_terminating" => SessionStatus.Terminating,
        "session_terminated" => SessionStatus.Terminated,
        _ => null,
    };

    /// <summary>
    /// What a 404 on session info means once the session was known: it is gone. CANCELLED when it
    /// never became RUNNING, TERMINATED otherwise.
    /// </summary>
    public static SessionStatus GoneStatus(SessionStatus? lastKnown, bool everRunning) =>
        !everRunning && lastKnown is { } s && IsStarting(s) ? SessionStatus.Cancelled : SessionStatus.Terminated;

    private static bool IsPair(SessionStatus a, SessionStatus b, SessionStatus x, SessionStatus y) =>
        (a == x && b == y) || (a == y && b == x);

    private static int Rank(SessionStatus s) => s switch
    {
        SessionStatus.Pending => 0,
        SessionStatus.Scheduled => 1,
        SessionStatus.Preparing or SessionStatus.Pulling or SessionStatus.Building => 2,
        SessionStatus.Running or SessionStatus.Restarting or SessionStatus.Resizing or SessionStatus.Suspended => 3,
        SessionStatus.Terminating => 4,
        SessionStatus.Error => 4,
        _ => 5,
    };
}

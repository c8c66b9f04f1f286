using System.Collections.Immutable;
using System.Globalization;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using BackendAI.Client;

namespace BackendAI.Examples.ReactiveQueries;

/// <summary>A session whose start (enqueued → started) took longer than the threshold.</summary>
public sealed record SlowStart(string SessionId, string SessionName, TimeSpan Took)
{
    /// <inheritdoc />
    public override string ToString() => $"{SessionName} took {Took.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s to start";
}

/// <summary>The failures (cancellations and failed batch jobs) within the sliding window, after one came in or expired.</summary>
/// <param name="Count">Failures in the window now.</param>
/// <param name="Entered">True when <paramref name="Event"/> just entered the window, false when it just left it.</param>
/// <param name="Event">The failure that entered or left.</param>
public sealed record FailureWindow(int Count, bool Entered, SessionEvent Event)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Count} in window ({(Entered ? "+" : "-")} {Event.Name} {Event.SessionName}{(Event.Reason.Length > 0 ? " " + Event.Reason : "")})";
}

/// <summary>How many sessions are in each status (each session counted once, at its latest status).</summary>
public sealed record StatusTally(ImmutableSortedDictionary<SessionStatus, int> Counts)
{
    /// <summary>The count of one status (0 when none).</summary>
    public int this[SessionStatus status] => Counts.GetValueOrDefault(status);

    /// <inheritdoc />
    public override string ToString() => string.Join(" ", Counts.Select(kv => $"{SessionStatuses.ToWire(kv.Key)}={kv.Value}"));
}

/// <summary>
/// Rx queries over a session event stream (e.g. <c>BackendAIRuntime.Events</c>). Each is a pure operator chain:
/// state lives in <c>Scan</c> accumulators, per-session entries are removed when the session ends, and time comes
/// from the given scheduler (virtual time in unit tests).
/// </summary>
public static class SessionQueries
{
    /// <summary>True for events that count as failures: <c>session_cancelled</c> and <c>session_failure</c>.</summary>
    public static bool IsFailure(SessionEvent e) => e.Name is "session_cancelled" or "session_failure";

    /// <summary>Sessions that took longer than <paramref name="threshold"/> from <c>session_enqueued</c> to <c>session_started</c>
    /// (paired by session id; emitted when the session starts).</summary>
    public static IObservable<SlowStart> SlowStarts(this IObservable<SessionEvent> events, TimeSpan threshold, IScheduler? scheduler = null) =>
        events.Timestamp(scheduler ?? Scheduler.Default)
            .Scan((Pending: ImmutableDictionary<string, DateTimeOffset>.Empty, Emit: (SlowStart?)null), (state, x) =>
            {
                var e = x.Value;
                var id = e.SessionId;
                switch (e.Name)
                {
                    case "session_enqueued":
                        return (state.Pending.SetItem(id, x.Timestamp), null);
                    case "session_started" when state.Pending.TryGetValue(id, out var enqueuedAt):
                        var took = x.Timestamp - enqueuedAt;
                        return (state.Pending.Remove(id), took > threshold ? new SlowStart(id, e.SessionName, took) : null);
                    default:
                        return e.IsTerminal ? (state.Pending.Remove(id), null) : (state.Pending, null);
                }
            })
            .Where(s => s.Emit is not null)
            .Select(s => s.Emit!);

    /// <summary>A sliding <paramref name="window"/> count of failures: +1 when one arrives, −1 when it leaves the window.</summary>
    public static IObservable<FailureWindow> FailuresInWindow(this IObservable<SessionEvent> events, TimeSpan window, IScheduler? scheduler = null) =>
        events.Where(IsFailure)
            .Publish(failures => failures.Select(e => (Delta: 1, Event: e))
                .Merge(failures.Delay(window, scheduler ?? Scheduler.Default).Select(e => (Delta: -1, Event: e))))
            .Scan((FailureWindow?)null, (previous, change) =>
                new FailureWindow((previous?.Count ?? 0) + change.Delta, change.Delta > 0, change.Event))
            .Select(w => w!);

    /// <summary>A running tally of sessions by status; emits whenever a session's status changes.</summary>
    public static IObservable<StatusTally> StatusTallies(this IObservable<SessionEvent> events) =>
        events.Where(e => e.ImpliedStatus is not null)
            .Scan((BySession: ImmutableDictionary<string, SessionStatus>.Empty, Changed: false), (state, e) =>
            {
                var status = e.ImpliedStatus!.Value;
                return state.BySession.TryGetValue(e.SessionId, out var old) && old == status
                    ? (state.BySession, false)
                    : (state.BySession.SetItem(e.SessionId, status), true);
            })
            .Where(s => s.Changed)
            .Select(s => new StatusTally(s.BySession.Values.GroupBy(v => v).ToImmutableSortedDictionary(g => g.Key, g => g.Count())));
}

using System.Reactive.Concurrency;
using System.Reactive.Subjects;
using BackendAI.Client;
using BackendAI.Examples.ReactiveQueries;

namespace BackendAI.Examples.Tests.ReactiveQueries;

public sealed class SessionQueriesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static SessionEvent E(string name, string id, string reason = "") => new(name, reason, "n-" + id, "AK", id, id, null, null);

    [Fact]
    public void Slow_starts_pair_enqueued_with_started_per_session_and_report_only_those_over_the_threshold()
    {
        var time = new HistoricalScheduler(T0);
        var events = new Subject<SessionEvent>();
        var slow = new List<SlowStart>();
        using var _ = events.SlowStarts(TimeSpan.FromSeconds(2), time).Subscribe(slow.Add);

        events.OnNext(E("session_enqueued", "fast"));
        events.OnNext(E("session_enqueued", "slow"));
        events.OnNext(E("session_enqueued", "never"));
        time.AdvanceBy(TimeSpan.FromSeconds(1));
        events.OnNext(E("session_started", "fast"));
        time.AdvanceBy(TimeSpan.FromSeconds(2));
        events.OnNext(E("session_cancelled", "never", "user-requested"));
        events.OnNext(E("session_started", "slow"));
        events.OnNext(E("session_started", "slow")); // a restart later: not a start from the queue
        events.OnNext(E("session_started", "never"));

        var s = Assert.Single(slow);
        Assert.Equal("slow", s.SessionId);
        Assert.Equal(TimeSpan.FromSeconds(3), s.Took);
    }

    [Fact]
    public void Failure_window_counts_up_on_failures_and_down_as_they_leave_the_window()
    {
        var time = new HistoricalScheduler(T0);
        var events = new Subject<SessionEvent>();
        var counts = new List<(int Count, bool Entered, string Name)>();
        using var _ = events.FailuresInWindow(TimeSpan.FromSeconds(10), time).Subscribe(w => counts.Add((w.Count, w.Entered, w.Event.Name)));

        events.OnNext(E("session_cancelled", "a", "user-requested"));
        time.AdvanceBy(TimeSpan.FromSeconds(4));
        events.OnNext(E("session_started", "b"));
        events.OnNext(E("session_failure", "c", "task-failed"));
        time.AdvanceBy(TimeSpan.FromSeconds(7)); // a leaves at 10 s
        time.AdvanceBy(TimeSpan.FromSeconds(4)); // c leaves at 14 s

        Assert.Equal([(1, true, "session_cancelled"), (2, true, "session_failure"), (1, false, "session_cancelled"), (0, false, "session_failure")], counts);
    }

    [Fact]
    public void Status_tally_counts_each_session_once_at_its_latest_status()
    {
        var events = new Subject<SessionEvent>();
        var tallies = new List<StatusTally>();
        using var _ = events.StatusTallies().Subscribe(tallies.Add);

        events.OnNext(E("session_enqueued", "a"));
        events.OnNext(E("session_enqueued", "b"));
        events.OnNext(E("session_started", "a"));
        events.OnNext(E("kernel_started", "a")); // implies nothing
        events.OnNext(E("session_started", "a")); // no change
        events.OnNext(E("session_cancelled", "b"));

        Assert.Equal(4, tallies.Count);
        var last = tallies[^1];
        Assert.Equal(1, last[SessionStatus.Running]);
        Assert.Equal(1, last[SessionStatus.Cancelled]);
        Assert.Equal(0, last[SessionStatus.Pending]);
        Assert.Equal("RUNNING=1 CANCELLED=1", last.ToString());
    }
}

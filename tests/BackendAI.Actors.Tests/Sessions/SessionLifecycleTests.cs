using BackendAI.Actors.Sessions;
using BackendAI.Client;

namespace BackendAI.Actors.Tests.Sessions;

public sealed class SessionLifecycleTests
{
    // Columns (to): PENDING SCHEDULED PREPARING PULLING RUNNING RESTARTING TERMINATING TERMINATED CANCELLED ERROR
    private static readonly SessionStatus[] s_order =
    [
        SessionStatus.Pending, SessionStatus.Scheduled, SessionStatus.Preparing, SessionStatus.Pulling, SessionStatus.Running,
        SessionStatus.Restarting, SessionStatus.Terminating, SessionStatus.Terminated, SessionStatus.Cancelled, SessionStatus.Error,
    ];

    // 1 = a transition, 0 = ignored (duplicate, stale, or out of a final state). Derived from
    // sessions.md §13.2 allowing for missed events (forward skips are legal; reconcile may jump).
    private static readonly Dictionary<string, string> s_table = new()
    {
        ["(none)"]      = "1111111111",
        ["PENDING"]     = "0111111111",
        ["SCHEDULED"]   = "0011111111",
        ["PREPARING"]   = "0001111111",
        ["PULLING"]     = "0010111111",
        ["RUNNING"]     = "0000011101",
        ["RESTARTING"]  = "0000101101",
        ["TERMINATING"] = "0000000101",
        ["TERMINATED"]  = "0000000000",
        ["CANCELLED"]   = "0000000000",
        ["ERROR"]       = "0000001100",
    };

    public static TheoryData<string, string, bool> Transitions()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var (from, row) in s_table)
            for (var i = 0; i < s_order.Length; i++)
                data.Add(from, SessionStatuses.ToWire(s_order[i]), row[i] == '1');
        return data;
    }

    [Theory]
    [MemberData(nameof(Transitions))]
    public void SessionLifecycle_decides_every_transition_of_the_table(string from, string to, bool legal)
    {
        SessionStatus? f = from == "(none)" ? null : SessionStatuses.Parse(from);
        Assert.Equal(legal, SessionLifecycle.CanMove(f, SessionStatuses.Parse(to)));
    }

    [Fact]
    public void SessionLifecycle_table_covers_all_ten_protocol_states()
    {
        Assert.Equal(11, s_table.Count);
        Assert.Equal(110, Transitions().Count());
    }

    [Theory]
    [InlineData("session_enqueued", "PENDING")]
    [InlineData("session_scheduled", "SCHEDULED")]
    [InlineData("kernel_preparing", "PREPARING")]
    [InlineData("kernel_pulling", "PULLING")]
    [InlineData("kernel_creating", "PREPARING")]
    [InlineData("session_started", "RUNNING")]
    [InlineData("session_cancelled", "CANCELLED")]
    [InlineData("kernel_terminating", "TERMINATING")]
    [InlineData("session_terminated", "TERMINATED")]
    [InlineData("kernel_started", null)]
    [InlineData("kernel_cancelled", null)]
    [InlineData("kernel_terminated", null)]
    [InlineData("session_success", null)]
    [InlineData("session_failure", null)]
    [InlineData("bgtask_done", null)]
    public void SessionLifecycle_maps_event_names_to_statuses_per_streaming_A2(string eventName, string? status)
    {
        SessionStatus? expected = status is null ? null : SessionStatuses.Parse(status);
        Assert.Equal(expected, SessionLifecycle.StatusOf(eventName));
    }

    [Theory]
    [InlineData("PENDING", false, "CANCELLED")]
    [InlineData("PREPARING", false, "CANCELLED")]
    [InlineData("RUNNING", true, "TERMINATED")]
    [InlineData("TERMINATING", true, "TERMINATED")]
    [InlineData("PENDING", true, "TERMINATED")]
    public void SessionLifecycle_reads_a_404_after_the_session_was_known_as_gone(string last, bool everRunning, string expected) =>
        Assert.Equal(SessionStatuses.Parse(expected), SessionLifecycle.GoneStatus(SessionStatuses.Parse(last), everRunning));

    [Fact]
    public void SessionLifecycle_ignores_a_duplicate_and_out_of_order_event_sequence()
    {
        // kernel_* and session_* events may interleave; replaying the whole sequence out of order
        // and duplicated must end in the same final state with only forward moves.
        var names = new[] { "kernel_preparing", "session_enqueued", "session_scheduled", "kernel_pulling", "kernel_creating",
            "session_started", "session_started", "kernel_terminating", "session_terminated", "kernel_terminating", "session_started" };
        SessionStatus? status = null;
        var seen = new List<SessionStatus>();
        foreach (var n in names)
            if (SessionLifecycle.StatusOf(n) is { } next && SessionLifecycle.CanMove(status, next)) { status = next; seen.Add(next); }
        Assert.Equal(SessionStatus.Terminated, status);
        Assert.Equal([SessionStatus.Preparing, SessionStatus.Pulling, SessionStatus.Preparing, SessionStatus.Running,
            SessionStatus.Terminating, SessionStatus.Terminated], seen);
    }
}

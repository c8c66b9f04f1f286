using BackendAI.Client;
using BackendAI.Examples.MonitoringConsole;

namespace BackendAI.Examples.Tests.MonitoringConsole;

public sealed class DashboardModelTests
{
    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static SessionEvent Event(string name, string id, string session, string reason = "") =>
        new(name, reason, session, "AKIAIOSFODNN7EXAMPLE", id, id, null, null);

    [Fact]
    public void Events_move_a_session_through_its_statuses_and_feed_keeps_the_last_n()
    {
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var model = new DashboardModel("http://x/", time, feedSize: 3);

        model.Apply(Event("session_enqueued", "1", "alpha"));
        Assert.Equal(SessionStatus.Pending, Assert.Single(model.Snapshot().Sessions).Status);
        model.Apply(Event("session_scheduled", "1", "alpha"));
        model.Apply(Event("kernel_preparing", "1", "alpha"));
        model.Apply(Event("kernel_started", "1", "alpha"));
        model.Apply(Event("session_started", "1", "alpha"));

        var s = model.Snapshot();
        Assert.Equal(SessionStatus.Running, Assert.Single(s.Sessions).Status);
        Assert.Equal(3, s.Feed.Count);
        Assert.Equal("session_started", s.Feed[0].Name); // newest first
        Assert.Equal(5, s.EventsReceived);
        Assert.Equal(1, s.Counts[SessionStatus.Running]);
        Assert.Equal(StreamState.Live, s.Stream);
    }

    [Fact]
    public void Reconcile_adds_listed_sessions_and_ends_vanished_ones_but_not_ones_changed_after_the_listing_started()
    {
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var model = new DashboardModel("http://x/", time);
        model.Apply(Event("session_started", "old", "vanished"));
        time.Now += TimeSpan.FromSeconds(1);
        var listingStart = time.Now;
        time.Now += TimeSpan.FromMilliseconds(10);
        model.Apply(Event("session_enqueued", "new", "fresh")); // newer than the listing

        model.Reconcile([new SessionRow("listed", "listed", "python", SessionStatus.Running, "AK", time.Now, time.Now)], listingStart);

        var rows = model.Snapshot().Sessions.ToDictionary(r => r.Name);
        Assert.Equal(SessionStatus.Terminated, rows["vanished"].Status);
        Assert.Equal(SessionStatus.Pending, rows["fresh"].Status);
        Assert.Equal(SessionStatus.Running, rows["listed"].Status);
        Assert.Equal("python", rows["listed"].Image);
    }

    [Fact]
    public void Ended_sessions_leave_the_table_after_the_linger_time()
    {
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var model = new DashboardModel("http://x/", time, terminalLinger: TimeSpan.FromSeconds(5));
        model.Apply(Event("session_started", "1", "alpha"));
        model.Apply(Event("session_terminated", "1", "alpha"));
        Assert.Equal(SessionStatus.Terminated, Assert.Single(model.Snapshot().Sessions).Status);

        time.Now += TimeSpan.FromSeconds(6);

        Assert.Empty(model.Snapshot().Sessions);
    }

    [Fact]
    public void Stream_drop_shows_reconnecting_until_connected_again()
    {
        var model = new DashboardModel("http://x/");
        model.StreamConnected();
        model.StreamDropped("boom");
        var s = model.Snapshot();
        Assert.Equal(StreamState.Reconnecting, s.Stream);
        Assert.Equal(1, s.Reconnects);
        model.StreamConnected();
        Assert.Equal(StreamState.Live, model.Snapshot().Stream);
    }
}

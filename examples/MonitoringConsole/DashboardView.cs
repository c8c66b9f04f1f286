using System.Globalization;
using BackendAI.Client;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace BackendAI.Examples.MonitoringConsole;

/// <summary>Turns a <see cref="DashboardSnapshot"/> into one Spectre.Console frame sized to the terminal.</summary>
public static class DashboardView
{
    /// <summary>Builds the frame for a console of <paramref name="width"/> × <paramref name="height"/> characters
    /// (rows are cut so the frame never exceeds the height: a shrinking terminal stays readable).</summary>
    public static IRenderable Render(DashboardSnapshot s, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(s);
        // Line budget (rounded tables: title + borders + header + separator = 5 lines around their rows; the
        // sessions table adds a caption). Sections are dropped from the bottom when the terminal is too short.
        var narrow = width < 100;
        var budget = height - 1 - (narrow ? 3 : 2) /* header */ - 5 /* counts */ - 6 /* sessions chrome */ - 1 /* footer */;
        var agentRows = Math.Max(1, Math.Min(s.Agents.Count, 4));
        var feedRows = Math.Clamp(height / 4, 3, Math.Max(3, s.Feed.Count));
        var showAgents = budget - (5 + agentRows) >= 3;
        if (showAgents) budget -= 5 + agentRows;
        var showFeed = budget - (5 + feedRows) >= 3;
        if (showFeed) budget -= 5 + feedRows;
        var sessionRows = Math.Max(1, budget);

        var header = new Rows(
            new Markup($"[bold]Backend.AI monitor[/]  {Markup.Escape(s.Endpoint)}  {StreamBadge(s.Stream)}"),
            new Markup($"[grey]events {s.EventsReceived}, reconnects {s.Reconnects}, listed {Ago(s.LastListing, s.Now)}[/]"));

        var counts = new Table().Border(TableBorder.Rounded).Expand();
        var statuses = s.Counts.Keys.OrderBy(k => k).ToList();
        if (statuses.Count == 0)
        {
            counts.AddColumn("sessions");
            counts.AddRow("none");
        }
        else
        {
            foreach (var st in statuses) counts.AddColumn(new TableColumn($"[{Colour(st)}]{SessionStatuses.ToWire(st)}[/]").Centered());
            counts.AddRow(statuses.Select(st => new Text(s.Counts[st].ToString(CultureInfo.InvariantCulture))).ToArray<IRenderable>());
        }

        var sessions = new Table().Border(TableBorder.Rounded).Expand().Title("sessions");
        sessions.AddColumn("name");
        sessions.AddColumn("image");
        sessions.AddColumn("status");
        sessions.AddColumn(new TableColumn("age").RightAligned());
        if (!narrow) sessions.AddColumn("owner");
        foreach (var r in s.Sessions.Take(sessionRows))
        {
            var cells = new List<IRenderable>
            {
                new Text(r.Name),
                new Text(r.Image ?? "?"),
                new Markup($"[{Colour(r.Status)}]{SessionStatuses.ToWire(r.Status)}[/]"),
                new Text(Age(r.CreatedAt, s.Now)),
            };
            if (!narrow) cells.Add(new Text(r.Owner ?? ""));
            sessions.AddRow(cells);
        }
        if (s.Sessions.Count > sessionRows)
            sessions.Caption($"[grey]… {s.Sessions.Count - sessionRows} more (enlarge the terminal)[/]");

        var agents = new Table().Border(TableBorder.Rounded).Expand().Title("agents");
        agents.AddColumn("agent");
        agents.AddColumn("status");
        agents.AddColumn("cpu");
        agents.AddColumn("mem");
        if (s.Agents.Count == 0) agents.AddRow(new Markup($"[grey]{Markup.Escape(s.AgentsNote ?? "none yet")}[/]"), new Text(""), new Text(""), new Text(""));
        foreach (var a in s.Agents.Take(agentRows))
            agents.AddRow(new Text(a.Id), new Text(a.Status), Usage(a, "cpu", v => v.ToString("0.##", CultureInfo.InvariantCulture)),
                Usage(a, "mem", v => (v / (1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + "G"));

        var feed = new Table().Border(TableBorder.Rounded).Expand().Title("events");
        feed.AddColumn("time");
        feed.AddColumn("event");
        feed.AddColumn("session");
        if (!narrow) feed.AddColumn("reason");
        foreach (var f in s.Feed.Take(feedRows))
        {
            var cells = new List<IRenderable> { new Text(f.At.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture)), new Text(f.Name), new Text(f.SessionName) };
            if (!narrow) cells.Add(new Text(f.Reason));
            feed.AddRow(cells);
        }

        var footer = new Markup(s.LastError is null
            ? "[grey]q quits[/]"
            : $"[grey]q quits[/]  [yellow]{Markup.Escape(Truncate(s.LastError, Math.Max(20, width - 12)))}[/]");
        var parts = new List<IRenderable> { header, counts, sessions };
        if (showAgents) parts.Add(agents);
        if (showFeed) parts.Add(feed);
        parts.Add(footer);
        return new Rows(parts);
    }

    /// <summary>The colour of a status.</summary>
    public static string Colour(SessionStatus status) => status switch
    {
        SessionStatus.Running => "green",
        SessionStatus.Pending or SessionStatus.Scheduled => "yellow",
        SessionStatus.Preparing or SessionStatus.Pulling or SessionStatus.Building or SessionStatus.Restarting or SessionStatus.Resizing => "blue",
        SessionStatus.Terminating => "orange1",
        SessionStatus.Error => "red",
        SessionStatus.Cancelled => "maroon",
        _ => "grey",
    };

    private static string StreamBadge(StreamState state) => state switch
    {
        StreamState.Live => "[green]● live[/]",
        StreamState.Reconnecting => "[red]● reconnecting[/]",
        _ => "[yellow]● connecting[/]",
    };

    private static IRenderable Usage(AgentRow a, string slot, Func<decimal, string> format)
    {
        a.Occupied.TryGetValue(slot, out var used);
        if (!a.Available.TryGetValue(slot, out var total) || total <= 0) return new Text(format(used));
        var ratio = (double)(used / total);
        var colour = ratio > 0.9 ? "red" : ratio > 0.7 ? "yellow" : "green";
        return new Markup($"[{colour}]{format(used)}/{format(total)} ({ratio:P0})[/]");
    }

    private static string Age(DateTimeOffset? since, DateTimeOffset now)
    {
        if (since is null) return "";
        var d = now - since.Value;
        if (d < TimeSpan.Zero) d = TimeSpan.Zero;
        return d.TotalHours >= 1 ? $"{(int)d.TotalHours}h{d.Minutes:00}m" : d.TotalMinutes >= 1 ? $"{(int)d.TotalMinutes}m{d.Seconds:00}s" : $"{(int)d.TotalSeconds}s";
    }

    private static string Ago(DateTimeOffset? at, DateTimeOffset now) => at is null ? "never" : Age(at, now) + " ago";

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}

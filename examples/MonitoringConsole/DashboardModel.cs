using BackendAI.Client;

namespace BackendAI.Examples.MonitoringConsole;

/// <summary>One row of the sessions table.</summary>
public sealed record SessionRow(string Id, string Name, string? Image, SessionStatus Status, string? Owner, DateTimeOffset? CreatedAt,
    DateTimeOffset LastChange);

/// <summary>One agent with its slot usage (decimal slot values by slot name).</summary>
public sealed record AgentRow(string Id, string Status, IReadOnlyDictionary<string, decimal> Occupied, IReadOnlyDictionary<string, decimal> Available);

/// <summary>One line of the event feed.</summary>
public sealed record FeedItem(DateTimeOffset At, string Name, string SessionName, string Reason);

/// <summary>The state of the event stream as the dashboard shows it.</summary>
public enum StreamState
{
    /// <summary>Not connected yet.</summary>
    Connecting,
    /// <summary>Receiving events.</summary>
    Live,
    /// <summary>The stream dropped; waiting to reconnect (the table is reconciled after it).</summary>
    Reconnecting,
}

/// <summary>An immutable copy of the model for one frame.</summary>
public sealed record DashboardSnapshot(
    string Endpoint, StreamState Stream, IReadOnlyList<SessionRow> Sessions, IReadOnlyDictionary<SessionStatus, int> Counts,
    IReadOnlyList<FeedItem> Feed, IReadOnlyList<AgentRow> Agents, string? AgentsNote, DateTimeOffset? LastListing, DateTimeOffset? LastReconcile,
    long EventsReceived, int Reconnects, string? LastError, DateTimeOffset Now);

/// <summary>
/// What the dashboard knows: sessions by id (kept current by events, corrected by periodic listings), the last
/// <see cref="FeedSize"/> events, agents and the stream state. Thread-safe (one lock); the render loop takes
/// <see cref="Snapshot"/>s. Terminated/cancelled sessions stay visible for <see cref="TerminalLinger"/>.
/// </summary>
public sealed class DashboardModel(string endpoint, TimeProvider? time = null, int feedSize = 12, TimeSpan? terminalLinger = null)
{
    private readonly object _gate = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<string, SessionRow> _sessions = new(StringComparer.Ordinal);
    private readonly Queue<FeedItem> _feed = new();
    private IReadOnlyList<AgentRow> _agents = [];
    private string? _agentsNote;
    private StreamState _stream = StreamState.Connecting;
    private DateTimeOffset? _lastListing, _lastReconcile;
    private long _events;
    private int _reconnects;
    private string? _lastError;

    /// <summary>Events kept in the feed.</summary>
    public int FeedSize { get; } = feedSize;

    /// <summary>How long ended sessions stay in the table.</summary>
    public TimeSpan TerminalLinger { get; } = terminalLinger ?? TimeSpan.FromSeconds(30);

    /// <summary>Raised (outside the lock) after every change; the render loop may use it to refresh early.</summary>
    public event Action? Changed;

    /// <summary>Applies one SSE event: the row's status moves to the event's implied status (a new row is added for an unknown session).</summary>
    public void Apply(SessionEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            _events++;
            _stream = StreamState.Live;
            _feed.Enqueue(new FeedItem(now, e.Name, e.SessionName, e.Reason));
            while (_feed.Count > FeedSize) _feed.Dequeue();
            var key = Key(e.SessionId, e.SessionName);
            if (e.ImpliedStatus is { } status)
            {
                _sessions[key] = _sessions.TryGetValue(key, out var row)
                    ? row with { Status = status, LastChange = now, Name = e.SessionName.Length > 0 ? e.SessionName : row.Name }
                    : new SessionRow(key, e.SessionName, null, status, e.OwnerAccessKey, now, now);
            }
        }
        Changed?.Invoke();
    }

    /// <summary>
    /// Reconciles with a full listing: listed sessions take the listed status, image, owner and creation time;
    /// live rows missing from the listing are marked terminated (the server no longer knows them) — unless they changed
    /// after <paramref name="listingStartedAt"/> (an event newer than the listing wins).
    /// </summary>
    public void Reconcile(IEnumerable<SessionRow> listed, DateTimeOffset listingStartedAt)
    {
        ArgumentNullException.ThrowIfNull(listed);
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var r in listed)
            {
                var key = Key(r.Id, r.Name);
                seen.Add(key);
                if (!_sessions.ContainsKey(key) && SessionStatuses.IsTerminal(r.Status)) continue; // long gone: not news
                if (_sessions.TryGetValue(key, out var old) && old.LastChange >= listingStartedAt)
                    _sessions[key] = old with { Image = r.Image ?? old.Image, Owner = r.Owner ?? old.Owner, CreatedAt = r.CreatedAt ?? old.CreatedAt };
                else if (old is not null)
                    _sessions[key] = r with { Id = key, LastChange = old.Status == r.Status ? old.LastChange : now };
                else
                    _sessions[key] = r with { Id = key, LastChange = now };
            }
            foreach (var (key, row) in _sessions.ToList())
                if (!seen.Contains(key) && !SessionStatuses.IsTerminal(row.Status) && row.LastChange < listingStartedAt)
                    _sessions[key] = row with { Status = SessionStatus.Terminated, LastChange = now };
            _lastListing = now;
            if (_stream == StreamState.Live) _lastReconcile ??= now;
            Prune(now);
        }
        Changed?.Invoke();
    }

    /// <summary>The event stream dropped.</summary>
    public void StreamDropped(string reason)
    {
        lock (_gate)
        {
            _stream = StreamState.Reconnecting;
            _reconnects++;
            _lastError = reason;
        }
        Changed?.Invoke();
    }

    /// <summary>The event stream is (re)connected; the caller reconciles next.</summary>
    public void StreamConnected()
    {
        lock (_gate)
        {
            _stream = StreamState.Live;
            _lastReconcile = null;
        }
        Changed?.Invoke();
    }

    /// <summary>Marks the reconcile after a (re)connect as done.</summary>
    public void Reconciled()
    {
        lock (_gate) _lastReconcile = _time.GetUtcNow();
        Changed?.Invoke();
    }

    /// <summary>Replaces the agents (or explains why there are none, e.g. not a superadmin).</summary>
    public void SetAgents(IReadOnlyList<AgentRow> agents, string? note = null)
    {
        lock (_gate)
        {
            _agents = agents;
            _agentsNote = note;
        }
        Changed?.Invoke();
    }

    /// <summary>Records a non-fatal error (shown in the status line).</summary>
    public void ReportError(string message)
    {
        lock (_gate) _lastError = message;
        Changed?.Invoke();
    }

    /// <summary>The current state (ended sessions past their linger time are dropped).</summary>
    public DashboardSnapshot Snapshot()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            Prune(now);
            var rows = _sessions.Values
                .OrderBy(r => SessionStatuses.IsTerminal(r.Status))
                .ThenByDescending(r => r.CreatedAt ?? r.LastChange)
                .ThenBy(r => r.Name, StringComparer.Ordinal)
                .ToList();
            var counts = rows.GroupBy(r => r.Status).ToDictionary(g => g.Key, g => g.Count());
            return new DashboardSnapshot(endpoint, _stream, rows, counts, _feed.Reverse().ToList(), _agents, _agentsNote,
                _lastListing, _lastReconcile, _events, _reconnects, _lastError, now);
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, row) in _sessions.ToList())
            if (SessionStatuses.IsTerminal(row.Status) && now - row.LastChange > TerminalLinger) _sessions.Remove(key);
    }

    private static string Key(string id, string name) => id.Length > 0 ? id : name;
}

using System.Collections.Concurrent;

namespace BackendAI.Local.Hosting;

/// <summary>Rolling 15-minute request counter per access key (auth-and-transport.md §7).</summary>
internal sealed class RateLimiter(TimeProvider clock)
{
    /// <summary>The window in seconds (sent as <c>X-RateLimit-Window</c>).</summary>
    public const int WindowSeconds = 900;

    private readonly ConcurrentDictionary<string, Queue<long>> _hits = new(StringComparer.Ordinal);

    /// <summary>Counts one request; returns false (not counted) when the key is over its limit. Remaining = limit − count.</summary>
    public bool TryAcquire(string accessKey, int limit, out int remaining)
    {
        var now = clock.GetTimestamp();
        var window = (long)(WindowSeconds * (double)clock.TimestampFrequency);
        var q = _hits.GetOrAdd(accessKey, _ => new Queue<long>());
        lock (q)
        {
            while (q.Count > 0 && now - q.Peek() >= window) q.Dequeue();
            if (q.Count >= limit)
            {
                remaining = 0;
                return false;
            }
            q.Enqueue(now); // bounded by limit
            remaining = limit - q.Count;
            return true;
        }
    }
}

/// <summary>Manager-wide state: frozen flag and announcement.</summary>
internal sealed class ManagerState
{
    public volatile bool Frozen;
    public volatile string Announcement = "";
}

using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace BackendAI.Local.Events;

/// <summary>One session lifecycle event (streaming.md A.2).</summary>
/// <param name="Name">Event name, e.g. <c>session_started</c>.</param>
/// <param name="Reason">The reason (often empty).</param>
/// <param name="SessionName">Session name at the time of the event.</param>
/// <param name="OwnerAccessKey">Owner access key.</param>
/// <param name="SessionId">Session id (= main kernel id).</param>
/// <param name="Domain">Owner domain.</param>
/// <param name="GroupName">Session group name.</param>
public sealed record SessionEvent(
    string Name, string Reason, string SessionName, string OwnerAccessKey, Guid SessionId, string Domain, string GroupName)
{
    /// <summary>True for <c>kernel_*</c> events.</summary>
    public bool IsKernelEvent => Name.StartsWith("kernel_", StringComparison.Ordinal);

    /// <summary>The SSE <c>data</c> payload: Python <c>json.dumps</c> style, keys in upstream order.</summary>
    public string ToData()
    {
        var sb = new StringBuilder(256);
        sb.Append("{\"reason\": ").Append(PyJson.Str(Reason))
          .Append(", \"sessionName\": ").Append(PyJson.Str(SessionName))
          .Append(", \"ownerAccessKey\": ").Append(PyJson.Str(OwnerAccessKey))
          .Append(", \"sessionId\": \"").Append(SessionId.ToString("D")).Append('"')
          .Append(", \"kernelId\": \"").Append(SessionId.ToString("D")).Append('"');
        if (IsKernelEvent) sb.Append(", \"clusterRole\": \"main\", \"clusterIdx\": 1");
        return sb.Append('}').ToString();
    }
}

/// <summary>JSON text as Python's <c>json.dumps</c> writes it (ASCII-only escapes).</summary>
internal static class PyJson
{
    private static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default };

    // Characters the encoder would escape: quotes, backslash, controls, HTML-sensitive ones and anything non-ASCII.
    private static readonly System.Buffers.SearchValues<char> s_plain = System.Buffers.SearchValues.Create(
        " !#$%()*,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~");

    public static string Str(string? s) =>
        s is null ? "null"
        : !s.AsSpan().ContainsAnyExcept(s_plain) ? string.Concat("\"", s, "\"")   // nothing to escape: no serializer call
        : JsonSerializer.Serialize(s, Options);
}

/// <summary>
/// Fan-out of session events to SSE subscribers. Each subscriber has a bounded channel; a subscriber
/// that falls <c>capacity</c> events behind is disconnected (its channel completes with an error)
/// rather than slowing the server down or growing memory.
/// </summary>
public sealed class SessionEventBus
{
    private readonly object _gate = new();
    private Subscription[] _subscribers = [];

    /// <summary>Subscribes; events published from now on that pass <paramref name="filter"/> are delivered.</summary>
    public Subscription Subscribe(Func<SessionEvent, bool> filter, int capacity)
    {
        var s = new Subscription(this, filter, Channel.CreateBounded<SessionEvent>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait,
        }));
        lock (_gate) _subscribers = [.. _subscribers, s];
        return s;
    }

    /// <summary>Delivers an event to every matching subscriber without blocking.</summary>
    public void Publish(SessionEvent e)
    {
        foreach (var s in Volatile.Read(ref _subscribers))
        {
            if (!s.Filter(e)) continue;
            if (!s.Channel.Writer.TryWrite(e))
                s.Channel.Writer.TryComplete(new InvalidOperationException("Subscriber fell too far behind; disconnected."));
        }
    }

    private void Remove(Subscription s)
    {
        lock (_gate) _subscribers = [.. _subscribers.Where(x => x != s)];
    }

    /// <summary>A live subscription; dispose to stop receiving.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly SessionEventBus _bus;

        internal Subscription(SessionEventBus bus, Func<SessionEvent, bool> filter, Channel<SessionEvent> channel)
        {
            _bus = bus;
            Filter = filter;
            Channel = channel;
        }

        internal Func<SessionEvent, bool> Filter { get; }
        internal Channel<SessionEvent> Channel { get; }

        /// <summary>The events.</summary>
        public ChannelReader<SessionEvent> Reader => Channel.Reader;

        /// <inheritdoc />
        public void Dispose()
        {
            _bus.Remove(this);
            Channel.Writer.TryComplete();
        }
    }
}

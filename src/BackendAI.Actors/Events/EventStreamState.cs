using BackendAI.Actors.Reactive;

namespace BackendAI.Actors.Events;

/// <summary>Where the runtime's session event stream is.</summary>
public enum EventStreamStatus
{
    /// <summary>The first connection is being opened.</summary>
    Connecting,

    /// <summary>A connection is open and events flow (sessions reconcile after every connect, the server replays nothing).</summary>
    Connected,

    /// <summary>The connection dropped or could not be opened; the next attempt starts after <see cref="EventStreamState.Delay"/>.</summary>
    Reconnecting,

    /// <summary>The stream ended for good: the server said <c>server_close</c>, or the runtime stopped.</summary>
    Stopped,
}

/// <summary>One state of the runtime's session event stream (<see cref="BackendAIRuntime.EventStreamStates"/>).</summary>
/// <param name="Status">The state.</param>
/// <param name="Attempt">
/// <see cref="EventStreamStatus.Connected"/>: the connection number (1 = the first; a reconnect is 2 or more).
/// <see cref="EventStreamStatus.Reconnecting"/>: the consecutive failed attempt (1, 2, …; reset by a connection that delivered events).
/// Otherwise 0.
/// </param>
/// <param name="Delay">The backoff before the next attempt (<see cref="EventStreamStatus.Reconnecting"/> only).</param>
/// <param name="LastError">Why the previous connection ended or failed to open (<see cref="EventStreamStatus.Reconnecting"/> only).</param>
public sealed record EventStreamState(EventStreamStatus Status, int Attempt = 0, TimeSpan? Delay = null, Exception? LastError = null)
{
    /// <summary>The state before anything happened.</summary>
    public static EventStreamState Initial { get; } = new(EventStreamStatus.Connecting);

    /// <inheritdoc />
    public override string ToString() => Status switch
    {
        EventStreamStatus.Connected => $"Connected (connection {Attempt})",
        EventStreamStatus.Reconnecting =>
            $"Reconnecting (attempt {Attempt} in {Delay?.TotalMilliseconds:0} ms after {LastError?.GetType().Name}: {LastError?.Message})",
        _ => Status.ToString(),
    };
}

/// <summary>
/// The current <see cref="EventStreamState"/> plus its subscribers. Each subscriber starts with the current state and
/// has a bounded channel that drops its oldest entry on overflow, so a slow subscriber still ends on the latest state.
/// Written by the event stream's connection; survives restarts of the event stream actor.
/// </summary>
internal sealed class EventStreamStateCell(int bufferSize = 32)
{
    private readonly ReplaySubscribers<EventStreamState> _subscribers = new(bufferSize);
    private EventStreamState _current = EventStreamState.Initial;
    private bool _completed;

    public EventStreamState Current { get { lock (_subscribers.Gate) return _current; } }

    public void Set(EventStreamState state)
    {
        lock (_subscribers.Gate)
        {
            if (_completed) return;
            _current = state;
            _subscribers.Publish(state);
        }
    }

    /// <summary>The runtime is gone: publish <see cref="EventStreamStatus.Stopped"/> and complete every subscription.</summary>
    public void Complete()
    {
        lock (_subscribers.Gate)
        {
            if (_completed) return;
            if (_current.Status != EventStreamStatus.Stopped)
            {
                _current = new EventStreamState(EventStreamStatus.Stopped);
                _subscribers.Publish(_current);
            }
            _completed = true;
            _subscribers.CompleteAll();
        }
    }

    public IAsyncEnumerable<EventStreamState> ReadAllAsync(CancellationToken cancellationToken) =>
        _subscribers.ReadAllAsync(writer =>
        {
            writer.TryWrite(_current);
            if (!_completed) return true;
            writer.TryComplete();
            return false;
        }, cancellationToken);
}

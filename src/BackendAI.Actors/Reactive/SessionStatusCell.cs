using BackendAI.Actors.Sessions;
using BackendAI.Client;

namespace BackendAI.Actors.Reactive;

/// <summary>
/// The latest status of one session plus its subscribers, each with a bounded channel that drops
/// its oldest entry on overflow (so a slow subscriber still ends on the latest status).
/// Updated only by the status relay (from the session actor's published transitions).
/// </summary>
internal sealed class SessionStatusCell(string sessionId, SessionStatus? initial, int bufferSize)
{
    private readonly ReplaySubscribers<SessionStatus> _subscribers = new(bufferSize);
    private readonly List<(Func<SessionStatus, bool> Predicate, TaskCompletionSource<SessionStatus> Tcs)> _waiters = [];
    private SessionStatus? _current = initial;
    private Exception? _failure;

    public string SessionId => sessionId;

    public SessionStatus? Current { get { lock (_subscribers.Gate) return _current; } }

    public void Set(SessionStatus status)
    {
        lock (_subscribers.Gate)
        {
            if (_current == status || _failure is not null) return;
            _current = status;
            _subscribers.Publish(status);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                var (predicate, tcs) = _waiters[i];
                if (predicate(status)) { tcs.TrySetResult(status); _waiters.RemoveAt(i); }
                else if (SessionLifecycle.IsTerminal(status))
                {
                    tcs.TrySetException(new SessionStateException(sessionId, status,
                        $"Session '{sessionId}' ended ({SessionStatuses.ToWire(status)}) before reaching the awaited status."));
                    _waiters.RemoveAt(i);
                }
            }
            if (SessionLifecycle.IsTerminal(status)) CompleteAll(null);
        }
    }

    public void Fail(Exception cause)
    {
        lock (_subscribers.Gate)
        {
            if (_failure is not null) return;
            _failure = cause;
            foreach (var (_, tcs) in _waiters) tcs.TrySetException(cause);
            _waiters.Clear();
            CompleteAll(cause);
        }
    }

    public Task<SessionStatus> WaitAsync(Func<SessionStatus, bool> predicate, CancellationToken cancellationToken)
    {
        lock (_subscribers.Gate)
        {
            if (_current is { } now && predicate(now)) return Task.FromResult(now);
            if (_failure is not null) return Task.FromException<SessionStatus>(_failure);
            if (_current is { } end && SessionLifecycle.IsTerminal(end))
                return Task.FromException<SessionStatus>(new SessionStateException(sessionId, end,
                    $"Session '{sessionId}' ended ({SessionStatuses.ToWire(end)}) before reaching the awaited status."));
            var tcs = new TaskCompletionSource<SessionStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((predicate, tcs));
            return tcs.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>A subscription that starts with the current status and ends after a terminal one.</summary>
    public IAsyncEnumerable<SessionStatus> ReadAllAsync(CancellationToken cancellationToken) =>
        _subscribers.ReadAllAsync(writer =>
        {
            if (_current is { } now) writer.TryWrite(now);
            if (_failure is not null) writer.TryComplete(_failure);
            else if (_current is { } c && SessionLifecycle.IsTerminal(c)) writer.TryComplete();
            else return true;
            return false;
        }, cancellationToken);

    private void CompleteAll(Exception? error) => _subscribers.CompleteAll(error);
}

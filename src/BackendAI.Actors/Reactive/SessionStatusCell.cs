using System.Threading.Channels;
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
    private readonly object _gate = new();
    private readonly List<Channel<SessionStatus>> _subscribers = [];
    private readonly List<(Func<SessionStatus, bool> Predicate, TaskCompletionSource<SessionStatus> Tcs)> _waiters = [];
    private SessionStatus? _current = initial;
    private Exception? _failure;

    public string SessionId => sessionId;

    public SessionStatus? Current { get { lock (_gate) return _current; } }

    public void Set(SessionStatus status)
    {
        lock (_gate)
        {
            if (_current == status || _failure is not null) return;
            _current = status;
            foreach (var s in _subscribers) s.Writer.TryWrite(status);
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
        lock (_gate)
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
        lock (_gate)
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
    public async IAsyncEnumerable<SessionStatus> ReadAllAsync(
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<SessionStatus>(new BoundedChannelOptions(bufferSize)
        {
            FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false,
        });
        lock (_gate)
        {
            if (_current is { } now) channel.Writer.TryWrite(now);
            if (_failure is not null) channel.Writer.TryComplete(_failure);
            else if (_current is { } c && SessionLifecycle.IsTerminal(c)) channel.Writer.TryComplete();
            else _subscribers.Add(channel);
        }
        try
        {
            await foreach (var status in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return status;
        }
        finally
        {
            lock (_gate) _subscribers.Remove(channel);
        }
    }

    private void CompleteAll(Exception? error)
    {
        foreach (var s in _subscribers) s.Writer.TryComplete(error);
        _subscribers.Clear();
    }
}

using System.Collections.Concurrent;
using System.Threading.Channels;

namespace BackendAI.Local.Hosting;

/// <summary>Status of a background task.</summary>
public enum BackgroundTaskStatus
{
    /// <summary>Still running.</summary>
    Running,
    /// <summary>Finished successfully.</summary>
    Done,
    /// <summary>Failed with an exception.</summary>
    Failed,
    /// <summary>Cancelled.</summary>
    Cancelled,
}

/// <summary>A snapshot of one background task.</summary>
/// <param name="Id">Task id.</param>
/// <param name="Status">Status.</param>
/// <param name="CurrentProgress">Progress so far.</param>
/// <param name="TotalProgress">Total progress.</param>
/// <param name="Message">Last message (result text, error repr, …).</param>
public sealed record BackgroundTaskInfo(Guid Id, BackgroundTaskStatus Status, long CurrentProgress, long TotalProgress, string? Message);

/// <summary>Lets a background task report progress.</summary>
public interface IBackgroundTaskReporter
{
    /// <summary>Reports progress (sent as <c>bgtask_updated</c>).</summary>
    void Report(long current, long total, string? message = null);
}

/// <summary>
/// Server-side background tasks whose progress is streamed on <c>GET /events/background-task</c>
/// (streaming.md A.3). Finished tasks are remembered for 24 hours.
/// </summary>
public interface IBackgroundTasks
{
    /// <summary>Starts <paramref name="work"/> in the background; its return value is the <c>bgtask_done</c> message.</summary>
    Guid Start(Func<IBackgroundTaskReporter, CancellationToken, Task<string?>> work);

    /// <summary>A snapshot, or null for an unknown id.</summary>
    BackgroundTaskInfo? Find(Guid id);
}

/// <summary>The in-memory <see cref="IBackgroundTasks"/>.</summary>
internal sealed class BackgroundTaskRegistry(TimeProvider clock) : IBackgroundTasks, IDisposable
{
    private const int MaxRemembered = 10_000;
    private readonly ConcurrentDictionary<Guid, TaskState> _tasks = new();
    private readonly CancellationTokenSource _shutdown = new();

    public Guid Start(Func<IBackgroundTaskReporter, CancellationToken, Task<string?>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        Prune();
        var state = new TaskState(Guid.NewGuid());
        _tasks[state.Id] = state;
        _ = RunAsync(state, work);
        return state.Id;
    }

    private async Task RunAsync(TaskState state, Func<IBackgroundTaskReporter, CancellationToken, Task<string?>> work)
    {
        await Task.Yield();
        try
        {
            var message = await work(state, _shutdown.Token).ConfigureAwait(false);
            state.Finish(BackgroundTaskStatus.Done, message, clock.GetUtcNow());
        }
        catch (OperationCanceledException)
        {
            state.Finish(BackgroundTaskStatus.Cancelled, "cancelled", clock.GetUtcNow());
        }
        catch (Exception e)
        {
            state.Finish(BackgroundTaskStatus.Failed, $"{e.GetType().Name}('{e.Message}')", clock.GetUtcNow());
        }
    }

    public BackgroundTaskInfo? Find(Guid id) => _tasks.TryGetValue(id, out var s) ? s.Snapshot() : null;

    /// <summary>Subscribes to updates; the snapshot returned is the state at subscription time.</summary>
    internal (BackgroundTaskInfo Snapshot, ChannelReader<BackgroundTaskInfo>? Updates)? Subscribe(Guid id) =>
        _tasks.TryGetValue(id, out var s) ? s.Subscribe() : null;

    private void Prune()
    {
        var cutoff = clock.GetUtcNow() - TimeSpan.FromHours(24);
        foreach (var (id, s) in _tasks)
            if (s.FinishedAt is { } f && f < cutoff) _tasks.TryRemove(id, out _);
        if (_tasks.Count > MaxRemembered)
            foreach (var (id, s) in _tasks.Where(t => t.Value.FinishedAt is not null).OrderBy(t => t.Value.FinishedAt).Take(_tasks.Count - MaxRemembered))
                _tasks.TryRemove(id, out _);
    }

    public void Dispose()
    {
        // Registered under two service types, so the container may dispose it twice.
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _shutdown.Cancel();
        _shutdown.Dispose();
    }

    private int _disposed;

    private sealed class TaskState(Guid id) : IBackgroundTaskReporter
    {
        private readonly object _gate = new();
        private readonly List<Channel<BackgroundTaskInfo>> _subscribers = [];
        private BackgroundTaskInfo _info = new(id, BackgroundTaskStatus.Running, 0, 0, null);

        public Guid Id => id;
        public DateTimeOffset? FinishedAt { get; private set; }

        public BackgroundTaskInfo Snapshot()
        {
            lock (_gate) return _info;
        }

        public void Report(long current, long total, string? message = null)
        {
            lock (_gate)
            {
                if (_info.Status != BackgroundTaskStatus.Running) return;
                _info = _info with { CurrentProgress = current, TotalProgress = total, Message = message };
                Broadcast();
            }
        }

        public void Finish(BackgroundTaskStatus status, string? message, DateTimeOffset at)
        {
            lock (_gate)
            {
                _info = _info with { Status = status, Message = message };
                FinishedAt = at;
                Broadcast();
                foreach (var c in _subscribers) c.Writer.TryComplete();
                _subscribers.Clear();
            }
        }

        private void Broadcast()
        {
            foreach (var c in _subscribers)
            {
                // Progress updates may be dropped for a slow reader (DropOldest); the final state never is.
                c.Writer.TryWrite(_info);
            }
        }

        public (BackgroundTaskInfo, ChannelReader<BackgroundTaskInfo>?) Subscribe()
        {
            lock (_gate)
            {
                if (_info.Status != BackgroundTaskStatus.Running) return (_info, null);
                var c = Channel.CreateBounded<BackgroundTaskInfo>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
                _subscribers.Add(c);
                return (_info, c.Reader);
            }
        }
    }
}

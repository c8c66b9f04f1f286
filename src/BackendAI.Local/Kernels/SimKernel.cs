using System.Text;

namespace BackendAI.Local.Kernels;

/// <summary>
/// An in-process kernel without any process: query runs echo the code as stdout after a short
/// random delay. It keeps no timers or threads while idle, so thousands of them are cheap.
/// Batch runs report every requested step (clean/build/exec) with exit code 0 and echo the commands.
/// </summary>
public sealed class SimKernel : IKernel
{
    private static readonly Task<int?> NeverExits = new TaskCompletionSource<int?>(TaskCreationOptions.RunContinuationsAsynchronously).Task;
    private static readonly IReadOnlyList<KernelConsoleItem> NoConsole = [];

    private readonly KernelStartInfo _info;
    private readonly LocalKernelOptions _options;
    private readonly SemaphoreSlim _runGate = new(1, 1);
    private readonly object _pendingLock = new();
    private string? _pendingRunId;
    private Queue<KernelResult>? _pending;
    private long _executions;
    private int _disposed;

    /// <summary>Creates the kernel (see <see cref="LocalKernelFactory"/>).</summary>
    public SimKernel(KernelStartInfo info, LocalKernelOptions options)
    {
        _info = info ?? throw new ArgumentNullException(nameof(info));
        _options = options ?? throw new ArgumentNullException(nameof(options));
    }

    /// <inheritdoc />
    public string RunnerName => "sim";

    /// <summary>How many runs this kernel has executed.</summary>
    public long Executions => Interlocked.Read(ref _executions);

    /// <inheritdoc />
    public Task<int?> Exited => NeverExits;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<KernelResult> ExecuteAsync(KernelExecuteRequest request, TimeSpan flushWindow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (request.Mode is KernelExecuteMode.Continue or KernelExecuteMode.Input)
        {
            lock (_pendingLock)
            {
                if (_pendingRunId == request.RunId && _pending is { Count: > 0 })
                {
                    var next = _pending.Dequeue();
                    if (_pending.Count == 0) _pendingRunId = null;
                    return next;
                }
            }
            return new KernelResult("finished", 0, NoConsole);
        }

        await _runGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var delay = NextDelay();
            if (delay > TimeSpan.Zero) await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _executions);
            if (request.Mode == KernelExecuteMode.Query)
                return new KernelResult("finished", 0, Echo(request.Code));
            return Batch(request);
        }
        finally
        {
            _runGate.Release();
        }
    }

    private KernelResult Batch(KernelExecuteRequest request)
    {
        var results = new Queue<KernelResult>(3);
        if (!string.IsNullOrEmpty(request.Clean)) results.Enqueue(new KernelResult("clean-finished", 0, Echo(request.Clean == "*" ? "" : request.Clean)));
        if (!string.IsNullOrEmpty(request.Build)) results.Enqueue(new KernelResult("build-finished", 0, Echo(request.Build == "*" ? "" : request.Build)));
        results.Enqueue(new KernelResult("finished", 0, string.IsNullOrEmpty(request.Exec) || request.Exec == "*" ? NoConsole : Echo(request.Exec)));
        var first = results.Dequeue();
        lock (_pendingLock)
        {
            _pendingRunId = results.Count > 0 ? request.RunId : null;
            _pending = results.Count > 0 ? results : null;
        }
        return first;
    }

    private TimeSpan NextDelay()
    {
        var min = _options.SimMinDelay;
        var max = _options.SimMaxDelay;
        if (max <= min) return min;
        return min + TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * (max - min).Ticks));
    }

    private IReadOnlyList<KernelConsoleItem> Echo(string code)
    {
        var size = _options.SimOutputSize;
        string text;
        if (size <= 0) text = code;
        else if (code.Length == 0) text = new string('.', size);
        else if (code.Length >= size) text = code[..size];
        else
        {
            var sb = new StringBuilder(size);
            while (sb.Length < size) sb.Append(code, 0, Math.Min(code.Length, size - sb.Length));
            text = sb.ToString();
        }
        return text.Length == 0 ? NoConsole : [new KernelConsoleItem("stdout", text)];
    }

    /// <inheritdoc />
    public Task InterruptAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task RestartAsync(CancellationToken cancellationToken)
    {
        lock (_pendingLock)
        {
            _pending = null;
            _pendingRunId = null;
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> CompleteAsync(string code, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);

    /// <inheritdoc />
    public string GetLogs() => $"sim kernel for {_info.Image} (session {_info.SessionId}); {Executions} executions\n";

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _disposed, 1);
        return ValueTask.CompletedTask;
    }
}

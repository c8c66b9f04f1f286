using System.Diagnostics;

namespace BackendAI.Local.Kernels;

/// <summary>
/// Base of the process-backed kernels: FIFO run queue, continuation/input bookkeeping,
/// batch mode (clean → build → exec with bash in the work directory), interrupts of shell steps.
/// </summary>
public abstract class ProcessKernel : IKernel
{
    private const int MaxUncollectedRuns = 64;

    private readonly object _runsLock = new();
    private readonly Dictionary<string, KernelRun> _runs = new(StringComparer.Ordinal);
    private readonly Queue<string> _runOrder = new();
    private readonly CancellationTokenSource _lifetime = new();
    private Task _tail = Task.CompletedTask;
    private Process? _activeShell;
    private int _disposed;

    /// <summary>Creates the kernel.</summary>
    protected ProcessKernel(KernelStartInfo info, LocalKernelOptions options)
    {
        Info = info ?? throw new ArgumentNullException(nameof(info));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        Logs = new LogBuffer(options.MaxLogChars);
    }

    /// <summary>What the kernel was started with.</summary>
    protected KernelStartInfo Info { get; }

    /// <summary>The kernel settings.</summary>
    protected LocalKernelOptions Options { get; }

    internal LogBuffer Logs { get; }

    /// <summary>Cancelled when the kernel is disposed.</summary>
    protected CancellationToken Lifetime => _lifetime.Token;

    /// <inheritdoc />
    public abstract string RunnerName { get; }

    /// <inheritdoc />
    public abstract Task<int?> Exited { get; }

    /// <inheritdoc />
    public abstract Task StartAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    public abstract Task RestartAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    public abstract Task<IReadOnlyList<string>> CompleteAsync(string code, CancellationToken cancellationToken);

    /// <summary>Runs query-mode code for <paramref name="run"/> and returns its exit code.</summary>
    private protected abstract Task<int> ExecuteQueryAsync(KernelRun run, string code, CancellationToken cancellationToken);

    /// <summary>Interrupts query-mode code (no shell step is active).</summary>
    private protected abstract void InterruptQuery();

    /// <summary>The shell command batch mode runs for <c>exec: "*"</c>, or null when there is nothing to run.</summary>
    protected abstract string? DefaultExecCommand();

    /// <inheritdoc />
    public string GetLogs() => Logs.ToString();

    /// <inheritdoc />
    public async Task<KernelResult> ExecuteAsync(KernelExecuteRequest request, TimeSpan flushWindow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        KernelRun run;
        lock (_runsLock)
        {
            if (!_runs.TryGetValue(request.RunId, out run!))
            {
                if (request.Mode is KernelExecuteMode.Continue or KernelExecuteMode.Input)
                    throw new KernelRunNotFoundException(request.RunId);
                run = new KernelRun(request.RunId, Options.MaxConsoleCharsPerCall);
                _runs[request.RunId] = run;
                _runOrder.Enqueue(request.RunId);
                EvictCollectedRuns();
                _tail = RunInOrderAsync(_tail, run, request);
            }
        }
        if (request.Mode == KernelExecuteMode.Input && !run.ProvideInput(request.Code))
            Logs.Append($"[input for run {request.RunId} ignored: the run is not waiting for input]\n");

        var result = await run.NextAsync(flushWindow, cancellationToken).ConfigureAwait(false);
        if (run.IsDrained)
        {
            lock (_runsLock)
            {
                if (_runs.TryGetValue(run.RunId, out var same) && ReferenceEquals(same, run)) _runs.Remove(run.RunId);
            }
        }
        return result;
    }

    private void EvictCollectedRuns()
    {
        // finished runs whose final result nobody collected are forgotten, oldest first
        var scan = _runOrder.Count;
        while (_runs.Count > MaxUncollectedRuns && scan-- > 0)
        {
            var id = _runOrder.Dequeue();
            if (!_runs.TryGetValue(id, out var r)) continue;
            if (r.IsDone) _runs.Remove(id);
            else _runOrder.Enqueue(id);
        }
        while (_runOrder.Count > 4 * MaxUncollectedRuns && !_runs.ContainsKey(_runOrder.Peek())) _runOrder.Dequeue();
    }

    private async Task RunInOrderAsync(Task previous, KernelRun run, KernelExecuteRequest request)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ForceYielding);
        if (_lifetime.IsCancellationRequested)
        {
            run.Post("finished", 130);
            return;
        }
        using var timeout = Options.ExecutionTimeout is { } limit ? new CancellationTokenSource(limit) : null;
        using var onTimeout = timeout?.Token.Register(() =>
        {
            run.Post("exec-timeout", null);
            Interrupt();
        });
        try
        {
            if (request.Mode == KernelExecuteMode.Batch) await ExecuteBatchAsync(run, request).ConfigureAwait(false);
            else run.Post("finished", await ExecuteQueryAsync(run, request.Code, _lifetime.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
            run.Post("finished", 130);
        }
        catch (Exception ex)
        {
            run.Append("stderr", $"internal kernel error: {ex.Message}\n");
            run.Post("finished", -1);
        }
        finally
        {
            run.AbandonInput();
        }
    }

    private async Task ExecuteBatchAsync(KernelRun run, KernelExecuteRequest request)
    {
        var ct = _lifetime.Token;
        if (!string.IsNullOrEmpty(request.Clean))
        {
            var code = request.Clean == "*" ? 0 : await RunShellAsync(run, request.Clean, request.EchoToLog, ct).ConfigureAwait(false);
            run.Post("clean-finished", code);
        }
        if (!string.IsNullOrEmpty(request.Build))
        {
            int code;
            if (request.Build != "*") code = await RunShellAsync(run, request.Build, request.EchoToLog, ct).ConfigureAwait(false);
            else if (HasMakefile()) code = await RunShellAsync(run, "make", request.EchoToLog, ct).ConfigureAwait(false);
            else code = 0;
            run.Post("build-finished", code);
            if (code != 0)
            {
                run.Post("finished", 127);
                return;
            }
        }
        if (string.IsNullOrEmpty(request.Exec))
        {
            run.Post("finished", 0);
            return;
        }
        var exec = request.Exec == "*" ? DefaultExecCommand() : request.Exec;
        if (exec is null)
        {
            run.Append("stderr", $"The {RunnerName} runner found nothing to execute by default in the work directory.\n");
            run.Post("finished", 127);
            return;
        }
        run.Post("finished", await RunShellAsync(run, exec, request.EchoToLog, ct).ConfigureAwait(false));
    }

    private bool HasMakefile() =>
        File.Exists(Path.Combine(Info.WorkDirectory, "Makefile")) || File.Exists(Path.Combine(Info.WorkDirectory, "makefile"));

    /// <summary>
    /// Runs a shell command in the work directory (own process group), streaming its output into the run and,
    /// when <paramref name="echoToLog"/> (a batch session's own task), into the kernel log as well: that log is what
    /// <c>GET /session/{id}/logs</c> and the batch task log (<c>get_task_logs</c>) show.
    /// </summary>
    private protected async Task<int> RunShellAsync(KernelRun run, string command, bool echoToLog, CancellationToken cancellationToken)
    {
        var psi = KernelProcesses.StartInfo(Info, Options.BashExecutable, ["-c", command], redirectInput: true);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("bash did not start.");
        process.StandardInput.Close();
        Volatile.Write(ref _activeShell, process);
        var stdout = KernelProcesses.PumpAsync(process.StandardOutput.BaseStream, t =>
        {
            run.Append("stdout", t);
            if (echoToLog) Logs.Append(t);
        }, cancellationToken);
        var stderr = KernelProcesses.PumpAsync(process.StandardError.BaseStream, t =>
        {
            run.Append("stderr", t);
            if (echoToLog) Logs.Append(t);
        }, cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // background children may keep the pipes open; do not wait for them forever
                await Task.WhenAll(stdout, stderr).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            KernelProcesses.KillGroup(process);
            throw;
        }
        finally
        {
            Interlocked.CompareExchange(ref _activeShell, null, process);
        }
    }

    /// <summary>Runs the bootstrap script (if any) with bash in the work directory; its output goes to the log.</summary>
    protected async Task RunBootstrapAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(Info.BootstrapScript)) return;
        var psi = KernelProcesses.StartInfo(Info, Options.BashExecutable, ["-c", Info.BootstrapScript], redirectInput: true);
        using var process = Process.Start(psi) ?? throw new KernelStartException("bash did not start for the bootstrap script.");
        process.StandardInput.Close();
        var o = KernelProcesses.PumpAsync(process.StandardOutput.BaseStream, Logs.Append, cancellationToken);
        var e = KernelProcesses.PumpAsync(process.StandardError.BaseStream, Logs.Append, cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            await Task.WhenAll(o, e).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException)
        {
            KernelProcesses.KillGroup(process);
            throw;
        }
        Logs.Append($"[bootstrap script exited with code {process.ExitCode}]\n");
    }

    /// <inheritdoc />
    public Task InterruptAsync(CancellationToken cancellationToken)
    {
        Interrupt();
        return Task.CompletedTask;
    }

    private void Interrupt()
    {
        if (Volatile.Read(ref _activeShell) is { } shell)
        {
            try
            {
                Posix.SignalGroup(shell.Id, Posix.SIGINT);
            }
            catch (InvalidOperationException)
            {
            }
            return;
        }
        InterruptQuery();
    }

    /// <summary>Kills the shell step that is running, if any (restart).</summary>
    private protected void KillActiveShell()
    {
        if (Volatile.Read(ref _activeShell) is { } shell) KernelProcesses.KillGroup(shell);
    }

    /// <summary>Releases the kernel's processes.</summary>
    protected abstract ValueTask DisposeCoreAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _lifetime.CancelAsync().ConfigureAwait(false);
        KillActiveShell();
        await DisposeCoreAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}

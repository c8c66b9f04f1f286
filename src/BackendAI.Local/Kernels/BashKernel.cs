namespace BackendAI.Local.Kernels;

/// <summary>
/// A bash kernel: each query run is <c>bash -c CODE</c> in the work directory (own process group),
/// streaming stdout/stderr. Shell state (variables, <c>cd</c>) does not survive between runs; files do.
/// Input mode is not supported: stdin is closed, so <c>read</c> sees end-of-file.
/// Interrupt = SIGINT to the run's process group.
/// </summary>
public sealed class BashKernel : ProcessKernel
{
    private static readonly Task<int?> NeverExits = new TaskCompletionSource<int?>().Task;

    /// <summary>Creates the kernel (see <see cref="LocalKernelFactory"/>).</summary>
    public BashKernel(KernelStartInfo info, LocalKernelOptions options) : base(info, options) { }

    /// <inheritdoc />
    public override string RunnerName => "bash";

    /// <inheritdoc />
    public override Task<int?> Exited => NeverExits;

    /// <inheritdoc />
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Info.WorkDirectory);
        await RunBootstrapAsync(cancellationToken).ConfigureAwait(false);
        Logs.Append("[bash kernel ready]\n");
    }

    private protected override Task<int> ExecuteQueryAsync(KernelRun run, string code, CancellationToken cancellationToken) =>
        RunShellAsync(run, code, echoToLog: false, cancellationToken);

    private protected override void InterruptQuery()
    {
        // query runs are shell steps; nothing else to interrupt
    }

    /// <inheritdoc />
    protected override string? DefaultExecCommand()
    {
        if (File.Exists(Path.Combine(Info.WorkDirectory, "main.sh"))) return $"{Options.BashExecutable} main.sh";
        if (File.Exists(Path.Combine(Info.WorkDirectory, "main.py"))) return "python3 main.py";
        return null;
    }

    /// <inheritdoc />
    public override Task RestartAsync(CancellationToken cancellationToken)
    {
        KillActiveShell();
        Logs.Append("[bash kernel restarted]\n");
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task<IReadOnlyList<string>> CompleteAsync(string code, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);

    /// <inheritdoc />
    protected override ValueTask DisposeCoreAsync() => ValueTask.CompletedTask;
}

using System.Text.Json.Nodes;

namespace BackendAI.Local.Kernels;

/// <summary>What a kernel needs to start.</summary>
/// <param name="SessionId">The session (= main kernel) id.</param>
/// <param name="Image">The image reference the session asked for (decides the runner).</param>
/// <param name="WorkDirectory">The session's work directory (upstream <c>/home/work</c>); created before start.</param>
/// <param name="Environment">Extra environment variables (<c>config.environ</c>).</param>
/// <param name="BootstrapScript">Optional shell script run in the work directory before the kernel is ready.</param>
public sealed record KernelStartInfo(
    Guid SessionId, string Image, string WorkDirectory, IReadOnlyDictionary<string, string> Environment, string? BootstrapScript);

/// <summary>Execute modes (sessions.md §10).</summary>
public enum KernelExecuteMode
{
    /// <summary>Run source code.</summary>
    Query,
    /// <summary>Run clean/build/exec shell commands in the work directory.</summary>
    Batch,
    /// <summary>Collect more output of the current run.</summary>
    Continue,
    /// <summary>Answer a <c>waiting-input</c> prompt.</summary>
    Input,
}

/// <summary>One execute call.</summary>
/// <param name="Mode">The mode.</param>
/// <param name="RunId">The run id (already assigned by the server for new runs).</param>
/// <param name="Code">Source (query), input text (input), or empty.</param>
/// <param name="Clean">Batch clean command (null/empty = skip, "*" = default).</param>
/// <param name="Build">Batch build command.</param>
/// <param name="Exec">Batch exec command.</param>
/// <param name="EchoToLog">
/// Also write the batch commands' output to the kernel log (the container's stdout/stderr). Set for a batch
/// session's own task, whose output upstream shows in <c>GET /session/{id}/logs</c> and the task log; individual
/// runs stay out of the log (sessions.md §12.3).
/// </param>
public sealed record KernelExecuteRequest(
    KernelExecuteMode Mode, string RunId, string Code, string? Clean = null, string? Build = null, string? Exec = null,
    bool EchoToLog = false);

/// <summary>One console record: <c>[type, data]</c> on the wire.</summary>
/// <param name="Type"><c>stdout</c>, <c>stderr</c>, <c>media</c>, <c>html</c>, <c>log</c>.</param>
/// <param name="Data">A string for stdout/stderr/html; a 2-element array for media.</param>
public sealed record KernelConsoleItem(string Type, JsonNode Data);

/// <summary>The outcome of one execute call.</summary>
/// <param name="Status"><c>continued</c>, <c>waiting-input</c>, <c>finished</c>, <c>clean-finished</c>, <c>build-finished</c>, <c>exec-timeout</c>.</param>
/// <param name="ExitCode">Set for finished/clean-finished/build-finished.</param>
/// <param name="Console">Output since the previous call of this run, adjacent same-stream chunks merged.</param>
/// <param name="IsPassword">For <c>waiting-input</c>: whether the prompt is a password prompt.</param>
public sealed record KernelResult(string Status, int? ExitCode, IReadOnlyList<KernelConsoleItem> Console, bool IsPassword = false);

/// <summary>
/// A running kernel of one session. Implementations serialise runs (a new run id waits, FIFO, until
/// the current run finished) and keep interpreter state between runs.
/// </summary>
public interface IKernel : IAsyncDisposable
{
    /// <summary>The runner kind, e.g. <c>python</c>, <c>bash</c>, <c>sim</c>.</summary>
    string RunnerName { get; }

    /// <summary>Starts the kernel; completes when it can execute.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs or continues a run and returns what happened within <paramref name="flushWindow"/>
    /// (status <c>continued</c> with the output so far when the run is still going).
    /// </summary>
    Task<KernelResult> ExecuteAsync(KernelExecuteRequest request, TimeSpan flushWindow, CancellationToken cancellationToken);

    /// <summary>Interrupts the running code (SIGINT or equivalent).</summary>
    Task InterruptAsync(CancellationToken cancellationToken);

    /// <summary>Restarts: a new interpreter, same work directory.</summary>
    Task RestartAsync(CancellationToken cancellationToken);

    /// <summary>Completions for the text before the cursor (an empty list is acceptable).</summary>
    Task<IReadOnlyList<string>> CompleteAsync(string code, CancellationToken cancellationToken);

    /// <summary>The kernel's container log: combined output of its process tree (bootstrap, runtime).</summary>
    string GetLogs();

    /// <summary>Completes when the kernel's process exits by itself (null exit code when unknown).</summary>
    Task<int?> Exited { get; }
}

/// <summary>Creates kernels for images (image → runner mapping comes from configuration).</summary>
public interface IKernelFactory
{
    /// <summary>True when some runner serves this image.</summary>
    bool Supports(string image);

    /// <summary>Creates (does not start) a kernel.</summary>
    IKernel Create(KernelStartInfo info);
}

using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Local.Kernels;

namespace BackendAI.Local.Sessions;

// TEMPORARY: used only while no IKernelFactory is registered (until the kernels area is merged).
// Query mode echoes the code (like the sim kernel); batch mode runs the commands with bash.

/// <summary>In-process stand-in kernel factory (echo queries, bash batch).</summary>
internal sealed class FallbackKernelFactory : IKernelFactory
{
    public bool Supports(string image) => !image.Contains("unknown", StringComparison.OrdinalIgnoreCase);

    public IKernel Create(KernelStartInfo info) => new FallbackKernel(info);
}

internal sealed class FallbackKernel(KernelStartInfo info) : IKernel
{
    private readonly TaskCompletionSource<int?> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _runLock = new(1, 1);
    private readonly StringBuilder _log = new();

    public string RunnerName => "fallback";

    public Task<int?> Exited => _exited.Task;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(info.BootstrapScript))
        {
            var (code, output) = await RunBashAsync(info.BootstrapScript, cancellationToken).ConfigureAwait(false);
            lock (_log) _log.Append(output);
            if (code != 0) throw new InvalidOperationException($"bootstrap script exited with {code}");
        }
        lock (_log) _log.Append("fallback kernel started\n");
    }

    public async Task<KernelResult> ExecuteAsync(KernelExecuteRequest request, TimeSpan flushWindow, CancellationToken cancellationToken)
    {
        await _runLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            switch (request.Mode)
            {
                case KernelExecuteMode.Query:
                    return new KernelResult("finished", 0, request.Code.Length == 0 ? [] : [new KernelConsoleItem("stdout", JsonValue.Create(request.Code))]);
                case KernelExecuteMode.Batch:
                    var console = new List<KernelConsoleItem>();
                    foreach (var cmd in new[] { request.Build, request.Exec })
                    {
                        if (string.IsNullOrEmpty(cmd) || cmd == "*") continue;
                        var (code, output) = await RunBashAsync(cmd, cancellationToken).ConfigureAwait(false);
                        if (output.Length > 0) console.Add(new KernelConsoleItem("stdout", JsonValue.Create(output)));
                        if (code != 0) return new KernelResult("finished", cmd == request.Build ? 127 : code, console);
                    }
                    return new KernelResult("finished", 0, console);
                default:
                    return new KernelResult("finished", 0, []);
            }
        }
        finally
        {
            _runLock.Release();
        }
    }

    private async Task<(int Code, string Output)> RunBashAsync(string script, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("bash", ["-c", script])
        {
            WorkingDirectory = info.WorkDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct).ConfigureAwait(false);
        return (p.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
    }

    public Task InterruptAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task RestartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IReadOnlyList<string>> CompleteAsync(string code, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);

    public string GetLogs()
    {
        lock (_log) return _log.ToString();
    }

    public ValueTask DisposeAsync()
    {
        _exited.TrySetResult(null);
        return ValueTask.CompletedTask;
    }
}

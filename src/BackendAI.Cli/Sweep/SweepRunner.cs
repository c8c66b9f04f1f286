using BackendAI.Cli.Parsing;

namespace BackendAI.Cli.Sweep;

/// <summary>How one case of a run ended.</summary>
public enum CaseStatus
{
    /// <summary>The code ran to the end with exit code 0.</summary>
    Succeeded,
    /// <summary>The code ran to the end with a non-zero exit code.</summary>
    Failed,
    /// <summary>The session could not be created or the run broke (see the error).</summary>
    Error,
    /// <summary>The session was only enqueued (or is still queued); nothing ran.</summary>
    Enqueued,
    /// <summary>The run was cancelled before it ended.</summary>
    Cancelled,
}

/// <summary>The outcome of one case.</summary>
/// <param name="Index">The case index.</param>
/// <param name="SessionName">The session the case ran in.</param>
/// <param name="Status">How it ended.</param>
/// <param name="ExitCode">The code's exit code, when it finished.</param>
/// <param name="Error">A one-line reason, for <see cref="CaseStatus.Error"/>.</param>
public sealed record CaseResult(int Index, string SessionName, CaseStatus Status, int? ExitCode, string? Error = null)
{
    /// <summary>True when the case counts as a failure of the sweep.</summary>
    public bool IsFailure => Status is CaseStatus.Failed or CaseStatus.Error or CaseStatus.Cancelled;
}

/// <summary>
/// Runs the cases of a sweep with at most <c>maxParallel</c> of them in flight at any time (the Python
/// CLI accepts <c>--max-parallel</c> but starts every case at once). A case that throws becomes an
/// <see cref="CaseStatus.Error"/> result; the others go on.
/// </summary>
public static class SweepRunner
{
    /// <summary>Runs every case and returns the results in case order.</summary>
    public static async Task<IReadOnlyList<CaseResult>> RunAsync(
        IReadOnlyList<SweepCase> cases,
        int maxParallel,
        Func<SweepCase, CancellationToken, Task<CaseResult>> runCase,
        Func<SweepCase, string> sessionNameOf,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(runCase);
        if (maxParallel < 1)
            throw new CliUsageException("--max-parallel must be a positive integer.");
        var results = new CaseResult[cases.Count];
        using var gate = new SemaphoreSlim(maxParallel, maxParallel);
        var tasks = new List<Task>(cases.Count);
        foreach (var c in cases)
        {
            try
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                results[c.Index] = new CaseResult(c.Index, sessionNameOf(c), CaseStatus.Cancelled, null, "cancelled before it started");
                continue;
            }
            tasks.Add(RunOneAsync(c));
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
        return results;

        async Task RunOneAsync(SweepCase c)
        {
            try
            {
                results[c.Index] = await runCase(c, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                results[c.Index] = new CaseResult(c.Index, sessionNameOf(c), CaseStatus.Cancelled, null, "cancelled");
            }
            catch (Exception e)
            {
                results[c.Index] = new CaseResult(c.Index, sessionNameOf(c), CaseStatus.Error, null, ErrorMessages.OneLine(e));
            }
            finally
            {
                gate.Release();
            }
        }
    }
}

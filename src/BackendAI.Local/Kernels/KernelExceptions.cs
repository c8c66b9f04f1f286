namespace BackendAI.Local.Kernels;

/// <summary>A continue/input call named a run the kernel does not know (never started, or already finished and collected).</summary>
public sealed class KernelRunNotFoundException : InvalidOperationException
{
    /// <summary>Creates the error.</summary>
    public KernelRunNotFoundException(string runId)
        : base($"The kernel has no run with id '{runId}' (it never started or has already finished).") => RunId = runId;

    /// <summary>The unknown run id.</summary>
    public string RunId { get; }
}

/// <summary>A kernel could not start (interpreter missing, crashed during start-up, or too slow).</summary>
public sealed class KernelStartException : Exception
{
    /// <summary>Creates the error.</summary>
    public KernelStartException(string message, Exception? inner = null) : base(message, inner) { }
}

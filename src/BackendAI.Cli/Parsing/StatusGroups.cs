namespace BackendAI.Cli.Parsing;

/// <summary>The <c>status</c> argument <c>ps</c> sends to <c>compute_session_list</c> (sessions.md §13.5).</summary>
public static class StatusGroups
{
    /// <summary>Every status <c>-s</c> accepts.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        "PENDING", "SCHEDULED", "PREPARING", "BUILDING", "PULLING", "RUNNING", "RESTARTING", "RESIZING",
        "SUSPENDED", "TERMINATING", "TERMINATED", "ERROR", "CANCELLED",
    ];

    /// <summary>The default group: every status that is not dead.</summary>
    public const string Default = "PENDING,SCHEDULED,PREPARING,PULLING,RUNNING,RESTARTING,TERMINATING,RESIZING,SUSPENDED,ERROR";

    /// <summary><c>--running</c>.</summary>
    public const string Running = "PREPARING,PULLING,RUNNING";

    /// <summary><c>--dead</c>.</summary>
    public const string Dead = "CANCELLED,TERMINATED";

    /// <summary>
    /// Resolves the options: <c>--running</c>/<c>--dead</c> override <c>-s</c>; <c>-s ALL</c> is the default
    /// group plus the dead one; <c>-s STATUS</c> is that status (case-insensitive).
    /// </summary>
    public static string Resolve(string? status, bool running, bool dead)
    {
        if (running && dead)
            throw new CliUsageException("--running and --dead cannot be used together.");
        if (running)
            return Running;
        if (dead)
            return Dead;
        if (string.IsNullOrWhiteSpace(status))
            return Default;
        var s = status.Trim().ToUpperInvariant();
        if (s == "ALL")
            return Default + "," + Dead;
        if (!All.Contains(s))
            throw new CliUsageException($"Invalid -s/--status \"{status}\": expected ALL or one of {string.Join(", ", All)}.");
        return s;
    }
}

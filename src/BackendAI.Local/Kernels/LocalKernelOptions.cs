namespace BackendAI.Local.Kernels;

/// <summary>Which runner serves images whose reference matches a glob pattern.</summary>
/// <param name="Pattern">A case-insensitive glob over the full image reference (<c>*</c> = any text, <c>?</c> = one character).</param>
/// <param name="Runner">The runner: <c>python</c>, <c>bash</c> or <c>sim</c>.</param>
public sealed record KernelImageRule(string Pattern, string Runner);

/// <summary>Settings of the local kernels (bound by the host, Options pattern).</summary>
public sealed class LocalKernelOptions
{
    /// <summary>The runner names the factory knows.</summary>
    public static readonly IReadOnlyList<string> KnownRunners = ["python", "bash", "sim"];

    /// <summary>
    /// Image → runner rules, first match wins. Defaults: <c>sim*</c>, <c>*/sim:*</c> → sim;
    /// <c>python*</c>, <c>*/python:*</c>, <c>*/python-*</c> → python; <c>bash*</c>, <c>shell*</c>, <c>*ubuntu*</c> → bash.
    /// </summary>
    public IList<KernelImageRule> Images { get; } = new List<KernelImageRule>
    {
        new("sim*", "sim"),
        new("*/sim:*", "sim"),
        new("python*", "python"),
        new("*/python:*", "python"),
        new("*/python-*", "python"),
        new("bash*", "bash"),
        new("shell*", "bash"),
        new("*ubuntu*", "bash"),
    };

    /// <summary>Shortest delay of a sim execution (default 0).</summary>
    public TimeSpan SimMinDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Longest delay of a sim execution (default 1 ms); a uniform random delay in [min, max] is used.</summary>
    public TimeSpan SimMaxDelay { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>When positive, the sim echo is repeated/cut to exactly this many characters (default 0 = echo as is).</summary>
    public int SimOutputSize { get; set; }

    /// <summary>The Python interpreter (default <c>python3</c>).</summary>
    public string PythonExecutable { get; set; } = "python3";

    /// <summary>The shell used for bash runs, batch steps and bootstrap scripts (default <c>bash</c>).</summary>
    public string BashExecutable { get; set; } = "bash";

    /// <summary>How long a process kernel may take to become ready (default 30 s).</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Per-call cap of characters per console stream; excess is dropped (default 524,288, as upstream documents).</summary>
    public int MaxConsoleCharsPerCall { get; set; } = 524_288;

    /// <summary>How many characters of container log a kernel keeps (the newest; default 1 MiB).</summary>
    public int MaxLogChars { get; set; } = 1 << 20;

    /// <summary>Per-run execution time limit; the run then ends with <c>exec-timeout</c> (default none).</summary>
    public TimeSpan? ExecutionTimeout { get; set; }

    /// <summary>Whether python sessions offer an <c>http</c> app service (<c>python3 -m http.server</c> in the work directory; default true).</summary>
    public bool PythonHttpService { get; set; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (SimMinDelay < TimeSpan.Zero || SimMaxDelay < SimMinDelay)
            throw new ArgumentException($"SimMinDelay ({SimMinDelay}) must be >= 0 and <= SimMaxDelay ({SimMaxDelay}).");
        if (SimOutputSize < 0) throw new ArgumentException($"SimOutputSize must be >= 0, not {SimOutputSize}.");
        if (MaxConsoleCharsPerCall <= 0) throw new ArgumentException($"MaxConsoleCharsPerCall must be positive, not {MaxConsoleCharsPerCall}.");
        if (MaxLogChars <= 0) throw new ArgumentException($"MaxLogChars must be positive, not {MaxLogChars}.");
        if (string.IsNullOrWhiteSpace(PythonExecutable)) throw new ArgumentException("PythonExecutable must not be empty.");
        if (string.IsNullOrWhiteSpace(BashExecutable)) throw new ArgumentException("BashExecutable must not be empty.");
        foreach (var rule in Images)
        {
            if (string.IsNullOrEmpty(rule.Pattern)) throw new ArgumentException("An image rule has an empty pattern.");
            if (!KnownRunners.Contains(rule.Runner))
                throw new ArgumentException($"Image rule '{rule.Pattern}' names unknown runner '{rule.Runner}' (known: {string.Join(", ", KnownRunners)}).");
        }
    }
}

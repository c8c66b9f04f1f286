using BackendAI.Client;

namespace BackendAI.Actors;

/// <summary>How to start (or reuse) a compute session.</summary>
public sealed class SessionStartOptions
{
    /// <summary>The session name; also the key for reuse. <c>null</c> lets the server pick one.</summary>
    public string? Name { get; set; }
    /// <summary>Interactive (default) or batch.</summary>
    public SessionType Type { get; set; } = SessionType.Interactive;
    /// <summary>Return at once with PENDING instead of waiting for the session to start.</summary>
    public bool EnqueueOnly { get; set; }
    /// <summary>How long commands wait for RUNNING (and the server's <c>maxWaitSeconds</c>); default <c>backendai.session.start-max-wait</c>.</summary>
    public TimeSpan? MaxWait { get; set; }
    /// <summary>The startup command (batch sessions run it).</summary>
    public string? StartupCommand { get; set; }
    /// <summary>Environment variables of the session.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; set; }
    /// <summary>Resource slots, e.g. <c>cpu = 1</c>, <c>mem = 1g</c>.</summary>
    public IReadOnlyDictionary<string, string>? Resources { get; set; }
    /// <summary>Virtual folders to mount.</summary>
    public IReadOnlyList<string>? Mounts { get; set; }
    /// <summary>Reuse a live session of the same name and image (default <c>true</c>).</summary>
    public bool ReuseIfExists { get; set; } = true;
    /// <summary>A script run when the session starts.</summary>
    public string? BootstrapScript { get; set; }
    /// <summary>A free-form tag.</summary>
    public string? Tag { get; set; }
    /// <summary>Keep the session on the server when the <see cref="ComputeSession"/> is disposed.</summary>
    public bool KeepOnDispose { get; set; }
    /// <summary>Sets any other field of the create request (passthrough), after the fields above.</summary>
    public Action<SessionCreateRequest>? ConfigureRequest { get; set; }
}

/// <summary>How to run code.</summary>
public sealed class ExecuteOptions
{
    /// <summary>Query (default) or batch.</summary>
    public ExecuteMode Mode { get; set; } = ExecuteMode.Query;
    /// <summary>Batch mode's clean/build/exec commands.</summary>
    public BatchOptions? Batch { get; set; }
    /// <summary>Answers <c>waiting-input</c> prompts; a run that asks for input without one fails.</summary>
    public Func<InputPrompt, CancellationToken, ValueTask<string>>? InputProvider { get; set; }
    /// <summary>
    /// Use the streaming-execute WebSocket (<c>/stream/session/{id}/execute</c>) instead of REST calls: one
    /// socket per run, one result frame read per pull, input answered as a text frame; cancelling the run
    /// closes the socket. Output and outcome are the same as with REST.
    /// </summary>
    public bool UseWebSocket { get; set; }

    /// <summary>An input provider answering prompts with the given lines, in order.</summary>
    public static Func<InputPrompt, CancellationToken, ValueTask<string>> Lines(IEnumerable<string> lines)
    {
        var queue = new Queue<string>(lines);
        var gate = new object();
        return (prompt, _) =>
        {
            lock (gate)
            {
                return queue.TryDequeue(out var line)
                    ? ValueTask.FromResult(line)
                    : ValueTask.FromException<string>(new InvalidOperationException(
                        $"No input line left for the prompt '{prompt.Prompt}' in session '{prompt.SessionId}'."));
            }
        };
    }
}

/// <summary>A run waits for input.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="Prompt">The prompt text (the last stdout before the wait).</param>
/// <param name="IsPassword">Hide the echo.</param>
public sealed record InputPrompt(string SessionId, string Prompt, bool IsPassword);

/// <summary>The result of a whole run.</summary>
/// <param name="Status">The last status: <c>finished</c> or <c>exec-timeout</c>.</param>
/// <param name="ExitCode">The exit code, when given.</param>
/// <param name="Stdout">All stdout text, in order.</param>
/// <param name="Stderr">All stderr text, in order.</param>
/// <param name="Console">Every console record, in order.</param>
/// <param name="RunId">The server's run id.</param>
public sealed record ExecutionOutcome(string Status, int? ExitCode, string Stdout, string Stderr, IReadOnlyList<ConsoleRecord> Console, string RunId);

/// <summary>A row of GraphQL <c>compute_session_list</c>.</summary>
/// <param name="Id">Session id.</param>
/// <param name="Name">Session name.</param>
/// <param name="Image">Image.</param>
/// <param name="Status">Wire status.</param>
/// <param name="StatusInfo">Status info.</param>
/// <param name="AccessKey">Owner access key.</param>
/// <param name="CreatedAt">Creation time.</param>
/// <param name="Type">INTERACTIVE or BATCH.</param>
public sealed record SessionSummary(string Id, string Name, string? Image, string Status, string? StatusInfo,
    string? AccessKey, DateTimeOffset? CreatedAt, string? Type);

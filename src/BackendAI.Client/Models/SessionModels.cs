using System.Text.Json;

namespace BackendAI.Client.Models;

/// <summary>Compute-session status (sessions.md §13.1).</summary>
public enum SessionStatus
{
    /// <summary>Queued for scheduling.</summary>
    Pending,
    /// <summary>Resources assigned.</summary>
    Scheduled,
    /// <summary>Container being prepared.</summary>
    Preparing,
    /// <summary>Reserved.</summary>
    Building,
    /// <summary>Pulling the image.</summary>
    Pulling,
    /// <summary>Ready.</summary>
    Running,
    /// <summary>Restarting.</summary>
    Restarting,
    /// <summary>Reserved.</summary>
    Resizing,
    /// <summary>Reserved.</summary>
    Suspended,
    /// <summary>Termination requested.</summary>
    Terminating,
    /// <summary>Gone (final).</summary>
    Terminated,
    /// <summary>An operation failed; needs a (forced) destroy.</summary>
    Error,
    /// <summary>Never started (final).</summary>
    Cancelled,
}

/// <summary>Wire names of <see cref="SessionStatus"/>.</summary>
public static class SessionStatuses
{
    /// <summary>Parses an upper-case wire name (case-insensitive).</summary>
    /// <exception cref="Errors.BackendProtocolException">Unknown name.</exception>
    public static SessionStatus Parse(string wire) =>
        TryParse(wire, out var s) ? s : throw new Errors.BackendProtocolException($"Unknown session status '{wire}'.");

    /// <summary>Parses an upper-case wire name (case-insensitive).</summary>
    public static bool TryParse(string? wire, out SessionStatus status) =>
        Enum.TryParse(wire?.Trim(), ignoreCase: true, out status) && Enum.IsDefined(status) && !int.TryParse(wire, out _);

    /// <summary>The upper-case wire name.</summary>
    public static string ToWire(SessionStatus status) => status.ToString().ToUpperInvariant();

    /// <summary>True for <see cref="SessionStatus.Terminated"/> and <see cref="SessionStatus.Cancelled"/>.</summary>
    public static bool IsTerminal(SessionStatus status) => status is SessionStatus.Terminated or SessionStatus.Cancelled;
}

/// <summary>Interactive or batch.</summary>
public enum SessionType
{
    /// <summary>Interactive (default).</summary>
    Interactive,
    /// <summary>Batch: runs <see cref="SessionCreateRequest.StartupCommand"/> and ends.</summary>
    Batch,
}

/// <summary>Everything <c>POST /session</c> accepts (sessions.md §3). Version-gated keys are added by the client.</summary>
public sealed class SessionCreateRequest
{
    /// <summary>Image reference (required).</summary>
    public string Image { get; set; } = string.Empty;
    /// <summary>Session name; <c>pysdk-</c>-style random name when null.</summary>
    public string? Name { get; set; }
    /// <summary>Session type.</summary>
    public SessionType Type { get; set; } = SessionType.Interactive;
    /// <summary>Return right after queuing.</summary>
    public bool EnqueueOnly { get; set; }
    /// <summary>Max seconds to wait for the start (0 = no limit).</summary>
    public int MaxWaitSeconds { get; set; }
    /// <summary>Reuse a same-name same-image session.</summary>
    public bool ReuseIfExists { get; set; } = true;
    /// <summary>Batch command.</summary>
    public string? StartupCommand { get; set; }
    /// <summary>Batch start time (ISO 8601 or relative such as <c>30m</c>).</summary>
    public string? StartsAt { get; set; }
    /// <summary>vfolders to mount (added to the configured default mounts).</summary>
    public IReadOnlyList<string>? Mounts { get; set; }
    /// <summary>vfolder → mount path.</summary>
    public IReadOnlyDictionary<string, string>? MountMap { get; set; }
    /// <summary>Extra environment variables.</summary>
    public IReadOnlyDictionary<string, string>? Environ { get; set; }
    /// <summary>Resource slots, e.g. <c>cpu=2</c>, <c>mem=4g</c>.</summary>
    public IReadOnlyDictionary<string, string>? Resources { get; set; }
    /// <summary>Resource options, e.g. <c>shmem=64m</c>.</summary>
    public IReadOnlyDictionary<string, string>? ResourceOpts { get; set; }
    /// <summary>Scaling group.</summary>
    public string? ScalingGroup { get; set; }
    /// <summary>Number of containers.</summary>
    public int ClusterSize { get; set; } = 1;
    /// <summary><c>single-node</c> or <c>multi-node</c>.</summary>
    public string ClusterMode { get; set; } = "single-node";
    /// <summary>Free annotation.</summary>
    public string? Tag { get; set; }
    /// <summary>Bootstrap script text.</summary>
    public string? BootstrapScript { get; set; }
    /// <summary>Sessions (ids or names) that must succeed first.</summary>
    public IReadOnlyList<string>? Dependencies { get; set; }
    /// <summary>Lifecycle webhook URL.</summary>
    public string? CallbackUrl { get; set; }
    /// <summary>Create on behalf of this keypair (admins).</summary>
    public string? OwnerAccessKey { get; set; }
    /// <summary>Domain; the configured domain when null.</summary>
    public string? Domain { get; set; }
    /// <summary>Project; the configured group when null.</summary>
    public string? Group { get; set; }
    /// <summary>Extra container ports to expose.</summary>
    public IReadOnlyList<int>? PreopenPorts { get; set; }
    /// <summary>Image architecture.</summary>
    public string? Architecture { get; set; }
    /// <summary>Manual agent placement (superadmin).</summary>
    public IReadOnlyList<string>? AgentList { get; set; }
}

/// <summary>An app service port.</summary>
/// <param name="Name">Service name (<c>jupyter</c>, <c>sshd</c>, …).</param>
/// <param name="Protocol"><c>http</c>, <c>tcp</c>, <c>pty</c>, <c>preopen</c>.</param>
/// <param name="Ports">Container ports.</param>
/// <param name="UrlTemplate">Optional URL template with <c>{protocol}</c>, <c>{host}</c>, <c>{port}</c>.</param>
public sealed record ServicePort(string Name, string Protocol, IReadOnlyList<int> Ports, string? UrlTemplate);

/// <summary>The create response.</summary>
/// <param name="SessionId">Session UUID.</param>
/// <param name="SessionName">Name.</param>
/// <param name="Status">Wire status string, including the pseudo-status <c>TIMEOUT</c> (still queued, not an error).</param>
/// <param name="ServicePorts">Service ports (<c>servicePorts</c>, else <c>service_ports</c>; empty when absent).</param>
/// <param name="Created">True for a new session, false when reused.</param>
public sealed record SessionCreateResult(string SessionId, string SessionName, string Status, IReadOnlyList<ServicePort> ServicePorts, bool Created)
{
    /// <summary>True when the wait timed out and the session is still starting.</summary>
    public bool IsTimeout => string.Equals(Status, "TIMEOUT", StringComparison.OrdinalIgnoreCase);
}

/// <summary><c>GET /session/{id}</c>. Display strings are kept opaque; everything is also in <see cref="Raw"/>.</summary>
public sealed class SessionInfo
{
    /// <summary>Status.</summary>
    public SessionStatus Status { get; init; }
    /// <summary>Image reference.</summary>
    public string Image { get; init; } = string.Empty;
    /// <summary>Milliseconds since creation.</summary>
    public long AgeMs { get; init; }
    /// <summary>Domain.</summary>
    public string? DomainName { get; init; }
    /// <summary>Project id.</summary>
    public string? GroupId { get; init; }
    /// <summary>Owner user id.</summary>
    public string? UserId { get; init; }
    /// <summary>Tag.</summary>
    public string? Tag { get; init; }
    /// <summary>Status info (opaque display string).</summary>
    public string? StatusInfo { get; init; }
    /// <summary>Creation time string as sent.</summary>
    public string? CreationTime { get; init; }
    /// <summary>Executed query count.</summary>
    public long NumQueriesExecuted { get; init; }
    /// <summary>The whole response.</summary>
    public JsonElement Raw { get; init; }
}

/// <summary>The destroy response.</summary>
/// <param name="Stats">The <c>stats</c> object (possibly empty).</param>
/// <param name="Status">The <c>stats.status</c> value, when present.</param>
public sealed record DestroyResult(JsonElement Stats, string? Status);

/// <summary>Execute mode.</summary>
public enum ExecuteMode
{
    /// <summary>Run a snippet.</summary>
    Query,
    /// <summary>Batch clean/build/exec.</summary>
    Batch,
    /// <summary>Continue a run.</summary>
    Continue,
    /// <summary>Send user input.</summary>
    Input,
}

/// <summary>One execute call.</summary>
/// <param name="Mode">Mode.</param>
/// <param name="Code">Code, input text, or empty.</param>
/// <param name="RunId">Run id; null on the first call of a run.</param>
/// <param name="Options">Batch options.</param>
public sealed record ExecuteRequest(ExecuteMode Mode, string Code, string? RunId, BatchOptions? Options = null);

/// <summary>Batch-mode commands (null = skip, <c>*</c> = default).</summary>
/// <param name="Clean">Clean command.</param>
/// <param name="Build">Build command.</param>
/// <param name="Exec">Exec command.</param>
public sealed record BatchOptions(string? Clean, string? Build, string? Exec);

/// <summary>An execution result (sessions.md §10.3).</summary>
/// <param name="Status"><c>continued</c>, <c>waiting-input</c>, <c>finished</c>, <c>clean-finished</c>, <c>build-finished</c>, <c>exec-timeout</c>.</param>
/// <param name="RunId">Run id.</param>
/// <param name="ExitCode">Exit code when finished.</param>
/// <param name="IsPassword">On <c>waiting-input</c>: hide the echo.</param>
/// <param name="Console">Console records in order.</param>
/// <param name="Files">Legacy <c>files</c> (usually null).</param>
public sealed record ExecutionResult(string Status, string? RunId, int? ExitCode, bool IsPassword, IReadOnlyList<ConsoleRecord> Console, JsonElement? Files)
{
    /// <summary>True for <c>finished</c> and <c>exec-timeout</c>.</summary>
    public bool IsFinished => Status is "finished" or "exec-timeout";
}

/// <summary>One console record <c>[type, data]</c>.</summary>
/// <param name="Type"><c>stdout</c>, <c>stderr</c>, <c>media</c>, <c>html</c>, <c>log</c>, …</param>
/// <param name="Text">Text for stdout/stderr/html, the content for media.</param>
/// <param name="MediaType">MIME type of media records.</param>
/// <param name="Raw">The record as sent.</param>
public sealed record ConsoleRecord(string Type, string? Text, string? MediaType, JsonElement Raw);

/// <summary>Completion options (<c>row</c>, <c>col</c>, <c>line</c>, <c>post</c>).</summary>
/// <param name="Row">Cursor row.</param>
/// <param name="Col">Cursor column.</param>
/// <param name="Line">Current line.</param>
/// <param name="Post">Text after the cursor.</param>
public sealed record CompletionOptions(int Row = 0, int Col = 0, string? Line = null, string? Post = null);

/// <summary>A file to upload into a session.</summary>
/// <param name="RelativePath">Path relative to <c>/home/work</c> (forward slashes).</param>
/// <param name="Open">Opens the content (called once per attempt).</param>
public sealed record UploadFile(string RelativePath, Func<Stream> Open)
{
    /// <summary>Uploads a local file under the given relative name.</summary>
    public static UploadFile FromPath(string localPath, string? relativePath = null) =>
        new((relativePath ?? Path.GetFileName(localPath)).Replace('\\', '/'), () => File.OpenRead(localPath));
}

/// <summary>An entry of a session directory listing.</summary>
/// <param name="FileName">Name.</param>
/// <param name="Mode">ls-style mode string.</param>
/// <param name="Size">Bytes.</param>
/// <param name="CTime">ctime, epoch seconds.</param>
/// <param name="MTime">mtime, epoch seconds.</param>
/// <param name="ATime">atime, epoch seconds.</param>
public sealed record SessionFileEntry(string FileName, string Mode, long Size, double CTime, double MTime, double ATime)
{
    /// <summary>True when the mode says directory.</summary>
    public bool IsDirectory => Mode.StartsWith('d');
}

/// <summary>A match of <c>/session/_/match</c>.</summary>
/// <param name="Id">Session id.</param>
/// <param name="Name">Name.</param>
/// <param name="Status">Wire status.</param>
public sealed record SessionMatch(string Id, string Name, string Status);

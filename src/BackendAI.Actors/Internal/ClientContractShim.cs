// TEMPORARY: the BackendAI.Client model types named by the client contract, until branch
// client-core lands in main. Delete this file when merging main brings the real types.
using System.Text.Json;

namespace BackendAI.Client;

/// <summary>Compute-session status (contract shim).</summary>
public enum SessionStatus
{
    /// <summary>PENDING</summary>
    Pending,
    /// <summary>SCHEDULED</summary>
    Scheduled,
    /// <summary>PREPARING</summary>
    Preparing,
    /// <summary>BUILDING</summary>
    Building,
    /// <summary>PULLING</summary>
    Pulling,
    /// <summary>RUNNING</summary>
    Running,
    /// <summary>RESTARTING</summary>
    Restarting,
    /// <summary>RESIZING</summary>
    Resizing,
    /// <summary>SUSPENDED</summary>
    Suspended,
    /// <summary>TERMINATING</summary>
    Terminating,
    /// <summary>TERMINATED</summary>
    Terminated,
    /// <summary>ERROR</summary>
    Error,
    /// <summary>CANCELLED</summary>
    Cancelled,
}

/// <summary>Wire names of <see cref="SessionStatus"/> (contract shim).</summary>
public static class SessionStatuses
{
    /// <summary>Parses a wire status.</summary>
    public static SessionStatus Parse(string wire) => Enum.Parse<SessionStatus>(wire, ignoreCase: true);
    /// <summary>The wire name.</summary>
    public static string ToWire(SessionStatus status) => status.ToString().ToUpperInvariant();
    /// <summary>TERMINATED or CANCELLED.</summary>
    public static bool IsTerminal(SessionStatus status) => status is SessionStatus.Terminated or SessionStatus.Cancelled;
}

/// <summary>Session type (contract shim).</summary>
public enum SessionType
{
    /// <summary>interactive</summary>
    Interactive,
    /// <summary>batch</summary>
    Batch,
}

/// <summary>Create request (contract shim).</summary>
public sealed class SessionCreateRequest
{
    /// <summary>Image.</summary>
    public string Image { get; set; } = "";
    /// <summary>Name.</summary>
    public string? Name { get; set; }
    /// <summary>Type.</summary>
    public SessionType Type { get; set; }
    /// <summary>Enqueue only.</summary>
    public bool EnqueueOnly { get; set; }
    /// <summary>Max wait.</summary>
    public int MaxWaitSeconds { get; set; }
    /// <summary>Reuse.</summary>
    public bool ReuseIfExists { get; set; } = true;
    /// <summary>Startup command.</summary>
    public string? StartupCommand { get; set; }
    /// <summary>Mounts.</summary>
    public IReadOnlyList<string>? Mounts { get; set; }
    /// <summary>Environment.</summary>
    public IReadOnlyDictionary<string, string>? Environ { get; set; }
    /// <summary>Resources.</summary>
    public IReadOnlyDictionary<string, string>? Resources { get; set; }
    /// <summary>Tag.</summary>
    public string? Tag { get; set; }
    /// <summary>Bootstrap script.</summary>
    public string? BootstrapScript { get; set; }
}

/// <summary>Create result (contract shim).</summary>
public sealed record SessionCreateResult(string SessionId, string SessionName, string Status, IReadOnlyList<ServicePort> ServicePorts, bool Created);

/// <summary>Service port (contract shim).</summary>
public sealed record ServicePort(string Name, string Protocol, IReadOnlyList<int> Ports, string? UrlTemplate);

/// <summary>Session info (contract shim).</summary>
public sealed class SessionInfo
{
    /// <summary>Status.</summary>
    public SessionStatus Status { get; init; }
    /// <summary>Image.</summary>
    public string Image { get; init; } = "";
}

/// <summary>Execute mode (contract shim).</summary>
public enum ExecuteMode
{
    /// <summary>query</summary>
    Query,
    /// <summary>batch</summary>
    Batch,
    /// <summary>continue</summary>
    Continue,
    /// <summary>input</summary>
    Input,
}

/// <summary>One execute call (contract shim).</summary>
public sealed record ExecuteRequest(ExecuteMode Mode, string Code, string? RunId, BatchOptions? Options = null);

/// <summary>Batch options (contract shim).</summary>
public sealed record BatchOptions(string? Clean, string? Build, string? Exec);

/// <summary>Execute result (contract shim).</summary>
public sealed record ExecutionResult(string Status, string? RunId, int? ExitCode, bool IsPassword, IReadOnlyList<ConsoleRecord> Console, JsonElement? Files);

/// <summary>Console record (contract shim).</summary>
public sealed record ConsoleRecord(string Type, string? Text, string? MediaType, JsonElement Raw);

/// <summary>SSE session event (contract shim).</summary>
public sealed record SessionEvent(string Name, string Reason, string SessionName, string? OwnerAccessKey, string SessionId, string? KernelId, string? ClusterRole, int? ClusterIdx);

/// <summary>SSE filter (contract shim).</summary>
public sealed record SessionEventFilter(string? SessionName = null, string? SessionId = null, string? OwnerAccessKey = null, string? Group = null, string Scope = "*");

/// <summary>A file in a session (contract shim).</summary>
public sealed record SessionFileEntry(string Name, long Size, string Mode, DateTimeOffset? Modified);

/// <summary>Transfer progress (contract shim).</summary>
public sealed record TransferProgress(string Path, long BytesTransferred, long? TotalBytes);

using System.Globalization;
using BackendAI.Local.Hosting;
using BackendAI.Local.Kernels;

namespace BackendAI.Local.Sessions;

/// <summary>Session statuses (sessions.md §13.1).</summary>
internal static class SessionStatus
{
    public const string Pending = "PENDING";
    public const string Scheduled = "SCHEDULED";
    public const string Preparing = "PREPARING";
    public const string Pulling = "PULLING";
    public const string Running = "RUNNING";
    public const string Restarting = "RESTARTING";
    public const string Terminating = "TERMINATING";
    public const string Terminated = "TERMINATED";
    public const string Error = "ERROR";
    public const string Cancelled = "CANCELLED";

    public static bool IsDead(string s) => s is Terminated or Cancelled;

    public static bool OccupiesResources(string s) => s is not (Pending or Terminated or Cancelled);
}

/// <summary>One compute session's mutable state; guarded by the registry's lock.</summary>
internal sealed class LocalSession
{
    public required Guid Id { get; init; }
    public required string Name { get; set; }
    public required LocalKeypair Owner { get; init; }
    public required string Image { get; init; }
    public required string RequestedImage { get; init; }
    public required string Architecture { get; init; }
    public required bool IsBatch { get; init; }
    public required string GroupName { get; init; }
    public required Guid GroupId { get; init; }
    public required string Domain { get; init; }
    public required string WorkDirectory { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public string Status { get; set; } = SessionStatus.Pending;
    public string StatusInfo { get; set; } = "";
    public string? StatusDataJson { get; set; }
    public DateTimeOffset StatusChanged { get; set; }
    public DateTimeOffset? TerminatedAt { get; set; }
    public DateTimeOffset? StartsAt { get; init; }
    public string? StartupCommand { get; init; }
    public string? BootstrapScript { get; init; }
    public string Result { get; set; } = "UNDEFINED";
    public string? Tag { get; init; }
    public string ScalingGroup { get; init; } = "default";
    public string? CallbackUrl { get; init; }
    public IReadOnlyDictionary<string, string> Environ { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Mounts { get; init; } = [];
    public IReadOnlyDictionary<string, string> MountMap { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<Guid> Dependencies { get; init; } = [];
    public IReadOnlyList<int> PreopenPorts { get; init; } = [];
    public string? ResourceOptsJson { get; init; }
    public decimal Cpu { get; init; }
    public long Memory { get; init; }
    public decimal CudaShares { get; init; }
    public int ClusterSize { get; init; } = 1;
    public string ClusterMode { get; init; } = "single-node";
    public long NumQueries;
    public IKernel? Kernel { get; set; }
    public string? StoredLogs { get; set; }
    public int? ExitCode { get; set; }
    public int SchedulerRetries { get; set; }

    /// <summary>Cancelled when the session starts terminating (stream handlers, lifecycle).</summary>
    public CancellationTokenSource Terminating { get; } = new();

    /// <summary>Completes when the session is RUNNING or will never be (dead/error).</summary>
    public TaskCompletionSource StartedOrDead { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the session is dead.</summary>
    public TaskCompletionSource Dead { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyDictionary<string, string> OccupiedSlots() =>
        SessionStatus.OccupiesResources(Status) ? RequestedSlots() : new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> RequestedSlots()
    {
        var d = new Dictionary<string, string>
        {
            ["cpu"] = Cpu.ToString(CultureInfo.InvariantCulture),
            ["mem"] = Memory.ToString(CultureInfo.InvariantCulture),
        };
        if (CudaShares > 0) d["cuda.shares"] = CudaShares.ToString(CultureInfo.InvariantCulture);
        return d;
    }

    /// <summary>The services of the session: the kernel's app services plus preopen ports.</summary>
    public IReadOnlyList<KernelServicePort> ServicePorts()
    {
        var list = new List<KernelServicePort>();
        if (Kernel is IKernelAppServices apps)
        {
            try
            {
                list.AddRange(apps.ServicePorts);
            }
            catch (ObjectDisposedException)
            {
                // kernel gone
            }
        }
        foreach (var p in PreopenPorts) list.Add(new KernelServicePort($"preopen-{p}", "preopen", [p]));
        return list;
    }

    /// <summary>Internal records (<c>service_ports</c>): name, protocol, container_ports, host_ports.</summary>
    public string ServicePortsJson()
    {
        var items = ServicePorts().Select(s =>
        {
            var ports = string.Join(", ", s.Ports);
            return $"{{\"name\": {Events.PyJson.Str(s.Name)}, \"protocol\": {Events.PyJson.Str(s.Protocol)}, \"container_ports\": [{ports}], \"host_ports\": [{ports}]}}";
        });
        return "[" + string.Join(", ", items) + "]";
    }

    public SessionView ToView() => new()
    {
        Id = Id,
        Name = Name,
        AccessKey = Owner.AccessKey,
        UserId = Owner.UserId,
        UserEmail = Owner.Email,
        DomainName = Domain,
        GroupName = GroupName,
        GroupId = GroupId,
        Image = Image,
        Architecture = Architecture,
        Registry = Image.Contains('/', StringComparison.Ordinal) ? Image[..Image.IndexOf('/', StringComparison.Ordinal)] : "cr.backend.ai",
        Type = IsBatch ? "BATCH" : "INTERACTIVE",
        Status = Status,
        StatusInfo = StatusInfo,
        StatusDataJson = StatusDataJson,
        StatusChanged = StatusChanged,
        CreatedAt = CreatedAt,
        TerminatedAt = TerminatedAt,
        StartsAt = StartsAt,
        StartupCommand = StartupCommand,
        Result = Result,
        Tag = Tag,
        ScalingGroup = ScalingGroup,
        ServicePortsJson = ServicePortsJson(),
        ResourceOptsJson = ResourceOptsJson,
        Mounts = Mounts,
        OccupiedSlots = OccupiedSlots(),
        NumQueries = Interlocked.Read(ref NumQueries),
        ClusterMode = ClusterMode,
        ClusterSize = ClusterSize,
        Dependencies = Dependencies,
        Agent = SessionStatus.OccupiesResources(Status) || Status == SessionStatus.Terminated ? "local" : null,
    };
}

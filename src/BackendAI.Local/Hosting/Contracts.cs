using System.Text.Json.Nodes;
using BackendAI.Client.Errors;

namespace BackendAI.Local.Hosting;

// Contracts shared between the areas of the local server (sessions/kernels, vfolders, GraphQL).
// The sessions area implements the registries; the vfolder and GraphQL areas consume them.

/// <summary>The authenticated caller of a request (set by the auth middleware).</summary>
/// <param name="AccessKey">The keypair's access key.</param>
/// <param name="UserId">The user's UUID.</param>
/// <param name="Email">The user's email (GraphQL <c>user_id</c> of a keypair is this).</param>
/// <param name="Role"><c>superadmin</c>, <c>admin</c>, <c>user</c> or <c>monitor</c>.</param>
/// <param name="Domain">The user's domain name.</param>
/// <param name="GroupName">The user's default group (project) name.</param>
/// <param name="GroupId">The user's default group id.</param>
public sealed record LocalIdentity(
    string AccessKey, Guid UserId, string Email, string Role, string Domain, string GroupName, Guid GroupId)
{
    /// <summary>True for <c>superadmin</c> and <c>admin</c>.</summary>
    public bool IsAdmin => Role is "superadmin" or "admin";

    /// <summary>True for <c>superadmin</c>.</summary>
    public bool IsSuperAdmin => Role == "superadmin";
}

/// <summary>A keypair known to the server.</summary>
/// <param name="AccessKey">Access key.</param>
/// <param name="SecretKey">Secret key (never logged).</param>
/// <param name="Email">Owner's email.</param>
/// <param name="UserId">Owner's UUID.</param>
/// <param name="Role">Owner's role.</param>
/// <param name="IsActive">Inactive keys are refused.</param>
/// <param name="RateLimit">Requests per rolling 15 minutes.</param>
/// <param name="ResourcePolicy">Resource policy name.</param>
/// <param name="Domain">Domain name.</param>
/// <param name="GroupName">Default group name.</param>
/// <param name="GroupId">Default group id.</param>
public sealed record LocalKeypair(
    string AccessKey, string SecretKey, string Email, Guid UserId, string Role, bool IsActive, int RateLimit,
    string ResourcePolicy, string Domain, string GroupName, Guid GroupId)
{
    /// <summary>The identity a request signed with this keypair gets.</summary>
    public LocalIdentity ToIdentity() => new(AccessKey, UserId, Email, Role, Domain, GroupName, GroupId);

    /// <inheritdoc />
    public override string ToString() => $"LocalKeypair({AccessKey}, {Email}, {Role})";
}

/// <summary>The keypairs the server accepts.</summary>
public interface IKeypairStore
{
    /// <summary>Finds an active or inactive keypair by access key.</summary>
    LocalKeypair? Find(string accessKey);

    /// <summary>Every keypair.</summary>
    IReadOnlyList<LocalKeypair> All { get; }
}

/// <summary>A read-only view of one compute session, for GraphQL and listings.</summary>
public sealed record SessionView
{
    /// <summary>Session id (= main kernel id).</summary>
    public required Guid Id { get; init; }
    /// <summary>Session name.</summary>
    public required string Name { get; init; }
    /// <summary>Owner access key.</summary>
    public required string AccessKey { get; init; }
    /// <summary>Owner user id.</summary>
    public required Guid UserId { get; init; }
    /// <summary>Owner email.</summary>
    public required string UserEmail { get; init; }
    /// <summary>Domain name.</summary>
    public required string DomainName { get; init; }
    /// <summary>Group name.</summary>
    public required string GroupName { get; init; }
    /// <summary>Group id.</summary>
    public required Guid GroupId { get; init; }
    /// <summary>Full image reference.</summary>
    public required string Image { get; init; }
    /// <summary>Architecture, e.g. x86_64.</summary>
    public string Architecture { get; init; } = "x86_64";
    /// <summary>Registry of the image.</summary>
    public string Registry { get; init; } = "cr.backend.ai";
    /// <summary><c>INTERACTIVE</c> or <c>BATCH</c>.</summary>
    public required string Type { get; init; }
    /// <summary>Upper-case status name.</summary>
    public required string Status { get; init; }
    /// <summary>Short reason, e.g. <c>user-requested</c>; empty when none.</summary>
    public string StatusInfo { get; init; } = "";
    /// <summary>JSON text of status_data, or null.</summary>
    public string? StatusDataJson { get; init; }
    /// <summary>Last status change.</summary>
    public required DateTimeOffset StatusChanged { get; init; }
    /// <summary>Creation time.</summary>
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>Termination time.</summary>
    public DateTimeOffset? TerminatedAt { get; init; }
    /// <summary>Scheduled start (batch).</summary>
    public DateTimeOffset? StartsAt { get; init; }
    /// <summary>Batch startup command.</summary>
    public string? StartupCommand { get; init; }
    /// <summary><c>UNDEFINED</c>, <c>SUCCESS</c> or <c>FAILURE</c>.</summary>
    public string Result { get; init; } = "UNDEFINED";
    /// <summary>Free tag.</summary>
    public string? Tag { get; init; }
    /// <summary>Scaling group.</summary>
    public string ScalingGroup { get; init; } = "default";
    /// <summary>JSON text of the internal service port records, or null.</summary>
    public string? ServicePortsJson { get; init; }
    /// <summary>JSON text of resource_opts, or null.</summary>
    public string? ResourceOptsJson { get; init; }
    /// <summary>Mounted vfolder names.</summary>
    public IReadOnlyList<string> Mounts { get; init; } = [];
    /// <summary>Occupied slots, slot name → decimal string (e.g. cpu → "1", mem → "1073741824").</summary>
    public IReadOnlyDictionary<string, string> OccupiedSlots { get; init; } = new Dictionary<string, string>();
    /// <summary>Number of executions so far.</summary>
    public long NumQueries { get; init; }
    /// <summary><c>single-node</c> or <c>multi-node</c>.</summary>
    public string ClusterMode { get; init; } = "single-node";
    /// <summary>Number of containers.</summary>
    public int ClusterSize { get; init; } = 1;
    /// <summary>Ids of sessions this one depends on.</summary>
    public IReadOnlyList<Guid> Dependencies { get; init; } = [];
    /// <summary>The local agent running it (null while pending).</summary>
    public string? Agent { get; init; }
}

/// <summary>Read access to sessions for the GraphQL area.</summary>
public interface ISessionQuerySource
{
    /// <summary>All sessions, including terminated ones, in no particular order.</summary>
    IReadOnlyList<SessionView> Sessions();

    /// <summary>One session by id, or null.</summary>
    SessionView? Find(Guid id);
}

/// <summary>The single local agent's capacity and usage.</summary>
public interface IAgentInfo
{
    /// <summary>Agent id, e.g. <c>local</c>.</summary>
    string Id { get; }
    /// <summary>Total slots, slot name → decimal string.</summary>
    IReadOnlyDictionary<string, string> AvailableSlots { get; }
    /// <summary>Occupied slots, slot name → decimal string.</summary>
    IReadOnlyDictionary<string, string> OccupiedSlots();
    /// <summary>When the agent started.</summary>
    DateTimeOffset FirstContact { get; }
}

/// <summary>Resolves vfolders for session mounts (implemented by the vfolder area).</summary>
public interface IVFolderMountResolver
{
    /// <summary>
    /// The host directory of the vfolder <paramref name="name"/> as seen by <paramref name="owner"/>,
    /// or null when the owner cannot access such a folder.
    /// </summary>
    string? ResolveMount(LocalIdentity owner, string name);
}

/// <summary>
/// Thrown by handlers to answer with a Backend.AI problem+json error; the server's error
/// middleware turns it into the response.
/// </summary>
public sealed class ApiProblemException : Exception
{
    /// <summary>Creates the error.</summary>
    /// <param name="type">The error type (status and default title).</param>
    /// <param name="msg">Optional <c>msg</c>.</param>
    /// <param name="data">Optional <c>data</c> (any JSON).</param>
    /// <param name="title">Overrides the type's title (e.g. "No such session.").</param>
    /// <param name="status">Overrides the type's HTTP status.</param>
    public ApiProblemException(ProblemType type, string? msg = null, JsonNode? data = null, string? title = null, int? status = null)
        : base(msg ?? title ?? type.Title)
    {
        Type = type;
        Msg = msg;
        ProblemData = data;
        Title = title ?? type.Title;
        Status = status ?? type.Status;
    }

    /// <summary>The error type.</summary>
    public ProblemType Type { get; }
    /// <summary>The <c>msg</c> field.</summary>
    public string? Msg { get; }
    /// <summary>The <c>data</c> field.</summary>
    public JsonNode? ProblemData { get; }
    /// <summary>The <c>title</c> field.</summary>
    public string Title { get; }
    /// <summary>The HTTP status.</summary>
    public int Status { get; }

    /// <summary>The problem+json body.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["type"] = Type.Uri, ["title"] = Title };
        if (Msg is not null) o["msg"] = Msg;
        if (ProblemData is not null) o["data"] = ProblemData.DeepClone();
        return o;
    }

    /// <summary>404 object-not-found with the given title, e.g. "No such session.".</summary>
    public static ApiProblemException NotFound(string title, string? msg = null) =>
        new(ProblemTypes.ObjectNotFound, msg, title: title);

    /// <summary>400 invalid-api-params with a message.</summary>
    public static ApiProblemException InvalidParams(string msg, JsonNode? data = null) =>
        new(ProblemTypes.InvalidApiParams, msg, data);
}

/// <summary>A resolved, live session for handlers outside the sessions area (streams, files).</summary>
/// <param name="View">The session's current view.</param>
/// <param name="Kernel">Its kernel, when it is running.</param>
/// <param name="WorkDirectory">Its work directory on disk.</param>
/// <param name="Terminating">Cancelled when the session starts terminating (stream handlers close then).</param>
public sealed record LocalSessionHandle(
    SessionView View, BackendAI.Local.Kernels.IKernel? Kernel, string WorkDirectory, CancellationToken Terminating);

/// <summary>Resolves session references (sessions.md §1) for a caller.</summary>
public interface ISessionResolver
{
    /// <summary>
    /// Resolves <paramref name="sessionRef"/> (id prefix, exact name, name prefix) among the owner's sessions;
    /// throws <see cref="ApiProblemException"/> (404 object-not-found "No such session." or too-many-sessions-matched).
    /// </summary>
    /// <param name="caller">The requester (its own sessions are searched).</param>
    /// <param name="sessionRef">The reference from the path.</param>
    /// <param name="allowStale">Also match terminated/cancelled sessions.</param>
    LocalSessionHandle Resolve(LocalIdentity caller, string sessionRef, bool allowStale = false);
}

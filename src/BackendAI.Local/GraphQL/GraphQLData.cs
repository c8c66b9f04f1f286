using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using BackendAI.Local.Hosting;
using BackendAI.Local.Kernels;
using BackendAI.Local.VFolders;
using GraphQL;

namespace BackendAI.Local.GraphQL;

/// <summary>Per-request GraphQL context: the caller and the data sources.</summary>
internal sealed class GraphQLRequestContext : Dictionary<string, object?>
{
    public required LocalIdentity Caller { get; init; }
    public required GraphQLData Data { get; init; }
}

/// <summary>One container (kernel) row; the local server models one per session.</summary>
internal sealed record ContainerView(SessionView Session);

/// <summary>A page of a paginated list.</summary>
internal sealed record Page<T>(IReadOnlyList<T> Items, int TotalCount);

/// <summary>An image the local server can run.</summary>
internal sealed record ImageView(string Name, string Tag, string Registry, string Architecture, bool Installed);

/// <summary>
/// The data behind the schema, scoped by the caller's role (admin-graphql.md §2). Every source is optional: a
/// missing one reads as empty.
/// </summary>
internal sealed class GraphQLData(IServiceProvider services)
{
    /// <summary>Session statuses (sessions.md §13.1).</summary>
    public static readonly string[] SessionStatuses =
        ["PENDING", "SCHEDULED", "PREPARING", "BUILDING", "PULLING", "RUNNING", "RESTARTING", "RESIZING", "SUSPENDED",
         "TERMINATING", "TERMINATED", "ERROR", "CANCELLED"];

    /// <summary>Agent statuses.</summary>
    public static readonly string[] AgentStatuses = ["ALIVE", "LOST", "RESTARTING", "TERMINATED"];

    /// <summary>Images offered when no session has used others yet.</summary>
    public static readonly string[] WellKnownImages =
        ["cr.backend.ai/stable/python:3.9-ubuntu20.04", "cr.backend.ai/stable/python:3.10-ubuntu22.04", "cr.backend.ai/stable/sim:1.0"];

    private ISessionQuerySource? Sessions => services.GetService<ISessionQuerySource>();
    public IKeypairStore? Keypairs => services.GetService<IKeypairStore>();
    public IAgentInfo? Agent => services.GetService<IAgentInfo>();
    private VFolderStore? Folders => services.GetService<VFolderStore>();

    public static ExecutionError Forbidden(string? msg = null) =>
        new(msg is null ? "Forbidden operation." : $"Forbidden operation. ({msg})");

    public static void RequireSuperAdmin(LocalIdentity caller)
    {
        if (!caller.IsSuperAdmin) throw Forbidden("superadmin privilege required");
    }

    public static void RequireAdmin(LocalIdentity caller)
    {
        if (!caller.IsAdmin) throw Forbidden("admin privilege required");
    }

    /// <summary>Applies the role rules to the <c>domain_name</c> argument.</summary>
    public static string? ScopeDomain(LocalIdentity caller, string? domain)
    {
        if (caller.IsSuperAdmin) return domain;
        if (domain is not null && domain != caller.Domain) throw Forbidden();
        return caller.Domain;
    }

    /// <summary>Applies the role rules to the <c>access_key</c> argument.</summary>
    public static string? ScopeAccessKey(LocalIdentity caller, string? accessKey)
    {
        if (caller.IsAdmin) return accessKey;
        if (accessKey is not null && accessKey != caller.AccessKey) throw Forbidden();
        return caller.AccessKey;
    }

    /// <summary>Sessions the caller may see, narrowed by the usual arguments.</summary>
    public IEnumerable<SessionView> VisibleSessions(LocalIdentity caller, string? domain = null, string? accessKey = null, string? groupId = null)
    {
        domain = ScopeDomain(caller, domain);
        accessKey = ScopeAccessKey(caller, accessKey);
        Guid? group = null;
        if (groupId is not null)
        {
            if (!Guid.TryParse(groupId, out var g)) throw new ExecutionError($"Invalid group_id: {groupId}");
            group = g;
        }
        IEnumerable<SessionView> all = Sessions?.Sessions() ?? [];
        return all.Where(s => (domain is null || s.DomainName == domain) && (accessKey is null || s.AccessKey == accessKey) &&
            (group is null || s.GroupId == group));
    }

    public SessionView? FindSession(LocalIdentity caller, Guid id)
    {
        var s = Sessions?.Find(id);
        if (s is null) return null;
        if (!caller.IsSuperAdmin && s.DomainName != caller.Domain) return null;
        if (!caller.IsAdmin && s.AccessKey != caller.AccessKey) return null;
        return s;
    }

    /// <summary>Parses and checks a comma-separated status list; null means any.</summary>
    public static HashSet<string>? ParseStatuses(string? status, string[] known)
    {
        if (string.IsNullOrWhiteSpace(status)) return null;
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in status.Split(','))
        {
            var s = raw.Trim().ToUpperInvariant();
            if (!known.Contains(s)) throw new ExecutionError($"Invalid status: {raw.Trim()} (expected one of {string.Join(", ", known)})");
            set.Add(s);
        }
        return set;
    }

    /// <summary>Filter, order (or the default order) and page.</summary>
    public static Page<T> Paginate<T>(IEnumerable<T> items, IReadOnlyDictionary<string, QueryField<T>> fields, string? filter, string? order,
        Comparison<T> defaultOrder, int limit, int offset)
    {
        if (limit < 0 || offset < 0) throw new ExecutionError("limit and offset must not be negative.");
        if (limit > 100) throw new ExecutionError("The maximum page size (limit) is 100.");
        try
        {
            if (!string.IsNullOrWhiteSpace(filter)) items = items.Where(QueryLanguage.ParseFilter(filter, fields));
            var list = items.ToList();
            list.Sort(string.IsNullOrWhiteSpace(order) ? defaultOrder : QueryLanguage.ParseOrder(order, fields));
            return new Page<T>(list.Skip(offset).Take(limit).ToList(), list.Count);
        }
        catch (QueryLanguageException e)
        {
            throw new ExecutionError(e.Message);
        }
    }

    /// <summary>Most recently changed first.</summary>
    public static int LatestChangeFirst(SessionView a, SessionView b) => LastChange(b).CompareTo(LastChange(a));

    private static DateTimeOffset LastChange(SessionView s)
    {
        var t = s.CreatedAt;
        if (s.StatusChanged > t) t = s.StatusChanged;
        if (s.TerminatedAt is { } term && term > t) t = term;
        return t;
    }

    public IEnumerable<LocalKeypair> VisibleKeypairs(LocalIdentity caller, string? domain)
    {
        domain = ScopeDomain(caller, domain);
        IEnumerable<LocalKeypair> all = Keypairs?.All ?? [];
        return all.Where(k => domain is null || k.Domain == domain);
    }

    public LocalKeypair? FindKeypair(LocalIdentity caller, string? domain, string? accessKey)
    {
        domain = ScopeDomain(caller, domain);
        accessKey ??= caller.AccessKey;
        if (!caller.IsAdmin && accessKey != caller.AccessKey) throw Forbidden();
        var k = Keypairs?.Find(accessKey);
        return k is not null && (domain is null || k.Domain == domain) ? k : null;
    }

    public IEnumerable<SessionView> SessionsOfKey(string accessKey) =>
        (Sessions?.Sessions() ?? []).Where(s => s.AccessKey == accessKey);

    public IEnumerable<VFolderRecord> VisibleFolders(LocalIdentity caller, string? domain, string? groupId, string? accessKey)
    {
        var store = Folders;
        if (store is null) return [];
        domain = ScopeDomain(caller, domain);
        IEnumerable<VFolderRecord> folders = caller.IsAdmin
            ? store.All().Where(f => domain is null || f.DomainName == domain)
            : store.Accessible(caller).Select(a => a.Folder);
        if (groupId is not null)
        {
            if (!Guid.TryParse(groupId, out var g)) throw new ExecutionError($"Invalid group_id: {groupId}");
            folders = folders.Where(f => f.GroupId == g);
        }
        if (accessKey is not null)
        {
            var owner = ScopeAccessKey(caller, accessKey) is { } key ? Keypairs?.Find(key) : null;
            folders = folders.Where(f => owner is not null && f.UserId == owner.UserId);
        }
        return folders;
    }

    public (int Files, long Bytes) FolderUsage(VFolderRecord folder) =>
        Folders is { } store ? VFolderFiles.Usage(store.RootOf(folder)) : (0, 0);

    public IEnumerable<ImageView> Images()
    {
        var factory = services.GetService<IKernelFactory>();
        var refs = WellKnownImages.Concat((Sessions?.Sessions() ?? []).Select(s => s.Image)).Distinct(StringComparer.Ordinal);
        foreach (var reference in refs)
        {
            var installed = factory?.Supports(reference) ?? true;
            var (registry, name, tag) = SplitImage(reference);
            yield return new ImageView(name, tag, registry, LocalArchitecture, installed);
        }
    }

    /// <summary><c>cr.backend.ai/stable/python:3.9</c> → (<c>cr.backend.ai</c>, <c>stable/python</c>, <c>3.9</c>).</summary>
    public static (string Registry, string Name, string Tag) SplitImage(string reference)
    {
        var colon = reference.LastIndexOf(':');
        var slash = reference.LastIndexOf('/');
        var (path, tag) = colon > slash ? (reference[..colon], reference[(colon + 1)..]) : (reference, "latest");
        var first = path.IndexOf('/');
        if (first > 0 && path[..first].Contains('.', StringComparison.Ordinal))
            return (path[..first], path[(first + 1)..], tag);
        return ("index.docker.io", path, tag);
    }

    public static string LocalArchitecture => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "x86_64",
        Architecture.Arm64 => "aarch64",
        var a => a.ToString().ToLowerInvariant(),
    };

    /// <summary>Python <c>json.dumps</c> of a flat string map: <c>{"cpu": "1", "mem": "1073741824"}</c>.</summary>
    public static string SlotsJson(IReadOnlyDictionary<string, string> slots)
    {
        var sb = new StringBuilder("{");
        foreach (var (k, v) in slots)
        {
            if (sb.Length > 1) sb.Append(", ");
            sb.Append(JsonSerializer.Serialize(k)).Append(": ").Append(JsonSerializer.Serialize(v));
        }
        return sb.Append('}').ToString();
    }
}

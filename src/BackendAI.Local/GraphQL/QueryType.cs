using BackendAI.Local.Hosting;
using BackendAI.Local.VFolders;
using GraphQL;
using GraphQL.Types;

namespace BackendAI.Local.GraphQL;

/// <summary>The root <c>Query</c> type: sessions, containers, keypairs, agents, vfolders and images.</summary>
internal sealed class QueryType : ObjectGraphType
{
    internal static readonly Dictionary<string, QueryField<SessionView>> SessionFields = new(StringComparer.Ordinal)
    {
        ["id"] = new(FieldKind.String, s => s.Id.ToString()),
        ["type"] = new(FieldKind.Enum, s => s.Type),
        ["name"] = new(FieldKind.String, s => s.Name),
        ["image"] = new(FieldKind.String, s => s.Image),
        ["architecture"] = new(FieldKind.String, s => s.Architecture),
        ["domain_name"] = new(FieldKind.String, s => s.DomainName),
        ["group_name"] = new(FieldKind.String, s => s.GroupName),
        ["user_email"] = new(FieldKind.String, s => s.UserEmail),
        ["access_key"] = new(FieldKind.String, s => s.AccessKey),
        ["scaling_group"] = new(FieldKind.String, s => s.ScalingGroup),
        ["cluster_mode"] = new(FieldKind.Enum, s => s.ClusterMode),
        ["cluster_template"] = new(FieldKind.String, _ => null),
        ["cluster_size"] = new(FieldKind.Integer, s => (long)s.ClusterSize),
        ["status"] = new(FieldKind.Enum, s => s.Status),
        ["status_info"] = new(FieldKind.String, s => s.StatusInfo.OrNull()),
        ["status_changed"] = new(FieldKind.DateTime, s => s.StatusChanged),
        ["result"] = new(FieldKind.Enum, s => s.Result),
        ["created_at"] = new(FieldKind.DateTime, s => s.CreatedAt),
        ["terminated_at"] = new(FieldKind.DateTime, s => s.TerminatedAt),
        ["starts_at"] = new(FieldKind.DateTime, s => s.StartsAt),
        ["startup_command"] = new(FieldKind.String, s => s.StartupCommand, Orderable: false),
        ["agent"] = new(FieldKind.String, s => s.Agent, Orderable: false),
        ["agents"] = new(FieldKind.StringList, s => s.Agent is null ? Array.Empty<string>() : new[] { s.Agent }, Orderable: false),
    };

    internal static readonly Dictionary<string, QueryField<LocalKeypair>> KeypairFields = new(StringComparer.Ordinal)
    {
        ["access_key"] = new(FieldKind.String, k => k.AccessKey),
        ["user_id"] = new(FieldKind.String, k => k.Email),
        ["email"] = new(FieldKind.String, k => k.Email),
        ["is_active"] = new(FieldKind.Boolean, k => k.IsActive),
        ["is_admin"] = new(FieldKind.Boolean, k => k.Role is "superadmin" or "admin"),
        ["resource_policy"] = new(FieldKind.String, k => k.ResourcePolicy),
        ["rate_limit"] = new(FieldKind.Integer, k => (long)k.RateLimit),
    };

    internal static readonly Dictionary<string, QueryField<AgentView>> AgentFields = new(StringComparer.Ordinal)
    {
        ["id"] = new(FieldKind.String, a => a.Info.Id),
        ["status"] = new(FieldKind.Enum, _ => "ALIVE"),
        ["scaling_group"] = new(FieldKind.String, _ => "default"),
        ["schedulable"] = new(FieldKind.Boolean, _ => true),
        ["region"] = new(FieldKind.String, _ => "local"),
        ["addr"] = new(FieldKind.String, _ => "local"),
        ["architecture"] = new(FieldKind.String, _ => GraphQLData.LocalArchitecture),
        ["first_contact"] = new(FieldKind.DateTime, a => a.Info.FirstContact),
    };

    internal static readonly Dictionary<string, QueryField<VFolderRecord>> FolderFields = new(StringComparer.Ordinal)
    {
        ["id"] = new(FieldKind.String, f => f.Id.ToString()),
        ["host"] = new(FieldKind.String, f => f.Host),
        ["name"] = new(FieldKind.String, f => f.Name),
        ["user_email"] = new(FieldKind.String, f => f.UserEmail),
        ["group_name"] = new(FieldKind.String, f => f.GroupName),
        ["creator"] = new(FieldKind.String, f => f.Creator),
        ["unmanaged_path"] = new(FieldKind.String, f => f.UnmanagedPath),
        ["usage_mode"] = new(FieldKind.Enum, f => f.UsageMode),
        ["permission"] = new(FieldKind.Enum, f => f.Permission),
        ["ownership_type"] = new(FieldKind.Enum, f => f.OwnershipType),
        ["max_size"] = new(FieldKind.Integer, f => f.MaxSizeMiB),
        ["created_at"] = new(FieldKind.DateTime, f => f.CreatedAt),
        ["cloneable"] = new(FieldKind.Boolean, f => f.Cloneable),
    };

    public QueryType()
    {
        Name = "Queries";

        Field<ComputeSessionListType>("compute_session_list")
            .Argument<NonNullGraphType<IntGraphType>>("limit")
            .Argument<NonNullGraphType<IntGraphType>>("offset")
            .Argument<StringGraphType>("filter")
            .Argument<StringGraphType>("order")
            .Argument<StringGraphType>("domain_name")
            .Argument<StringGraphType>("group_id")
            .Argument<StringGraphType>("access_key")
            .Argument<StringGraphType>("status")
            .Resolve(c =>
            {
                var ctx = c.Context();
                var statuses = GraphQLData.ParseStatuses(c.GetArgument<string?>("status"), GraphQLData.SessionStatuses);
                var sessions = ctx.Data.VisibleSessions(ctx.Caller, c.GetArgument<string?>("domain_name"), c.GetArgument<string?>("access_key"),
                        c.GetArgument<string?>("group_id"))
                    .Where(s => statuses is null || statuses.Contains(s.Status));
                return GraphQLData.Paginate(sessions, SessionFields, c.GetArgument<string?>("filter"), c.GetArgument<string?>("order"),
                    GraphQLData.LatestChangeFirst, c.GetArgument<int>("limit"), c.GetArgument<int>("offset"));
            });

        Field<ComputeSessionType>("compute_session")
            .Argument<NonNullGraphType<UuidGraphType>>("id")
            .Resolve(c => c.Context().Data.FindSession(c.Context().Caller, c.GetArgument<Guid>("id")));

        Field<ComputeContainerType>("compute_container")
            .Argument<NonNullGraphType<UuidGraphType>>("id")
            .Resolve(c => c.Context().Data.FindSession(c.Context().Caller, c.GetArgument<Guid>("id")) is { } s ? new ContainerView(s) : null);

        Field<ComputeContainerListType>("compute_container_list")
            .Argument<NonNullGraphType<IntGraphType>>("limit")
            .Argument<NonNullGraphType<IntGraphType>>("offset")
            .Argument<StringGraphType>("filter")
            .Argument<StringGraphType>("order")
            .Argument<NonNullGraphType<IdGraphType>>("session_id")
            .Argument<StringGraphType>("role")
            .Resolve(c =>
            {
                if (!string.IsNullOrWhiteSpace(c.GetArgument<string?>("filter")) || !string.IsNullOrWhiteSpace(c.GetArgument<string?>("order")))
                    throw new ExecutionError("filter and order are not supported on compute_container_list by this server.");
                var ctx = c.Context();
                var id = Guid.TryParse(c.GetArgument<string>("session_id"), out var g) ? g : throw new ExecutionError("Invalid session_id.");
                var session = ctx.Data.FindSession(ctx.Caller, id);
                var role = c.GetArgument<string?>("role");
                var items = session is null || (role is not null && role != "main") ? [] : new List<ContainerView> { new(session) };
                return new Page<ContainerView>(items.Skip(c.GetArgument<int>("offset")).Take(c.GetArgument<int>("limit")).ToList(), items.Count);
            });

        Field<KeyPairType>("keypair")
            .Argument<StringGraphType>("domain_name")
            .Argument<StringGraphType>("access_key")
            .Resolve(c => c.Context().Data.FindKeypair(c.Context().Caller, c.GetArgument<string?>("domain_name"), c.GetArgument<string?>("access_key")));

        Field<ListGraphType<KeyPairType>>("keypairs")
            .Argument<StringGraphType>("domain_name")
            .Argument<StringGraphType>("email")
            .Argument<BooleanGraphType>("is_active")
            .Resolve(c => Keypairs(c).ToList());

        Field<KeyPairListType>("keypair_list")
            .Argument<NonNullGraphType<IntGraphType>>("limit")
            .Argument<NonNullGraphType<IntGraphType>>("offset")
            .Argument<StringGraphType>("filter")
            .Argument<StringGraphType>("order")
            .Argument<StringGraphType>("domain_name")
            .Argument<StringGraphType>("email")
            .Argument<BooleanGraphType>("is_active")
            .Resolve(c => GraphQLData.Paginate(Keypairs(c), KeypairFields, c.GetArgument<string?>("filter"), c.GetArgument<string?>("order"),
                (a, b) => string.CompareOrdinal(a.AccessKey, b.AccessKey), c.GetArgument<int>("limit"), c.GetArgument<int>("offset")));

        Field<AgentType>("agent")
            .Argument<NonNullGraphType<StringGraphType>>("agent_id")
            .Resolve(c => Agents(c, null, null).FirstOrDefault(a => a.Info.Id == c.GetArgument<string>("agent_id")));

        Field<ListGraphType<AgentType>>("agents")
            .Argument<StringGraphType>("scaling_group")
            .Argument<StringGraphType>("status")
            .Resolve(c => Agents(c, c.GetArgument<string?>("scaling_group"), c.GetArgument<string?>("status")).ToList());

        Field<AgentListType>("agent_list")
            .Argument<NonNullGraphType<IntGraphType>>("limit")
            .Argument<NonNullGraphType<IntGraphType>>("offset")
            .Argument<StringGraphType>("filter")
            .Argument<StringGraphType>("order")
            .Argument<StringGraphType>("scaling_group")
            .Argument<StringGraphType>("status")
            .Resolve(c => GraphQLData.Paginate(Agents(c, c.GetArgument<string?>("scaling_group"), c.GetArgument<string?>("status")), AgentFields,
                c.GetArgument<string?>("filter"), c.GetArgument<string?>("order"), (a, b) => string.CompareOrdinal(a.Info.Id, b.Info.Id),
                c.GetArgument<int>("limit"), c.GetArgument<int>("offset")));

        Field<VirtualFolderListType>("vfolder_list")
            .Argument<NonNullGraphType<IntGraphType>>("limit")
            .Argument<NonNullGraphType<IntGraphType>>("offset")
            .Argument<StringGraphType>("filter")
            .Argument<StringGraphType>("order")
            .Argument<StringGraphType>("domain_name")
            .Argument<UuidGraphType>("group_id")
            .Argument<StringGraphType>("access_key")
            .Resolve(c => GraphQLData.Paginate(Folders(c), FolderFields, c.GetArgument<string?>("filter"), c.GetArgument<string?>("order"),
                (a, b) => b.CreatedAt.CompareTo(a.CreatedAt), c.GetArgument<int>("limit"), c.GetArgument<int>("offset")));

        Field<ListGraphType<VirtualFolderType>>("vfolders")
            .Argument<StringGraphType>("domain_name")
            .Argument<UuidGraphType>("group_id")
            .Argument<StringGraphType>("access_key")
            .Resolve(c => Folders(c).OrderByDescending(f => f.CreatedAt).ToList());

        Field<ListGraphType<ImageType>>("images")
            .Argument<BooleanGraphType>("is_installed")
            .Argument<BooleanGraphType>("is_operation")
            .Resolve(c =>
            {
                var installed = c.GetArgument<bool?>("is_installed");
                return c.Context().Data.Images().Where(i => installed is null || i.Installed == installed).ToList();
            });
    }

    private static IEnumerable<LocalKeypair> Keypairs(IResolveFieldContext c)
    {
        var ctx = c.Context();
        GraphQLData.RequireAdmin(ctx.Caller);
        var email = c.GetArgument<string?>("email");
        var active = c.GetArgument<bool?>("is_active");
        return ctx.Data.VisibleKeypairs(ctx.Caller, c.GetArgument<string?>("domain_name"))
            .Where(k => (email is null || k.Email == email) && (active is null || k.IsActive == active));
    }

    private static IEnumerable<AgentView> Agents(IResolveFieldContext c, string? scalingGroup, string? status)
    {
        var ctx = c.Context();
        GraphQLData.RequireSuperAdmin(ctx.Caller);
        var statuses = GraphQLData.ParseStatuses(status, GraphQLData.AgentStatuses);
        if (ctx.Data.Agent is not { } info) return [];
        if (scalingGroup is not null && scalingGroup != "default") return [];
        if (statuses is not null && !statuses.Contains("ALIVE")) return [];
        return [new AgentView(info)];
    }

    private static IEnumerable<VFolderRecord> Folders(IResolveFieldContext c)
    {
        var ctx = c.Context();
        var group = c.GetArgument<Guid?>("group_id");
        return ctx.Data.VisibleFolders(ctx.Caller, c.GetArgument<string?>("domain_name"), group?.ToString(), c.GetArgument<string?>("access_key"));
    }
}

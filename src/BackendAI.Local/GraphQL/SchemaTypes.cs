using BackendAI.Local.Hosting;
using BackendAI.Local.VFolders;
using GraphQL;
using GraphQL.Types;

namespace BackendAI.Local.GraphQL;

/// <summary>Helpers shared by the object types.</summary>
internal static class Resolve
{
    public static GraphQLRequestContext Context(this IResolveFieldContext context) => (GraphQLRequestContext)context.UserContext;

    public static string? OrNull(this string? s) => string.IsNullOrEmpty(s) ? null : s;
}

/// <summary><c>ComputeSession</c> (admin-graphql.md §3.1).</summary>
internal sealed class ComputeSessionType : ObjectGraphType<SessionView>
{
    public ComputeSessionType()
    {
        Name = "ComputeSession";
        Field<IdGraphType>("id").Resolve(c => c.Source.Id.ToString());
        Field<UuidGraphType>("session_id").Resolve(c => c.Source.Id);
        Field<StringGraphType>("name").Resolve(c => c.Source.Name);
        Field<StringGraphType>("type").Resolve(c => c.Source.Type);
        Field<StringGraphType>("tag").Resolve(c => c.Source.Tag);
        Field<StringGraphType>("image").Resolve(c => c.Source.Image);
        Field<StringGraphType>("architecture").Resolve(c => c.Source.Architecture);
        Field<StringGraphType>("registry").Resolve(c => c.Source.Registry);
        Field<StringGraphType>("cluster_template").Resolve(_ => null);
        Field<StringGraphType>("cluster_mode").Resolve(c => c.Source.ClusterMode);
        Field<IntGraphType>("cluster_size").Resolve(c => c.Source.ClusterSize);
        Field<StringGraphType>("domain_name").Resolve(c => c.Source.DomainName);
        Field<StringGraphType>("group_name").Resolve(c => c.Source.GroupName);
        Field<UuidGraphType>("group_id").Resolve(c => c.Source.GroupId);
        Field<UuidGraphType>("user_id").Resolve(c => c.Source.UserId);
        Field<StringGraphType>("user_email").Resolve(c => c.Source.UserEmail);
        Field<StringGraphType>("access_key").Resolve(c => c.Source.AccessKey);
        Field<StringGraphType>("created_user_email").Resolve(_ => null);
        Field<UuidGraphType>("created_user_id").Resolve(_ => null);
        Field<StringGraphType>("status").Resolve(c => c.Source.Status);
        Field<StringGraphType>("status_info").Resolve(c => c.Source.StatusInfo);
        Field<JsonStringScalar>("status_data").Resolve(c => c.Source.StatusDataJson);
        Field<IsoDateTimeScalar>("status_changed").Resolve(c => c.Source.StatusChanged);
        Field<IsoDateTimeScalar>("created_at").Resolve(c => c.Source.CreatedAt);
        Field<IsoDateTimeScalar>("terminated_at").Resolve(c => c.Source.TerminatedAt);
        Field<IsoDateTimeScalar>("starts_at").Resolve(c => c.Source.StartsAt);
        Field<StringGraphType>("startup_command").Resolve(c => c.Source.StartupCommand);
        Field<StringGraphType>("result").Resolve(c => c.Source.Result);
        Field<JsonStringScalar>("resource_opts").Resolve(c => c.Source.ResourceOptsJson);
        Field<StringGraphType>("scaling_group").Resolve(c => c.Source.ScalingGroup);
        Field<JsonStringScalar>("service_ports").Resolve(c => c.Source.ServicePortsJson);
        Field<ListGraphType<StringGraphType>>("mounts").Resolve(c => c.Source.Mounts);
        Field<JsonStringScalar>("occupied_slots").Resolve(c => GraphQLData.SlotsJson(c.Source.OccupiedSlots));
        Field<BigIntScalar>("num_queries").Resolve(c => c.Source.NumQueries);
        Field<ListGraphType<ComputeContainerType>>("containers").Resolve(c => new[] { new ContainerView(c.Source) });
        Field<ListGraphType<ComputeSessionType>>("dependencies").Resolve(c =>
            c.Source.Dependencies.Select(id => c.Context().Data.FindSession(c.Context().Caller, id)).Where(s => s is not null).ToList());
    }
}

/// <summary><c>ComputeContainer</c> (admin-graphql.md §3.2).</summary>
internal sealed class ComputeContainerType : ObjectGraphType<ContainerView>
{
    public ComputeContainerType()
    {
        Name = "ComputeContainer";
        Field<IdGraphType>("id").Resolve(c => c.Source.Session.Id.ToString());
        Field<IntGraphType>("idx").Resolve(_ => 1);
        Field<StringGraphType>("role").Resolve(_ => "main");
        Field<StringGraphType>("hostname").Resolve(_ => "main1");
        Field<IntGraphType>("cluster_idx").Resolve(_ => 1);
        Field<StringGraphType>("cluster_role").Resolve(_ => "main");
        Field<StringGraphType>("cluster_hostname").Resolve(_ => "main1");
        Field<UuidGraphType>("session_id").Resolve(c => c.Source.Session.Id);
        Field<StringGraphType>("image").Resolve(c => c.Source.Session.Image);
        Field<StringGraphType>("architecture").Resolve(c => c.Source.Session.Architecture);
        Field<StringGraphType>("registry").Resolve(c => c.Source.Session.Registry);
        Field<StringGraphType>("status").Resolve(c => c.Source.Session.Status);
        Field<IsoDateTimeScalar>("status_changed").Resolve(c => c.Source.Session.StatusChanged);
        Field<StringGraphType>("status_info").Resolve(c => c.Source.Session.StatusInfo);
        Field<JsonStringScalar>("status_data").Resolve(c => c.Source.Session.StatusDataJson);
        Field<IsoDateTimeScalar>("created_at").Resolve(c => c.Source.Session.CreatedAt);
        Field<IsoDateTimeScalar>("terminated_at").Resolve(c => c.Source.Session.TerminatedAt);
        Field<IsoDateTimeScalar>("starts_at").Resolve(c => c.Source.Session.StartsAt);
        Field<StringGraphType>("agent").Resolve(c => c.Context().Caller.IsSuperAdmin ? c.Source.Session.Agent : null);
        Field<StringGraphType>("container_id").Resolve(_ => null);
        Field<JsonStringScalar>("resource_opts").Resolve(c => c.Source.Session.ResourceOptsJson);
        Field<JsonStringScalar>("occupied_slots").Resolve(c => GraphQLData.SlotsJson(c.Source.Session.OccupiedSlots));
        Field<JsonStringScalar>("live_stat").Resolve(_ => null);
        Field<JsonStringScalar>("last_stat").Resolve(_ => null);
    }
}

/// <summary><c>KeyPair</c> (admin-graphql.md §5).</summary>
internal sealed class KeyPairType : ObjectGraphType<LocalKeypair>
{
    public KeyPairType()
    {
        Name = "KeyPair";
        Field<IdGraphType>("id").Resolve(c => c.Source.AccessKey);
        Field<StringGraphType>("user_id").Resolve(c => c.Source.Email);
        Field<StringGraphType>("full_name").Resolve(_ => null);
        Field<StringGraphType>("access_key").Resolve(c => c.Source.AccessKey);
        Field<StringGraphType>("secret_key").Resolve(c => c.Source.SecretKey);
        Field<BooleanGraphType>("is_active").Resolve(c => c.Source.IsActive);
        Field<BooleanGraphType>("is_admin").Resolve(c => c.Source.Role is "superadmin" or "admin");
        Field<StringGraphType>("resource_policy").Resolve(c => c.Source.ResourcePolicy);
        Field<IsoDateTimeScalar>("created_at").Resolve(_ => null);
        Field<IsoDateTimeScalar>("last_used").Resolve(_ => null);
        Field<IntGraphType>("rate_limit").Resolve(c => c.Source.RateLimit);
        Field<BigIntScalar>("num_queries").Resolve(c => c.Context().Data.SessionsOfKey(c.Source.AccessKey).Sum(s => s.NumQueries));
        Field<UuidGraphType>("user").Resolve(c => c.Source.UserId);
        Field<UserInfoType>("user_info").Resolve(c => c.Source);
        Field<StringGraphType>("ssh_public_key").Resolve(_ => null);
        Field<IntGraphType>("concurrency_used").Resolve(c =>
            c.Context().Data.SessionsOfKey(c.Source.AccessKey).Count(s => s.Status is not ("TERMINATED" or "CANCELLED")));
        Field<IntGraphType>("concurrency_limit").Resolve(_ => 5);
        Field<ListGraphType<VirtualFolderType>>("vfolders").Resolve(c =>
            c.Context().Data.VisibleFolders(c.Context().Caller, null, null, null).Where(f => f.UserId == c.Source.UserId).ToList());
        Field<ListGraphType<ComputeSessionType>>("compute_sessions")
            .Argument<StringGraphType>("status")
            .Resolve(c =>
            {
                var statuses = GraphQLData.ParseStatuses(c.GetArgument<string?>("status"), GraphQLData.SessionStatuses);
                return c.Context().Data.SessionsOfKey(c.Source.AccessKey).Where(s => statuses is null || statuses.Contains(s.Status))
                    .OrderBy(s => s.CreatedAt).ToList();
            });
    }
}

/// <summary>
/// <c>UserInfo</c>, the owner summary under <c>KeyPair.user_info</c> (admin-graphql.md §5); the 22.03 CLI's
/// <c>admin keypair list</c> asks for <c>user_info { full_name }</c>. Local users carry no full name.
/// </summary>
internal sealed class UserInfoType : ObjectGraphType<LocalKeypair>
{
    public UserInfoType()
    {
        Name = "UserInfo";
        Field<StringGraphType>("email").Resolve(c => c.Source.Email);
        Field<StringGraphType>("full_name").Resolve(_ => null);
    }
}

/// <summary>The local agent.</summary>
internal sealed record AgentView(IAgentInfo Info);

/// <summary><c>Agent</c> (admin-graphql.md §6).</summary>
internal sealed class AgentType : ObjectGraphType<AgentView>
{
    public AgentType()
    {
        Name = "Agent";
        Field<IdGraphType>("id").Resolve(c => c.Source.Info.Id);
        Field<StringGraphType>("status").Resolve(_ => "ALIVE");
        Field<IsoDateTimeScalar>("status_changed").Resolve(c => c.Source.Info.FirstContact);
        Field<StringGraphType>("region").Resolve(_ => "local");
        Field<StringGraphType>("scaling_group").Resolve(_ => "default");
        Field<BooleanGraphType>("schedulable").Resolve(_ => true);
        Field<JsonStringScalar>("available_slots").Resolve(c => GraphQLData.SlotsJson(c.Source.Info.AvailableSlots));
        Field<JsonStringScalar>("occupied_slots").Resolve(c => GraphQLData.SlotsJson(c.Source.Info.OccupiedSlots()));
        Field<StringGraphType>("addr").Resolve(_ => "local");
        Field<StringGraphType>("architecture").Resolve(_ => GraphQLData.LocalArchitecture);
        Field<IsoDateTimeScalar>("first_contact").Resolve(c => c.Source.Info.FirstContact);
        Field<IsoDateTimeScalar>("lost_at").Resolve(_ => null);
        Field<JsonStringScalar>("live_stat").Resolve(_ => null);
        Field<StringGraphType>("version").Resolve(_ => "22.03.3");
        Field<JsonStringScalar>("compute_plugins").Resolve(_ => "{}");
        Field<JsonStringScalar>("hardware_metadata").Resolve(_ => null);
        // legacy per-slot fields (admin-graphql.md §6) that the 22.03 CLI's agent listing still asks for
        Field<IntGraphType>("mem_slots").Resolve(c => (int)(Slot(c.Source.Info.AvailableSlots, "mem") / (1L << 20)));
        Field<FloatGraphType>("cpu_slots").Resolve(c => Slot(c.Source.Info.AvailableSlots, "cpu"));
        Field<FloatGraphType>("gpu_slots").Resolve(_ => 0d);
        Field<FloatGraphType>("tpu_slots").Resolve(_ => 0d);
        Field<IntGraphType>("used_mem_slots").Resolve(c => (int)(Slot(c.Source.Info.OccupiedSlots(), "mem") / (1L << 20)));
        Field<FloatGraphType>("used_cpu_slots").Resolve(c => Slot(c.Source.Info.OccupiedSlots(), "cpu"));
        Field<FloatGraphType>("used_gpu_slots").Resolve(_ => 0d);
        Field<FloatGraphType>("used_tpu_slots").Resolve(_ => 0d);
        Field<FloatGraphType>("cpu_cur_pct").Resolve(_ => 0d);
        Field<FloatGraphType>("mem_cur_bytes").Resolve(c => Slot(c.Source.Info.OccupiedSlots(), "mem"));
        Field<ListGraphType<ComputeContainerType>>("compute_containers")
            .Argument<StringGraphType>("status")
            .Resolve(c =>
            {
                var statuses = GraphQLData.ParseStatuses(c.GetArgument<string?>("status"), GraphQLData.SessionStatuses);
                return c.Context().Data.VisibleSessions(c.Context().Caller)
                    .Where(s => s.Agent == c.Source.Info.Id && (statuses is null || statuses.Contains(s.Status)))
                    .Select(s => new ContainerView(s)).ToList();
            });
    }

    private static double Slot(IReadOnlyDictionary<string, string> slots, string name) =>
        slots.TryGetValue(name, out var v) && double.TryParse(v, System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : 0d;
}

/// <summary><c>VirtualFolder</c> (admin-graphql.md §7).</summary>
internal sealed class VirtualFolderType : ObjectGraphType<VFolderRecord>
{
    public VirtualFolderType()
    {
        Name = "VirtualFolder";
        Field<IdGraphType>("id").Resolve(c => c.Source.Id.ToString());
        Field<StringGraphType>("host").Resolve(c => c.Source.Host);
        Field<StringGraphType>("name").Resolve(c => c.Source.Name);
        Field<UuidGraphType>("user").Resolve(c => c.Source.UserId);
        Field<StringGraphType>("user_email").Resolve(c => c.Source.UserEmail);
        Field<UuidGraphType>("group").Resolve(c => c.Source.GroupId);
        Field<StringGraphType>("group_name").Resolve(c => c.Source.GroupName);
        Field<StringGraphType>("creator").Resolve(c => c.Source.Creator);
        Field<StringGraphType>("unmanaged_path").Resolve(c => c.Source.UnmanagedPath);
        Field<StringGraphType>("usage_mode").Resolve(c => c.Source.UsageMode);
        Field<StringGraphType>("permission").Resolve(c => c.Source.Permission);
        Field<StringGraphType>("ownership_type").Resolve(c => c.Source.OwnershipType);
        Field<IntGraphType>("max_files").Resolve(_ => 0);
        Field<BigIntScalar>("max_size").Resolve(c => c.Source.MaxSizeMiB);
        Field<IsoDateTimeScalar>("created_at").Resolve(c => c.Source.CreatedAt);
        Field<IsoDateTimeScalar>("last_used").Resolve(c => c.Source.CreatedAt);
        Field<IntGraphType>("num_files").Resolve(c => c.Context().Data.FolderUsage(c.Source).Files);
        Field<BigIntScalar>("cur_size").Resolve(c => c.Context().Data.FolderUsage(c.Source).Bytes);
        Field<BooleanGraphType>("cloneable").Resolve(c => c.Source.Cloneable);
    }
}

/// <summary><c>Image</c> (a few fields).</summary>
internal sealed class ImageType : ObjectGraphType<ImageView>
{
    public ImageType()
    {
        Name = "Image";
        Field<StringGraphType>("name").Resolve(c => c.Source.Name);
        Field<StringGraphType>("tag").Resolve(c => c.Source.Tag);
        Field<StringGraphType>("registry").Resolve(c => c.Source.Registry);
        Field<StringGraphType>("architecture").Resolve(c => c.Source.Architecture);
        Field<BooleanGraphType>("installed").Resolve(c => c.Source.Installed);
    }
}

/// <summary>A paginated list type: <c>{ items, total_count }</c>.</summary>
internal class PageType<TItem, TItemType> : ObjectGraphType<Page<TItem>> where TItemType : IGraphType
{
    protected PageType(string name)
    {
        Name = name;
        Field<NonNullGraphType<ListGraphType<TItemType>>>("items").Resolve(c => c.Source.Items);
        Field<NonNullGraphType<IntGraphType>>("total_count").Resolve(c => c.Source.TotalCount);
    }
}

internal sealed class ComputeSessionListType() : PageType<SessionView, ComputeSessionType>("ComputeSessionList");
internal sealed class ComputeContainerListType() : PageType<ContainerView, ComputeContainerType>("ComputeContainerList");
internal sealed class KeyPairListType() : PageType<LocalKeypair, KeyPairType>("KeyPairList");
internal sealed class AgentListType() : PageType<AgentView, AgentType>("AgentList");
internal sealed class VirtualFolderListType() : PageType<VFolderRecord, VirtualFolderType>("VirtualFolderList");

using System.Text.Json.Nodes;
using BackendAI.Client.Errors;
using BackendAI.Local.Hosting;
using BackendAI.Local.Sessions;
using BackendAI.Local.VFolders;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace BackendAI.Local.Templates;

/// <summary>
/// The <c>/template/session</c> REST family (session/task templates, upstream <c>api/session_template.py</c>):
/// create from a JSON or YAML payload, list, get, update, delete. Scoping: a template belongs to a user and a
/// group of a domain; its owner, the members of its group and the domain's admins see it, superadmins see all.
/// </summary>
internal static class TemplateEndpoints
{
    /// <summary>Registers the template store (in the local server's SQLite database).</summary>
    public static IServiceCollection AddLocalTemplates(this IServiceCollection services) =>
        services.AddSingleton(sp => new SessionTemplateStore(sp.GetRequiredService<VFolderStore>().DatabasePath));

    public static IEndpointRouteBuilder MapTemplateEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/template/session", (Delegate)Create).RejectWhenFrozen();
        app.MapGet("/template/session", (Delegate)List);
        app.MapGet("/template/session/{templateId}", Get);
        app.MapPut("/template/session/{templateId}", Put).RejectWhenFrozen();
        app.MapDelete("/template/session/{templateId}", Delete).RejectWhenFrozen();
        return app;
    }

    internal static ApiProblemException NotFound() => ApiProblemException.NotFound("No such task template.");

    /// <summary>Whether <paramref name="caller"/> may see (and create sessions from) the template.</summary>
    internal static bool CanRead(LocalIdentity caller, SessionTemplateRecord t) =>
        caller.IsSuperAdmin || t.UserUuid == caller.UserId
        || (caller.IsAdmin && t.DomainName == caller.Domain)
        || (t.GroupId is { } g && g == caller.GroupId && t.DomainName == caller.Domain);

    /// <summary>Whether <paramref name="caller"/> may change or delete the template.</summary>
    private static bool CanWrite(LocalIdentity caller, SessionTemplateRecord t) =>
        caller.IsSuperAdmin || t.UserUuid == caller.UserId || (caller.IsAdmin && t.DomainName == caller.Domain);

    /// <summary>The active template with that id (hex or hyphenated) that the caller can see; 404 otherwise.</summary>
    internal static SessionTemplateRecord Find(HttpContext ctx, string templateId)
    {
        var store = ctx.RequestServices.GetRequiredService<SessionTemplateStore>();
        if (!Guid.TryParse(templateId, out var id)) throw NotFound();
        var t = store.Find(id);
        return t is not null && CanRead(ctx.GetIdentity(), t) ? t : throw NotFound();
    }

    private static async Task<IResult> Create(HttpContext ctx)
    {
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow(
            "group", "groupName", "group_name", "domain", "domainName", "domain_name", "owner_access_key", "payload");
        var group = p.String("group", "groupName", "group_name") ?? "default";
        var domain = p.String("domain", "domainName", "domain_name");
        var ownerKey = p.String("owner_access_key");
        var payload = p.RequiredString("payload");
        p.ThrowIfInvalid();

        var caller = ctx.GetIdentity();
        var owner = SessionEndpoints.ResolveOwner(ctx, ownerKey);
        domain ??= owner.Domain;
        if (domain != owner.Domain && owner.Role != "superadmin")
            throw ApiProblemException.InvalidParams(owner.Role == "admin" ? "You can only set the domain to the owner's domain." : "You can only set the domain to your domain.");
        var keypairs = ctx.RequestServices.GetRequiredService<IKeypairStore>().All;
        var groupId = keypairs.Where(k => k.Domain == domain && k.GroupName == group).Select(k => (Guid?)k.GroupId).FirstOrDefault();
        if (groupId is null || (owner.Role == "user" && owner.GroupName != group)) throw ApiProblemException.InvalidParams("Invalid group");

        var store = ctx.RequestServices.GetRequiredService<SessionTemplateStore>();
        var now = ctx.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        Guid last = Guid.Empty;
        foreach (var (name, itemGroup, itemUser, template) in TaskTemplate.Items(TaskTemplate.ParsePayload(payload)))
        {
            var record = new SessionTemplateRecord
            {
                Id = Guid.NewGuid(),
                Name = name is { Length: > 0 } ? name : template["metadata"]!["name"]!.GetValue<string>(),
                DomainName = domain,
                GroupId = itemGroup ?? groupId,
                UserUuid = itemUser ?? owner.UserId,
                CreatedAt = now,
                TemplateJson = template.ToJsonString(),
            };
            if (!caller.IsAdmin && (record.UserUuid != caller.UserId || record.GroupId != caller.GroupId))
                throw new ApiProblemException(ProblemTypes.GenericForbidden, "Only admins can create templates for other users or groups.");
            store.Add(record);
            last = record.Id;
        }
        return HttpContextExtensions.Json(new JsonObject { ["id"] = last.ToString("N"), ["user"] = owner.UserId.ToString("N") });
    }

    private static async Task<IResult> List(HttpContext ctx)
    {
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("all", "group_id", "groupId", "owner_access_key");
        var all = p.Bool(false, "all");
        var groupText = p.String("group_id", "groupId");
        Guid? groupFilter = null;
        if (groupText is not null)
        {
            if (Guid.TryParse(groupText, out var g)) groupFilter = g;
            else p.Error("group_id", "value is not a UUID");
        }
        p.ThrowIfInvalid();

        var caller = ctx.GetIdentity();
        var keypairs = ctx.RequestServices.GetRequiredService<IKeypairStore>().All;
        var store = ctx.RequestServices.GetRequiredService<SessionTemplateStore>();
        var list = new JsonArray();
        foreach (var t in store.All())
        {
            if (!(caller.IsSuperAdmin && all) && !CanRead(caller, t)) continue;
            if (groupFilter is { } gf && t.GroupId != gf && !(caller.IsSuperAdmin && all)) continue;
            var ownerEmail = keypairs.FirstOrDefault(k => k.UserId == t.UserUuid)?.Email;
            var groupName = t.GroupId is { } gid ? keypairs.FirstOrDefault(k => k.GroupId == gid && k.Domain == t.DomainName)?.GroupName : null;
            var isOwner = t.UserUuid == caller.UserId || (!(caller.IsSuperAdmin && all) && caller.IsAdmin);
            list.Add(new JsonObject
            {
                ["name"] = t.Name,
                ["id"] = t.Id.ToString("N"),
                ["created_at"] = SessionEndpoints.PyTime(t.CreatedAt),
                ["is_owner"] = isOwner,
                ["user"] = t.UserUuid.ToString("D"),
                ["group"] = t.GroupId?.ToString("D"),
                ["user_email"] = ownerEmail,
                ["group_name"] = groupName,
                ["domain_name"] = caller.Domain,
                ["type"] = "task",
                ["template"] = t.Template(),
            });
        }
        return HttpContextExtensions.Json(list);
    }

    private static async Task<IResult> Get(HttpContext ctx, string templateId)
    {
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("format", "owner_access_key");
        var format = p.String("format") ?? "json";
        p.ThrowIfInvalid();
        if (format is not ("yaml" or "json")) throw ApiProblemException.InvalidParams("format should be \"yaml\" or \"json\"");
        var t = Find(ctx, templateId);
        // Upstream answers JSON for both formats.
        return HttpContextExtensions.Json(new JsonObject
        {
            ["template"] = t.Template(),
            ["name"] = t.Name,
            ["user_uuid"] = t.UserUuid.ToString("D"),
            ["group_id"] = t.GroupId?.ToString("D"),
            ["domain_name"] = t.DomainName,
        });
    }

    private static async Task<IResult> Put(HttpContext ctx, string templateId)
    {
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("payload", "owner_access_key");
        var payload = p.RequiredString("payload");
        p.ThrowIfInvalid();
        var t = Find(ctx, templateId);
        var caller = ctx.GetIdentity();
        if (!CanWrite(caller, t))
            throw new ApiProblemException(ProblemTypes.GenericForbidden, "Only the owner or an admin can change this template.");
        var store = ctx.RequestServices.GetRequiredService<SessionTemplateStore>();
        foreach (var (name, group, user, template) in TaskTemplate.Items(TaskTemplate.ParsePayload(payload)))
        {
            var updated = t with
            {
                Name = name is { Length: > 0 } ? name : template["metadata"]!["name"]!.GetValue<string>(),
                GroupId = caller.IsAdmin ? group ?? t.GroupId : t.GroupId,
                UserUuid = caller.IsAdmin ? user ?? t.UserUuid : t.UserUuid,
                TemplateJson = template.ToJsonString(),
            };
            if (!store.Update(updated)) throw NotFound();
        }
        return HttpContextExtensions.Json(new JsonObject { ["success"] = true });
    }

    private static async Task<IResult> Delete(HttpContext ctx, string templateId)
    {
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("owner_access_key");
        p.ThrowIfInvalid();
        var t = Find(ctx, templateId);
        if (!CanWrite(ctx.GetIdentity(), t))
            throw new ApiProblemException(ProblemTypes.GenericForbidden, "Only the owner or an admin can delete this template.");
        if (!ctx.RequestServices.GetRequiredService<SessionTemplateStore>().Deactivate(t.Id)) throw NotFound();
        return HttpContextExtensions.Json(new JsonObject { ["success"] = true });
    }
}

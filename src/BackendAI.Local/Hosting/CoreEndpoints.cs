using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Client;
using BackendAI.Client.Errors;
using BackendAI.Local.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace BackendAI.Local.Hosting;

/// <summary>Hello, auth, manager status/announcement, scaling groups and the fault-injection endpoint.</summary>
internal static class CoreEndpoints
{
    public static IEndpointRouteBuilder MapCoreEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", Hello).AllowAnonymousAccess();
        app.MapPost("/auth/authorize", Authorize).AllowAnonymousAccess();
        app.MapMethods("/auth", ["GET", "POST"], (Delegate)Echo);
        app.MapMethods("/auth/test", ["GET", "POST"], (Delegate)Echo);
        app.MapGet("/auth/role", Role);
        app.MapGet("/manager/status", Status).AllowAnonymousAccess();
        app.MapPut("/manager/status", SetStatus);
        app.MapGet("/manager/announcement", Announcement).AllowAnonymousAccess();
        app.MapPost("/manager/announcement", SetAnnouncement);
        app.MapGet("/scaling-groups", ScalingGroups);
        app.MapGet("/local/faults", GetFaults);
        app.MapPost("/local/faults", SetFaults);
        app.MapDelete("/local/faults", ResetFaults);
        return app;
    }

    private static IResult Hello(LocalBackendOptions options) =>
        HttpContextExtensions.Json(new JsonObject { ["version"] = ApiVersion.Current.ToString(), ["manager"] = options.ManagerVersion });

    private static async Task<IResult> Echo(HttpContext ctx)
    {
        ctx.GetIdentity();
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("echo");
        var echo = p.RequiredString("echo");
        p.ThrowIfInvalid();
        return HttpContextExtensions.Json(new JsonObject { ["authorized"] = "yes", ["echo"] = echo });
    }

    private static async Task<IResult> Authorize(HttpContext ctx, IKeypairStore keypairs)
    {
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("type", "domain", "username", "password", "stoken", "sToken");
        var type = p.RequiredString("type");
        p.RequiredString("domain");
        var username = p.RequiredString("username");
        var password = p.RequiredString("password");
        p.ThrowIfInvalid();
        if (type != "keypair") throw ApiProblemException.InvalidParams("Unsupported authorization type");
        var k = (keypairs as LocalKeypairStore)?.Authenticate(username, password)
            ?? throw new ApiProblemException(ProblemTypes.AuthFailed, "User credential mismatch.");
        return HttpContextExtensions.Json(new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["access_key"] = k.AccessKey, ["secret_key"] = k.SecretKey, ["role"] = k.Role, ["status"] = "active",
            },
        });
    }

    private static IResult Role(HttpContext ctx)
    {
        var me = ctx.GetIdentity();
        var p = RequestParams.FromQuery(ctx.Request.Query).Allow("group");
        var group = p.String("group");
        p.ThrowIfInvalid();
        JsonNode? groupRole = null;
        if (group is not null)
        {
            if (!Guid.TryParse(group, out var gid) || gid != me.GroupId) throw ApiProblemException.NotFound("No such user group (or project).");
            groupRole = "user";
        }
        return HttpContextExtensions.Json(new JsonObject
        {
            ["global_role"] = me.IsSuperAdmin ? "superadmin" : "user",
            ["domain_role"] = me.IsAdmin ? "admin" : "user",
            ["group_role"] = groupRole,
        });
    }

    private static IResult Status(HttpContext ctx, ManagerState manager, SessionRegistry sessions)
    {
        var active = sessions.ActiveCount();
        var status = manager.Frozen ? "frozen" : "running";
        var host = ctx.Request.Host.ToString();
        return HttpContextExtensions.Json(new JsonObject
        {
            ["nodes"] = new JsonArray(new JsonObject
            {
                ["id"] = "local", ["num_proc"] = 1, ["service_addr"] = host, ["heartbeat_timeout"] = 5.0,
                ["ssl_enabled"] = false, ["active_sessions"] = active, ["status"] = status,
                ["version"] = ctx.RequestServices.GetRequiredService<LocalBackendOptions>().ManagerVersion,
                ["api_version"] = new JsonArray(ApiVersion.Current.Major, ApiVersion.Current.Revision),
            }),
            ["status"] = status,
            ["active_sessions"] = active,
        });
    }

    private static void RequireSuperAdmin(HttpContext ctx)
    {
        if (!ctx.GetIdentity().IsSuperAdmin) throw new ApiProblemException(ProblemTypes.InsufficientPrivilege, "Requires superadmin privileges.");
    }

    private static async Task<IResult> SetStatus(HttpContext ctx, ManagerState manager)
    {
        RequireSuperAdmin(ctx);
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("status", "force_kill");
        var status = p.RequiredString("status");
        p.Bool(false, "force_kill");
        if (p.IsValid && status is not ("running" or "frozen")) p.Error("status", "value is not one of running, frozen");
        p.ThrowIfInvalid();
        manager.Frozen = status == "frozen";
        return Results.NoContent();
    }

    private static IResult Announcement(ManagerState manager)
    {
        var message = manager.Announcement;
        return HttpContextExtensions.Json(new JsonObject { ["enabled"] = message.Length > 0, ["message"] = message });
    }

    private static async Task<IResult> SetAnnouncement(HttpContext ctx, ManagerState manager)
    {
        RequireSuperAdmin(ctx);
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("enabled", "message");
        var enabled = p.Bool(false, "enabled");
        var message = p.String("message") ?? "";
        p.ThrowIfInvalid();
        manager.Announcement = enabled ? message : "";
        return Results.NoContent();
    }

    private static IResult ScalingGroups(HttpContext ctx)
    {
        ctx.GetIdentity();
        var p = RequestParams.FromQuery(ctx.Request.Query).Allow("group");
        p.RequiredString("group");
        p.ThrowIfInvalid();
        return HttpContextExtensions.Json(new JsonObject { ["scaling_groups"] = new JsonArray(new JsonObject { ["name"] = "default" }) });
    }

    private static readonly JsonSerializerOptions FaultJson = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never };

    private static IResult GetFaults(HttpContext ctx, FaultInjection faults)
    {
        RequireSuperAdmin(ctx);
        return HttpContextExtensions.Json(JsonSerializer.SerializeToNode(faults.Current, FaultJson));
    }

    private static async Task<IResult> SetFaults(HttpContext ctx, FaultInjection faults)
    {
        RequireSuperAdmin(ctx);
        FaultSettings? settings;
        try
        {
            settings = await JsonSerializer.DeserializeAsync<FaultSettings>(ctx.Request.Body, FaultJson, ctx.RequestAborted);
        }
        catch (JsonException e)
        {
            throw ApiProblemException.InvalidParams("Malformed body", e.Message);
        }
        try
        {
            faults.Set(settings ?? new FaultSettings());
        }
        catch (ArgumentException e)
        {
            throw ApiProblemException.InvalidParams(e.Message);
        }
        return Results.NoContent();
    }

    private static IResult ResetFaults(HttpContext ctx, FaultInjection faults)
    {
        RequireSuperAdmin(ctx);
        faults.Reset();
        return Results.NoContent();
    }
}

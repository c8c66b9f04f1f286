using BackendAI.Local.Hosting;
using BackendAI.Local.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace BackendAI.Local.VFolders;

/// <summary>
/// <c>GET</c>/<c>HEAD /session/_/logs?taskId=&lt;uuid&gt;</c> (sessions.md §12.4), which the Python SDK's
/// <c>ComputeSession.get_task_logs()</c> calls for batch sessions. Upstream streams
/// <c>task/&lt;id[0:2]&gt;/&lt;id[2:4]&gt;/&lt;id[4:]&gt;.log</c> from the caller's <c>.logs</c> vfolder and answers
/// 404 "No such vfolder." when there is none. The local agent writes no such files, so when the file is
/// absent the log of the session with that id (sessions.md §12.3) stands in for it.
/// </summary>
internal static class TaskLogEndpoints
{
    /// <summary>The vfolder upstream agents write batch task logs into.</summary>
    public const string LogsFolderName = ".logs";

    private static readonly string[] s_keys = ["taskId", "task_id", "sessionName", "session_name", "owner_access_key"];

    /// <summary>Maps the route; the literal <c>_</c> segment takes precedence over <c>/session/{id}/logs</c>.</summary>
    public static IEndpointRouteBuilder MapTaskLogEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/session/_/logs", ["GET", "HEAD"], (Delegate)TaskLogsAsync);
        return app;
    }

    private static async Task<IResult> TaskLogsAsync(HttpContext ctx)
    {
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted).ConfigureAwait(false)).Allow(s_keys);
        var taskRef = p.RequiredString("taskId", "task_id", "sessionName", "session_name");
        var ownerKey = p.String("owner_access_key");
        if (p.IsValid && !Guid.TryParse(taskRef, out _)) p.Error("taskId", "must be a UUID");
        p.ThrowIfInvalid();
        var taskId = Guid.Parse(taskRef);

        var owner = SessionEndpoints.ResolveOwner(ctx, ownerKey).ToIdentity();
        var store = ctx.RequestServices.GetRequiredService<VFolderStore>();
        var logs = store.FindAccessible(owner, LogsFolderName) ?? throw ApiProblemException.NotFound("No such vfolder.", LogsFolderName);

        var hex = taskId.ToString("N");
        var file = Path.Combine(store.RootOf(logs.Folder), "task", hex[..2], hex[2..4], hex[4..] + ".log");
        if (File.Exists(file))
            return Results.Stream(File.OpenRead(file), "text/plain; charset=utf-8");

        var session = SessionEndpoints.Resolve(ctx, taskId.ToString("D"), allowStale: true, ownerKey);
        return Results.Text(SessionEndpoints.ReadLogs(ctx, session), "text/plain; charset=utf-8");
    }
}

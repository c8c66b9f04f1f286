using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using BackendAI.Client.Errors;
using BackendAI.Local.Diagnostics;
using BackendAI.Local.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace BackendAI.Local.Events;

/// <summary><c>GET /events/session</c> and <c>GET /events/background-task</c> (streaming.md Part A).</summary>
internal static class EventEndpoints
{
    public static IEndpointRouteBuilder MapEventEndpoints(this IEndpointRouteBuilder app)
    {
        var flood = new EventFlood();
        app.MapGet("/events/session", ctx => SessionEvents(ctx, flood));
        app.MapPost("/local/events/flood", (Delegate)flood.ArmAsync);
        app.MapGet("/events/background-task", BackgroundTaskEvents);
        return app;
    }

    private static async Task StartStreamAsync(HttpContext ctx)
    {
        ctx.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var r = ctx.Response;
        r.StatusCode = 200;
        r.ContentType = "text/event-stream";
        r.Headers.CacheControl = "no-cache";
        r.Headers.Connection = "keep-alive";
        r.Headers["X-Accel-Buffering"] = "no";
        await r.StartAsync(ctx.RequestAborted).ConfigureAwait(false);
        await r.Body.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
    }

    private static Task WriteAsync(HttpContext ctx, string text, CancellationToken ct) =>
        ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), ct).AsTask();

    /// <summary>Unflushed bytes after which a batch of events is flushed (the socket's backpressure applies there).</summary>
    private const int FlushThreshold = 32 * 1024;

    /// <summary>Writes one frame into the response pipe without building a string (flushed by the caller).</summary>
    internal static void WriteFrame(PipeWriter writer, string eventName, string data)
    {
        Encoding.UTF8.GetBytes("event: ", writer);
        Encoding.UTF8.GetBytes(eventName, writer);
        var rest = data.AsSpan();
        while (true)
        {
            Encoding.UTF8.GetBytes("\r\ndata: ", writer);
            var nl = rest.IndexOf('\n');
            if (nl < 0)
            {
                Encoding.UTF8.GetBytes(rest, writer);
                break;
            }
            Encoding.UTF8.GetBytes(rest[..nl], writer);
            rest = rest[(nl + 1)..];
        }
        Encoding.UTF8.GetBytes("\r\n\r\n", writer);
    }

    internal static string Frame(string eventName, string data, int? retry = null)
    {
        var sb = new StringBuilder(data.Length + 64);
        sb.Append("event: ").Append(eventName).Append("\r\n");
        foreach (var line in data.Split('\n')) sb.Append("data: ").Append(line).Append("\r\n");
        if (retry is { } r) sb.Append("retry: ").Append(r.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        return sb.Append("\r\n").ToString();
    }

    private static async Task SessionEvents(HttpContext ctx, EventFlood flood)
    {
        var caller = ctx.GetIdentity();
        var p = RequestParams.FromQuery(ctx.Request.Query)
            .Allow("name", "sessionName", "ownerAccessKey", "owner_access_key", "sessionId", "group", "groupName", "scope");
        var name = p.String("name", "sessionName") ?? "*";
        var ownerKey = p.String("ownerAccessKey", "owner_access_key");
        var sessionIdText = p.String("sessionId");
        var group = p.String("group", "groupName") ?? "*";
        var scope = p.String("scope") ?? "*";
        Guid? sessionId = null;
        if (sessionIdText is not null)
        {
            if (Guid.TryParse(sessionIdText, out var sid)) sessionId = sid;
            else p.Error("sessionId", "value is not a UUID");
        }
        if (scope is not ("*" or "session" or "kernel")) p.Error("scope", "value is not one of *, session, kernel");
        p.ThrowIfInvalid();
        if (!caller.IsAdmin && ownerKey is not null && ownerKey != caller.AccessKey)
            throw new ApiProblemException(ProblemTypes.GenericForbidden, "Only admins can watch other users' sessions.");
        if (group != "*")
        {
            var keypairs = ctx.RequestServices.GetRequiredService<IKeypairStore>();
            if (!keypairs.All.Any(k => k.GroupName == group))
                throw ApiProblemException.NotFound("No such user group (or project).");
        }
        var owner = ownerKey ?? caller.AccessKey;

        bool Filter(SessionEvent e)
        {
            if (!caller.IsSuperAdmin)
            {
                if (caller.IsAdmin ? e.Domain != caller.Domain : e.OwnerAccessKey != caller.AccessKey) return false;
            }
            if (sessionId is { } id)
            {
                if (e.SessionId != id) return false;
            }
            else if (name != "*")
            {
                if (e.SessionName != name || e.OwnerAccessKey != owner) return false;
            }
            else if (ownerKey is not null && e.OwnerAccessKey != ownerKey)
            {
                return false;
            }
            if (group != "*" && e.GroupName != group) return false;
            return scope switch
            {
                "session" => e.Name.StartsWith("session_", StringComparison.Ordinal),
                "kernel" => e.Name.StartsWith("kernel_", StringComparison.Ordinal),
                _ => true,
            };
        }

        var bus = ctx.RequestServices.GetRequiredService<SessionEventBus>();
        var options = ctx.RequestServices.GetRequiredService<LocalBackendOptions>();
        var faults = ctx.RequestServices.GetRequiredService<FaultInjection>();
        var stopping = ctx.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var subscription = bus.Subscribe(Filter, options.EventBufferSize);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, stopping);
        var ct = cts.Token;
        await StartStreamAsync(ctx).ConfigureAwait(false);
        using var timer = new PeriodicTimer(options.SseKeepAliveInterval);
        var sent = 0;
        var body = ctx.Response.BodyWriter;
        try
        {
            if (flood.Take() is > 0 and var count)
            {
                var floodId = Guid.NewGuid();
                long counted = 0;
                for (long i = 0; i < count; i++)
                {
                    var e = EventFlood.Event(i, caller.AccessKey, floodId);
                    WriteFrame(body, e.Name, e.ToData());
                    if (body.UnflushedBytes >= FlushThreshold)
                    {
                        await body.FlushAsync(ct).ConfigureAwait(false);
                        LocalTelemetry.EventsSent(i + 1 - counted, "session");
                        counted = i + 1;
                    }
                }
                await body.FlushAsync(ct).ConfigureAwait(false);
                LocalTelemetry.EventsSent(count - counted, "session");
            }
            var read = subscription.Reader.WaitToReadAsync(ct).AsTask();
            var tick = timer.WaitForNextTickAsync(ct).AsTask();
            while (true)
            {
                var done = await Task.WhenAny(read, tick).ConfigureAwait(false);
                if (done == tick)
                {
                    if (!await tick.ConfigureAwait(false)) break;
                    await WriteAsync(ctx, ": ping\r\n\r\n", ct).ConfigureAwait(false);
                    await ctx.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                    tick = timer.WaitForNextTickAsync(ct).AsTask();
                    continue;
                }
                bool more;
                try
                {
                    more = await read.ConfigureAwait(false);
                }
                catch (InvalidOperationException)
                {
                    ctx.Abort(); // fell too far behind: drop the connection
                    return;
                }
                if (!more) break;
                var batch = 0;
                while (subscription.Reader.TryRead(out var e))
                {
                    WriteFrame(body, e.Name, e.ToData());
                    sent++;
                    batch++;
                    if (faults.SseDropAfterEvents is { } limit && sent >= limit)
                    {
                        // Injected drop: end the response without server_close (clients must reconnect).
                        await body.FlushAsync(ct).ConfigureAwait(false);
                        LocalTelemetry.EventsSent(batch, "session");
                        return;
                    }
                    if (body.UnflushedBytes >= FlushThreshold)
                    {
                        await body.FlushAsync(ct).ConfigureAwait(false);
                        LocalTelemetry.EventsSent(batch, "session");
                        batch = 0;
                    }
                }
                await body.FlushAsync(ct).ConfigureAwait(false);
                LocalTelemetry.EventsSent(batch, "session");
                read = subscription.Reader.WaitToReadAsync(ct).AsTask();
            }
        }
        catch (OperationCanceledException)
        {
            // client gone or server stopping
        }
    }

    private static async Task BackgroundTaskEvents(HttpContext ctx)
    {
        ctx.GetIdentity();
        var p = RequestParams.FromQuery(ctx.Request.Query).Allow("task_id", "taskId");
        var idText = p.RequiredString("task_id", "taskId");
        Guid taskId = default;
        if (p.IsValid && !Guid.TryParse(idText, out taskId)) p.Error("task_id", "value is not a UUID");
        p.ThrowIfInvalid();
        var registry = ctx.RequestServices.GetRequiredService<BackgroundTaskRegistry>();
        var sub = registry.Subscribe(taskId) ?? throw ApiProblemException.NotFound("No such background task.");
        var (snapshot, updates) = sub;
        var ct = ctx.RequestAborted;
        await StartStreamAsync(ctx).ConfigureAwait(false);
        try
        {
            if (updates is null)
            {
                var o = new StringBuilder("{\"task_id\": \"").Append(taskId.ToString("D"))
                    .Append("\", \"status\": \"").Append(StatusName(snapshot.Status))
                    .Append("\", \"current_progress\": \"").Append(snapshot.CurrentProgress.ToString(CultureInfo.InvariantCulture))
                    .Append("\", \"total_progress\": \"").Append(snapshot.TotalProgress.ToString(CultureInfo.InvariantCulture))
                    .Append("\", \"message\": ").Append(PyJson.Str(snapshot.Message)).Append('}');
                await WriteAsync(ctx, Frame("task_" + StatusName(snapshot.Status), o.ToString()), ct).ConfigureAwait(false);
            }
            else
            {
                await foreach (var info in updates.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    if (info.Status == BackgroundTaskStatus.Running)
                    {
                        var data = $"{{\"task_id\": \"{taskId:D}\", \"message\": {PyJson.Str(info.Message)}, \"current_progress\": {info.CurrentProgress.ToString(CultureInfo.InvariantCulture)}, \"total_progress\": {info.TotalProgress.ToString(CultureInfo.InvariantCulture)}}}";
                        await WriteAsync(ctx, Frame("bgtask_updated", data, 5), ct).ConfigureAwait(false);
                        await ctx.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                    }
                    else
                    {
                        snapshot = info;
                    }
                }
                snapshot = registry.Find(taskId) ?? snapshot;
                var final = $"{{\"task_id\": \"{taskId:D}\", \"message\": {PyJson.Str(snapshot.Message)}}}";
                await WriteAsync(ctx, Frame("bgtask_" + StatusName(snapshot.Status), final, 5), ct).ConfigureAwait(false);
            }
            await WriteAsync(ctx, Frame("server_close", "{}"), ct).ConfigureAwait(false);
            await ctx.Response.Body.FlushAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // client gone
        }
    }

    private static string StatusName(BackgroundTaskStatus s) => s switch
    {
        BackgroundTaskStatus.Done => "done",
        BackgroundTaskStatus.Failed => "failed",
        BackgroundTaskStatus.Cancelled => "cancelled",
        _ => "updated",
    };
}

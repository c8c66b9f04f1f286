using BackendAI.Client.Events;
using BackendAI.Client.Models;
using BackendAI.Client.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace BackendAI.Client.Tests.Streams;

public class EventStreamTests
{
    private const string Sid = "5c3ad8c9-8f4e-4b57-9a2a-2f1c4a2e6d10";

    private static string Data(string name) =>
        $"{{\"reason\": \"\", \"sessionName\": \"{name}\", \"ownerAccessKey\": \"AKIAIOSFODNN7EXAMPLE\", \"sessionId\": \"{Sid}\", \"kernelId\": \"{Sid}\", \"clusterRole\": \"main\", \"clusterIdx\": 1}}";

    private static async Task Sse(HttpContext ctx, params (string Event, string Data)[] events)
    {
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        await ctx.Response.WriteAsync(": ping\r\n\r\n");
        foreach (var (e, d) in events)
        {
            await ctx.Response.WriteAsync($"event: {e}\r\ndata: {d}\r\n\r\n");
            await ctx.Response.Body.FlushAsync();
        }
    }

    [Fact]
    public async Task Client6_Client24_session_stream_is_signed_without_content_type_and_sends_camel_case_owner()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => Sse(ctx, ("session_started", Data("mysess"))));
        await using var client = server.Client();
        await using (var reader = await client.Events.OpenSessionEventsAsync(new SessionEventFilter("mysess", OwnerAccessKey: "AKIAOTHER")))
        {
            var m = await reader.ReadAsync();
            Assert.Equal("session_started", m!.Event);
            var e = SessionEvent.Parse(m);
            Assert.Equal(("mysess", Sid, "main", 1), (e.SessionName, e.SessionId, e.ClusterRole, e.ClusterIdx));
            Assert.Equal(SessionStatus.Running, e.ImpliedStatus);
        }
        var r = server.Requests.Single();
        Assert.Equal("/events/session?sessionName=mysess&ownerAccessKey=AKIAOTHER&scope=*", r.RawTarget);
        Assert.False(r.HasHeader("Content-Type"));
        Assert.Equal("application/octet-stream", r.SignedContentType);
        Assert.True(r.SignatureValid);
    }

    [Fact]
    public async Task Session_id_filter_overrides_the_name()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => Sse(ctx));
        await using var client = server.Client();
        await using (await client.Events.OpenSessionEventsAsync(new SessionEventFilter("n", Sid, Scope: "session"))) { }
        Assert.Equal($"/events/session?sessionId={Sid}&scope=session", server.Requests.Single().RawTarget);
    }

    [Fact]
    public async Task Client8_Client22_Client23_reconnects_re_signed_after_a_drop_and_stops_after_session_terminated()
    {
        var connections = 0;
        await using var server = await LoopbackServer.StartAsync(async (ctx, _) =>
        {
            if (Interlocked.Increment(ref connections) == 1)
            {
                await Sse(ctx, ("kernel_preparing", Data("s1"))); // then the connection ends without server_close
                return;
            }
            await Sse(ctx, ("session_started", Data("s1")), ("kernel_terminating", Data("s1")), ("session_terminated", Data("s1")));
            await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted); // the server never closes: the client must
        });
        await using var client = server.Client(time: new SteppingTimeProvider(DateTimeOffset.UtcNow, TimeSpan.FromSeconds(1)));
        var names = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var e in client.Events.SessionEventsAsync(new SessionEventFilter("s1"), cts.Token))
            names.Add(e.Name);
        Assert.Equal(["kernel_preparing", "session_started", "kernel_terminating", "session_terminated"], names);
        var reqs = server.Requests.ToList();
        Assert.Equal(2, reqs.Count);
        Assert.All(reqs, r => Assert.True(r.SignatureValid));
        Assert.NotEqual(reqs[0].Header("Date"), reqs[1].Header("Date"));
    }

    [Fact]
    public async Task Client22_server_close_ends_the_stream_without_reconnecting()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => Sse(ctx, ("session_enqueued", Data("a")), ("server_close", "{}")));
        await using var client = server.Client();
        var events = new List<SessionEvent>();
        await foreach (var e in client.Events.SessionEventsAsync(new SessionEventFilter()))
            events.Add(e);
        Assert.Equal(SessionStatus.Pending, Assert.Single(events).ImpliedStatus);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Client25_background_task_events_end_on_task_done_and_parse_string_progress()
    {
        var id = Guid.NewGuid();
        await using var server = await LoopbackServer.StartAsync((ctx, _) => Sse(ctx,
            ("bgtask_updated", $"{{\"task_id\": \"{id}\", \"message\": null, \"current_progress\": 3, \"total_progress\": 10}}"),
            ("task_done", $"{{\"task_id\": \"{id}\", \"status\": \"done\", \"current_progress\": \"10\", \"total_progress\": \"10\", \"message\": \"ok\"}}")));
        await using var client = server.Client();
        var events = new List<BackgroundTaskEvent>();
        await foreach (var e in client.Events.BackgroundTaskEventsAsync(id))
            events.Add(e);
        Assert.Equal(2, events.Count);
        Assert.Equal((3.0, 10.0), (events[0].CurrentProgress, events[0].TotalProgress));
        Assert.False(events[0].IsTerminal);
        Assert.True(events[1].IsTerminal);
        Assert.True(events[1].IsSuccess);
        Assert.Equal(10.0, events[1].CurrentProgress);
        Assert.Equal($"/events/background-task?task_id={id}", server.Requests.Single().RawTarget);
    }

    [Fact]
    public async Task Open_errors_are_thrown_not_retried()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) =>
            LoopbackServer.WriteProblem(ctx, 403, "generic-forbidden", "Forbidden operation."));
        await using var client = server.Client();
        await Assert.ThrowsAsync<Client.Errors.ForbiddenException>(async () =>
        {
            await foreach (var _ in client.Events.SessionEventsAsync(new SessionEventFilter("x", OwnerAccessKey: "AKIAOTHER"))) { }
        });
    }
}

using System.Net;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using BackendAI.Local.Tests.Sessions;
using BackendAI.Testing;

namespace BackendAI.Local.Tests.Events;

/// <summary>Conformance checklist Server 89–101 (SSE) and the capacity scheduler seen through events.</summary>
public class SessionEventStreamTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>
{
    private static CancellationToken Budget() => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    private static string NewName() => "e-" + Guid.NewGuid().ToString("N")[..12];

    private static async Task<(HttpResponseMessage Response, SseReader Reader)> OpenAsync(SignedHttp http, string query, CancellationToken ct)
    {
        var response = await http.Client.SendAsync(http.Build(HttpMethod.Get, "/events/session?" + query), HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response, new SseReader(await response.Content.ReadAsStreamAsync(ct)));
    }

    [Fact]
    public async Task Server89_91_92_create_yields_the_lifecycle_events_in_order()
    {
        var ct = Budget();
        var name = NewName();
        var (response, sse) = await OpenAsync(fx.User, $"sessionName={name}&scope=*", ct);
        using (response)
        using (sse)
        {
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            Assert.Contains("no-cache", response.Headers.CacheControl!.ToString());
            Assert.True(response.Headers.TransferEncodingChunked);
            var (id, _) = await fx.CreateSessionAsync(fx.User, name: name, cancellationToken: ct);
            var events = await sse.ReadUntilAsync("session_started", ct);
            Assert.Equal(["session_enqueued", "session_scheduled", "kernel_preparing", "kernel_creating", "kernel_started", "session_started"],
                events.Select(e => e.Event));
            foreach (var e in events)
            {
                Assert.Equal(2, e.RawLines.Count); // event: + one data: line
                Assert.Null(e.Id);
                var data = JsonNode.Parse(e.Data)!.AsObject();
                var keys = data.Select(kv => kv.Key).ToList();
                Assert.Equal(["reason", "sessionName", "ownerAccessKey", "sessionId", "kernelId"], keys.Take(5));
                Assert.Equal(name, data["sessionName"]!.GetValue<string>());
                Assert.Equal(WellKnownKeypairs.User.AccessKey, data["ownerAccessKey"]!.GetValue<string>());
                Assert.Equal(id.ToString(), data["sessionId"]!.GetValue<string>());
                Assert.Equal(id.ToString(), data["kernelId"]!.GetValue<string>());
                if (e.Event.StartsWith("kernel_", StringComparison.Ordinal))
                {
                    Assert.Equal("main", data["clusterRole"]!.GetValue<string>());
                    Assert.Equal(1, data["clusterIdx"]!.GetValue<int>());
                }
                else
                {
                    Assert.Equal(5, keys.Count);
                }
            }
            Assert.StartsWith("{\"reason\": \"\", \"sessionName\": ", events[0].Data); // python json.dumps separators
            Assert.True(sse.AllLinesCrLf);
        }
    }

    [Fact]
    public async Task Server93_destroy_yields_termination_events_and_the_stream_stays_open()
    {
        var ct = Budget();
        var (id, name) = await fx.CreateSessionAsync(fx.User, cancellationToken: ct);
        var (response, sse) = await OpenAsync(fx.User, $"sessionId={id}&scope=*", ct);
        using (response)
        using (sse)
        {
            await fx.User.JsonAsync(HttpMethod.Delete, $"/session/{name}", cancellationToken: ct);
            var events = await sse.ReadUntilAsync("session_terminated", ct);
            Assert.Equal(["kernel_terminating", "kernel_terminated", "session_terminated"], events.Select(e => e.Event));
            Assert.All(events, e => Assert.Equal("user-requested", JsonNode.Parse(e.Data)!["reason"]!.GetValue<string>()));
            // Still open: a ping arrives (1 s keep-alive in the fixture) rather than the end of the stream.
            var pingsBefore = sse.Comments;
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(TimeSpan.FromSeconds(3));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sse.ReadAsync(wait.Token));
            Assert.True(sse.Comments > pingsBefore, "expected a : ping while idle");
        }
    }

    [Theory]
    [InlineData("session")]
    [InlineData("kernel")]
    public async Task Server94_scope_filters_event_families(string scope)
    {
        var ct = Budget();
        var name = NewName();
        var (response, sse) = await OpenAsync(fx.User, $"sessionName={name}&scope={scope}", ct);
        using (response)
        using (sse)
        {
            var (_, _) = await fx.CreateSessionAsync(fx.User, name: name, cancellationToken: ct);
            await fx.User.JsonAsync(HttpMethod.Delete, $"/session/{name}", cancellationToken: ct);
            var events = await sse.ReadUntilAsync(scope == "session" ? "session_terminated" : "kernel_terminated", ct);
            Assert.All(events, e => Assert.StartsWith(scope + "_", e.Event));
            Assert.Contains(events, e => e.Event == (scope == "session" ? "session_started" : "kernel_started"));
        }
    }

    [Fact]
    public async Task Server95_session_id_filter_ignores_same_named_sessions_of_others()
    {
        var ct = Budget();
        var name = NewName();
        var (mine, _) = await fx.CreateSessionAsync(fx.User, name: name, cancellationToken: ct);
        var (response, sse) = await OpenAsync(fx.Admin, $"sessionId={mine}", ct);
        using (response)
        using (sse)
        {
            var (other, _) = await fx.CreateSessionAsync(fx.Admin, name: name, cancellationToken: ct);
            await fx.Admin.JsonAsync(HttpMethod.Delete, $"/session/{other}", cancellationToken: ct);
            await fx.User.JsonAsync(HttpMethod.Delete, $"/session/{mine}", cancellationToken: ct);
            var events = await sse.ReadUntilAsync("session_terminated", ct);
            Assert.All(events, e => Assert.Equal(mine.ToString(), JsonNode.Parse(e.Data)!["sessionId"]!.GetValue<string>()));
        }
    }

    [Fact]
    public async Task Server96_plain_user_cannot_watch_another_owner()
    {
        using var r = await fx.User.GetAsync($"/events/session?sessionName=x&ownerAccessKey={WellKnownKeypairs.SuperAdmin.AccessKey}");
        await SessionApiTests.ProblemAsync(r, HttpStatusCode.Forbidden, "generic-forbidden");
    }

    [Fact]
    public async Task Server97_bogus_scope_and_unknown_keys_are_400()
    {
        using var r = await fx.User.GetAsync("/events/session?scope=bogus");
        await SessionApiTests.ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
        using var r2 = await fx.User.GetAsync("/events/session?foo=1");
        var p = await SessionApiTests.ProblemAsync(r2, HttpStatusCode.BadRequest, "invalid-api-params");
        Assert.Equal("foo is not allowed key", p["data"]!["foo"]!.GetValue<string>());
        using var r3 = await fx.User.GetAsync("/events/session?group=nosuchgroup");
        await SessionApiTests.ProblemAsync(r3, HttpStatusCode.NotFound, "object-not-found");
    }

    [Fact]
    public async Task Server98_owner_access_key_alias_is_accepted_for_admins()
    {
        var ct = Budget();
        var name = NewName();
        var (response, sse) = await OpenAsync(fx.Admin, $"sessionName={name}&scope=*&owner_access_key={WellKnownKeypairs.User.AccessKey}", ct);
        using (response)
        using (sse)
        {
            await fx.CreateSessionAsync(fx.User, name: name, cancellationToken: ct);
            var events = await sse.ReadUntilAsync("session_started", ct);
            Assert.Equal("session_enqueued", events[0].Event);
        }
    }

    [Fact]
    public async Task Users_only_see_their_own_sessions_on_the_wildcard_stream()
    {
        var ct = Budget();
        var (response, sse) = await OpenAsync(fx.User, "scope=session", ct);
        using (response)
        using (sse)
        {
            var (adminSession, _) = await fx.CreateSessionAsync(fx.Admin, cancellationToken: ct);
            var (userSession, _) = await fx.CreateSessionAsync(fx.User, cancellationToken: ct);
            var events = await sse.ReadUntilAsync("session_started", ct);
            Assert.All(events, e => Assert.Equal(userSession.ToString(), JsonNode.Parse(e.Data)!["sessionId"]!.GetValue<string>()));
            Assert.NotEqual(adminSession, userSession);
        }
    }

    [Fact]
    public async Task Capacity_queueing_keeps_a_session_pending_until_another_ends()
    {
        var ct = Budget();
        var options = LocalServerFixture.FastOptions();
        options.CapacityCpu = 2;
        await using var backend = await LocalBackend.StartAsync(options, ct);
        using var http = new SignedHttp(backend.Endpoint, WellKnownKeypairs.User);
        var big = SessionApiTests.ClientPyBody(NewName());
        big["config"]!["resources"] = new JsonObject { ["cpu"] = "2", ["mem"] = "512m" };
        var first = await http.JsonAsync(HttpMethod.Post, "/session", big, 201, ct);
        Assert.Equal("RUNNING", first!["status"]!.GetValue<string>());

        var name = NewName();
        var (response, sse) = await OpenAsync(http, $"sessionName={name}&scope=session", ct);
        using (response)
        using (sse)
        {
            var queued = SessionApiTests.ClientPyBody(name);
            queued["enqueueOnly"] = true;
            var second = await http.JsonAsync(HttpMethod.Post, "/session", queued, 201, ct);
            var secondId = Guid.Parse(second!["sessionId"]!.GetValue<string>());
            Assert.Equal("session_enqueued", (await sse.ReadAsync(ct))!.Event);
            var source = backend.Services.GetRequiredService<ISessionQuerySource>();
            while (source.Find(secondId)!.StatusInfo != "no-available-instances") await Task.Delay(10, ct);
            Assert.Equal("PENDING", source.Find(secondId)!.Status);
            Assert.Contains("\"scheduler\"", source.Find(secondId)!.StatusDataJson);

            await http.JsonAsync(HttpMethod.Delete, $"/session/{first["sessionId"]!.GetValue<string>()}", cancellationToken: ct);
            var events = await sse.ReadUntilAsync("session_started", ct);
            Assert.Equal(["session_scheduled", "session_started"], events.Select(e => e.Event));
            Assert.Equal("RUNNING", source.Find(secondId)!.Status);
        }
    }

    [Fact]
    public async Task Pending_sessions_start_in_fifo_order()
    {
        var ct = Budget();
        var options = LocalServerFixture.FastOptions();
        options.CapacityCpu = 1;
        await using var backend = await LocalBackend.StartAsync(options, ct);
        using var http = new SignedHttp(backend.Endpoint, WellKnownKeypairs.User);
        var blocker = await http.JsonAsync(HttpMethod.Post, "/session", SessionApiTests.ClientPyBody(NewName()), 201, ct);
        var (response, sse) = await OpenAsync(http, "scope=session", ct);
        using (response)
        using (sse)
        {
            var ids = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                var b = SessionApiTests.ClientPyBody(NewName());
                b["enqueueOnly"] = true;
                ids.Add((await http.JsonAsync(HttpMethod.Post, "/session", b, 201, ct))!["sessionId"]!.GetValue<string>());
            }
            var started = new List<string>();
            await http.JsonAsync(HttpMethod.Delete, $"/session/{blocker!["sessionId"]!.GetValue<string>()}", cancellationToken: ct);
            while (started.Count < 3)
            {
                var e = (await sse.ReadAsync(ct))!;
                if (e.Event != "session_started") continue;
                var id = JsonNode.Parse(e.Data)!["sessionId"]!.GetValue<string>();
                started.Add(id);
                await http.JsonAsync(HttpMethod.Delete, $"/session/{id}", cancellationToken: ct);
            }
            Assert.Equal(ids, started);
        }
    }

    [Fact]
    public async Task Server100_background_task_streams_progress_then_done_and_server_close()
    {
        var ct = Budget();
        var tasks = fx.Backend.Services.GetRequiredService<IBackgroundTasks>();
        var gate = new TaskCompletionSource();
        var id = tasks.Start(async (progress, token) =>
        {
            await gate.Task.WaitAsync(token);
            progress.Report(1, 2, "half");
            progress.Report(2, 2, "all");
            return "finished!";
        });
        using var response = await fx.User.Client.SendAsync(fx.User.Build(HttpMethod.Get, $"/events/background-task?task_id={id}"), HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var sse = new SseReader(await response.Content.ReadAsStreamAsync(ct));
        gate.SetResult();
        var events = new List<SseMessage>();
        while (await sse.ReadAsync(ct) is { } m) events.Add(m);
        Assert.Equal("server_close", events[^1].Event);
        Assert.Equal("{}", events[^1].Data);
        Assert.Equal("bgtask_done", events[^2].Event);
        Assert.Equal(5, events[^2].Retry);
        Assert.Equal("finished!", JsonNode.Parse(events[^2].Data)!["message"]!.GetValue<string>());
        var updates = events.Where(e => e.Event == "bgtask_updated").ToList();
        Assert.NotEmpty(updates);
        Assert.All(updates, u => Assert.Equal(5, u.Retry));
        var last = JsonNode.Parse(updates[^1].Data)!;
        Assert.Equal(["task_id", "message", "current_progress", "total_progress"], last.AsObject().Select(kv => kv.Key));
    }

    [Fact]
    public async Task Server101_finished_task_sends_task_event_then_server_close()
    {
        var ct = Budget();
        var tasks = fx.Backend.Services.GetRequiredService<IBackgroundTasks>();
        var id = tasks.Start((_, _) => throw new InvalidOperationException("boom"));
        while (tasks.Find(id)!.Status == BackgroundTaskStatus.Running) await Task.Delay(10, ct);
        using var response = await fx.User.Client.SendAsync(fx.User.Build(HttpMethod.Get, $"/events/background-task?taskId={id}"), HttpCompletionOption.ResponseHeadersRead, ct);
        using var sse = new SseReader(await response.Content.ReadAsStreamAsync(ct));
        var first = (await sse.ReadAsync(ct))!;
        Assert.Equal("task_failed", first.Event);
        var data = JsonNode.Parse(first.Data)!;
        Assert.Equal("failed", data["status"]!.GetValue<string>());
        Assert.Equal("0", data["current_progress"]!.GetValue<string>());
        Assert.Equal("server_close", (await sse.ReadAsync(ct))!.Event);
        Assert.Null(await sse.ReadAsync(ct));
    }

    [Fact]
    public async Task Unknown_background_task_is_404()
    {
        using var r = await fx.User.GetAsync($"/events/background-task?task_id={Guid.NewGuid()}");
        var p = await SessionApiTests.ProblemAsync(r, HttpStatusCode.NotFound, "object-not-found");
        Assert.Equal("No such background task.", p["title"]!.GetValue<string>());
    }
}

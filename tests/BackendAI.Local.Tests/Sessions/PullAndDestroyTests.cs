using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using BackendAI.Testing;

namespace BackendAI.Local.Tests.Sessions;

/// <summary>
/// Simulated image pulls (PREPARING → PULLING → PREPARING, <c>kernel_pulling</c>) and the asynchronous destroy of
/// sessions.md §6 (the reply comes at TERMINATING; TERMINATED follows).
/// </summary>
public class PullAndDestroyTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    private static string NewName() => "p-" + Guid.NewGuid().ToString("N")[..12];

    private static async Task<(HttpResponseMessage Response, SseReader Reader)> OpenEventsAsync(SignedHttp http, string name, CancellationToken ct)
    {
        var response = await http.Client.SendAsync(http.Build(HttpMethod.Get, $"/events/session?sessionName={name}&scope=*"),
            HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response, new SseReader(await response.Content.ReadAsStreamAsync(ct)));
    }

    private static LocalBackendOptions PullOptions(TimeSpan pullDelay)
    {
        var o = LocalServerFixture.FastOptions();
        o.PullImages = ["*/sim:absent*"];
        o.PullDelay = pullDelay;
        return o;
    }

    [Fact]
    public void Pull_settings_are_read_from_hocon_and_default_to_every_image_present()
    {
        var o = LocalBackendOptions.FromHocon("""backendai.local { pull { images = ["*/python:*", "sim:absent*"], delay = 250ms } }""");
        Assert.Equal(["*/python:*", "sim:absent*"], o.PullImages);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.PullDelay);
        var defaults = LocalBackendOptions.FromHocon("backendai.local { }");
        Assert.Empty(defaults.PullImages);
    }

    [Fact]
    public async Task Server91_first_use_of_an_absent_image_emits_kernel_pulling_between_preparing_and_creating()
    {
        using var cts = new CancellationTokenSource(Budget);
        await using var backend = await LocalBackend.StartAsync(PullOptions(TimeSpan.FromMilliseconds(50)), cts.Token);
        using var http = new SignedHttp(backend.Endpoint, WellKnownKeypairs.User);

        var first = NewName();
        var (response, sse) = await OpenEventsAsync(http, first, cts.Token);
        using (response)
        using (sse)
        {
            await http.JsonAsync(HttpMethod.Post, "/session", new JsonObject { ["name"] = first, ["image"] = "sim:absent-1" }, 201, cts.Token);
            var events = await sse.ReadUntilAsync("session_started", cts.Token);
            Assert.Equal(
                ["session_enqueued", "session_scheduled", "kernel_preparing", "kernel_pulling", "kernel_creating", "kernel_started", "session_started"],
                events.Select(e => e.Event));
            var pulling = JsonNode.Parse(events[3].Data)!.AsObject();
            Assert.Equal("", pulling["reason"]!.GetValue<string>());
            Assert.Equal("main", pulling["clusterRole"]!.GetValue<string>());
        }

        // The image is present now: the next session skips the pull.
        var second = NewName();
        (response, sse) = await OpenEventsAsync(http, second, cts.Token);
        using (response)
        using (sse)
        {
            await http.JsonAsync(HttpMethod.Post, "/session", new JsonObject { ["name"] = second, ["image"] = "sim:absent-1" }, 201, cts.Token);
            var events = await sse.ReadUntilAsync("session_started", cts.Token);
            Assert.DoesNotContain("kernel_pulling", events.Select(e => e.Event));
        }
    }

    [Fact]
    public async Task Images_not_configured_as_absent_never_pull()
    {
        using var cts = new CancellationTokenSource(Budget);
        await using var backend = await LocalBackend.StartAsync(PullOptions(TimeSpan.FromMilliseconds(50)), cts.Token);
        using var http = new SignedHttp(backend.Endpoint, WellKnownKeypairs.User);
        var name = NewName();
        var (response, sse) = await OpenEventsAsync(http, name, cts.Token);
        using (response)
        using (sse)
        {
            await http.JsonAsync(HttpMethod.Post, "/session", new JsonObject { ["name"] = name, ["image"] = "sim" }, 201, cts.Token);
            var events = await sse.ReadUntilAsync("session_started", cts.Token);
            Assert.DoesNotContain("kernel_pulling", events.Select(e => e.Event));
        }
    }

    [Fact]
    public async Task A_session_pulling_its_image_reports_PULLING_and_refuses_destroy_even_forced()
    {
        using var cts = new CancellationTokenSource(Budget);
        await using var backend = await LocalBackend.StartAsync(PullOptions(TimeSpan.FromMinutes(5)), cts.Token);
        using var admin = new SignedHttp(backend.Endpoint, WellKnownKeypairs.SuperAdmin);
        var name = NewName();
        var created = await admin.JsonAsync(HttpMethod.Post, "/session",
            new JsonObject { ["name"] = name, ["image"] = "sim:absent-2", ["enqueueOnly"] = true }, 201, cts.Token);
        var id = Guid.Parse(created!["sessionId"]!.GetValue<string>());
        await backend.WaitForStatusAsync(id, "PULLING");

        var info = await admin.JsonAsync(HttpMethod.Get, $"/session/{name}", cancellationToken: cts.Token);
        Assert.Equal("PULLING", info!["status"]!.GetValue<string>());
        foreach (var query in new[] { "", "?forced=true" })
        {
            using var r = await admin.DeleteAsync($"/session/{name}{query}", cancellationToken: cts.Token);
            var p = await SessionApiTests.ProblemAsync(r, HttpStatusCode.Forbidden, "generic-forbidden");
            Assert.Equal("Cannot destroy kernels in pulling status", p["msg"]!.GetValue<string>());
        }
        Assert.Equal("PULLING", backend.Services.GetRequiredService<ISessionQuerySource>().Find(id)!.Status);
    }

    [Fact]
    public async Task Server59_destroy_answers_once_termination_is_requested_and_TERMINATED_follows()
    {
        using var cts = new CancellationTokenSource(Budget);
        var options = LocalServerFixture.FastOptions();
        options.LifecycleStepDelay = TimeSpan.FromSeconds(1); // TERMINATING lasts at least one step
        await using var backend = await LocalBackend.StartAsync(options, cts.Token);
        using var http = new SignedHttp(backend.Endpoint, WellKnownKeypairs.User);
        var name = NewName();
        var (response, sse) = await OpenEventsAsync(http, name, cts.Token);
        using (response)
        using (sse)
        {
            var created = await http.JsonAsync(HttpMethod.Post, "/session", new JsonObject { ["name"] = name, ["image"] = "sim" }, 201, cts.Token);
            var id = Guid.Parse(created!["sessionId"]!.GetValue<string>());
            await sse.ReadUntilAsync("session_started", cts.Token);

            var body = await http.JsonAsync(HttpMethod.Delete, $"/session/{name}", cancellationToken: cts.Token);
            Assert.Equal("terminated", body!["stats"]!["status"]!.GetValue<string>());
            var view = backend.Services.GetRequiredService<ISessionQuerySource>().Find(id)!;
            Assert.Equal("TERMINATING", view.Status);
            Assert.Equal("user-requested", view.StatusInfo);

            // While TERMINATING a second plain destroy is refused as upstream does.
            using (var again = await http.DeleteAsync($"/session/{name}", cancellationToken: cts.Token))
                await SessionApiTests.ProblemAsync(again, HttpStatusCode.Forbidden, "generic-forbidden");

            var events = await sse.ReadUntilAsync("session_terminated", cts.Token);
            Assert.Equal(["kernel_terminating", "kernel_terminated", "session_terminated"], events.Select(e => e.Event));
            Assert.Equal("TERMINATED", await backend.WaitForStatusAsync(id, "TERMINATED"));
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using BackendAI.Testing;

namespace BackendAI.Local.Tests.Sessions;

/// <summary><c>GET</c>/<c>HEAD /session/_/logs?taskId=</c> (sessions.md §12.4): batch task logs in the <c>.logs</c> vfolder.</summary>
public class TaskLogTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    private static async Task WaitForTerminatedAsync(LocalBackend backend, Guid id)
    {
        var sw = Stopwatch.StartNew();
        var source = backend.Services.GetRequiredService<ISessionQuerySource>();
        while (source.Find(id)!.Status != "TERMINATED")
        {
            if (sw.Elapsed > Budget) throw new TimeoutException($"session {id} never terminated; now {source.Find(id)!.Status}");
            await Task.Delay(10);
        }
    }

    private static async Task<Guid> RunBatchAsync(SignedHttp http, string command)
    {
        var body = await http.JsonAsync(HttpMethod.Post, "/session", new JsonObject
        {
            ["name"] = "b-" + Guid.NewGuid().ToString("N")[..10], ["image"] = "bash", ["type"] = "batch", ["startupCommand"] = command,
        }, 201);
        return Guid.Parse(body!["sessionId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Batch_task_log_is_served_as_text_from_the_dot_logs_vfolder_by_task_id()
    {
        await using var backend = await LocalBackend.StartAsync(LocalServerFixture.FastOptions());
        using var http = new SignedHttp(backend.Endpoint, WellKnownKeypairs.User);
        await http.JsonAsync(HttpMethod.Post, "/folders", new JsonObject
        {
            ["name"] = ".logs", ["host"] = null, ["usage_mode"] = "general", ["permission"] = "rw", ["cloneable"] = false,
        }, 201);
        var id = await RunBatchAsync(http, "echo task-output; echo task-error >&2");
        await WaitForTerminatedAsync(backend, id);

        foreach (var alias in new[] { "taskId", "task_id", "sessionName" })
        {
            using var r = await http.GetAsync($"/session/_/logs?{alias}={id}");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("text/plain", r.Content.Headers.ContentType!.MediaType);
            var text = await r.Content.ReadAsStringAsync();
            Assert.Contains("task-output\n", text, StringComparison.Ordinal);
            Assert.Contains("task-error\n", text, StringComparison.Ordinal);
        }
        using (var head = await http.SendAsync(HttpMethod.Head, $"/session/_/logs?taskId={id}"))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
        var hex = id.ToString("N");
        var folder = backend.Services.GetRequiredService<IVFolderMountResolver>().ResolveMount(WellKnownKeypairs.User.ToIdentity(), ".logs")!;
        Assert.True(File.Exists(Path.Combine(folder, "task", hex[..2], hex[2..4], hex[4..] + ".log")));

        using (var unknown = await http.GetAsync($"/session/_/logs?taskId={Guid.NewGuid()}"))
            await SessionApiTests.ProblemAsync(unknown, HttpStatusCode.NotFound, "object-not-found");
    }

    [Fact]
    public async Task Task_logs_without_a_dot_logs_vfolder_are_404_and_a_missing_or_bad_task_id_is_400()
    {
        await using var backend = await LocalBackend.StartAsync(LocalServerFixture.FastOptions());
        using var http = new SignedHttp(backend.Endpoint, WellKnownKeypairs.User);
        using (var r = await http.GetAsync($"/session/_/logs?taskId={Guid.NewGuid()}"))
        {
            var p = await SessionApiTests.ProblemAsync(r, HttpStatusCode.NotFound, "object-not-found");
            Assert.Equal("No such vfolder.", p["msg"]!.GetValue<string>());
        }
        using (var r = await http.GetAsync("/session/_/logs"))
            await SessionApiTests.ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
        using (var r = await http.GetAsync("/session/_/logs?taskId=not-a-uuid"))
            await SessionApiTests.ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
    }
}

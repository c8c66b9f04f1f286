using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using BackendAI.Testing;

namespace BackendAI.Local.Tests.Sessions;

/// <summary>Conformance checklist Server 41–62, 75–88 through the REST endpoints.</summary>
public class SessionApiTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    internal static async Task<JsonObject> ProblemAsync(HttpResponseMessage r, HttpStatusCode status, string typeSuffix)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(status == r.StatusCode, $"expected {status}, got {(int)r.StatusCode}: {text}");
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal("https://api.backend.ai/probs/" + typeSuffix, body["type"]!.GetValue<string>());
        return body;
    }

    private static string NewName() => "s-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The body client-py sends for get_or_create (sessions.md §3.3).</summary>
    internal static JsonObject ClientPyBody(string name, string image = "sim") => JsonNode.Parse($$"""
        {"tag": null, "name": "{{name}}", "config": {"mounts": [], "environ": null, "resources": {}, "resource_opts": {},
         "scalingGroup": null, "mount_map": {}, "preopen_ports": null}, "dependencies": null, "callback_url": null,
         "clusterSize": 1, "clusterMode": "single-node", "starts_at": null, "bootstrap_script": null, "owner_access_key": null,
         "domain": "default", "group": "default", "type": "interactive", "enqueueOnly": false, "maxWaitSeconds": 0,
         "reuseIfExists": true, "startupCommand": null, "image": "{{image}}"}
        """)!.AsObject();

    private async Task<JsonNode> InfoAsync(SignedHttp http, string reference) =>
        (await http.JsonAsync(HttpMethod.Get, $"/session/{reference}"))!;

    [Fact]
    public async Task Server41_43_create_with_client_py_body_returns_201_running()
    {
        var name = NewName();
        var body = await fx.Admin.JsonAsync(HttpMethod.Post, "/session", ClientPyBody(name), 201);
        Assert.True(Guid.TryParse(body!["sessionId"]!.GetValue<string>(), out _));
        Assert.Equal(name, body["sessionName"]!.GetValue<string>());
        Assert.Equal("RUNNING", body["status"]!.GetValue<string>());
        Assert.IsType<JsonArray>(body["servicePorts"]);
        Assert.True(body["created"]!.GetValue<bool>());
        Assert.Equal(["sessionId", "sessionName", "status", "servicePorts", "created"], body.AsObject().Select(kv => kv.Key));
    }

    [Fact]
    public async Task Server42_enqueue_only_returns_pending_immediately()
    {
        var b = ClientPyBody(NewName());
        b["enqueueOnly"] = true;
        var body = await fx.Admin.JsonAsync(HttpMethod.Post, "/session", b, 201);
        Assert.Equal("PENDING", body!["status"]!.GetValue<string>());
        Assert.Empty(body["servicePorts"]!.AsArray());
        await fx.Backend.WaitForStatusAsync(Guid.Parse(body["sessionId"]!.GetValue<string>()), "RUNNING");
    }

    [Fact]
    public async Task Server44_max_wait_seconds_returns_timeout_and_the_session_keeps_starting()
    {
        var options = LocalServerFixture.FastOptions();
        options.LifecycleStepDelay = TimeSpan.FromMilliseconds(700);
        await using var backend = await LocalBackend.StartAsync(options);
        using var http = new SignedHttp(backend.Endpoint, WellKnownKeypairs.SuperAdmin);
        var b = ClientPyBody(NewName());
        b["maxWaitSeconds"] = 1;
        var sw = Stopwatch.StartNew();
        var body = await http.JsonAsync(HttpMethod.Post, "/session", b, 201);
        Assert.Equal("TIMEOUT", body!["status"]!.GetValue<string>());
        Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8)); // ~1 s; generous upper bound for loaded machines
        var id = Guid.Parse(body["sessionId"]!.GetValue<string>());
        var source = backend.Services.GetRequiredService<ISessionQuerySource>();
        while (source.Find(id)!.Status != "RUNNING" && sw.Elapsed < Budget) await Task.Delay(20);
        Assert.Equal("RUNNING", source.Find(id)!.Status);
    }

    [Fact]
    public async Task Server45_reuse_returns_200_with_both_service_port_spellings()
    {
        var name = NewName();
        var first = await fx.Admin.JsonAsync(HttpMethod.Post, "/session", ClientPyBody(name), 201);
        var again = await fx.Admin.JsonAsync(HttpMethod.Post, "/session", ClientPyBody(name), 200);
        Assert.Equal(first!["sessionId"]!.GetValue<string>(), again!["sessionId"]!.GetValue<string>());
        Assert.False(again["created"]!.GetValue<bool>());
        Assert.IsType<JsonArray>(again["servicePorts"]);
        Assert.IsType<JsonArray>(again["service_ports"]);
    }

    [Fact]
    public async Task Server46_no_reuse_or_other_image_is_session_already_exists()
    {
        var name = NewName();
        var first = await fx.Admin.JsonAsync(HttpMethod.Post, "/session", ClientPyBody(name), 201);
        var b = ClientPyBody(name);
        b["reuseIfExists"] = false;
        using var r1 = await fx.Admin.PostAsync("/session", b);
        var p1 = await ProblemAsync(r1, HttpStatusCode.BadRequest, "session-already-exists");
        Assert.Equal(first!["sessionId"]!.GetValue<string>(), p1["data"]!["existingSessionId"]!.GetValue<string>());
        using var r2 = await fx.Admin.PostAsync("/session", ClientPyBody(name, "sim:other"));
        await ProblemAsync(r2, HttpStatusCode.BadRequest, "session-already-exists");
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("-abc")]
    [InlineData("abc-")]
    [InlineData("has space")]
    public async Task Server47_invalid_names_fail_validation(string name)
    {
        using var r = await fx.Admin.PostAsync("/session", ClientPyBody(name));
        var p = await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
        Assert.Contains("does not match pattern", p["data"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server48_unknown_image_is_404_no_such_environment_image()
    {
        using var r = await fx.Admin.PostAsync("/session", ClientPyBody(NewName(), "unknown-image:1.0"));
        var p = await ProblemAsync(r, HttpStatusCode.NotFound, "object-not-found");
        Assert.Equal("No such environment image.", p["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server49_batch_without_startup_command_is_rejected()
    {
        var b = ClientPyBody(NewName());
        b["type"] = "batch";
        using var r = await fx.Admin.PostAsync("/session", b);
        var p = await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
        Assert.Equal("Batch sessions must have a non-empty startup command.", p["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server50_starts_at_on_interactive_is_rejected()
    {
        var b = ClientPyBody(NewName());
        b["starts_at"] = "30m";
        using var r = await fx.Admin.PostAsync("/session", b);
        await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
    }

    [Fact]
    public async Task Server51_cluster_size_inside_config_is_not_allowed()
    {
        var b = ClientPyBody(NewName());
        b["config"]!["clusterSize"] = 1;
        using var r = await fx.Admin.PostAsync("/session", b);
        var p = await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
        Assert.Contains("clusterSize is not allowed key", p["data"]!["config"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server52_environ_with_non_string_value_is_rejected()
    {
        var b = ClientPyBody(NewName());
        b["config"]!["environ"] = new JsonObject { ["A"] = 1 };
        using var r = await fx.Admin.PostAsync("/session", b);
        await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
    }

    [Fact]
    public async Task Server53_name_uuid_and_uuid_prefix_resolve_the_same_session()
    {
        var (id, name) = await fx.CreateSessionAsync(fx.User);
        foreach (var reference in new[] { name, id.ToString(), id.ToString()[..8] })
        {
            var info = await InfoAsync(fx.User, reference);
            Assert.Equal(WellKnownKeypairs.User.UserId.ToString(), info["userId"]!.GetValue<string>());
            Assert.Equal(id.ToString("N"), info["containerId"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Server54_ambiguous_prefix_is_too_many_sessions_matched()
    {
        var stem = "amb" + Guid.NewGuid().ToString("N")[..8];
        await fx.CreateSessionAsync(fx.User, name: stem + "-one");
        await fx.CreateSessionAsync(fx.User, name: stem + "-two");
        using var r = await fx.User.GetAsync($"/session/{stem}");
        var p = await ProblemAsync(r, HttpStatusCode.NotFound, "too-many-sessions-matched");
        var matches = p["data"]!["matches"]!.AsArray();
        Assert.Equal(2, matches.Count);
        foreach (var m in matches)
            Assert.Equal(["id", "name", "status", "created_at"], m!.AsObject().Select(kv => kv.Key));
    }

    [Fact]
    public async Task Server55_unknown_reference_is_no_such_session()
    {
        using var r = await fx.User.GetAsync("/session/no-such-session-here");
        var p = await ProblemAsync(r, HttpStatusCode.NotFound, "object-not-found");
        Assert.Equal("No such session.", p["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server56_terminated_session_is_not_found_but_its_name_can_be_reused()
    {
        var (id, name) = await fx.CreateSessionAsync(fx.User);
        await fx.User.JsonAsync(HttpMethod.Delete, $"/session/{name}");
        await fx.Backend.WaitForStatusAsync(id, "TERMINATED");
        using var r = await fx.User.GetAsync($"/session/{id}");
        await ProblemAsync(r, HttpStatusCode.NotFound, "object-not-found");
        var (id2, _) = await fx.CreateSessionAsync(fx.User, name: name);
        Assert.NotEqual(id, id2);
    }

    [Fact]
    public async Task Server57_owner_access_key_in_query_is_ignored_where_not_honoured()
    {
        var (_, name) = await fx.CreateSessionAsync(fx.User);
        var info = await fx.User.JsonAsync(HttpMethod.Get, $"/session/{name}?owner_access_key=AKIAOTHER");
        Assert.Equal("RUNNING", info!["status"]!.GetValue<string>());
        var files = await fx.User.JsonAsync(HttpMethod.Get, $"/session/{name}/files?owner_access_key=AKIAOTHER");
        Assert.Equal("", files!["errors"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server58_info_has_the_documented_keys()
    {
        var (_, name) = await fx.CreateSessionAsync(fx.Admin);
        var info = await InfoAsync(fx.Admin, name);
        string[] keys =
        [
            "domainName", "groupId", "userId", "lang", "image", "architecture", "registry", "tag", "containerId", "occupiedSlots",
            "occupiedShares", "environ", "status", "statusInfo", "statusData", "age", "creationTime", "terminationTime",
            "numQueriesExecuted", "lastStat",
        ];
        Assert.Equal(keys, info.AsObject().Select(kv => kv.Key));
        Assert.Equal("RUNNING", info["status"]!.GetValue<string>());
        Assert.Equal("cr.backend.ai/stable/sim:latest", info["image"]!.GetValue<string>());
        Assert.InRange(info["age"]!.GetValue<long>(), 0, 60_000);
        Assert.Equal(WellKnownKeypairs.DefaultGroupId.ToString(), info["groupId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server59_destroy_running_returns_stats_and_terminates()
    {
        var (id, name) = await fx.CreateSessionAsync(fx.User);
        var body = await fx.User.JsonAsync(HttpMethod.Delete, $"/session/{name}");
        Assert.NotNull(body!["stats"]);
        Assert.Equal("TERMINATED", await fx.Backend.WaitForStatusAsync(id, "TERMINATED"));
        var view = fx.Backend.Services.GetRequiredService<ISessionQuerySource>().Find(id)!;
        Assert.Equal("user-requested", view.StatusInfo);
        Assert.NotNull(view.TerminatedAt);
    }

    [Fact]
    public async Task Server60_destroy_pending_cancels()
    {
        var options = LocalServerFixture.FastOptions();
        options.CapacityCpu = 1;
        await using var backend = await LocalBackend.StartAsync(options);
        using var http = new SignedHttp(backend.Endpoint, WellKnownKeypairs.User);
        await http.JsonAsync(HttpMethod.Post, "/session", ClientPyBody(NewName()), 201);
        var b = ClientPyBody(NewName());
        b["enqueueOnly"] = true;
        var pending = await http.JsonAsync(HttpMethod.Post, "/session", b, 201);
        var id = pending!["sessionId"]!.GetValue<string>();
        var body = await http.JsonAsync(HttpMethod.Delete, $"/session/{id}");
        Assert.Equal("""{"stats":{"status":"cancelled"}}""", body!.ToJsonString());
        Assert.Equal("CANCELLED", backend.Services.GetRequiredService<ISessionQuerySource>().Find(Guid.Parse(id))!.Status);
    }

    [Fact]
    public async Task Server61_forced_destroy_by_plain_user_is_insufficient_privilege()
    {
        var (_, name) = await fx.CreateSessionAsync(fx.User);
        using var r = await fx.User.DeleteAsync($"/session/{name}?forced=true");
        await ProblemAsync(r, HttpStatusCode.Forbidden, "insufficient-privilege");
    }

    [Fact]
    public async Task Server62_error_session_needs_forced_destroy()
    {
        var (id, name) = await fx.CreateSessionAsync(fx.Admin);
        var registry = fx.Backend.Services.GetRequiredService<BackendAI.Local.Sessions.SessionRegistry>();
        registry.MarkError(registry.ResolveSession(WellKnownKeypairs.SuperAdmin.AccessKey, name), "other-error (test)");
        using var r = await fx.Admin.DeleteAsync($"/session/{name}");
        var p = await ProblemAsync(r, HttpStatusCode.Forbidden, "generic-forbidden");
        Assert.Equal("Cannot destroy kernels in error status", p["msg"]!.GetValue<string>());
        await fx.Admin.JsonAsync(HttpMethod.Delete, $"/session/{name}?forced=true");
        Assert.Equal("TERMINATED", await fx.Backend.WaitForStatusAsync(id, "TERMINATED"));
        Assert.Equal("force-terminated", fx.Backend.Services.GetRequiredService<ISessionQuerySource>().Find(id)!.StatusInfo);
    }

    [Fact]
    public async Task Server65_sim_execute_query_returns_finished_with_console()
    {
        var (_, name) = await fx.CreateSessionAsync(fx.User);
        var body = await fx.User.JsonAsync(HttpMethod.Post, $"/session/{name}",
            new JsonObject { ["mode"] = "query", ["code"] = "print(1)", ["runId"] = null });
        var result = body!["result"]!;
        Assert.Equal(["status", "runId", "exitCode", "options", "files", "console"], result.AsObject().Select(kv => kv.Key));
        Assert.Equal("finished", result["status"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(result["runId"]!.GetValue<string>()));
        Assert.Equal(0, result["exitCode"]!.GetValue<int>());
        Assert.IsType<JsonArray>(result["console"]);
        var info = await InfoAsync(fx.User, name);
        Assert.Equal(1, info["numQueriesExecuted"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("""{"mode": "query", "code": "x"}""", "runId is missing!")]
    [InlineData("""{"mode": "continue", "code": "", "runId": null}""", "continuation requires explicit run ID")]
    [InlineData("""{"mode": "input", "code": "", "runId": null}""", "continuation requires explicit run ID")]
    [InlineData("""{"mode": "shell", "code": "", "runId": null}""", "mode has an invalid value.")]
    [InlineData("""{"code": "", "runId": null}""", "mode is missing or empty!")]
    public async Task Server66_67_68_execute_validation_messages(string json, string msg)
    {
        var (_, name) = await fx.CreateSessionAsync(fx.User);
        using var r = await fx.User.PostAsync($"/session/{name}", JsonNode.Parse(json));
        var p = await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
        Assert.Equal(msg, p["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server75_76_upload_two_parts_with_percent_encoded_name()
    {
        var (id, name) = await fx.CreateSessionAsync(fx.User);
        var content = new MultipartFormDataContent();
        content.Add(new ByteArrayContent("A"u8.ToArray()), "src", "a.txt");
        var part = new ByteArrayContent("B"u8.ToArray());
        part.Headers.TryAddWithoutValidation("Content-Disposition", "form-data; name=\"src\"; filename=\"sub%2Fb.txt\"");
        content.Add(part);
        using var r = await fx.User.SendAsync(HttpMethod.Post, $"/session/{name}/upload", content);
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        var work = Path.Combine(fx.Backend.Paths.SessionsDirectory, id.ToString(), "work");
        Assert.Equal("A", await File.ReadAllTextAsync(Path.Combine(work, "a.txt")));
        Assert.Equal("B", await File.ReadAllTextAsync(Path.Combine(work, "sub", "b.txt")));
    }

    [Fact]
    public async Task Upload_accepts_rfc5987_filenames()
    {
        var (id, name) = await fx.CreateSessionAsync(fx.User);
        var content = new MultipartFormDataContent();
        var part = new ByteArrayContent("C"u8.ToArray());
        part.Headers.TryAddWithoutValidation("Content-Disposition", "form-data; name=\"src\"; filename*=UTF-8''d%C3%A9j%C3%A0.txt");
        content.Add(part);
        using var r = await fx.User.SendAsync(HttpMethod.Post, $"/session/{name}/upload", content);
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        Assert.True(File.Exists(Path.Combine(fx.Backend.Paths.SessionsDirectory, id.ToString(), "work", "déjà.txt")));
    }

    [Fact]
    public async Task Server77_upload_limits()
    {
        var (_, name) = await fx.CreateSessionAsync(fx.User);
        var big = new MultipartFormDataContent { { new ByteArrayContent(new byte[1048576]), "src", "big.bin" } };
        using var r1 = await fx.User.SendAsync(HttpMethod.Post, $"/session/{name}/upload", big);
        Assert.Equal("Too large file", (await ProblemAsync(r1, HttpStatusCode.BadRequest, "invalid-api-params"))["msg"]!.GetValue<string>());
        var justUnder = new MultipartFormDataContent { { new ByteArrayContent(new byte[1048575]), "src", "ok.bin" } };
        using var ok = await fx.User.SendAsync(HttpMethod.Post, $"/session/{name}/upload", justUnder);
        Assert.Equal(HttpStatusCode.NoContent, ok.StatusCode);
        var many = new MultipartFormDataContent();
        for (var i = 0; i < 21; i++) many.Add(new ByteArrayContent([1]), "src", $"f{i}.txt");
        using var r2 = await fx.User.SendAsync(HttpMethod.Post, $"/session/{name}/upload", many);
        Assert.Equal("Too many files", (await ProblemAsync(r2, HttpStatusCode.BadRequest, "invalid-api-params"))["msg"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("sub/../../evil")]
    [InlineData("/etc/evil")]
    [InlineData("..%2Fevil")]
    public async Task Server78_hostile_upload_paths_are_refused(string filename)
    {
        var (id, name) = await fx.CreateSessionAsync(fx.User);
        var content = new MultipartFormDataContent();
        var part = new ByteArrayContent("x"u8.ToArray());
        part.Headers.TryAddWithoutValidation("Content-Disposition", $"form-data; name=\"src\"; filename=\"{filename}\"");
        content.Add(part);
        using var r = await fx.User.SendAsync(HttpMethod.Post, $"/session/{name}/upload", content);
        await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
        Assert.False(File.Exists(Path.Combine(fx.Backend.Paths.SessionsDirectory, id.ToString(), "evil")));
        Assert.False(File.Exists("/etc/evil"));
    }

    [Fact]
    public async Task Server79_upload_download_round_trip_is_byte_identical()
    {
        var (_, name) = await fx.CreateSessionAsync(fx.User);
        var data = new byte[200_000];
        new Random(42).NextBytes(data);
        var content = new MultipartFormDataContent { { new ByteArrayContent(data), "src", "blob.bin" } };
        using (var up = await fx.User.SendAsync(HttpMethod.Post, $"/session/{name}/upload", content))
            Assert.Equal(HttpStatusCode.NoContent, up.StatusCode);

        using var r = await fx.User.GetAsync($"/session/{name}/download", new JsonObject { ["files"] = new JsonArray("blob.bin") });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("multipart/mixed", r.Content.Headers.ContentType!.MediaType);
        var boundary = r.Content.Headers.ContentType.Parameters.Single(p => p.Name == "boundary").Value!;
        var reader = new Microsoft.AspNetCore.WebUtilities.MultipartReader(boundary, await r.Content.ReadAsStreamAsync());
        var section = await reader.ReadNextSectionAsync();
        Assert.NotNull(section);
        Assert.Equal("identity", section!.Headers!["Content-Encoding"].ToString());
        var partBytes = new MemoryStream();
        await section.Body.CopyToAsync(partBytes);
        Assert.True(partBytes.Length > 200_000, $"part length {partBytes.Length}");
        partBytes.Position = 0;
        using var tar = new System.Formats.Tar.TarReader(partBytes);
        var entry = await tar.GetNextEntryAsync();
        Assert.Equal("blob.bin", entry!.Name);
        using var ms = new MemoryStream();
        await entry.DataStream!.CopyToAsync(ms);
        Assert.Equal(data, ms.ToArray());
        Assert.Null(await reader.ReadNextSectionAsync());
    }

    [Fact]
    public async Task Download_of_missing_file_is_the_file_is_not_found()
    {
        var (_, name) = await fx.CreateSessionAsync(fx.User);
        using var r = await fx.User.GetAsync($"/session/{name}/download", new JsonObject { ["files"] = new JsonArray("nope.txt") });
        Assert.Equal("The file is not found.", (await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params"))["msg"]!.GetValue<string>());
        using var r2 = await fx.User.GetAsync($"/session/{name}/download", new JsonObject { ["files"] = new JsonArray("a", "b", "c", "d", "e", "f") });
        await ProblemAsync(r2, HttpStatusCode.BadRequest, "invalid-api-params");
    }

    [Fact]
    public async Task Server80_81_files_listing_is_double_encoded_and_reports_missing_dirs()
    {
        var (id, name) = await fx.CreateSessionAsync(fx.User);
        await File.WriteAllTextAsync(Path.Combine(fx.Backend.Paths.SessionsDirectory, id.ToString(), "work", "hello.txt"), "hello\n");
        var body = await fx.User.JsonAsync(HttpMethod.Get, $"/session/{name}/files", new JsonObject { ["path"] = "." });
        Assert.Equal("", body!["errors"]!.GetValue<string>());
        Assert.Equal(".", body["abspath"]!.GetValue<string>());
        var files = JsonNode.Parse(body["files"]!.GetValue<string>())!.AsArray();
        var hello = files.Single(f => f!["filename"]!.GetValue<string>() == "hello.txt")!;
        Assert.Equal(["mode", "size", "ctime", "mtime", "atime", "filename"], hello.AsObject().Select(kv => kv.Key));
        Assert.Equal(6, hello["size"]!.GetValue<int>());
        Assert.StartsWith("-rw", hello["mode"]!.GetValue<string>());

        var missing = await fx.User.JsonAsync(HttpMethod.Get, $"/session/{name}/files", new JsonObject { ["path"] = "nope" });
        Assert.NotEqual("", missing!["errors"]!.GetValue<string>());
        Assert.Equal("[]", missing["files"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server82_logs_work_also_for_terminated_sessions()
    {
        var (id, name) = await fx.CreateSessionAsync(fx.User);
        var live = await fx.User.JsonAsync(HttpMethod.Get, $"/session/{name}/logs");
        Assert.IsType<string>(live!["result"]!["logs"]!.GetValue<string>());
        await fx.User.JsonAsync(HttpMethod.Delete, $"/session/{name}");
        await fx.Backend.WaitForStatusAsync(id, "TERMINATED");
        var after = await fx.User.JsonAsync(HttpMethod.Get, $"/session/{id}/logs");
        Assert.Equal(live["result"]!["logs"]!.GetValue<string>(), after!["result"]!["logs"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server83_84_rename_running_only()
    {
        var (id, name) = await fx.CreateSessionAsync(fx.User);
        var newName = NewName();
        using (var r = await fx.User.PostAsync($"/session/{name}/rename?name={newName}&owner_access_key={WellKnownKeypairs.User.AccessKey}"))
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        var info = await InfoAsync(fx.User, newName);
        Assert.Equal(id.ToString("N"), info["containerId"]!.GetValue<string>());
        await fx.User.JsonAsync(HttpMethod.Delete, $"/session/{newName}");
        await fx.Backend.WaitForStatusAsync(id, "TERMINATED");
        using var r2 = await fx.User.PostAsync($"/session/{id}/rename?name={NewName()}");
        var p = await ProblemAsync(r2, HttpStatusCode.BadRequest, "invalid-api-params");
        Assert.Equal("Can't change name of not running session", p["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server85_match_lists_prefix_matches()
    {
        var (id, name) = await fx.CreateSessionAsync(fx.User);
        var body = await fx.User.JsonAsync(HttpMethod.Get, $"/session/_/match?id={name[..8]}");
        var m = Assert.Single(body!["matches"]!.AsArray(), x => x!["id"]!.GetValue<string>() == id.ToString())!;
        Assert.Equal(["id", "name", "status"], m.AsObject().Select(kv => kv.Key));
        Assert.Equal(name, m["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server86_complete_returns_a_result()
    {
        var (_, name) = await fx.CreateSessionAsync(fx.User);
        var body = await fx.User.JsonAsync(HttpMethod.Post, $"/session/{name}/complete",
            new JsonObject { ["code"] = "pri", ["options"] = new JsonObject { ["row"] = 0, ["col"] = 3 } });
        Assert.Equal("finished", body!["result"]!["status"]!.GetValue<string>());
        Assert.IsType<JsonArray>(body["result"]!["completions"]);
    }

    [Theory]
    [InlineData("exit 0", "SUCCESS")]
    [InlineData("exit 3", "FAILURE")]
    public async Task Server87_batch_session_result(string command, string expected)
    {
        var b = ClientPyBody(NewName(), "bash");
        b["type"] = "batch";
        b["startupCommand"] = command;
        var body = await fx.User.JsonAsync(HttpMethod.Post, "/session", b, 201);
        var id = Guid.Parse(body!["sessionId"]!.GetValue<string>());
        await fx.Backend.WaitForStatusAsync(id, "TERMINATED");
        var view = fx.Backend.Services.GetRequiredService<ISessionQuerySource>().Find(id)!;
        Assert.Equal(expected, view.Result);
        Assert.Equal("BATCH", view.Type);
        Assert.Equal("task-finished", view.StatusInfo);
    }

    [Fact]
    public async Task Server88_dependency_keeps_session_pending_until_success()
    {
        var batch = ClientPyBody(NewName(), "bash");
        batch["type"] = "batch";
        batch["startupCommand"] = "sleep 1; exit 0";
        batch["enqueueOnly"] = true;
        var first = await fx.User.JsonAsync(HttpMethod.Post, "/session", batch, 201);
        var firstId = Guid.Parse(first!["sessionId"]!.GetValue<string>());
        var dependent = ClientPyBody(NewName());
        dependent["dependencies"] = new JsonArray(firstId.ToString());
        dependent["enqueueOnly"] = true;
        var second = await fx.User.JsonAsync(HttpMethod.Post, "/session", dependent, 201);
        var secondId = Guid.Parse(second!["sessionId"]!.GetValue<string>());
        var source = fx.Backend.Services.GetRequiredService<ISessionQuerySource>();
        await fx.Backend.WaitForStatusAsync(firstId, "RUNNING");
        Assert.Equal("PENDING", source.Find(secondId)!.Status);
        Assert.Equal("predicate-checks-failed", source.Find(secondId)!.StatusInfo);
        await fx.Backend.WaitForStatusAsync(secondId, "RUNNING");
        Assert.Equal("SUCCESS", source.Find(firstId)!.Result);
    }

    [Fact]
    public async Task Unknown_dependency_is_rejected_with_session_ref()
    {
        var b = ClientPyBody(NewName());
        b["dependencies"] = new JsonArray("no-such-dependency");
        using var r = await fx.User.PostAsync("/session", b);
        var p = await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
        Assert.Equal("no-such-dependency", p["data"]!["session_ref"]!.GetValue<string>());
    }

    [Fact]
    public async Task Users_cannot_see_or_destroy_each_others_sessions()
    {
        var (id, name) = await fx.CreateSessionAsync(fx.Admin);
        using var info = await fx.User.GetAsync($"/session/{name}");
        await ProblemAsync(info, HttpStatusCode.NotFound, "object-not-found");
        using var byId = await fx.User.DeleteAsync($"/session/{id}");
        await ProblemAsync(byId, HttpStatusCode.NotFound, "object-not-found");
        using var owner = await fx.User.DeleteAsync($"/session/{id}?owner_access_key={WellKnownKeypairs.SuperAdmin.AccessKey}");
        await ProblemAsync(owner, HttpStatusCode.Forbidden, "generic-forbidden");
        Assert.Equal("RUNNING", fx.Backend.Services.GetRequiredService<ISessionQuerySource>().Find(id)!.Status);
    }

    [Fact]
    public async Task Admin_can_create_and_destroy_for_another_owner()
    {
        var b = ClientPyBody(NewName());
        b["owner_access_key"] = WellKnownKeypairs.User.AccessKey;
        var body = await fx.Admin.JsonAsync(HttpMethod.Post, "/session", b, 201);
        var id = Guid.Parse(body!["sessionId"]!.GetValue<string>());
        Assert.Equal(WellKnownKeypairs.User.AccessKey, fx.Backend.Services.GetRequiredService<ISessionQuerySource>().Find(id)!.AccessKey);
        var info = await InfoAsync(fx.User, id.ToString());
        Assert.Equal(WellKnownKeypairs.User.UserId.ToString(), info["userId"]!.GetValue<string>());
        await fx.Admin.JsonAsync(HttpMethod.Delete, $"/session/{id}?owner_access_key={WellKnownKeypairs.User.AccessKey}");
        await fx.Backend.WaitForStatusAsync(id, "TERMINATED");
    }

    [Fact]
    public async Task Plain_user_cannot_create_for_another_owner()
    {
        var b = ClientPyBody(NewName());
        b["owner_access_key"] = WellKnownKeypairs.SuperAdmin.AccessKey;
        using var r = await fx.User.PostAsync("/session", b);
        await ProblemAsync(r, HttpStatusCode.Forbidden, "generic-forbidden");
        b["owner_access_key"] = "AKIANOSUCHOWNER00000";
        using var r2 = await fx.Admin.PostAsync("/session", b);
        Assert.Equal("Unknown owner access key", (await ProblemAsync(r2, HttpStatusCode.BadRequest, "invalid-api-params"))["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task Restart_returns_204_and_the_session_runs_again()
    {
        var (id, name) = await fx.CreateSessionAsync(fx.User);
        using var r = await fx.User.PatchAsync($"/session/{name}");
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        Assert.Equal("RUNNING", fx.Backend.Services.GetRequiredService<ISessionQuerySource>().Find(id)!.Status);
    }

    [Fact]
    public async Task Frozen_manager_rejects_session_create_with_503()
    {
        var options = LocalServerFixture.FastOptions();
        await using var backend = await LocalBackend.StartAsync(options);
        using var admin = new SignedHttp(backend.Endpoint, WellKnownKeypairs.SuperAdmin);
        using var user = new SignedHttp(backend.Endpoint, WellKnownKeypairs.User);
        using (var deny = await user.SendAsync(HttpMethod.Put, "/manager/status", SignedHttp.Json(new JsonObject { ["status"] = "frozen" })))
            await ProblemAsync(deny, HttpStatusCode.Forbidden, "insufficient-privilege");
        using (var freeze = await admin.SendAsync(HttpMethod.Put, "/manager/status", SignedHttp.Json(new JsonObject { ["status"] = "frozen" })))
            Assert.Equal(HttpStatusCode.NoContent, freeze.StatusCode);
        using var r = await user.PostAsync("/session", ClientPyBody(NewName()));
        await ProblemAsync(r, HttpStatusCode.ServiceUnavailable, "server-frozen");
        var status = await user.JsonAsync(HttpMethod.Get, "/manager/status");
        Assert.Equal("frozen", status!["status"]!.GetValue<string>());
    }
}

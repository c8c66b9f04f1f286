using System.Text;
using System.Text.Json;
using BackendAI.Client.Errors;
using BackendAI.Client.Models;
using BackendAI.Client.Sessions;
using BackendAI.Client.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace BackendAI.Client.Tests.Sessions;

public class SessionRequestShapeTests
{
    private const string SessionId = "5c3ad8c9-8f4e-4b57-9a2a-2f1c4a2e6d10";

    private static async Task<(LoopbackServer Server, BackendAIClient Client)> StartAsync(string json, int status = 200)
    {
        var server = await LoopbackServer.StartJsonAsync(json, status);
        return (server, server.Client());
    }

    [Fact]
    public async Task Create_sends_exactly_the_client_py_v6_body_keys()
    {
        var (server, client) = await StartAsync($"{{\"sessionId\": \"{SessionId}\", \"sessionName\": \"mysess\", \"status\": \"RUNNING\", \"servicePorts\": [{{\"name\": \"jupyter\", \"protocol\": \"http\", \"ports\": [8070], \"url_template\": \"{{protocol}}://{{host}}:{{port}}/\"}}], \"created\": true}}", 201);
        await using (server)
        await using (client)
        {
            var result = await client.Sessions.CreateAsync(new SessionCreateRequest { Image = "python:3.9-ubuntu20.04", Name = "mysess" });
            Assert.Equal(SessionId, result.SessionId);
            Assert.True(result.Created);
            var port = Assert.Single(result.ServicePorts);
            Assert.Equal(("jupyter", "http", 8070), (port.Name, port.Protocol, port.Ports[0]));
            Assert.Equal("{protocol}://{host}:{port}/", port.UrlTemplate);

            var r = Assert.Single(server.Api);
            Assert.Equal(("POST", "/session", "application/json"), (r.Method, r.RawTarget, r.SignedContentType));
            Assert.True(r.SignatureValid);
            var body = r.Json;
            string[] expectedKeys = ["tag", "name", "config", "dependencies", "callback_url", "clusterSize", "clusterMode", "starts_at",
                "bootstrap_script", "owner_access_key", "domain", "group", "type", "enqueueOnly", "maxWaitSeconds", "reuseIfExists", "startupCommand", "image"];
            Assert.Equal(expectedKeys.Order(), body.EnumerateObject().Select(p => p.Name).Order());
            string[] configKeys = ["mounts", "environ", "resources", "resource_opts", "scalingGroup", "mount_map", "preopen_ports"];
            Assert.Equal(configKeys.Order(), body.GetProperty("config").EnumerateObject().Select(p => p.Name).Order());
            Assert.Equal("mysess", body.GetProperty("name").GetString());
            Assert.Equal("interactive", body.GetProperty("type").GetString());
            Assert.Equal(1, body.GetProperty("clusterSize").GetInt32());
            Assert.Equal("single-node", body.GetProperty("clusterMode").GetString());
            Assert.True(body.GetProperty("reuseIfExists").GetBoolean());
            Assert.False(body.GetProperty("enqueueOnly").GetBoolean());
            Assert.Equal("default", body.GetProperty("domain").GetString());
            Assert.Equal(JsonValueKind.Null, body.GetProperty("dependencies").ValueKind);
        }
    }

    [Fact]
    public async Task Create_passes_every_option_and_merges_default_mounts()
    {
        var (server, client) = await StartAsync($"{{\"sessionId\": \"{SessionId}\", \"status\": \"PENDING\", \"servicePorts\": [], \"created\": true}}", 201);
        await using (server)
        await using (client)
        {
            await using var withMounts = server.Client(o => o.VFolderMounts = ["home"]);
            await withMounts.Sessions.CreateAsync(new SessionCreateRequest
            {
                Image = "python:3.9", Name = "batch1", Type = SessionType.Batch, EnqueueOnly = true, MaxWaitSeconds = 5, ReuseIfExists = false,
                StartupCommand = "python main.py", StartsAt = "30m", Mounts = ["data"], MountMap = new Dictionary<string, string> { ["data"] = "/data" },
                Environ = new Dictionary<string, string> { ["A"] = "1" }, Resources = new Dictionary<string, string> { ["cpu"] = "2", ["mem"] = "4g" },
                ResourceOpts = new Dictionary<string, string> { ["shmem"] = "64m" }, ScalingGroup = "sg", ClusterSize = 2, ClusterMode = "multi-node",
                Tag = "t", BootstrapScript = "echo hi", Dependencies = ["dep1"], CallbackUrl = "http://cb/", OwnerAccessKey = "AKIAOTHER",
                Domain = "d2", Group = "g2", PreopenPorts = [8888], Architecture = "aarch64",
            });
            var b = server.Api.Single().Json;
            var c = b.GetProperty("config");
            Assert.Equal(["home", "data"], c.GetProperty("mounts").EnumerateArray().Select(x => x.GetString()));
            Assert.Equal("/data", c.GetProperty("mount_map").GetProperty("data").GetString());
            Assert.Equal("1", c.GetProperty("environ").GetProperty("A").GetString());
            Assert.Equal("4g", c.GetProperty("resources").GetProperty("mem").GetString());
            Assert.Equal("64m", c.GetProperty("resource_opts").GetProperty("shmem").GetString());
            Assert.Equal("sg", c.GetProperty("scalingGroup").GetString());
            Assert.Equal(8888, c.GetProperty("preopen_ports")[0].GetInt32());
            Assert.False(c.TryGetProperty("clusterSize", out _));
            Assert.Equal(("batch", true, 5, false), (b.GetProperty("type").GetString(), b.GetProperty("enqueueOnly").GetBoolean(),
                b.GetProperty("maxWaitSeconds").GetInt32(), b.GetProperty("reuseIfExists").GetBoolean()));
            Assert.Equal("python main.py", b.GetProperty("startupCommand").GetString());
            Assert.Equal("30m", b.GetProperty("starts_at").GetString());
            Assert.Equal(2, b.GetProperty("clusterSize").GetInt32());
            Assert.Equal("multi-node", b.GetProperty("clusterMode").GetString());
            Assert.Equal("echo hi", b.GetProperty("bootstrap_script").GetString());
            Assert.Equal("dep1", b.GetProperty("dependencies")[0].GetString());
            Assert.Equal("http://cb/", b.GetProperty("callback_url").GetString());
            Assert.Equal("AKIAOTHER", b.GetProperty("owner_access_key").GetString());
            Assert.Equal(("d2", "g2", "aarch64"), (b.GetProperty("domain").GetString(), b.GetProperty("group").GetString(), b.GetProperty("architecture").GetString()));
        }
    }

    [Theory]
    [InlineData(6, "20200815", true, false, true)]   // cluster keys top level, no dependencies
    [InlineData(5, "20191215", false, false, true)]  // clusterSize inside config, starts_at present
    [InlineData(4, "20190615", false, false, false)] // no v5 keys
    public void Create_body_follows_the_version_gates(int major, string rev, bool clusterTopLevel, bool dependencies, bool v5Keys)
    {
        var body = SessionsApi.BuildCreateBody(new SessionCreateRequest { Image = "img", Name = "n1" }, new ApiVersion(major, rev), "default", "default", [], false);
        Assert.Equal(clusterTopLevel, body.ContainsKey("clusterSize"));
        Assert.Equal(!clusterTopLevel, body["config"]!.AsObject().ContainsKey("clusterSize"));
        Assert.Equal(dependencies, body.ContainsKey("dependencies"));
        Assert.Equal(v5Keys, body.ContainsKey("starts_at"));
        Assert.Equal(v5Keys, body["config"]!.AsObject().ContainsKey("mount_map"));
        Assert.True(body.ContainsKey("enqueueOnly"));
        Assert.Equal(major <= 4, body.ContainsKey("clientSessionToken"));
        var oldest = SessionsApi.BuildCreateBody(new SessionCreateRequest { Image = "img" }, new ApiVersion(4, "20181215"), "default", "default", [], false);
        Assert.True(oldest.ContainsKey("lang"));
        Assert.False(oldest.ContainsKey("enqueueOnly"));
        Assert.StartsWith("dotnet-", oldest["clientSessionToken"]!.GetValue<string>());
    }

    [Fact]
    public async Task Client16_Client17_reuse_response_with_service_ports_and_timeout_status_are_accepted()
    {
        var reused = SessionsApi.ParseCreateResult(JsonDocument.Parse(
            $"{{\"sessionId\": \"{SessionId}\", \"sessionName\": \"s\", \"status\": \"RUNNING\", \"service_ports\": [{{\"name\": \"jupyter\", \"protocol\": \"http\", \"container_ports\": [8070], \"host_ports\": [30001]}}], \"created\": false}}").RootElement, "s");
        Assert.False(reused.Created);
        Assert.Equal(8070, Assert.Single(reused.ServicePorts).Ports[0]);
        var none = SessionsApi.ParseCreateResult(JsonDocument.Parse($"{{\"sessionId\": \"{SessionId}\", \"status\": \"TIMEOUT\"}}").RootElement, "s");
        Assert.Empty(none.ServicePorts);
        Assert.True(none.IsTimeout);
        Assert.Equal("TIMEOUT", none.Status);
    }

    [Fact]
    public async Task Create_from_template_sends_template_id_and_only_set_overrides()
    {
        var (server, client) = await StartAsync($"{{\"sessionId\": \"{SessionId}\", \"status\": \"RUNNING\", \"created\": true}}", 201);
        await using (server)
        await using (client)
        {
            var id = Guid.NewGuid();
            await client.Sessions.CreateFromTemplateAsync(id, new SessionCreateRequest { Name = "fromtpl" });
            var r = server.Api.Single();
            Assert.Equal("/session/_/create-from-template", r.Path);
            var b = r.Json;
            Assert.Equal(id.ToString(), b.GetProperty("template_id").GetString());
            Assert.Equal("fromtpl", b.GetProperty("name").GetString());
            Assert.False(b.TryGetProperty("image", out _));
            Assert.False(b.TryGetProperty("tag", out _));
            Assert.False(b.TryGetProperty("dependencies", out _));
        }
    }

    [Fact]
    public async Task Info_reads_status_age_and_keeps_raw()
    {
        var (server, client) = await StartAsync("{\"domainName\": \"default\", \"groupId\": \"None\", \"image\": \"python:3.9\", \"status\": \"RUNNING\", \"statusInfo\": \"None\", \"age\": 123456, \"numQueriesExecuted\": 3, \"extra\": {\"x\": 1}}");
        await using (server)
        await using (client)
        {
            var info = await client.Sessions.GetInfoAsync("mysess", ownerAccessKey: "AKIAOTHER");
            Assert.Equal(SessionStatus.Running, info.Status);
            Assert.Equal(123456, info.AgeMs);
            Assert.Null(info.GroupId);
            Assert.Null(info.StatusInfo);
            Assert.Equal(3, info.NumQueriesExecuted);
            Assert.Equal(1, info.Raw.GetProperty("extra").GetProperty("x").GetInt32());
            var r = server.Api.Single();
            Assert.Equal(("GET", "/session/mysess?owner_access_key=AKIAOTHER"), (r.Method, r.RawTarget));
            Assert.Equal("text/plain", r.SignedContentType);
            Assert.True(r.SignatureValid);
        }
    }

    [Fact]
    public async Task Logs_destroy_restart_interrupt_rename_and_match_have_the_documented_shape()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, req) => req.Path switch
        {
            "/session/s1/logs" => LoopbackServer.WriteJson(ctx, 200, "{\"result\": {\"logs\": \"line1\\n\"}}"),
            "/session/_/match" => LoopbackServer.WriteJson(ctx, 200, $"{{\"matches\": [{{\"id\": \"{SessionId}\", \"name\": \"s1\", \"status\": \"RUNNING\"}}]}}"),
            "/session/s1" when req.Method == "DELETE" => LoopbackServer.WriteJson(ctx, 200, "{\"stats\": {\"status\": \"cancelled\"}}"),
            _ => Task.FromResult(ctx.Response.StatusCode = 204),
        });
        await using var client = server.Client();
        Assert.Equal("line1\n", await client.Sessions.GetLogsAsync("s1"));
        var destroyed = await client.Sessions.DestroyAsync("s1");
        Assert.Equal("cancelled", destroyed.Status);
        await client.Sessions.RestartAsync("s1");
        await client.Sessions.InterruptAsync("s1");
        await client.Sessions.RenameAsync("s1", "new.name-1");
        var match = Assert.Single(await client.Sessions.MatchAsync("s"));
        Assert.Equal((SessionId, "s1", "RUNNING"), (match.Id, match.Name, match.Status));
        var seen = server.Api.Select(r => (r.Method, r.RawTarget)).ToList();
        Assert.Equal(
        [
            ("GET", "/session/s1/logs"), ("DELETE", "/session/s1"), ("PATCH", "/session/s1"), ("POST", "/session/s1/interrupt"),
            ("POST", "/session/s1/rename?name=new.name-1"), ("GET", "/session/_/match?id=s"),
        ], seen);
        Assert.All(server.Api, r => Assert.True(r.SignatureValid));
    }

    [Fact]
    public async Task Complete_sends_code_and_options_and_accepts_null_result()
    {
        await using var server = await LoopbackServer.StartJsonAsync("{\"result\": null}");
        await using var client = server.Client();
        Assert.Empty(await client.Sessions.CompleteAsync("s1", "pri", new CompletionOptions(0, 3, "pri", "")));
        var b = server.Api.Single().Json;
        Assert.Equal("pri", b.GetProperty("code").GetString());
        Assert.Equal(3, b.GetProperty("options").GetProperty("col").GetInt32());
    }

    [Fact]
    public async Task Client19_Client20_execute_sends_mode_code_runId_and_parses_media_and_null_fields()
    {
        await using var server = await LoopbackServer.StartJsonAsync(
            "{\"result\": {\"status\": \"waiting-input\", \"runId\": \"abc\", \"exitCode\": null, \"options\": {\"is_password\": true}, \"files\": null, \"console\": [[\"stdout\", \"name? \"], [\"media\", [\"image/png\", \"data:image/png;base64,AAAA\"]], [\"html\", \"<b>x</b>\"]]}}");
        await using var client = server.Client();
        var result = await client.Sessions.ExecuteAsync("s1", new ExecuteRequest(ExecuteMode.Query, "input('name? ')", null));
        Assert.Equal("waiting-input", result.Status);
        Assert.Equal("abc", result.RunId);
        Assert.True(result.IsPassword);
        Assert.Null(result.ExitCode);
        Assert.Null(result.Files);
        Assert.Equal(3, result.Console.Count);
        Assert.Equal(("media", "image/png", "data:image/png;base64,AAAA"), (result.Console[1].Type, result.Console[1].MediaType, result.Console[1].Text));
        Assert.Equal("<b>x</b>", result.Console[2].Text);
        var b = server.Api.Single().Json;
        Assert.Equal("query", b.GetProperty("mode").GetString());
        Assert.Equal("input('name? ')", b.GetProperty("code").GetString());
        Assert.Equal(JsonValueKind.Null, b.GetProperty("runId").ValueKind);
        Assert.False(b.TryGetProperty("options", out _));

        await client.Sessions.ExecuteAsync("s1", new ExecuteRequest(ExecuteMode.Input, "Lablup", "abc"));
        var input = server.Api[1].Json;
        Assert.Equal(("input", "Lablup", "abc"), (input.GetProperty("mode").GetString(), input.GetProperty("code").GetString(), input.GetProperty("runId").GetString()));
        await Assert.ThrowsAsync<BackendClientException>(() => client.Sessions.ExecuteAsync("s1", new ExecuteRequest(ExecuteMode.Continue, "", null)));
    }

    [Fact]
    public async Task Execute_batch_sends_clean_build_exec_options()
    {
        await using var server = await LoopbackServer.StartJsonAsync("{\"result\": {\"status\": \"build-finished\", \"runId\": \"r\", \"exitCode\": 1, \"console\": []}}");
        await using var client = server.Client();
        var r = await client.Sessions.ExecuteAsync("s1", new ExecuteRequest(ExecuteMode.Batch, "", null, new BatchOptions(null, "exit 1", "echo x")));
        Assert.Equal(1, r.ExitCode);
        var o = server.Api.Single().Json.GetProperty("options");
        Assert.Equal(JsonValueKind.Null, o.GetProperty("clean").ValueKind);
        Assert.Equal("exit 1", o.GetProperty("build").GetString());
        Assert.Equal("echo x", o.GetProperty("exec").GetString());
        Assert.False(o.GetProperty("buildLog").GetBoolean());
    }

    [Fact]
    public async Task Client7_Client29_upload_sends_multipart_src_parts_with_plain_relative_names()
    {
        var parts = new List<(string Disposition, string Content)>();
        await using var server = await LoopbackServer.StartAsync(async (ctx, req) =>
        {
            var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(req.Header("Content-Type")).Boundary).Value!;
            var reader = new MultipartReader(boundary, new MemoryStream(req.Body));
            while (await reader.ReadNextSectionAsync() is { } section)
                parts.Add((section.ContentDisposition!, await new StreamReader(section.Body).ReadToEndAsync()));
            ctx.Response.StatusCode = 204;
        });
        await using var client = server.Client();
        var dir = Directory.CreateTempSubdirectory();
        try
        {
            var local = Path.Combine(dir.FullName, "a.txt");
            await File.WriteAllTextAsync(local, "alpha");
            await client.Sessions.UploadAsync("s1",
            [
                UploadFile.FromPath(local),
                new UploadFile("sub/b.txt", () => new MemoryStream(Encoding.UTF8.GetBytes("beta"))),
            ]);
        }
        finally
        {
            dir.Delete(true);
        }
        var r = server.Api.Single();
        Assert.Equal(("POST", "/session/s1/upload", "multipart/form-data"), (r.Method, r.RawTarget, r.SignedContentType));
        Assert.True(r.SignatureValid);
        Assert.Equal(2, parts.Count);
        Assert.Equal("form-data; name=\"src\"; filename=\"a.txt\"", parts[0].Disposition);
        Assert.Equal("form-data; name=\"src\"; filename=\"sub/b.txt\"", parts[1].Disposition);
        Assert.Equal(("alpha", "beta"), (parts[0].Content, parts[1].Content));
    }

    [Fact]
    public async Task Upload_rejects_escaping_names_and_more_than_20_files_before_sending()
    {
        await using var server = await LoopbackServer.StartJsonAsync("{}");
        await using var client = server.Client();
        Stream Empty() => new MemoryStream();
        await Assert.ThrowsAsync<BackendClientException>(() => client.Sessions.UploadAsync("s1", [new UploadFile("../evil", Empty)]));
        await Assert.ThrowsAsync<BackendClientException>(() => client.Sessions.UploadAsync("s1", [new UploadFile("/etc/passwd", Empty)]));
        await Assert.ThrowsAsync<BackendClientException>(() =>
            client.Sessions.UploadAsync("s1", Enumerable.Range(0, 21).Select(i => new UploadFile($"f{i}", Empty)).ToList()));
        Assert.Empty(server.Api);
    }

    [Fact]
    public async Task Client30_list_files_decodes_the_double_encoded_string_and_checks_errors_first()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, req) =>
        {
            var path = req.Json.GetProperty("path").GetString();
            return path switch
            {
                "." => LoopbackServer.WriteJson(ctx, 200, "{\"files\": \"[{\\\"mode\\\": \\\"-rw-r--r--\\\", \\\"size\\\": 6, \\\"ctime\\\": 1647339630.12, \\\"mtime\\\": 1647339630.5, \\\"atime\\\": 1647339630.12, \\\"filename\\\": \\\"hello.txt\\\"}, {\\\"mode\\\": \\\"drwxr-xr-x\\\", \\\"size\\\": 4096, \\\"ctime\\\": 1, \\\"mtime\\\": 1, \\\"atime\\\": 1, \\\"filename\\\": \\\"sub\\\"}]\", \"errors\": \"\", \"abspath\": \".\"}"),
                "empty" => LoopbackServer.WriteJson(ctx, 200, "{\"files\": \"\", \"errors\": \"\", \"abspath\": \"empty\"}"),
                _ => LoopbackServer.WriteJson(ctx, 200, "{\"files\": \"\", \"errors\": \"FileNotFoundError: missing\", \"abspath\": \"missing\"}"),
            };
        });
        await using var client = server.Client();
        var files = await client.Sessions.ListFilesAsync("s1");
        Assert.Equal(2, files.Count);
        Assert.Equal(("hello.txt", 6L, "-rw-r--r--", false), (files[0].FileName, files[0].Size, files[0].Mode, files[0].IsDirectory));
        Assert.Equal(1647339630.5, files[0].MTime);
        Assert.True(files[1].IsDirectory);
        Assert.Empty(await client.Sessions.ListFilesAsync("s1", "empty"));
        var ex = await Assert.ThrowsAsync<BackendApiException>(() => client.Sessions.ListFilesAsync("s1", "missing"));
        Assert.Contains("missing", ex.Msg);
        var r = server.Api[0];
        Assert.Equal(("GET", "/session/s1/files", "application/json"), (r.Method, r.RawTarget, r.SignedContentType));
        Assert.True(r.SignatureValid);
    }

    [Fact]
    public async Task Download_sends_files_as_a_json_body_on_get()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) =>
        {
            ctx.Response.ContentType = "multipart/mixed; boundary=XyZ";
            return ctx.Response.WriteAsync("--XyZ--\r\n");
        });
        await using var client = server.Client();
        var dir = Directory.CreateTempSubdirectory();
        try
        {
            Assert.Empty(await client.Sessions.DownloadAsync("s1", ["out.txt", "results/"], dir.FullName));
        }
        finally
        {
            dir.Delete(true);
        }
        var r = server.Api.Single();
        Assert.Equal(("GET", "/session/s1/download"), (r.Method, r.RawTarget));
        Assert.Equal(["out.txt", "results/"], r.Json.GetProperty("files").EnumerateArray().Select(f => f.GetString()));
    }

    [Fact]
    public void Multipart_mixed_parts_are_split_with_their_headers()
    {
        var body = Encoding.ASCII.GetBytes(
            "--b1\r\nContent-Type: application/octet-stream\r\nContent-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello\r\n" +
            "--b1\r\nContent-Type: application/octet-stream\r\n\r\nwor\r\nld\r\n--b1--\r\n");
        var parts = MultipartMixed.Split(body, "b1").ToList();
        Assert.Equal(2, parts.Count);
        Assert.Equal("hello", Encoding.ASCII.GetString(parts[0].Content.Span));
        Assert.Equal("identity", parts[0].Headers["Content-Encoding"]);
        Assert.Equal("wor\r\nld", Encoding.ASCII.GetString(parts[1].Content.Span));
        Assert.Throws<BackendProtocolException>(() => MultipartMixed.Split(Encoding.ASCII.GetBytes("--b1\r\nContent-Length: 9\r\n\r\nhello\r\n--b1--"), "b1").ToList());
    }
}

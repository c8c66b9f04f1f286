using System.Net;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using BackendAI.Local.Tests.Sessions;
using BackendAI.Testing;

namespace BackendAI.Local.Tests.Hosting;

/// <summary>HOCON/flag options and fault injection.</summary>
public class OptionsAndFaultTests
{
    private static string RepoFile(string relative)
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Directory.Build.props"))) dir = Path.GetDirectoryName(dir);
        return Path.Combine(dir ?? throw new InvalidOperationException("repository root not found"), relative);
    }

    [Fact]
    public void The_operator_hocon_file_parses_to_the_defaults()
    {
        var fromFile = LocalBackendOptions.FromHocon(File.ReadAllText(RepoFile("hocon/local.conf")));
        var defaults = new LocalBackendOptions();
        Assert.Equal(["http://127.0.0.1:8081"], fromFile.Urls);
        Assert.Equal("./.backendai-local", fromFile.DataDirectory);
        Assert.Equal(defaults.CapacityCpu, fromFile.CapacityCpu);
        Assert.Equal(defaults.CapacityMemory, fromFile.CapacityMemory);
        Assert.Equal(defaults.CapacityCudaShares, fromFile.CapacityCudaShares);
        Assert.Equal(defaults.DefaultSessionCpu, fromFile.DefaultSessionCpu);
        Assert.Equal(defaults.DefaultSessionMemory, fromFile.DefaultSessionMemory);
        Assert.Equal(defaults.LifecycleStepDelay, fromFile.LifecycleStepDelay);
        Assert.Equal(defaults.ExecuteFlushWindow, fromFile.ExecuteFlushWindow);
        Assert.Equal(defaults.SseKeepAliveInterval, fromFile.SseKeepAliveInterval);
        Assert.Equal(defaults.DateSkewWindow, fromFile.DateSkewWindow);
        Assert.Equal(defaults.EventBufferSize, fromFile.EventBufferSize);
        Assert.Equal(defaults.ManagerVersion, fromFile.ManagerVersion);
        Assert.Empty(fromFile.ExtraKeypairs);
        Assert.Empty(fromFile.Faults.Routes);
    }

    [Fact]
    public void Hocon_overrides_keypairs_capacity_timings_and_faults()
    {
        var o = LocalBackendOptions.FromHocon("""
            backendai.local {
              port = 9099
              capacity { cpu = 2, mem = 3GiB, cuda-shares = 1.5 }
              execute-flush-window = 250ms
              images { "acme/*" = bash }
              sim { delay = 5ms, output-size = 1KiB }
              keypairs = [ { access-key = "AKIATESTKEY000000001", secret-key = "s3cr3t", email = "t@local", role = admin, rate-limit = 7, password = "pw" } ]
              faults { routes = [ { path-prefix = "/session", error-rate = 1.0, error-status = 502, max-errors = 2 } ], sse-drop-after-events = 3 }
            }
            """);
        Assert.Equal(9099, o.Port);
        Assert.Equal(2m, o.CapacityCpu);
        Assert.Equal(3L << 30, o.CapacityMemory);
        Assert.Equal(1.5m, o.CapacityCudaShares);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.ExecuteFlushWindow);
        Assert.Equal("bash", o.ImageRunners["acme/*"]);
        Assert.Equal(TimeSpan.FromMilliseconds(5), o.SimDelay);
        Assert.Equal(1024, o.SimOutputSize);
        var k = Assert.Single(o.ExtraKeypairs);
        Assert.Equal(("AKIATESTKEY000000001", "admin", 7), (k.AccessKey, k.Role, k.RateLimit));
        Assert.Equal("pw", o.Passwords["t@local"]);
        Assert.DoesNotContain("s3cr3t", k.ToString());
        var route = Assert.Single(o.Faults.Routes);
        Assert.Equal(("/session", 502, 2), (route.PathPrefix, route.ErrorStatus, route.MaxErrors));
        Assert.Equal(3, o.Faults.SseDropAfterEvents);
    }

    [Fact]
    public void Flags_override_the_config_and_unknown_flags_are_named()
    {
        var o = LocalBackendOptions.FromArgs(["--urls", "http://127.0.0.1:8181", "--data-dir", "/tmp/x"]);
        Assert.Equal(["http://127.0.0.1:8181"], o.Urls);
        Assert.Equal("/tmp/x", o.DataDirectory);
        var defaults = LocalBackendOptions.FromArgs([]);
        Assert.Equal(["http://127.0.0.1:8081"], defaults.Urls);
        Assert.Equal("./.backendai-local", defaults.DataDirectory);
        var e = Assert.Throws<ArgumentException>(() => LocalBackendOptions.FromArgs(["--bogus"]));
        Assert.Contains("--bogus", e.Message);
    }

    [Fact]
    public async Task Configured_keypairs_can_sign_in()
    {
        var options = LocalServerFixture.FastOptions();
        options.IncludeExampleKeypairs = false;
        options.ExtraKeypairs.Add(WellKnownKeypairs.User with { AccessKey = "AKIAONLYKEY000000001", SecretKey = "only-secret" });
        await using var backend = await LocalBackend.StartAsync(options);
        Assert.Equal("AKIAONLYKEY000000001", backend.UserKeypair.AccessKey);
        using var ok = new SignedHttp(backend.Endpoint, backend.UserKeypair);
        Assert.Equal("x", (await ok.JsonAsync(HttpMethod.Post, "/auth/test", new JsonObject { ["echo"] = "x" }))!["echo"]!.GetValue<string>());
        using var example = new SignedHttp(backend.Endpoint, WellKnownKeypairs.SuperAdmin);
        using var r = await example.GetAsync("/auth/role");
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
    }

    [Fact]
    public async Task Injected_errors_fail_the_next_n_requests_with_retry_after_then_recover()
    {
        await using var backend = await LocalBackend.StartAsync(LocalServerFixture.FastOptions());
        using var http = new SignedHttp(backend.Endpoint, backend.UserKeypair);
        backend.Faults.FailNext("/auth/test", 2, status: 503, retryAfter: TimeSpan.FromSeconds(2));
        for (var i = 0; i < 2; i++)
        {
            using var r = await http.PostAsync("/auth/test", new JsonObject { ["echo"] = "x" });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(2), r.Headers.RetryAfter!.Delta);
            Assert.Equal("application/problem+json", r.Content.Headers.ContentType!.MediaType);
        }
        using var ok = await http.PostAsync("/auth/test", new JsonObject { ["echo"] = "x" });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var other = await http.GetAsync("/auth/role");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task Faults_endpoint_is_admin_only_and_sets_429_with_latency()
    {
        await using var backend = await LocalBackend.StartAsync(LocalServerFixture.FastOptions());
        using var admin = new SignedHttp(backend.Endpoint, backend.AdminKeypair);
        using var user = new SignedHttp(backend.Endpoint, backend.UserKeypair);
        var settings = new JsonObject
        {
            ["routes"] = new JsonArray(new JsonObject
            {
                ["pathPrefix"] = "/auth/role", ["method"] = "GET", ["errorRate"] = 1.0, ["errorStatus"] = 429, ["retryAfter"] = 1, ["maxErrors"] = 1, ["latency"] = 0.2,
            }),
        };
        using (var denied = await user.PostAsync("/local/faults", settings))
            await SessionApiTests.ProblemAsync(denied, HttpStatusCode.Forbidden, "insufficient-privilege");
        using (var set = await admin.PostAsync("/local/faults", settings))
            Assert.Equal(HttpStatusCode.NoContent, set.StatusCode);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        using (var limited = await user.GetAsync("/auth/role"))
        {
            await SessionApiTests.ProblemAsync(limited, (HttpStatusCode)429, "rate-limit-exceeded");
            Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(190), $"latency not applied: {sw.Elapsed}");
        }
        var current = await admin.JsonAsync(HttpMethod.Get, "/local/faults");
        Assert.Equal(429, current!["routes"]![0]!["errorStatus"]!.GetValue<int>());
        using (var reset = await admin.DeleteAsync("/local/faults"))
            Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        Assert.Empty(backend.Faults.Current.Routes);
        using var bad = await admin.PostAsync("/local/faults", new JsonObject { ["routes"] = new JsonArray(new JsonObject { ["errorRate"] = 3 }) });
        await SessionApiTests.ProblemAsync(bad, HttpStatusCode.BadRequest, "invalid-api-params");
    }

    [Fact]
    public async Task Sse_stream_is_dropped_after_n_events_without_server_close()
    {
        var ct = new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;
        await using var backend = await LocalBackend.StartAsync(LocalServerFixture.FastOptions(), ct);
        using var http = new SignedHttp(backend.Endpoint, backend.UserKeypair);
        backend.Faults.Set(new FaultSettings { SseDropAfterEvents = 2 });
        using var response = await http.Client.SendAsync(http.Build(HttpMethod.Get, "/events/session?scope=*"), HttpCompletionOption.ResponseHeadersRead, ct);
        using var sse = new SseReader(await response.Content.ReadAsStreamAsync(ct));
        await http.JsonAsync(HttpMethod.Post, "/session", SessionApiTests.ClientPyBody("drop-" + Guid.NewGuid().ToString("N")[..8]), 201, ct);
        Assert.NotNull(await sse.ReadAsync(ct));
        Assert.NotNull(await sse.ReadAsync(ct));
        try
        {
            Assert.Null(await sse.ReadAsync(ct));
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // aborted connection: also a drop
        }
    }

    [Fact]
    public async Task Downloads_are_truncated_when_configured()
    {
        var ct = new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;
        await using var backend = await LocalBackend.StartAsync(LocalServerFixture.FastOptions(), ct);
        using var http = new SignedHttp(backend.Endpoint, backend.UserKeypair);
        var created = await http.JsonAsync(HttpMethod.Post, "/session", SessionApiTests.ClientPyBody("trunc-" + Guid.NewGuid().ToString("N")[..8]), 201, ct);
        var id = created!["sessionId"]!.GetValue<string>();
        await File.WriteAllBytesAsync(Path.Combine(backend.Paths.SessionsDirectory, id, "work", "f.bin"), new byte[50_000], ct);
        backend.Faults.Set(new FaultSettings { TruncateDownloadsAfterBytes = 1000 });
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var r = await http.GetAsync($"/session/{id}/download_single", new JsonObject { ["file"] = "f.bin" }, ct);
            await r.Content.ReadAsByteArrayAsync(ct);
        });
        backend.Faults.Reset();
        using var ok = await http.GetAsync($"/session/{id}/download_single", new JsonObject { ["file"] = "f.bin" }, ct);
        Assert.True((await ok.Content.ReadAsByteArrayAsync(ct)).Length > 50_000);
    }

    [Fact]
    public async Task Server135_mounted_vfolder_is_linked_into_the_work_directory()
    {
        var ct = new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
        await using var backend = await LocalBackend.StartAsync(LocalServerFixture.FastOptions(), ct);
        using var http = new SignedHttp(backend.Endpoint, backend.UserKeypair);
        var folder = "mnt" + Guid.NewGuid().ToString("N")[..8];
        await http.JsonAsync(HttpMethod.Post, "/folders", new JsonObject { ["name"] = folder }, 201, ct);
        var resolver = backend.Services.GetRequiredService<IVFolderMountResolver>();
        var hostDir = resolver.ResolveMount(backend.UserKeypair.ToIdentity(), folder)!;
        await File.WriteAllTextAsync(Path.Combine(hostDir, "data.txt"), "shared", ct);

        var body = SessionApiTests.ClientPyBody("mnt-" + Guid.NewGuid().ToString("N")[..8]);
        body["config"]!["mounts"] = new JsonArray(folder);
        var created = await http.JsonAsync(HttpMethod.Post, "/session", body, 201, ct);
        var work = Path.Combine(backend.Paths.SessionsDirectory, created!["sessionId"]!.GetValue<string>(), "work");
        Assert.Equal("shared", await File.ReadAllTextAsync(Path.Combine(work, folder, "data.txt"), ct));

        var unknown = SessionApiTests.ClientPyBody("mnt-" + Guid.NewGuid().ToString("N")[..8]);
        unknown["config"]!["mounts"] = new JsonArray("no-such-folder");
        using var r = await http.PostAsync("/session", unknown, ct);
        await SessionApiTests.ProblemAsync(r, HttpStatusCode.NotFound, "object-not-found");
    }
}

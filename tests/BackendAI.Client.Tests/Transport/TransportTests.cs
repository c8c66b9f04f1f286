using System.Diagnostics;
using BackendAI.Client.Errors;
using BackendAI.Client.Models;
using BackendAI.Client.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace BackendAI.Client.Tests.Transport;

public class TransportTests
{
    private static readonly DateTimeOffset Start = new(2022, 3, 15, 10, 20, 30, 123456 / 1000, TimeSpan.Zero);

    [Fact]
    public async Task Client4_Client5_every_request_is_signed_over_the_sent_host_path_query_and_date()
    {
        await using var server = await LoopbackServer.StartJsonAsync("{\"stats\": {\"status\": \"terminated\"}}");
        await using var client = server.Client();
        await client.Sessions.DestroyAsync("my sess", forced: true, ownerAccessKey: "AKIA:OTHER");
        var r = Assert.Single(server.Api);
        Assert.True(r.SignatureValid);
        Assert.Equal("DELETE", r.Method);
        Assert.Equal("/session/my%20sess?forced=true&owner_access_key=AKIA:OTHER", r.RawTarget);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$", r.Header("Date"));
        Assert.Equal("v6.20220315", r.Header("X-BackendAI-Version"));
        Assert.Equal("default", r.Header("X-BackendAI-Domain"));
        Assert.Equal("text/plain", r.SignedContentType);
        Assert.StartsWith("BackendAI signMethod=HMAC-SHA256, credential=AKIAIOSFODNN7EXAMPLE:", r.Header("Authorization"));
    }

    [Fact]
    public async Task Signing_honours_the_endpoint_path_prefix_and_hash_type()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => LoopbackServer.WriteJson(ctx, 200, "{\"nodes\": []}"), "/api/");
        await using var client = server.Client(o => o.HashType = "sha1");
        await client.Manager.GetStatusAsync();
        var r = Assert.Single(server.Requests);
        Assert.Equal("/api/manager/status", r.RawTarget);
        Assert.StartsWith("BackendAI signMethod=HMAC-SHA1,", r.Header("Authorization"));
        Assert.True(r.SignatureValid);
    }

    [Fact]
    public async Task Client8_Client11_transient_get_is_retried_with_a_fresh_date_and_signature_each_attempt()
    {
        var calls = 0;
        await using var server = await LoopbackServer.StartAsync((ctx, _) =>
            Interlocked.Increment(ref calls) < 3
                ? LoopbackServer.WriteProblem(ctx, 503, "server-frozen", "frozen")
                : LoopbackServer.WriteJson(ctx, 200, "{\"status\": \"running\"}"));
        await using var client = server.Client(time: new SteppingTimeProvider(Start, TimeSpan.FromSeconds(1)));
        var status = await client.Manager.GetStatusAsync();
        Assert.Equal("running", status.GetProperty("status").GetString());
        var attempts = server.Requests.ToList();
        Assert.Equal(3, attempts.Count);
        Assert.All(attempts, a => Assert.True(a.SignatureValid));
        Assert.Equal(3, attempts.Select(a => a.Header("Date")).Distinct().Count());
        Assert.Equal(3, attempts.Select(a => a.Header("Authorization")).Distinct().Count());
    }

    [Fact]
    public async Task Retries_stop_after_max_attempts_and_surface_the_last_error()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => LoopbackServer.WriteProblem(ctx, 502, "bad-gateway", "Bad gateway"));
        await using var client = server.Client(o => o.Retry.MaxAttempts = 4);
        var ex = await Assert.ThrowsAsync<BackendApiException>(() => client.Manager.GetStatusAsync());
        Assert.Equal(502, ex.Status);
        Assert.Equal(4, server.Requests.Count);
    }

    [Fact]
    public async Task Client11_post_is_never_repeated_on_503()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => LoopbackServer.WriteProblem(ctx, 503, "server-frozen", "frozen"));
        await using var client = server.Client(o => o.Retry.MaxAttempts = 5);
        var ex = await Assert.ThrowsAsync<BackendApiException>(() => client.Sessions.InterruptAsync("sess"));
        Assert.Equal(503, ex.Status);
        Assert.Single(server.Requests);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(405)]
    [InlineData(404)]
    public async Task Client11_non_transient_statuses_are_not_retried(int status)
    {
        await using var server = await LoopbackServer.StartAsync(async (ctx, _) =>
        {
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "text/plain";
            await ctx.Response.WriteAsync("500 Internal Server Error\n\nServer got itself in trouble");
        });
        await using var client = server.Client(o => o.Retry.MaxAttempts = 5);
        var ex = await Assert.ThrowsAsync<BackendApiException>(() => client.Manager.GetStatusAsync());
        Assert.Equal(status, ex.Status);
        Assert.Equal(ProblemTypes.GenericError.Uri, ex.ErrorType);
        Assert.Contains("Server got itself in trouble", ex.Msg);
        Assert.Equal("Server got itself in trouble", ex.Data!.Value.GetProperty("content").GetString()!.Split("\n\n")[1]);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Client15_429_is_retried_after_the_retry_after_delay_and_rate_limit_headers_are_surfaced()
    {
        var calls = 0;
        await using var server = await LoopbackServer.StartAsync((ctx, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                ctx.Response.Headers.RetryAfter = "1";
                return LoopbackServer.WriteProblem(ctx, 429, "rate-limit-exceeded", "You have reached your API query rate limit.");
            }
            ctx.Response.Headers["X-RateLimit-Limit"] = "30000";
            ctx.Response.Headers["X-RateLimit-Remaining"] = "29990";
            ctx.Response.Headers["X-RateLimit-Window"] = "900";
            return LoopbackServer.WriteJson(ctx, 200, "{}");
        });
        await using var client = server.Client();
        Rest.RateLimitInfo? seen = null;
        client.RateLimitUpdated += i => seen = i;
        var sw = Stopwatch.StartNew();
        await client.Manager.GetStatusAsync();
        sw.Stop();
        Assert.Equal(2, server.Requests.Count);
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(900), $"waited only {sw.Elapsed}");
        Assert.Equal(new Rest.RateLimitInfo(30000, 29990, 900), client.RateLimit);
        Assert.Equal(client.RateLimit, seen);
    }

    [Fact]
    public async Task Client15_exhausted_429_surfaces_rate_limited_with_retry_after()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) =>
        {
            ctx.Response.Headers.RetryAfter = "120"; // longer than MaxRetryAfter: surfaced, not waited for
            return LoopbackServer.WriteProblem(ctx, 429, "rate-limit-exceeded", "You have reached your API query rate limit.");
        });
        await using var client = server.Client();
        var ex = await Assert.ThrowsAsync<RateLimitedException>(() => client.Manager.GetStatusAsync());
        Assert.Equal(TimeSpan.FromSeconds(120), ex.RetryAfter);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Client10_fails_over_to_the_next_endpoint_on_connection_refused_and_remembers_it()
    {
        await using var server = await LoopbackServer.StartJsonAsync("{}");
        var dead = LoopbackServer.DeadEndpoint();
        await using var client = server.Client(o =>
        {
            o.Endpoints = [dead, server.BaseUri];
            o.ShuffleEndpoints = false;
            o.Retry.MaxAttempts = 1;
        });
        Assert.Equal(dead, client.CurrentEndpoint);
        await client.Manager.GetStatusAsync();
        Assert.Equal(server.BaseUri, client.CurrentEndpoint);
        await client.Sessions.InterruptAsync("s"); // a POST also fails over when nothing was sent... and now goes straight to the live one
        Assert.Equal(2, server.Api.Count);
        Assert.All(server.Api, r => Assert.True(r.SignatureValid));
    }

    [Fact]
    public async Task Client10_post_fails_over_when_the_connection_was_refused_before_sending()
    {
        await using var server = await LoopbackServer.StartJsonAsync("{}");
        await using var client = server.Client(o =>
        {
            o.Endpoints = [LoopbackServer.DeadEndpoint(), server.BaseUri];
            o.ShuffleEndpoints = false;
        });
        await client.Sessions.InterruptAsync("s");
        var r = Assert.Single(server.Api);
        Assert.Equal("POST", r.Method);
    }

    [Fact]
    public async Task All_endpoints_down_gives_a_connection_error()
    {
        await using var client = new BackendAIClient(new Client.Config.BackendAIClientOptions
        {
            Endpoints = [LoopbackServer.DeadEndpoint(), LoopbackServer.DeadEndpoint()],
            ApiVersion = ApiVersion.Current,
            Retry = new Client.Config.RetryOptions { MaxAttempts = 1 },
        });
        var ex = await Assert.ThrowsAsync<BackendConnectionException>(() => client.Manager.GetStatusAsync());
        Assert.Contains("Request to the API endpoint has failed", ex.Message);
    }

    [Fact]
    public async Task Client11_http_500_never_fails_over()
    {
        await using var first = await LoopbackServer.StartAsync((ctx, _) => LoopbackServer.WriteProblem(ctx, 500, "internal-server-error", "Internal server error."));
        await using var second = await LoopbackServer.StartJsonAsync("{}");
        await using var client = first.Client(o =>
        {
            o.Endpoints = [first.BaseUri, second.BaseUri];
            o.ShuffleEndpoints = false;
        });
        var ex = await Assert.ThrowsAsync<BackendApiException>(() => client.Manager.GetStatusAsync());
        Assert.Equal(500, ex.Status);
        Assert.Single(first.Requests);
        Assert.Empty(second.Requests);
        Assert.Equal(first.BaseUri, client.CurrentEndpoint);
    }

    [Fact]
    public async Task Client9_anonymous_mode_sends_no_authorization()
    {
        await using var server = await LoopbackServer.StartJsonAsync("{\"enabled\": true, \"message\": \"maintenance\"}");
        string? announced = null;
        await using var client = server.Client(o =>
        {
            o.AccessKey = "";
            o.SecretKey = "";
            o.AnnouncementHandler = m => announced = m;
        });
        var a = await client.Manager.GetAnnouncementAsync();
        Assert.True(a.Enabled);
        Assert.Equal("maintenance", announced);
        var r = Assert.Single(server.Api);
        Assert.False(r.HasHeader("Authorization"));
        Assert.True(r.HasHeader("Date"));
        Assert.Equal("v6.20220315", r.Header("X-BackendAI-Version"));
    }

    [Fact]
    public async Task Client12_read_timeout_cuts_a_silent_server_but_default_waits()
    {
        var release = new TaskCompletionSource();
        await using var server = await LoopbackServer.StartAsync(async (ctx, _) =>
        {
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await LoopbackServer.WriteJson(ctx, 200, "{}");
        });
        await using var strict = server.Client(o =>
        {
            o.ReadTimeout = TimeSpan.FromMilliseconds(300);
            o.Retry.MaxAttempts = 1;
        });
        await Assert.ThrowsAsync<BackendConnectionException>(() => strict.Manager.GetStatusAsync());

        await using var patient = server.Client();
        var call = patient.Manager.GetStatusAsync();
        await Task.Delay(500);
        Assert.False(call.IsCompleted);
        release.SetResult();
        await call.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Caller_cancellation_is_not_turned_into_failover()
    {
        await using var server = await LoopbackServer.StartAsync(async (ctx, _) => await Task.Delay(TimeSpan.FromSeconds(10), ctx.RequestAborted));
        await using var client = server.Client();
        using var cts = new CancellationTokenSource(200);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.Manager.GetStatusAsync(cts.Token));
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Session_endpoint_type_uses_func_prefix_cookies_and_no_signature()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, req) =>
        {
            if (req.Path == "/server/login")
            {
                ctx.Response.Headers.SetCookie = "AIOHTTP_SESSION=abc123; Path=/";
                return LoopbackServer.WriteJson(ctx, 200, "{\"authenticated\": true, \"data\": {\"access_key\": \"AKIA\", \"role\": \"user\"}}");
            }
            return LoopbackServer.WriteJson(ctx, 200, "{\"result\": {\"logs\": \"hello\"}}");
        });
        await using var client = server.Client(o => o.EndpointType = Client.Config.EndpointType.Session);
        var login = await client.Auth.LoginAsync("user@lablup.com", "pw");
        Assert.True(login.Authenticated);
        Assert.Equal("hello", await client.Sessions.GetLogsAsync("s1"));
        var reqs = server.Requests.ToList();
        Assert.Equal("/server/login", reqs[0].RawTarget);
        Assert.Equal("/func/session/s1/logs", reqs[1].RawTarget);
        Assert.Contains("AIOHTTP_SESSION=abc123", reqs[1].Header("Cookie"));
        Assert.All(reqs, r => Assert.False(r.HasHeader("Authorization")));
        Assert.Equal("user@lablup.com", reqs[0].Json.GetProperty("username").GetString());
    }

    [Fact]
    public async Task Failed_login_is_an_authentication_error()
    {
        await using var server = await LoopbackServer.StartJsonAsync(
            "{\"authenticated\": false, \"data\": {\"type\": \"https://api.backend.ai/probs/auth-failed\", \"title\": \"Bad credentials\", \"details\": \"User credential mismatch.\"}}");
        await using var client = server.Client(o => o.EndpointType = Client.Config.EndpointType.Session);
        var ex = await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.Auth.LoginAsync("u", "bad"));
        Assert.Equal("User credential mismatch.", ex.Msg);
        await using var api = server.Client();
        await Assert.ThrowsAsync<BackendClientException>(() => api.Auth.LoginAsync("u", "p"));
    }

    [Fact]
    public async Task Auth_test_echo_round_trips_signed()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, req) =>
            LoopbackServer.WriteJson(ctx, 200, $"{{\"authorized\": \"yes\", \"echo\": \"{req.Json.GetProperty("echo").GetString()}\"}}"));
        await using var client = server.Client();
        Assert.Equal("ping", await client.Auth.TestAsync("ping"));
        var r = Assert.Single(server.Requests);
        Assert.Equal("application/json", r.SignedContentType);
        Assert.True(r.SignatureValid);
    }

    [Fact]
    public void SessionStatus_wire_names_round_trip()
    {
        foreach (var s in Enum.GetValues<SessionStatus>())
            Assert.Equal(s, SessionStatuses.Parse(SessionStatuses.ToWire(s)));
        Assert.True(SessionStatuses.IsTerminal(SessionStatus.Cancelled));
        Assert.False(SessionStatuses.IsTerminal(SessionStatus.Error));
        Assert.Throws<BackendProtocolException>(() => SessionStatuses.Parse("TIMEOUT"));
    }
}

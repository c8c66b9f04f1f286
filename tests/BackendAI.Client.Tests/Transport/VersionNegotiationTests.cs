using BackendAI.Client.Models;
using BackendAI.Client.Tests.Infrastructure;

namespace BackendAI.Client.Tests.Transport;

public class VersionNegotiationTests
{
    [Theory]
    [InlineData("v6.20220315", "v6.20220315")]
    [InlineData("v7.20990101", "v6.20220315")]
    [InlineData("v5.20191215", "v5.20191215")]
    public async Task Client1_probe_is_unsigned_and_min_of_server_and_client_is_used(string server, string expected)
    {
        await using var s = await LoopbackServer.StartJsonAsync("{\"nodes\": []}", helloVersion: server);
        await using var client = s.Client(o => o.ApiVersion = null);
        Assert.Null(client.NegotiatedVersion);
        await client.Manager.GetStatusAsync();
        Assert.Equal(expected, client.NegotiatedVersion.ToString());
        var reqs = s.Requests.ToList();
        Assert.Equal(2, reqs.Count);
        var probe = reqs[0];
        Assert.Equal("GET", probe.Method);
        Assert.Equal("/", probe.RawTarget);
        Assert.True(probe.HasHeader("User-Agent"));
        foreach (var h in new[] { "Authorization", "Date", "X-BackendAI-Version", "X-BackendAI-Domain", "Content-Type" })
            Assert.False(probe.HasHeader(h), h);
        Assert.Equal(expected, reqs[1].Header("X-BackendAI-Version"));
        Assert.True(reqs[1].SignatureValid);
    }

    [Fact]
    public async Task Client1_probe_hits_the_endpoint_path_itself()
    {
        await using var s = await LoopbackServer.StartAsync(
            (ctx, req) => LoopbackServer.WriteJson(ctx, 200, req.RawTarget == "/api/" ? "{\"version\": \"v6.20210815\"}" : "{}"), "/api/");
        await using var client = s.Client(o => o.ApiVersion = null);
        Assert.Equal(new ApiVersion(6, "20210815"), await client.NegotiateVersionAsync());
        Assert.Equal("/api/", Assert.Single(s.Requests).RawTarget);
    }

    [Fact]
    public async Task Client2_probe_failure_falls_back_to_the_client_version()
    {
        await using var s = await LoopbackServer.StartAsync((ctx, req) =>
            req.Path == "/" ? LoopbackServer.WriteProblem(ctx, 500, "internal-server-error", "boom") : LoopbackServer.WriteJson(ctx, 200, "{}"));
        await using var client = s.Client(o => o.ApiVersion = null);
        await client.Manager.GetStatusAsync();
        Assert.Equal(ApiVersion.Current, client.NegotiatedVersion);
        Assert.Equal("v6.20220315", s.Api.Single().Header("X-BackendAI-Version"));
    }

    [Fact]
    public async Task Client2_unreachable_probe_falls_back_without_failing()
    {
        await using var client = new BackendAIClient(new Client.Config.BackendAIClientOptions { Endpoints = [LoopbackServer.DeadEndpoint()] });
        Assert.Equal(ApiVersion.Current, await client.NegotiateVersionAsync());
    }

    [Fact]
    public async Task A_configured_version_skips_the_probe()
    {
        await using var s = await LoopbackServer.StartJsonAsync("{}");
        await using var client = s.Client(o => o.ApiVersion = new ApiVersion(6, "20200815"));
        await client.Manager.GetStatusAsync();
        var r = Assert.Single(s.Requests);
        Assert.Equal("/manager/status", r.Path);
        Assert.Equal("v6.20200815", r.Header("X-BackendAI-Version"));
    }

    [Fact]
    public async Task Client38_v4_server_gets_legacy_kernel_paths_and_client_session_token()
    {
        await using var s = await LoopbackServer.StartJsonAsync(
            "{\"sessionId\": \"x\", \"status\": \"RUNNING\", \"created\": true, \"result\": {\"status\": \"finished\", \"console\": []}}",
            helloVersion: "v4.20190615");
        await using var client = s.Client(o => o.ApiVersion = null);
        await client.Sessions.CreateAsync(new SessionCreateRequest { Image = "python:3.9", Name = "legacy1" });
        await client.Sessions.ExecuteAsync("legacy1", new ExecuteRequest(ExecuteMode.Query, "print(1)", null));
        var api = s.Api;
        Assert.Equal("/kernel", api[0].Path);
        Assert.Equal("legacy1", api[0].Json.GetProperty("clientSessionToken").GetString());
        Assert.False(api[0].Json.TryGetProperty("name", out _));
        Assert.Equal(1, api[0].Json.GetProperty("config").GetProperty("clusterSize").GetInt32());
        Assert.Equal("/kernel/legacy1", api[1].Path);
    }
}

using System.Text.Json;
using BackendAI.Client.Errors;
using BackendAI.Client.Tests.Infrastructure;

namespace BackendAI.Client.Tests.Admin;

public class AdminTests
{
    [Fact]
    public async Task Client36_query_goes_to_admin_gql_with_variables_and_returns_data()
    {
        await using var server = await LoopbackServer.StartJsonAsync("{\"data\": {\"keypair\": {\"access_key\": \"AKIAIOSFODNN7EXAMPLE\", \"is_admin\": true}}}");
        await using var client = server.Client();
        var data = await client.Admin.QueryAsync("query($id: UUID!) { keypair { access_key is_admin } }",
            new Dictionary<string, object?> { ["id"] = "x", ["n"] = 3, ["flag"] = true, ["none"] = null, ["list"] = new[] { "a", "b" } });
        Assert.True(data.GetProperty("keypair").GetProperty("is_admin").GetBoolean());
        var r = server.Api.Single();
        Assert.Equal(("POST", "/admin/gql", "application/json"), (r.Method, r.RawTarget, r.SignedContentType));
        Assert.True(r.SignatureValid);
        var vars = r.Json.GetProperty("variables");
        Assert.Equal(3, vars.GetProperty("n").GetInt32());
        Assert.True(vars.GetProperty("flag").GetBoolean());
        Assert.Equal(JsonValueKind.Null, vars.GetProperty("none").ValueKind);
        Assert.Equal("b", vars.GetProperty("list")[1].GetString());
    }

    [Fact]
    public async Task Client36_errors_in_a_200_envelope_raise_a_graphql_error()
    {
        await using var server = await LoopbackServer.StartJsonAsync(
            "{\"errors\": [{\"message\": \"Cannot query field \\\"foo\\\" on type \\\"ComputeSession\\\".\", \"locations\": [{\"line\": 1, \"column\": 9}]}], \"data\": null}");
        await using var client = server.Client();
        var ex = await Assert.ThrowsAsync<GraphQLException>(() => client.Admin.QueryAsync("query { foo }"));
        Assert.Equal(ProblemTypes.GraphQLError.Uri, ex.ErrorType);
        Assert.Contains("Cannot query field", Assert.Single(ex.Messages));
        Assert.Contains("Cannot query field", ex.Msg);
    }

    [Fact]
    public async Task Client36_older_servers_use_admin_graphql_and_its_400_error()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) =>
            LoopbackServer.WriteProblem(ctx, 400, "graphql-error", "GraphQL-generated error.", null, "[{\"message\": \"bad\"}]"));
        await using var client = server.Client(o => o.ApiVersion = new ApiVersion(6, "20200815"));
        var ex = await Assert.ThrowsAsync<GraphQLException>(() => client.Admin.QueryAsync("query { x }"));
        Assert.Equal("bad", Assert.Single(ex.Messages));
        Assert.Equal("/admin/graphql", server.Api.Single().Path);
    }

    [Fact]
    public async Task Client37_compute_session_list_pages_with_at_most_100_items_until_total_count()
    {
        const int total = 250;
        await using var server = await LoopbackServer.StartAsync((ctx, req) =>
        {
            var vars = req.Json.GetProperty("variables");
            var limit = vars.GetProperty("limit").GetInt32();
            var offset = vars.GetProperty("offset").GetInt32();
            var items = Enumerable.Range(offset, Math.Max(0, Math.Min(limit, total - offset))).Select(i => $"{{\"name\": \"s{i}\"}}");
            return LoopbackServer.WriteJson(ctx, 200, $"{{\"data\": {{\"compute_session_list\": {{\"items\": [{string.Join(",", items)}], \"total_count\": {total}}}}}}}");
        });
        await using var client = server.Client();
        var names = new List<string>();
        await foreach (var item in client.Admin.ListComputeSessionsAsync("RUNNING,PENDING", ["name", "session_id"], pageSize: 100))
            names.Add(item.GetProperty("name").GetString()!);
        Assert.Equal(total, names.Count);
        Assert.Equal("s249", names[^1]);
        var reqs = server.Api;
        Assert.Equal(3, reqs.Count);
        Assert.All(reqs, r => Assert.True(r.Json.GetProperty("variables").GetProperty("limit").GetInt32() <= 100));
        Assert.Equal([0, 100, 200], reqs.Select(r => r.Json.GetProperty("variables").GetProperty("offset").GetInt32()));
        var first = reqs[0].Json;
        Assert.Contains("compute_session_list", first.GetProperty("query").GetString());
        Assert.Contains("items { name session_id }", first.GetProperty("query").GetString());
        Assert.Equal("RUNNING,PENDING", first.GetProperty("variables").GetProperty("status").GetString());
        await Assert.ThrowsAsync<BackendClientException>(async () =>
        {
            await foreach (var _ in client.Admin.ListComputeSessionsAsync(null, ["name"], pageSize: 101)) { }
        });
    }

    [Fact]
    public async Task Resources_and_manager_calls_have_the_documented_shape()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, req) => req.Path switch
        {
            "/admin/gql" => LoopbackServer.WriteJson(ctx, 200, "{\"data\": {\"keypair\": {\"access_key\": \"AKIAIOSFODNN7EXAMPLE\"}, \"images\": [{\"name\": \"python\"}], \"agent_list\": {\"items\": [{\"id\": \"local\"}], \"total_count\": 1}}}"),
            "/scaling-groups" => LoopbackServer.WriteJson(ctx, 200, "{\"scaling_groups\": [{\"name\": \"default\"}]}"),
            "/manager/status" when req.Method == "GET" => LoopbackServer.WriteJson(ctx, 200, "{\"status\": \"running\", \"active_sessions\": 0, \"nodes\": []}"),
            _ => Task.FromResult(ctx.Response.StatusCode = 204),
        });
        await using var client = server.Client();
        Assert.Equal("AKIAIOSFODNN7EXAMPLE", (await client.Resources.GetKeypairInfoAsync()).GetProperty("access_key").GetString());
        Assert.Equal("python", Assert.Single(await client.Resources.ListImagesAsync()).GetProperty("name").GetString());
        Assert.Equal("local", Assert.Single(await client.Resources.ListAgentsAsync()).GetProperty("id").GetString());
        Assert.Equal(["default"], await client.Resources.ListScalingGroupsAsync("default"));
        Assert.Equal("running", (await client.Manager.GetStatusAsync()).GetProperty("status").GetString());
        await client.Manager.FreezeAsync(force: true);
        await client.Manager.UnfreezeAsync();
        var api = server.Api;
        Assert.DoesNotContain("secret_key", api[0].Json.GetProperty("query").GetString());
        Assert.Equal("/scaling-groups?group=default", api[3].RawTarget);
        Assert.Equal(("PUT", "frozen"), (api[5].Method, api[5].Json.GetProperty("status").GetString()));
        Assert.True(api[5].Json.GetProperty("force_kill").GetBoolean());
        Assert.Equal("running", api[6].Json.GetProperty("status").GetString());
        Assert.All(api, r => Assert.True(r.SignatureValid));
    }
}

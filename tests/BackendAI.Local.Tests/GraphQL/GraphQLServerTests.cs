using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using BackendAI.Testing;

namespace BackendAI.Local.Tests.GraphQL;

/// <summary>The GraphQL checklist items against the real server with real (sim) sessions.</summary>
public sealed class GraphQLServerTests(LocalServerFixture server) : IClassFixture<LocalServerFixture>
{
    private const string PsQuery = """
        query($limit:Int!, $offset:Int!, $status: String, $access_key: String, $filter: String, $order: String) {
          compute_session_list(
              limit:$limit, offset:$offset, status:$status, access_key:$access_key, filter:$filter, order:$order) {
            items { name access_key session_id group_name id image type status status_info status_changed result }
            total_count
          }
        }
        """;

    private const string DefaultPsStatus = "PENDING,SCHEDULED,PREPARING,PULLING,RUNNING,RESTARTING,TERMINATING,RESIZING,SUSPENDED,ERROR";

    private static JsonObject Ps(string? status = DefaultPsStatus, int limit = 20, int offset = 0, string? filter = null, string? accessKey = null) => new()
    {
        ["status"] = status, ["access_key"] = accessKey, ["filter"] = filter, ["order"] = null, ["limit"] = limit, ["offset"] = offset,
    };

    private static async Task<(JsonNode Body, string Raw)> GqlAsync(SignedHttp http, string query, JsonObject? variables = null)
    {
        using var response = await http.PostAsync("/admin/gql", new JsonObject { ["query"] = query, ["variables"] = variables?.DeepClone() ?? new JsonObject() });
        var raw = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 200, raw);
        return (JsonNode.Parse(raw)!, raw);
    }

    private static async Task<JsonArray> ItemsAsync(SignedHttp http, JsonObject variables)
    {
        var (body, raw) = await GqlAsync(http, PsQuery, variables);
        Assert.True(body["errors"] is null, raw);
        return body["data"]!["compute_session_list"]!["items"]!.AsArray();
    }

    private async Task WaitForStatusAsync(Guid id, string status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var (body, _) = await GqlAsync(server.Admin, "query($id: UUID!) { compute_session(id: $id) { status } }", new JsonObject { ["id"] = id.ToString() });
            if ((string?)body["data"]!["compute_session"]?["status"] == status) return;
            Assert.True(DateTime.UtcNow < deadline, $"session {id} never became {status}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Server136_keypair_query_returns_keys_in_requested_order()
    {
        var (body, _) = await GqlAsync(server.Admin, "query {  keypair {    user_id access_key secret_key is_active is_admin  }}");
        var keypair = body["data"]!["keypair"]!.AsObject();
        Assert.Equal(["user_id", "access_key", "secret_key", "is_active", "is_admin"], keypair.Select(p => p.Key).ToArray());
        Assert.Equal("admin@lablup.com", (string)keypair["user_id"]!);
        Assert.Equal(WellKnownKeypairs.SuperAdmin.AccessKey, (string)keypair["access_key"]!);
        Assert.True((bool)keypair["is_active"]!);
        Assert.True((bool)keypair["is_admin"]!);
    }

    [Fact]
    public async Task Server137_to_141_ps_lists_scopes_pages_and_encodes_real_sessions()
    {
        var (aliveId, aliveName) = await server.CreateSessionAsync(server.User);
        var (deadId, deadName) = await server.CreateSessionAsync(server.User);
        var (adminId, adminName) = await server.CreateSessionAsync(server.Admin);
        using (var destroyed = await server.User.DeleteAsync($"/session/{deadId}"))
            Assert.Equal(200, (int)destroyed.StatusCode);
        await WaitForStatusAsync(deadId, "TERMINATED");

        // 137: keys in requested order, integer total_count.
        var (body, _) = await GqlAsync(server.Admin, PsQuery, Ps());
        var list = body["data"]!["compute_session_list"]!;
        Assert.Equal(System.Text.Json.JsonValueKind.Number, list["total_count"]!.GetValueKind());
        var first = list["items"]!.AsArray()[0]!.AsObject();
        Assert.Equal(["name", "access_key", "session_id", "group_name", "id", "image", "type", "status", "status_info", "status_changed", "result"],
            first.Select(p => p.Key).ToArray());
        var names = list["items"]!.AsArray().Select(i => (string)i!["name"]!).ToList();
        Assert.Contains(aliveName, names);
        Assert.Contains(adminName, names);
        Assert.DoesNotContain(deadName, names);

        // 138: dead statuses only.
        var dead = await ItemsAsync(server.Admin, Ps("CANCELLED,TERMINATED"));
        Assert.Contains(dead, i => (string)i!["name"]! == deadName);
        Assert.All(dead, i => Assert.Contains((string)i!["status"]!, new[] { "CANCELLED", "TERMINATED" }));

        // 139: paging keeps total_count.
        var (all, _) = await GqlAsync(server.Admin, PsQuery, Ps(status: null));
        var total = (int)all["data"]!["compute_session_list"]!["total_count"]!;
        Assert.True(total >= 3);
        var (page, _) = await GqlAsync(server.Admin, PsQuery, Ps(status: null, limit: 1, offset: 1));
        Assert.Equal(total, (int)page["data"]!["compute_session_list"]!["total_count"]!);
        Assert.Equal((string)all["data"]!["compute_session_list"]!["items"]![1]!["name"]!,
            (string)page["data"]!["compute_session_list"]!["items"]!.AsArray().Single()!["name"]!);

        // 140: JSONString and DateTime encodings.
        var (detail, _) = await GqlAsync(server.Admin, "query($id: UUID!) { compute_session(id: $id) { occupied_slots status_changed } }",
            new JsonObject { ["id"] = aliveId.ToString() });
        var slots = (string)detail["data"]!["compute_session"]!["occupied_slots"]!;
        Assert.IsType<JsonObject>(JsonNode.Parse(slots));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$", (string)detail["data"]!["compute_session"]!["status_changed"]!);

        // 141: a plain user sees only its own sessions and may not ask for another key.
        var mine = await ItemsAsync(server.User, Ps(status: null));
        Assert.All(mine, i => Assert.Equal(WellKnownKeypairs.User.AccessKey, (string)i!["access_key"]!));
        Assert.DoesNotContain(mine, i => (string)i!["name"]! == adminName);
        var (forbidden, _) = await GqlAsync(server.User, PsQuery, Ps(accessKey: WellKnownKeypairs.SuperAdmin.AccessKey));
        Assert.Equal("Forbidden operation.", (string)forbidden["errors"]![0]!["message"]!);
        var (hidden, _) = await GqlAsync(server.User, "query($id: UUID!) { compute_session(id: $id) { name } }", new JsonObject { ["id"] = adminId.ToString() });
        Assert.Null(hidden["data"]!["compute_session"]);

        await server.User.DeleteAsync($"/session/{aliveId}");
        await server.Admin.DeleteAsync($"/session/{adminId}");
    }

    [Fact]
    public async Task Server142_agent_list_by_a_non_superadmin_is_forbidden_with_null_data()
    {
        const string query = "query($limit:Int!, $offset:Int!, $status: String) { agent_list(limit:$limit, offset:$offset, status:$status) { items { id status scaling_group available_slots occupied_slots } total_count } }";
        var variables = new JsonObject { ["status"] = "ALIVE", ["limit"] = 20, ["offset"] = 0 };
        foreach (var http in new[] { server.User, server.DomainAdmin })
        {
            var (body, raw) = await GqlAsync(http, query, variables);
            Assert.Contains("superadmin privilege required", (string)body["errors"]![0]!["message"]!);
            Assert.Null(body["data"]!["agent_list"]);
            Assert.True(raw.IndexOf("\"errors\"", StringComparison.Ordinal) < raw.IndexOf("\"data\"", StringComparison.Ordinal));
        }
        var (ok, _) = await GqlAsync(server.Admin, query, variables);
        var agent = ok["data"]!["agent_list"]!["items"]![0]!;
        Assert.Equal("ALIVE", (string)agent["status"]!);
        Assert.True(JsonNode.Parse((string)agent["available_slots"]!)!.AsObject().Count > 0);
    }

    [Fact]
    public async Task Server143_unknown_field_gives_errors_and_no_data()
    {
        var (body, _) = await GqlAsync(server.User, "{ keypair { access_key foo } }");
        Assert.Contains("Cannot query field", (string)body["errors"]![0]!["message"]!);
        Assert.False(body.AsObject().ContainsKey("data"));
    }

    [Fact]
    public async Task Server144_compute_session_for_an_unknown_id_is_null()
    {
        var (_, raw) = await GqlAsync(server.Admin, "query($id: UUID!) { compute_session(id: $id) { name } }", new JsonObject { ["id"] = Guid.NewGuid().ToString() });
        Assert.Equal("{\"data\":{\"compute_session\":null}}", raw);
    }

    [Fact]
    public async Task Graphql_needs_a_signed_request_and_legacy_endpoint_answers_bare_data()
    {
        using var anonymous = await server.Anonymous.PostAsync("/admin/gql", new JsonObject { ["query"] = "{ keypair { access_key } }" });
        Assert.Equal(401, (int)anonymous.StatusCode);
        var legacy = await server.User.JsonAsync(HttpMethod.Post, "/admin/graphql", new JsonObject { ["query"] = "{ keypair { access_key } }", ["variables"] = null });
        Assert.Equal(WellKnownKeypairs.User.AccessKey, (string)legacy!["keypair"]!["access_key"]!);
    }
}

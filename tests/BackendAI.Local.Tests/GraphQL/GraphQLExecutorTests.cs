using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using BackendAI.Local.Tests.VFolders;
using Microsoft.Extensions.DependencyInjection;

namespace BackendAI.Local.Tests.GraphQL;

public sealed class GraphQLHostFixture : IAsyncLifetime
{
    public FakeSessions Sessions { get; } = new();
    public GraphQLTestHost Host { get; private set; } = null!;

    // Admin: 4 live (one per minute) + 2 dead; user: 2 live + 1 dead.
    public SessionView AdminRunning { get; } = FakeSessions.Session("adm-run", VFolderTestHost.Admin, "RUNNING", 1);
    public SessionView AdminPending { get; } = FakeSessions.Session("adm-pend", VFolderTestHost.Admin, "PENDING", 2);
    public SessionView AdminBatch { get; } = FakeSessions.Session("job-1", VFolderTestHost.Admin, "RUNNING", 3, type: "BATCH");
    public SessionView AdminError { get; } = FakeSessions.Session("adm-err", VFolderTestHost.Admin, "ERROR", 4);
    public SessionView AdminDone { get; } = FakeSessions.Session("job-2", VFolderTestHost.Admin, "TERMINATED", 5, type: "BATCH", result: "SUCCESS");
    public SessionView AdminCancelled { get; } = FakeSessions.Session("adm-cancel", VFolderTestHost.Admin, "CANCELLED", 6);
    public SessionView UserRunning { get; } = FakeSessions.Session("usr-run", VFolderTestHost.User, "RUNNING", 7, image: "cr.backend.ai/stable/sim:1.0");
    public SessionView UserRestarting { get; } = FakeSessions.Session("usr-restart", VFolderTestHost.User, "RESTARTING", 8);
    public SessionView UserDead { get; } = FakeSessions.Session("usr-dead", VFolderTestHost.User, "TERMINATED", 9);

    public async Task InitializeAsync()
    {
        Sessions.Items.AddRange([AdminRunning, AdminPending, AdminBatch, AdminError, AdminDone, AdminCancelled, UserRunning, UserRestarting, UserDead]);
        Host = await GraphQLTestHost.StartAsync(services: s =>
        {
            s.AddSingleton<ISessionQuerySource>(Sessions);
            s.AddSingleton<IKeypairStore, FakeKeypairs>();
            s.AddSingleton<IAgentInfo, FakeAgent>();
        });
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public sealed class GraphQLExecutorTests(GraphQLHostFixture fixture) : IClassFixture<GraphQLHostFixture>
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

    private GraphQLTestHost Host => fixture.Host;

    private async Task<(int Status, JsonNode? Body, string Raw)> GqlAsync(string query, JsonObject? variables = null, LocalIdentity? caller = null,
        string path = "/admin/gql")
    {
        var (status, body, response) = await Host.CallAsync(HttpMethod.Post, path, new JsonObject { ["query"] = query, ["variables"] = variables?.DeepClone() ?? new JsonObject() }, caller);
        return (status, body, body?.ToJsonString() ?? "");
    }

    private static JsonObject PsVariables(string? status = DefaultPsStatus, int limit = 20, int offset = 0, string? filter = null, string? order = null,
        string? accessKey = null) => new()
    {
        ["status"] = status, ["access_key"] = accessKey, ["filter"] = filter, ["order"] = order, ["limit"] = limit, ["offset"] = offset,
    };

    private async Task<List<string>> NamesAsync(JsonObject variables, LocalIdentity? caller = null)
    {
        var (status, body, raw) = await GqlAsync(PsQuery, variables, caller);
        Assert.True(status == 200 && body!["errors"] is null, raw);
        return body!["data"]!["compute_session_list"]!["items"]!.AsArray().Select(i => (string)i!["name"]!).ToList();
    }

    [Fact]
    public async Task Server136_keypair_query_returns_the_fields_in_requested_order()
    {
        var (status, body, _) = await GqlAsync("query {  keypair {    user_id access_key secret_key is_active is_admin  }}");
        Assert.Equal(200, status);
        var keypair = body!["data"]!["keypair"]!.AsObject();
        Assert.Equal(["user_id", "access_key", "secret_key", "is_active", "is_admin"], keypair.Select(p => p.Key).ToArray());
        Assert.Equal("admin@lablup.com", (string)keypair["user_id"]!);
        Assert.Equal("AKIAIOSFODNN7EXAMPLE", (string)keypair["access_key"]!);
        Assert.True((bool)keypair["is_admin"]!);

        (_, body, _) = await GqlAsync("{ keypair { is_admin access_key } }", caller: VFolderTestHost.User);
        Assert.Equal(["is_admin", "access_key"], body!["data"]!["keypair"]!.AsObject().Select(p => p.Key).ToArray());
        Assert.False((bool)body["data"]!["keypair"]!["is_admin"]!);
    }

    [Fact]
    public async Task Server137_ps_query_returns_items_with_keys_in_requested_order_and_an_integer_total_count()
    {
        var (status, body, raw) = await GqlAsync(PsQuery, PsVariables());
        Assert.Equal(200, status);
        var list = body!["data"]!["compute_session_list"]!;
        Assert.Equal(["items", "total_count"], list.AsObject().Select(p => p.Key).ToArray());
        var first = list["items"]!.AsArray()[0]!.AsObject();
        Assert.Equal(["name", "access_key", "session_id", "group_name", "id", "image", "type", "status", "status_info", "status_changed", "result"],
            first.Select(p => p.Key).ToArray());
        Assert.Equal(System.Text.Json.JsonValueKind.Number, list["total_count"]!.GetValueKind());
        Assert.Equal(6, (int)list["total_count"]!);
        Assert.DoesNotContain("\"errors\"", raw);
    }

    [Fact]
    public async Task Server138_dead_status_list_returns_only_dead_sessions_and_the_default_list_none()
    {
        var dead = await NamesAsync(PsVariables("CANCELLED,TERMINATED"));
        Assert.Equal(["usr-dead", "adm-cancel", "job-2"], dead);
        var live = await NamesAsync(PsVariables());
        Assert.DoesNotContain("usr-dead", live);
        Assert.DoesNotContain("job-2", live);
        Assert.DoesNotContain("adm-cancel", live);
        Assert.Equal(9, (await NamesAsync(PsVariables(status: null))).Count);
    }

    [Fact]
    public async Task Default_order_is_most_recently_changed_first()
    {
        Assert.Equal(["usr-restart", "usr-run", "adm-err", "job-1", "adm-pend", "adm-run"], await NamesAsync(PsVariables()));
    }

    [Fact]
    public async Task Server139_limit_and_offset_page_with_an_unchanged_total_count()
    {
        var (_, body, _) = await GqlAsync(PsQuery, PsVariables(limit: 1, offset: 1));
        var list = body!["data"]!["compute_session_list"]!;
        Assert.Equal(6, (int)list["total_count"]!);
        Assert.Equal("usr-run", (string)list["items"]!.AsArray().Single()!["name"]!);
    }

    [Fact]
    public async Task Server140_occupied_slots_is_a_json_string_and_status_changed_an_iso_string()
    {
        var (_, body, _) = await GqlAsync("query($id: UUID!) { compute_session(id: $id) { occupied_slots status_changed created_at terminated_at num_queries } }",
            new JsonObject { ["id"] = fixture.AdminRunning.Id.ToString() });
        var s = body!["data"]!["compute_session"]!;
        var slots = (string)s["occupied_slots"]!;
        Assert.Equal("{\"cpu\": \"1\", \"mem\": \"1073741824\"}", slots);
        Assert.Equal("1073741824", (string)JsonNode.Parse(slots)!["mem"]!);
        Assert.Equal("2026-03-15T10:01:00.000000+00:00", (string)s["status_changed"]!);
        Assert.Null(s["terminated_at"]);
        Assert.Equal(3, (int)s["num_queries"]!);
    }

    [Fact]
    public async Task Server141_a_plain_user_sees_only_its_own_sessions_and_cannot_ask_for_another_key()
    {
        var names = await NamesAsync(PsVariables(status: null), VFolderTestHost.User);
        Assert.Equal(["usr-dead", "usr-restart", "usr-run"], names);
        var (status, body, _) = await GqlAsync(PsQuery, PsVariables(accessKey: VFolderTestHost.Admin.AccessKey), VFolderTestHost.User);
        Assert.Equal(200, status);
        Assert.Equal("Forbidden operation.", (string)body!["errors"]![0]!["message"]!);
        Assert.Null(body["data"]!["compute_session_list"]);

        (_, body, _) = await GqlAsync("query($id: UUID!) { compute_session(id: $id) { name } }",
            new JsonObject { ["id"] = fixture.AdminRunning.Id.ToString() }, VFolderTestHost.User);
        Assert.Null(body!["data"]!["compute_session"]);
        Assert.Equal(["adm-run"], await NamesAsync(PsVariables(status: "RUNNING", accessKey: VFolderTestHost.Admin.AccessKey, filter: "type == \"INTERACTIVE\"")));
    }

    [Fact]
    public async Task Server142_agent_list_by_a_non_superadmin_is_an_error_with_null_data()
    {
        const string query = """
            query($limit:Int!, $offset:Int!, $status: String, $scaling_group: String, $filter: String, $order: String) {
              agent_list(limit:$limit, offset:$offset, status:$status, scaling_group:$scaling_group, filter:$filter, order:$order) {
                items { id status scaling_group available_slots occupied_slots }
                total_count
              }
            }
            """;
        var variables = new JsonObject { ["status"] = "ALIVE", ["scaling_group"] = null, ["filter"] = null, ["order"] = null, ["limit"] = 20, ["offset"] = 0 };
        var (status, body, raw) = await GqlAsync(query, variables, VFolderTestHost.User);
        Assert.Equal(200, status);
        Assert.Contains("superadmin privilege required", (string)body!["errors"]![0]!["message"]!);
        Assert.Equal("Forbidden operation. (superadmin privilege required)", (string)body["errors"]![0]!["message"]!);
        Assert.Equal(["agent_list"], body["errors"]![0]!["path"]!.AsArray().Select(p => (string)p!).ToArray());
        Assert.True(body["data"]!.AsObject().ContainsKey("agent_list"));
        Assert.Null(body["data"]!["agent_list"]);
        Assert.True(raw.IndexOf("\"errors\"", StringComparison.Ordinal) < raw.IndexOf("\"data\"", StringComparison.Ordinal));

        (_, body, _) = await GqlAsync(query, variables);
        var agent = body!["data"]!["agent_list"]!["items"]![0]!;
        Assert.Equal("local", (string)agent["id"]!);
        Assert.Equal("ALIVE", (string)agent["status"]!);
        Assert.Equal("8", (string)JsonNode.Parse((string)agent["available_slots"]!)!["cpu"]!);
    }

    [Fact]
    public async Task Server143_an_unknown_field_gives_errors_and_no_data()
    {
        var (status, body, _) = await GqlAsync("{ compute_session_list(limit: 1, offset: 0) { items { foo } total_count } }");
        Assert.Equal(200, status);
        Assert.Contains("Cannot query field", (string)body!["errors"]![0]!["message"]!);
        Assert.Contains("foo", (string)body["errors"]![0]!["message"]!);
        Assert.False(body.AsObject().ContainsKey("data"));
        Assert.NotNull(body["errors"]![0]!["locations"]);
        Assert.Null(body["errors"]![0]!["extensions"]);
    }

    [Fact]
    public async Task Server144_compute_session_with_an_unknown_id_is_null()
    {
        var (status, body, _) = await GqlAsync("query($id: UUID!) { compute_session(id: $id) { name session_id } }",
            new JsonObject { ["id"] = Guid.NewGuid().ToString() });
        Assert.Equal(200, status);
        Assert.Equal("{\"data\":{\"compute_session\":null}}", body!.ToJsonString());
    }

    [Fact]
    public async Task Captured_session_info_document_returns_containers_and_dependencies()
    {
        const string query = "query($id: UUID!) {  compute_session(id: $id) {    name session_id id image tag created_at terminated_at status status_info status_data occupied_slots containers { id cluster_role cluster_idx cluster_hostname session_id image registry status status_info status_data status_changed agent container_id resource_opts occupied_slots live_stat last_stat } dependencies { name id }  }}";
        var (_, body, raw) = await GqlAsync(query, new JsonObject { ["id"] = fixture.UserRunning.Id.ToString() }, VFolderTestHost.User);
        var s = body!["data"]!["compute_session"]!;
        Assert.Equal("usr-run", (string)s["name"]!);
        Assert.Equal(fixture.UserRunning.Id.ToString(), (string)s["session_id"]!);
        var container = s["containers"]!.AsArray().Single()!;
        Assert.Equal("main", (string)container["cluster_role"]!);
        Assert.Equal(1, (int)container["cluster_idx"]!);
        Assert.Equal("main1", (string)container["cluster_hostname"]!);
        Assert.Null(container["agent"]);
        Assert.Empty(s["dependencies"]!.AsArray());
        Assert.Null(body["errors"]);
    }

    [Theory]
    [InlineData("status == \"RUNNING\"", "adm-run,job-1,usr-run")]
    [InlineData("status != \"RUNNING\" & type == \"BATCH\"", "job-2")]
    [InlineData("status in [\"PENDING\", \"ERROR\"]", "adm-pend,adm-err")]
    [InlineData("name like \"job-%\"", "job-1,job-2")]
    [InlineData("name ilike \"JOB-_\"", "job-1,job-2")]
    [InlineData("image contains \"sim\"", "usr-run")]
    [InlineData("(name == \"adm-run\" | name == \"usr-dead\") & !status == \"RUNNING\"", "usr-dead")]
    [InlineData("created_at >= \"2026-03-15T10:06:00+00:00\"", "usr-run,usr-restart,usr-dead")]
    [InlineData("created_at < \"2026-03-15T10:01:00Z\"", "adm-run")]
    [InlineData("cluster_size > 1", "")]
    [InlineData("cluster_mode == \"SINGLE_NODE\" & result == \"SUCCESS\"", "job-2")]
    [InlineData("terminated_at is null & user_email == \"user@lablup.com\"", "usr-run,usr-restart")]
    [InlineData("agent isnot null & access_key == \"AKIANABBDUSEREXAMPLE\" & status != \"TERMINATED\"", "usr-run,usr-restart")]
    public async Task Filter_mini_language_selects_the_matching_sessions(string filter, string expected)
    {
        var names = await NamesAsync(PsVariables(status: null, filter: filter, order: "created_at"));
        Assert.Equal(expected, string.Join(",", names));
    }

    [Theory]
    [InlineData("name == ")]
    [InlineData("bogus == 1")]
    [InlineData("name === \"x\"")]
    [InlineData("(name == \"x\"")]
    [InlineData("cluster_size == \"many\"")]
    [InlineData("name <> \"x\"")]
    public async Task Malformed_filters_and_unknown_fields_are_graphql_errors(string filter)
    {
        var (status, body, _) = await GqlAsync(PsQuery, PsVariables(filter: filter));
        Assert.Equal(200, status);
        Assert.NotNull(body!["errors"]);
        Assert.Null(body["data"]!["compute_session_list"]);
    }

    [Fact]
    public async Task Order_accepts_several_keys_with_direction_and_refuses_unknown_fields()
    {
        Assert.Equal(["adm-cancel", "adm-err", "adm-pend", "adm-run", "job-2", "job-1"],
            (await NamesAsync(PsVariables(status: null, order: "-type,-created_at", accessKey: VFolderTestHost.Admin.AccessKey))));
        Assert.Equal(["adm-cancel", "adm-err", "adm-pend", "adm-run", "job-1", "job-2"],
            (await NamesAsync(PsVariables(status: null, order: "+name", accessKey: VFolderTestHost.Admin.AccessKey))));
        var (_, body, _) = await GqlAsync(PsQuery, PsVariables(order: "startup_command"));
        Assert.NotNull(body!["errors"]);
    }

    [Fact]
    public async Task Unknown_status_names_fail_the_query()
    {
        var (_, body, _) = await GqlAsync(PsQuery, PsVariables(status: "RUNNING,SLEEPING"));
        Assert.Contains("SLEEPING", (string)body!["errors"]![0]!["message"]!);
    }

    [Fact]
    public async Task Legacy_endpoint_returns_bare_data_and_400_graphql_error_for_errors()
    {
        var (status, body, _) = await GqlAsync("{ keypair { access_key } }", path: "/admin/graphql");
        Assert.Equal(200, status);
        Assert.Equal("{\"keypair\":{\"access_key\":\"AKIAIOSFODNN7EXAMPLE\"}}", body!.ToJsonString());

        (status, body, _) = await GqlAsync("{ nope }", path: "/admin/graphql");
        Assert.Equal(400, status);
        Assert.Equal("https://api.backend.ai/probs/graphql-error", (string)body!["type"]!);
        Assert.Equal("GraphQL-generated error.", (string)body["title"]!);
        Assert.Contains("nope", (string)body["data"]![0]!["message"]!);
    }

    [Fact]
    public async Task Request_body_keys_are_strict_and_operation_name_has_both_spellings()
    {
        var (status, body, _) = await Host.CallAsync(HttpMethod.Post, "/admin/gql", new JsonObject { ["query"] = "{ keypair { access_key } }", ["extra"] = 1 });
        Assert.Equal(400, status);
        Assert.Equal("extra is not allowed key", (string)body!["data"]!["extra"]!);

        const string doc = "query A { keypair { access_key } } query B { keypair { is_admin } }";
        (status, body, _) = await Host.CallAsync(HttpMethod.Post, "/admin/gql", new JsonObject { ["query"] = doc, ["operation_name"] = "B", ["variables"] = null });
        Assert.Equal(200, status);
        Assert.True((bool)body!["data"]!["keypair"]!["is_admin"]!);
        (_, body, _) = await Host.CallAsync(HttpMethod.Post, "/admin/gql", new JsonObject { ["query"] = doc, ["operationName"] = "A" });
        Assert.Equal("AKIAIOSFODNN7EXAMPLE", (string)body!["data"]!["keypair"]!["access_key"]!);
    }

    [Fact]
    public async Task Keypair_of_another_user_is_forbidden_for_users_and_visible_to_admins()
    {
        var (_, body, _) = await GqlAsync("{ keypair(access_key: \"AKIAIOSFODNN7EXAMPLE\") { access_key } }", caller: VFolderTestHost.User);
        Assert.Equal("Forbidden operation.", (string)body!["errors"]![0]!["message"]!);
        (_, body, _) = await GqlAsync("{ keypair(access_key: \"AKIANABBDUSEREXAMPLE\") { user_id concurrency_used } }");
        Assert.Equal("user@lablup.com", (string)body!["data"]!["keypair"]!["user_id"]!);
        Assert.Equal(2, (int)body["data"]!["keypair"]!["concurrency_used"]!);
        (_, body, _) = await GqlAsync("{ keypairs { access_key } }", caller: VFolderTestHost.User);
        Assert.NotNull(body!["errors"]);
        (_, body, _) = await GqlAsync("{ keypair_list(limit: 10, offset: 0, filter: \"email ilike \\\"%USER%\\\"\") { items { access_key } total_count } }");
        Assert.Equal(2, (int)body!["data"]!["keypair_list"]!["total_count"]!);
    }

    [Fact]
    public async Task Vfolder_list_shows_the_callers_folders_with_the_captured_document()
    {
        Assert.Equal(201, (await Host.CallAsync(HttpMethod.Post, "/folders", new { name = "gql-user-folder" }, VFolderTestHost.User)).Status);
        const string query = """
            query($limit:Int!, $offset:Int!, $group_id: UUID, $filter: String, $order: String) {
              vfolder_list(limit:$limit, offset:$offset, group_id:$group_id, filter:$filter, order:$order) {
                items { host name created_at creator group permission ownership_type }
                total_count
              }
            }
            """;
        var variables = new JsonObject { ["limit"] = 20, ["offset"] = 0, ["group_id"] = null, ["filter"] = null, ["order"] = null };
        var (_, body, raw) = await GqlAsync(query, variables, VFolderTestHost.User);
        var items = body!["data"]!["vfolder_list"]!["items"]!.AsArray();
        var folder = items.Single(i => (string)i!["name"]! == "gql-user-folder")!.AsObject();
        Assert.Equal(["host", "name", "created_at", "creator", "group", "permission", "ownership_type"], folder.Select(p => p.Key).ToArray());
        Assert.Equal("user@lablup.com", (string)folder["creator"]!);
        Assert.Null(body["errors"]);

        (_, body, _) = await GqlAsync(query, variables, VFolderTestHost.User2);
        Assert.DoesNotContain(body!["data"]!["vfolder_list"]!["items"]!.AsArray(), i => (string)i!["name"]! == "gql-user-folder");
        variables["filter"] = "name == \"gql-user-folder\"";
        (_, body, _) = await GqlAsync(query, variables);
        Assert.Equal(1, (int)body!["data"]!["vfolder_list"]!["total_count"]!);
    }

    [Fact]
    public async Task Images_list_names_tags_and_registries()
    {
        var (_, body, _) = await GqlAsync("{ images { name tag registry architecture installed } }");
        var images = body!["data"]!["images"]!.AsArray();
        var python = images.First(i => (string)i!["name"]! == "stable/python" && (string)i["tag"]! == "3.9-ubuntu20.04")!;
        Assert.Equal("cr.backend.ai", (string)python["registry"]!);
        Assert.True((bool)python["installed"]!);
    }
}

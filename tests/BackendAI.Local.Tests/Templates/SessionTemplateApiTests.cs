using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using BackendAI.Local.Sessions;
using BackendAI.Local.Tests.Sessions;
using BackendAI.Testing;

namespace BackendAI.Local.Tests.Templates;

/// <summary><c>/template/session</c> CRUD and <c>POST /session/_/create-from-template</c> (sessions.md §4).</summary>
public class SessionTemplateApiTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>
{
    private static string NewName() => "tp-" + Guid.NewGuid().ToString("N")[..12];

    internal static JsonObject TemplateDoc(string image = "sim", string? name = null) => new()
    {
        ["api_version"] = "v1",
        ["kind"] = "taskTemplate",
        ["metadata"] = new JsonObject { ["name"] = name ?? NewName(), ["tag"] = "from-tpl" },
        ["spec"] = new JsonObject
        {
            ["kernel"] = new JsonObject { ["image"] = image, ["environ"] = new JsonObject { ["FOO"] = "bar" } },
        },
    };

    private static JsonObject Payload(JsonObject template, string? name = null) => new()
    {
        ["payload"] = new JsonObject
        {
            ["session_templates"] = new JsonArray(new JsonObject
            {
                ["name"] = name, ["group_id"] = null, ["user_uuid"] = null, ["template"] = template,
            }),
        }.ToJsonString(),
        ["group_name"] = "default",
        ["domain_name"] = "default",
        ["owner_access_key"] = null,
    };

    private static async Task<string> CreateTemplateAsync(SignedHttp http, JsonObject template, string? name = null)
    {
        var body = await http.JsonAsync(HttpMethod.Post, "/template/session", Payload(template, name));
        var id = body!["id"]!.GetValue<string>();
        Assert.Matches("^[0-9a-f]{32}$", id);
        return id;
    }

    [Fact]
    public async Task Template_create_get_list_update_delete_round_trip()
    {
        var name = NewName();
        var created = await fx.User.JsonAsync(HttpMethod.Post, "/template/session", Payload(TemplateDoc(), name));
        var id = created!["id"]!.GetValue<string>();
        Assert.Equal(WellKnownKeypairs.User.UserId.ToString("N"), created["user"]!.GetValue<string>());

        var got = await fx.User.JsonAsync(HttpMethod.Get, $"/template/session/{id}?format=yaml");
        Assert.Equal(name, got!["name"]!.GetValue<string>());
        Assert.Equal(WellKnownKeypairs.User.UserId.ToString(), got["user_uuid"]!.GetValue<string>());
        Assert.Equal(WellKnownKeypairs.DefaultGroupId.ToString(), got["group_id"]!.GetValue<string>());
        Assert.Equal("default", got["domain_name"]!.GetValue<string>());
        var spec = got["template"]!["spec"]!;
        Assert.Equal("interactive", spec["session_type"]!.GetValue<string>());   // default filled in
        Assert.Equal("x86_64", spec["kernel"]!["architecture"]!.GetValue<string>());
        Assert.Equal("bar", spec["kernel"]!["environ"]!["FOO"]!.GetValue<string>());

        var list = (await fx.User.JsonAsync(HttpMethod.Get, "/template/session", new JsonObject { ["all"] = false }))!.AsArray();
        var entry = list.Single(e => e!["id"]!.GetValue<string>() == id)!;
        Assert.Equal(name, entry["name"]!.GetValue<string>());
        Assert.True(entry["is_owner"]!.GetValue<bool>());
        Assert.Equal("task", entry["type"]!.GetValue<string>());
        Assert.Equal(WellKnownKeypairs.User.Email, entry["user_email"]!.GetValue<string>());
        Assert.Equal("default", entry["group_name"]!.GetValue<string>());
        Assert.Equal("sim", entry["template"]!["spec"]!["kernel"]!["image"]!.GetValue<string>());

        var changed = TemplateDoc("bash", "renamed-by-metadata");
        var put = await fx.User.JsonAsync(HttpMethod.Put, $"/template/session/{id}",
            new JsonObject { ["payload"] = new JsonObject { ["session_templates"] = new JsonArray(new JsonObject { ["name"] = null, ["group_id"] = null, ["user_uuid"] = null, ["template"] = changed }) }.ToJsonString() });
        Assert.True(put!["success"]!.GetValue<bool>());
        got = await fx.User.JsonAsync(HttpMethod.Get, $"/template/session/{id}");
        Assert.Equal("renamed-by-metadata", got!["name"]!.GetValue<string>());
        Assert.Equal("bash", got["template"]!["spec"]!["kernel"]!["image"]!.GetValue<string>());

        var deleted = await fx.User.JsonAsync(HttpMethod.Delete, $"/template/session/{id}");
        Assert.True(deleted!["success"]!.GetValue<bool>());
        using var gone = await fx.User.GetAsync($"/template/session/{id}");
        var p = await SessionApiTests.ProblemAsync(gone, HttpStatusCode.NotFound, "object-not-found");
        Assert.Equal("No such task template.", p["title"]!.GetValue<string>());
        list = (await fx.User.JsonAsync(HttpMethod.Get, "/template/session"))!.AsArray();
        Assert.DoesNotContain(list, e => e!["id"]!.GetValue<string>() == id);
    }

    [Fact]
    public async Task Template_payload_may_be_yaml_with_typed_scalars()
    {
        const string yaml = """
            session_templates:
              - name: yaml-template
                group_id:
                user_uuid:
                template:
                  apiVersion: v1
                  kind: task_template
                  metadata:
                    name: ignored-name
                  spec:
                    type: batch
                    kernel:
                      image: bash
                      run:
                        startup: "exit 0"
                    resources:
                      cpu: 1
                      mem: 256m
            """;
        var body = await fx.User.JsonAsync(HttpMethod.Post, "/template/session", new JsonObject { ["payload"] = yaml });
        var got = await fx.User.JsonAsync(HttpMethod.Get, $"/template/session/{body!["id"]!.GetValue<string>()}");
        Assert.Equal("yaml-template", got!["name"]!.GetValue<string>());
        var t = got["template"]!;
        Assert.Equal("v1", t["api_version"]!.GetValue<string>());          // alias normalized
        Assert.Equal("batch", t["spec"]!["session_type"]!.GetValue<string>());
        Assert.Equal("exit 0", t["spec"]!["kernel"]!["run"]!["startup_command"]!.GetValue<string>());
        Assert.Equal(1, t["spec"]!["resources"]!["cpu"]!.GetValue<long>());   // plain scalar → number
        Assert.Equal("256m", t["spec"]!["resources"]!["mem"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("not: [valid", "Malformed payload")]
    [InlineData("""{"session_templates": [{"name": "x", "template": {"api_version": "v1", "kind": "taskTemplate", "metadata": {"name": "x"}, "spec": {"kernel": {}}}}]}""", "spec.kernel.image")]
    [InlineData("""{"session_templates": [{"name": "x", "template": {"api_version": "v1", "kind": "clusterTemplate", "metadata": {"name": "x"}, "spec": {"kernel": {"image": "sim"}}}}]}""", "kind")]
    [InlineData("""{"session_templates": [{"name": "x", "template": {"api_version": "v1", "kind": "taskTemplate", "metadata": {"name": "x"}, "spec": {"kernel": {"image": "sim"}, "mounts": {"data": "/home/work/.logs"}}}}]}""", "reserved")]
    public async Task Invalid_template_payloads_are_400_naming_the_problem(string payload, string expected)
    {
        using var r = await fx.User.PostAsync("/template/session", new JsonObject { ["payload"] = payload });
        var p = await SessionApiTests.ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
        Assert.Contains(expected, p["msg"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_from_template_uses_the_template_values_bootstrap_and_environ()
    {
        var doc = TemplateDoc("bash");
        doc["spec"]!["kernel"]!["run"] = new JsonObject { ["bootstrap"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("echo booted > boot.txt")) };
        var templateId = await CreateTemplateAsync(fx.User, doc);
        var name = NewName();
        var created = await fx.User.JsonAsync(HttpMethod.Post, "/session/_/create-from-template",
            new JsonObject { ["template_id"] = templateId, ["name"] = name }, 201);
        Assert.Equal("RUNNING", created!["status"]!.GetValue<string>());
        Assert.True(created["created"]!.GetValue<bool>());
        var id = Guid.Parse(created["sessionId"]!.GetValue<string>());

        var info = await fx.User.JsonAsync(HttpMethod.Get, $"/session/{name}");
        Assert.Equal("from-tpl", info!["tag"]!.GetValue<string>());
        Assert.Equal("cr.backend.ai/stable/bash:latest", info["image"]!.GetValue<string>());
        var run = await fx.User.JsonAsync(HttpMethod.Post, $"/session/{name}",
            new JsonObject { ["mode"] = "query", ["code"] = "cat boot.txt; echo \"FOO=$FOO\"", ["runId"] = null });
        var stdout = string.Concat(run!["result"]!["console"]!.AsArray().Where(c => c![0]!.GetValue<string>() == "stdout").Select(c => c![1]!.GetValue<string>()));
        Assert.Equal("booted\nFOO=bar\n", stdout);
        await fx.User.JsonAsync(HttpMethod.Delete, $"/session/{name}");
        await fx.Backend.WaitForStatusAsync(id, "TERMINATED");
    }

    [Fact]
    public async Task Create_from_template_given_keys_override_the_template_and_config_merges_per_key()
    {
        var doc = TemplateDoc("sim");
        doc["spec"]!["kernel"]!["environ"]!["KEEP"] = "kept";
        var templateId = await CreateTemplateAsync(fx.User, doc);
        var name = NewName();
        var created = await fx.User.JsonAsync(HttpMethod.Post, "/session/_/create-from-template", new JsonObject
        {
            ["templateId"] = templateId,
            ["clientSessionToken"] = name,
            ["tag"] = "overridden",
            ["config"] = new JsonObject { ["environ"] = new JsonObject { ["FOO"] = "baz" }, ["resources"] = new JsonObject { ["cpu"] = 2 } },
        }, 201);
        var id = Guid.Parse(created!["sessionId"]!.GetValue<string>());
        var registry = fx.Backend.Services.GetRequiredService<SessionRegistry>();
        var s = registry.ResolveSession(WellKnownKeypairs.User.AccessKey, name);
        Assert.Equal(id, s.Id);
        var (tag, environ, cpu) = registry.Read(s, x => (x.Tag, x.Environ, x.Cpu));
        Assert.Equal("overridden", tag);
        Assert.Equal(new Dictionary<string, string> { ["FOO"] = "baz" }, environ); // config.environ replaced as a whole key
        Assert.Equal(2m, cpu);
    }

    [Fact]
    public async Task Create_from_a_batch_template_runs_the_startup_command_as_a_batch_session()
    {
        var doc = TemplateDoc("bash");
        doc["spec"]!["session_type"] = "batch";
        doc["spec"]!["kernel"]!["run"] = new JsonObject { ["startup_command"] = "exit 0" };
        var templateId = await CreateTemplateAsync(fx.User, doc);
        var created = await fx.User.JsonAsync(HttpMethod.Post, "/session/_/create-from-template",
            new JsonObject { ["template_id"] = templateId, ["name"] = NewName() }, 201);
        var id = Guid.Parse(created!["sessionId"]!.GetValue<string>());
        await fx.Backend.WaitForStatusAsync(id, "TERMINATED");
        var view = fx.Backend.Services.GetRequiredService<ISessionQuerySource>().Find(id)!;
        Assert.Equal("BATCH", view.Type);
        Assert.Equal("SUCCESS", view.Result);
    }

    [Fact]
    public async Task Create_from_an_unknown_template_is_404_and_without_template_id_400()
    {
        using (var r = await fx.User.PostAsync("/session/_/create-from-template",
                   new JsonObject { ["template_id"] = Guid.NewGuid().ToString(), ["name"] = NewName() }))
        {
            var p = await SessionApiTests.ProblemAsync(r, HttpStatusCode.NotFound, "object-not-found");
            Assert.Equal("No such task template.", p["title"]!.GetValue<string>());
        }
        using (var r = await fx.User.PostAsync("/session/_/create-from-template", new JsonObject { ["name"] = NewName() }))
            await SessionApiTests.ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
    }

    [Fact]
    public async Task Templates_are_scoped_to_owner_group_and_domain_admins_and_superadmin_lists_all()
    {
        var outsider = new LocalKeypair("AKIAOUTSIDEREXAMPLE1", "outsider-secret-key-000000000000000000000", "outsider@local",
            Guid.NewGuid(), "user", true, 30000, "default", "default", "other", Guid.NewGuid());
        var options = LocalServerFixture.FastOptions();
        options.ExtraKeypairs.Add(outsider);
        await using var backend = await LocalBackend.StartAsync(options);
        using var user = new SignedHttp(backend.Endpoint, WellKnownKeypairs.User);
        using var other = new SignedHttp(backend.Endpoint, outsider);
        using var admin = new SignedHttp(backend.Endpoint, WellKnownKeypairs.DomainAdmin);
        using var super = new SignedHttp(backend.Endpoint, WellKnownKeypairs.SuperAdmin);

        var mine = await CreateTemplateAsync(user, TemplateDoc());
        var theirs = await other.JsonAsync(HttpMethod.Post, "/template/session", new JsonObject
        {
            ["payload"] = new JsonObject { ["session_templates"] = new JsonArray(new JsonObject { ["name"] = "o", ["template"] = TemplateDoc() }) }.ToJsonString(),
            ["group_name"] = "other",
        });
        var theirsId = theirs!["id"]!.GetValue<string>();

        using (var r = await other.GetAsync($"/template/session/{mine}"))
            await SessionApiTests.ProblemAsync(r, HttpStatusCode.NotFound, "object-not-found");
        using (var r = await other.DeleteAsync($"/template/session/{mine}"))
            await SessionApiTests.ProblemAsync(r, HttpStatusCode.NotFound, "object-not-found");
        using (var r = await other.PostAsync("/session/_/create-from-template", new JsonObject { ["template_id"] = mine, ["name"] = NewName() }))
            await SessionApiTests.ProblemAsync(r, HttpStatusCode.NotFound, "object-not-found");
        using (var r = await user.PostAsync("/template/session", new JsonObject
               {
                   ["payload"] = new JsonObject { ["session_templates"] = new JsonArray(new JsonObject { ["name"] = "x", ["template"] = TemplateDoc() }) }.ToJsonString(),
                   ["group_name"] = "other",
               }))
        {
            var p = await SessionApiTests.ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
            Assert.Equal("Invalid group", p["msg"]!.GetValue<string>());
        }

        static async Task<List<string>> Ids(SignedHttp h, bool all) =>
            [.. (await h.JsonAsync(HttpMethod.Get, $"/template/session?all={all}"))!.AsArray().Select(e => e!["id"]!.GetValue<string>())];
        Assert.Equal([mine], await Ids(user, false));
        Assert.Equal([theirsId], await Ids(other, false));
        string[] both = [.. new[] { mine, theirsId }.Order(StringComparer.Ordinal)];
        Assert.Equal(both, (await Ids(admin, false)).Order(StringComparer.Ordinal));   // domain admin: every group of the domain
        Assert.Equal(both, (await Ids(super, true)).Order(StringComparer.Ordinal));

        // The domain admin may delete another user's template.
        await admin.JsonAsync(HttpMethod.Delete, $"/template/session/{theirsId}");
        Assert.Equal([mine], await Ids(super, true));
    }

    [Fact]
    public async Task Templates_survive_a_server_restart()
    {
        var dir = Path.Combine(Path.GetTempPath(), "backendai-tpl-" + Guid.NewGuid().ToString("N")[..10]);
        try
        {
            var options = LocalServerFixture.FastOptions();
            options.DataDirectory = dir;
            string id;
            await using (var first = await LocalBackend.StartAsync(options))
            {
                using var http = new SignedHttp(first.Endpoint, WellKnownKeypairs.User);
                id = await CreateTemplateAsync(http, TemplateDoc(), "persisted");
                var removed = await CreateTemplateAsync(http, TemplateDoc(), "removed");
                await http.JsonAsync(HttpMethod.Delete, $"/template/session/{removed}");
            }
            await using var second = await LocalBackend.StartAsync(options);
            using var again = new SignedHttp(second.Endpoint, WellKnownKeypairs.User);
            var list = (await again.JsonAsync(HttpMethod.Get, "/template/session"))!.AsArray();
            Assert.Equal(["persisted"], list.Select(e => e!["name"]!.GetValue<string>()));
            Assert.Equal(id, list[0]!["id"]!.GetValue<string>());
            var created = await again.JsonAsync(HttpMethod.Post, "/session/_/create-from-template",
                new JsonObject { ["template_id"] = id, ["name"] = NewName() }, 201);
            Assert.Equal("RUNNING", created!["status"]!.GetValue<string>());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}

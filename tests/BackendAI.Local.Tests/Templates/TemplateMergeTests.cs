using System.Text.Json.Nodes;
using BackendAI.Local.Templates;

namespace BackendAI.Local.Tests.Templates;

/// <summary>The pure merge rules of create-from-template (sessions.md §4).</summary>
public class TemplateMergeTests
{
    private static SessionTemplateRecord Record(JsonObject doc) => new()
    {
        Id = Guid.NewGuid(), Name = "t", DomainName = "default", GroupId = Guid.NewGuid(), UserUuid = Guid.NewGuid(),
        CreatedAt = DateTimeOffset.UnixEpoch, TemplateJson = TaskTemplate.Check(doc).ToJsonString(),
    };

    private static JsonObject Doc() => JsonNode.Parse("""
        {"apiVersion": "v1", "kind": "taskTemplate", "metadata": {"name": "n", "tag": "t1"},
         "spec": {"sessionType": "batch", "scaling_group": "default",
                  "kernel": {"image": "python:3.9", "environ": {"A": "1"},
                             "run": {"bootstrap": "ZWNobyBoaQ==", "startupCommand": "python main.py"},
                             "git": {"repository": "https://example.com/org/repo.git", "branch": "dev", "commit": "abc123",
                                     "credential": {"username": "u", "password": "p"}}},
                  "mounts": {"data": "", "models": "/home/work/m"}, "resources": {"cpu": "2"}}}
        """)!.AsObject();

    [Fact]
    public void Template_values_become_create_keys_with_mounts_mount_map_and_a_git_clone_appended_to_the_decoded_bootstrap()
    {
        var body = TemplateMerge.Merge(Record(Doc()), "grp", new JsonObject { ["template_id"] = "x", ["name"] = "sess" });
        Assert.Equal("python:3.9", body["image"]!.GetValue<string>());
        Assert.Equal("batch", body["type"]!.GetValue<string>());
        Assert.Equal("grp", body["group"]!.GetValue<string>());
        Assert.Equal("default", body["domain"]!.GetValue<string>());
        Assert.Equal("t1", body["tag"]!.GetValue<string>());
        Assert.Equal("python main.py", body["startupCommand"]!.GetValue<string>());
        Assert.Equal("sess", body["name"]!.GetValue<string>());
        Assert.False(body.ContainsKey("template_id"));
        var config = body["config"]!.AsObject();
        Assert.Equal(["data", "models"], config["mounts"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal("""{"models":"/home/work/m"}""", config["mount_map"]!.ToJsonString());
        Assert.Equal("""{"A":"1"}""", config["environ"]!.ToJsonString());
        Assert.Equal("""{"cpu":"2"}""", config["resources"]!.ToJsonString());
        Assert.Equal("default", config["scaling_group"]!.GetValue<string>());
        Assert.Equal(
            "echo hi\nCWD=$(pwd)\ngit clone https://u:p@example.com/org/repo.git -b dev repo.git\ncd repo.git\ngit checkout abc123\ncd $CWD\n",
            body["bootstrap_script"]!.GetValue<string>());
    }

    [Fact]
    public void Given_keys_replace_every_alias_of_the_template_value_and_config_merges_per_key()
    {
        var body = TemplateMerge.Merge(Record(Doc()), null, new JsonObject
        {
            ["lang"] = "sim",
            ["sessionType"] = "interactive",
            ["bootstrapScript"] = "echo mine",
            ["config"] = new JsonObject { ["scalingGroup"] = "other", ["environ"] = null },
        });
        Assert.False(body.ContainsKey("image"));
        Assert.Equal("sim", body["lang"]!.GetValue<string>());
        Assert.False(body.ContainsKey("type"));
        Assert.Equal("interactive", body["sessionType"]!.GetValue<string>());
        Assert.False(body.ContainsKey("group"));
        Assert.StartsWith("echo mine\n", body["bootstrap_script"]!.GetValue<string>()); // git clone still appended
        Assert.False(body.ContainsKey("bootstrapScript"));
        var config = body["config"]!.AsObject();
        Assert.False(config.ContainsKey("scaling_group"));
        Assert.Equal("other", config["scalingGroup"]!.GetValue<string>());
        Assert.True(config.ContainsKey("environ"));
        Assert.Null(config["environ"]);
        Assert.Equal("""{"cpu":"2"}""", config["resources"]!.ToJsonString());
    }

    [Fact]
    public void A_plain_text_template_bootstrap_is_kept_as_is()
    {
        var doc = Doc();
        doc["spec"]!["kernel"]!.AsObject().Remove("git");
        doc["spec"]!["kernel"]!["run"]!["bootstrap"] = "echo not base64!";
        var body = TemplateMerge.Merge(Record(doc), null, []);
        Assert.Equal("echo not base64!", body["bootstrap_script"]!.GetValue<string>());
    }
}

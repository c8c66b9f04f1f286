using System.Text;
using System.Text.Json.Nodes;

namespace BackendAI.Local.Templates;

/// <summary>
/// Builds the create body of <c>POST /session/_/create-from-template</c> (sessions.md §4): the template's values
/// first, then every key the request gives (any alias) replaces the template's; <c>config</c> is merged key by key.
/// The result is validated exactly like a <c>POST /session</c> body.
/// </summary>
internal static class TemplateMerge
{
    private static readonly string[][] TopLevelAliases =
    [
        ["name", "clientSessionToken"], ["image", "lang"], ["architecture", "arch"], ["type", "sessionType"],
        ["group", "groupName", "group_name"], ["domain", "domainName", "domain_name"], ["clusterSize", "cluster_size"],
        ["clusterMode", "cluster_mode"], ["starts_at", "startsAt"], ["bootstrap_script", "bootstrapScript"],
        ["callback_url", "callbackUrl", "callbackURL"],
    ];

    private static readonly string[][] ConfigAliases =
    [
        ["mount_map", "mountMap"], ["scaling_group", "scalingGroup"], ["resource_opts", "resourceOpts"],
        ["preopen_ports", "preopenPorts"], ["agent_list", "agentList"],
    ];

    /// <summary>The merged create body.</summary>
    /// <param name="template">The stored template.</param>
    /// <param name="groupName">The name of the template's group, when it has one that still exists.</param>
    /// <param name="request">The request's parameters (overrides); <c>template_id</c> is skipped.</param>
    public static JsonObject Merge(SessionTemplateRecord template, string? groupName, JsonObject request)
    {
        var doc = template.Template();
        var spec = doc["spec"]!.AsObject();
        var kernel = spec["kernel"]!.AsObject();
        var body = new JsonObject
        {
            ["image"] = kernel["image"]!.DeepClone(),
            ["architecture"] = kernel["architecture"]?.DeepClone(),
            ["domain"] = template.DomainName,
            ["type"] = spec["session_type"]?.DeepClone(),
        };
        if (groupName is not null) body["group"] = groupName;
        if (doc["metadata"]?["tag"] is JsonValue tag) body["tag"] = tag.DeepClone();
        if (kernel["run"] is JsonObject run)
        {
            if (Str(run["bootstrap"]) is { Length: > 0 } b) body["bootstrap_script"] = DecodeBootstrap(b);
            if (Str(run["startup_command"]) is { Length: > 0 } sc) body["startupCommand"] = sc;
        }

        var config = new JsonObject();
        if (Str(spec["scaling_group"]) is { Length: > 0 } sg) config["scaling_group"] = sg;
        if (spec["mounts"] is JsonObject { Count: > 0 } mounts)
        {
            config["mounts"] = new JsonArray([.. mounts.Select(kv => (JsonNode?)JsonValue.Create(kv.Key))]);
            config["mount_map"] = new JsonObject([.. mounts
                .Where(kv => Str(kv.Value) is { Length: > 0 })
                .Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(Str(kv.Value))))]);
        }
        if (kernel["environ"] is JsonObject { Count: > 0 } environ) config["environ"] = environ.DeepClone();
        if (spec["resources"] is JsonObject resources) config["resources"] = resources.DeepClone();
        if (spec["agent_list"] is JsonArray agents) config["agent_list"] = agents.DeepClone();

        foreach (var (key, value) in request)
        {
            if (key is "template_id" or "templateId") continue;
            if (key == "config")
            {
                if (value is JsonObject overrides && config is not null)
                {
                    foreach (var (ck, cv) in overrides) Replace(config, ConfigAliases, ck, cv);
                }
                else if (value is not null)
                {
                    config = null;
                    body["config"] = value.DeepClone(); // not a mapping: the create validation reports it
                }
                continue;
            }
            Replace(body, TopLevelAliases, key, value);
        }
        if (config is not null) body["config"] = config;

        if (kernel["git"] is JsonObject git)
        {
            var existing = body.FirstOrDefault(kv => kv.Key is "bootstrap_script" or "bootstrapScript");
            var script = Str(existing.Value) ?? "";
            if (existing.Key is not null) body.Remove(existing.Key);
            body["bootstrap_script"] = script + "\n" + GitClone(git);
        }
        return body;
    }

    private static void Replace(JsonObject target, string[][] aliases, string key, JsonNode? value)
    {
        var group = aliases.FirstOrDefault(g => g.Contains(key, StringComparer.Ordinal)) ?? [key];
        foreach (var k in group) target.Remove(k);
        target[key] = value?.DeepClone();
    }

    /// <summary>Template bootstrap scripts are base64 (upstream); plain text is taken as is.</summary>
    private static string DecodeBootstrap(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text.Trim(), buffer, out var n) ? Encoding.UTF8.GetString(buffer, 0, n) : text;
    }

    /// <summary>The shell lines upstream appends for a template's <c>git</c> section.</summary>
    private static string GitClone(JsonObject git)
    {
        var repository = Str(git["repository"])!;
        var target = Str(git["dest_dir"]) is { Length: > 0 } d ? d : repository.Split('/')[^1];
        var url = repository;
        if (git["credential"] is JsonObject cred && repository.Split("://", 2) is [var proto, var rest])
            url = $"{proto}://{Str(cred["username"])}:{Str(cred["password"])}@{rest}";
        var sb = new StringBuilder("git clone ").Append(url);
        if (Str(git["branch"]) is { Length: > 0 } branch) sb.Append(" -b ").Append(branch);
        sb.Append(' ').Append(target).Append('\n');
        if (Str(git["commit"]) is { Length: > 0 } commit)
        {
            sb.Insert(0, "CWD=$(pwd)\n");
            sb.Append("cd ").Append(target).Append('\n').Append("git checkout ").Append(commit).Append('\n').Append("cd $CWD\n");
        }
        return sb.ToString();
    }

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}

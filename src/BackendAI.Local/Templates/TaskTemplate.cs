using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace BackendAI.Local.Templates;

/// <summary>
/// The task-template document (sessions.md §4): parsing a <c>payload</c> (JSON, else YAML) and validating one template
/// into its normalized form (canonical key names, defaults filled in), the form that is stored and returned.
/// </summary>
internal static class TaskTemplate
{
    /// <summary>Parses a payload: JSON first, then YAML; anything else (or a non-mapping) is "Malformed payload".</summary>
    public static JsonObject ParsePayload(string payload)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(payload);
        }
        catch (JsonException)
        {
            node = ParseYaml(payload);
        }
        return node as JsonObject ?? throw ApiProblemException.InvalidParams("Malformed payload");
    }

    /// <summary>
    /// The templates a payload carries: the items of <c>session_templates</c> (each <c>{name, group_id, user_uuid,
    /// template}</c>), or — accepted as a convenience — a bare template document (<c>kind: taskTemplate</c>).
    /// </summary>
    public static IReadOnlyList<(string? Name, Guid? GroupId, Guid? UserUuid, JsonObject Template)> Items(JsonObject payload)
    {
        if (payload["session_templates"] is not JsonArray list)
        {
            if (payload.ContainsKey("kind")) return [(null, null, null, Check(payload))];
            throw ApiProblemException.InvalidParams("The payload needs a 'session_templates' list.");
        }
        if (list.Count == 0) throw ApiProblemException.InvalidParams("The payload's 'session_templates' list is empty.");
        var items = new List<(string?, Guid?, Guid?, JsonObject)>();
        foreach (var item in list)
        {
            if (item is not JsonObject st) throw ApiProblemException.InvalidParams("Each session_templates item must be a mapping.");
            if (st["template"] is not JsonObject raw) throw ApiProblemException.InvalidParams("Each session_templates item needs a 'template' mapping.");
            items.Add((OptString(st["name"], "name"), OptGuid(st["group_id"], "group_id"), OptGuid(st["user_uuid"], "user_uuid"), Check(raw)));
        }
        return items;
    }

    /// <summary>Validates a template as upstream's <c>task_template_v1</c> does and returns its normalized form.</summary>
    public static JsonObject Check(JsonObject raw)
    {
        var o = (JsonObject)raw.DeepClone();
        var apiVersion = Take(o, "api_version", "apiVersion");
        if (apiVersion is not JsonValue av || !av.TryGetValue<string>(out _)) throw Invalid("api_version is required (a string)");
        o["api_version"] = apiVersion;
        if (Str(o["kind"]) is not ("taskTemplate" or "task_template")) throw Invalid("kind must be taskTemplate or task_template");

        if (o["metadata"] is not JsonObject meta) throw Invalid("metadata is required (a mapping)");
        if (Str(meta["name"]) is null) throw Invalid("metadata.name is required (a string)");
        meta["tag"] = OptString(meta["tag"], "metadata.tag");

        if (o["spec"] is not JsonObject spec) throw Invalid("spec is required (a mapping)");
        var type = Take(spec, "session_type", "type", "sessionType");
        var typeText = type is null ? "interactive" : Str(type)?.ToLowerInvariant();
        if (typeText is not ("interactive" or "batch")) throw Invalid("spec.session_type must be interactive or batch");
        spec["session_type"] = typeText;

        if (spec["kernel"] is not JsonObject kernel) throw Invalid("spec.kernel is required (a mapping)");
        if (Str(kernel["image"]) is null) throw Invalid("spec.kernel.image is required (a string)");
        kernel["architecture"] = OptString(kernel["architecture"], "spec.kernel.architecture") ?? "x86_64";
        if (StringMap(kernel["environ"], "spec.kernel.environ") is null) kernel["environ"] = new JsonObject();
        switch (kernel["run"])
        {
            case null:
                kernel["run"] = null;
                break;
            case JsonObject run:
                run["bootstrap"] = OptString(run["bootstrap"], "spec.kernel.run.bootstrap");
                run["startup_command"] = OptString(Take(run, "startup_command", "startup", "startupCommand"), "spec.kernel.run.startup_command");
                break;
            default:
                throw Invalid("spec.kernel.run must be a mapping");
        }
        switch (kernel["git"])
        {
            case null:
                kernel["git"] = null;
                break;
            case JsonObject git:
                if (Str(git["repository"]) is null) throw Invalid("spec.kernel.git.repository is required (a string)");
                git["commit"] = OptString(git["commit"], "spec.kernel.git.commit");
                git["branch"] = OptString(git["branch"], "spec.kernel.git.branch");
                git["dest_dir"] = OptString(Take(git, "dest_dir", "destination_dir", "destinationDir"), "spec.kernel.git.dest_dir");
                if (git["credential"] is JsonObject cred)
                {
                    if (Str(cred["username"]) is null || Str(cred["password"]) is null)
                        throw Invalid("spec.kernel.git.credential needs username and password (strings)");
                }
                else if (git["credential"] is not null)
                {
                    throw Invalid("spec.kernel.git.credential must be a mapping");
                }
                else
                {
                    git["credential"] = null;
                }
                break;
            default:
                throw Invalid("spec.kernel.git must be a mapping");
        }
        spec["scaling_group"] = OptString(spec["scaling_group"], "spec.scaling_group");
        switch (spec["mounts"])
        {
            case null:
                spec["mounts"] = new JsonObject();
                break;
            case JsonObject mounts:
                foreach (var (name, target) in mounts)
                {
                    if (target is null) continue;
                    var path = Str(target) ?? throw Invalid($"spec.mounts.{name} must be a string path or empty");
                    if (path.StartsWith("/home/work/", StringComparison.Ordinal)) path = path["/home/work/".Length..];
                    if (path.StartsWith('.') || path.Split('/').Any(p => p is ".." or ".logs"))
                        throw ApiProblemException.InvalidParams($"Path {path} is reserved for internal operations.");
                }
                break;
            default:
                throw Invalid("spec.mounts must be a mapping of vfolder name to path");
        }
        if (spec["resources"] is not (null or JsonObject)) throw Invalid("spec.resources must be a mapping");
        if (!spec.ContainsKey("resources")) spec["resources"] = null;
        var agents = Take(spec, "agent_list", "agentList");
        if (agents is JsonArray al && al.All(a => Str(a) is not null)) spec["agent_list"] = al;
        else if (agents is null) spec["agent_list"] = null;
        else throw Invalid("spec.agent_list must be a list of strings");
        return o;
    }

    private static ApiProblemException Invalid(string what) => ApiProblemException.InvalidParams($"Invalid task template: {what}");

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string? OptString(JsonNode? n, string what) =>
        n is null ? null : Str(n) ?? throw Invalid($"{what} must be a string");

    private static Guid? OptGuid(JsonNode? n, string what) =>
        n is null ? null : Guid.TryParse(Str(n), out var g) ? g : throw ApiProblemException.InvalidParams($"{what} is not a UUID");

    private static JsonObject? StringMap(JsonNode? n, string what)
    {
        if (n is null) return null;
        if (n is not JsonObject o || o.Any(kv => Str(kv.Value) is null)) throw Invalid($"{what} must map names to strings");
        return o;
    }

    /// <summary>Removes every spelling and returns the first present value (detached).</summary>
    private static JsonNode? Take(JsonObject o, params string[] spellings)
    {
        JsonNode? found = null;
        var seen = false;
        foreach (var s in spellings)
        {
            if (!o.TryGetPropertyValue(s, out var v)) continue;
            if (!seen) { found = v; seen = true; }
            o.Remove(s);
        }
        return found;
    }

    // ---- YAML → JSON (YAML 1.2 core schema for plain scalars) ----
    private static JsonNode? ParseYaml(string text)
    {
        var yaml = new YamlStream();
        try
        {
            yaml.Load(new StringReader(text));
        }
        catch (YamlException)
        {
            throw ApiProblemException.InvalidParams("Malformed payload");
        }
        if (yaml.Documents.Count != 1) throw ApiProblemException.InvalidParams("Malformed payload");
        return ToJson(yaml.Documents[0].RootNode, 0);
    }

    private static JsonNode? ToJson(YamlNode node, int depth)
    {
        if (depth > 64) throw ApiProblemException.InvalidParams("Malformed payload (nested too deeply)");
        switch (node)
        {
            case YamlMappingNode map:
                var o = new JsonObject();
                foreach (var (k, v) in map.Children)
                {
                    if (k is not YamlScalarNode key) throw ApiProblemException.InvalidParams("Malformed payload (a mapping key is not a scalar)");
                    o[key.Value ?? ""] = ToJson(v, depth + 1);
                }
                return o;
            case YamlSequenceNode seq:
                return new JsonArray([.. seq.Children.Select(c => ToJson(c, depth + 1))]);
            case YamlScalarNode s:
                var value = s.Value ?? "";
                if (s.Style != ScalarStyle.Plain) return JsonValue.Create(value);
                if (value is "" or "~" or "null" or "Null" or "NULL") return null;
                if (value is "true" or "True" or "TRUE") return JsonValue.Create(true);
                if (value is "false" or "False" or "FALSE") return JsonValue.Create(false);
                if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)) return JsonValue.Create(d);
                return JsonValue.Create(value);
            default:
                throw ApiProblemException.InvalidParams("Malformed payload (aliases are not supported)");
        }
    }
}

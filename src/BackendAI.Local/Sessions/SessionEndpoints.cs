using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BackendAI.Client.Errors;
using BackendAI.Local.Hosting;
using BackendAI.Local.Kernels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace BackendAI.Local.Sessions;

/// <summary>The <c>/session</c> REST family (sessions.md).</summary>
internal static partial class SessionEndpoints
{
    [GeneratedRegex(@"^(?=.{4,64}$)[A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]$")]
    private static partial Regex NamePattern();

    internal const string NamePatternText = @"^(?=.{4,64}$)\w[\w.-]*\w$";

    [GeneratedRegex(@"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")]
    private static partial Regex RelativeDelay();

    private static readonly string[] CreateKeys =
    [
        "name", "clientSessionToken", "image", "lang", "architecture", "arch", "type", "sessionType",
        "group", "groupName", "group_name", "domain", "domainName", "domain_name", "clusterSize", "cluster_size",
        "clusterMode", "cluster_mode", "config", "tag", "enqueueOnly", "maxWaitSeconds", "starts_at", "startsAt",
        "reuseIfExists", "startupCommand", "bootstrap_script", "bootstrapScript", "dependencies",
        "callback_url", "callbackUrl", "callbackURL", "owner_access_key",
    ];

    private static readonly HashSet<string> ConfigKeys = new(StringComparer.Ordinal)
    {
        "mounts", "mount_map", "mountMap", "environ", "scalingGroup", "scaling_group", "resources", "resource_opts",
        "resourceOpts", "preopen_ports", "preopenPorts", "agentList", "agent_list",
    };

    public static IEndpointRouteBuilder MapSessionEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/session", (Delegate)Create).RejectWhenFrozen();
        app.MapPost("/session/_/create", (Delegate)Create).RejectWhenFrozen();
        app.MapPost("/session/_/create-from-template", (Delegate)CreateFromTemplate).RejectWhenFrozen();
        app.MapGet("/session/_/match", Match);
        app.MapMethods("/session/_/logs", ["GET", "HEAD"], (Delegate)TaskLogs);
        app.MapGet("/session/{id}", Info);
        app.MapPatch("/session/{id}", Restart);
        app.MapDelete("/session/{id}", Destroy);
        app.MapPost("/session/{id}", Execute);
        app.MapPost("/session/{id}/interrupt", Interrupt);
        app.MapPost("/session/{id}/complete", Complete);
        app.MapPost("/session/{id}/upload", SessionFiles.Upload);
        app.MapGet("/session/{id}/download", SessionFiles.Download);
        app.MapGet("/session/{id}/download_single", SessionFiles.DownloadSingle);
        app.MapGet("/session/{id}/files", SessionFiles.ListFiles);
        app.MapGet("/session/{id}/logs", Logs);
        app.MapPost("/session/{id}/rename", Rename).RejectWhenFrozen();
        return app;
    }

    // ---- helpers ----

    /// <summary>Applies the owner_access_key rules (auth-and-transport.md §11); returns the owner keypair.</summary>
    internal static LocalKeypair ResolveOwner(HttpContext ctx, string? ownerAccessKey)
    {
        var caller = ctx.GetIdentity();
        var keypairs = ctx.RequestServices.GetRequiredService<IKeypairStore>();
        var self = keypairs.Find(caller.AccessKey)!;
        if (string.IsNullOrEmpty(ownerAccessKey) || ownerAccessKey == caller.AccessKey) return self;
        var owner = keypairs.Find(ownerAccessKey) ?? throw ApiProblemException.InvalidParams("Unknown owner access key");
        if (!caller.IsAdmin)
            throw new ApiProblemException(ProblemTypes.GenericForbidden, "Only admins can perform operations on behalf of other users.");
        if (!caller.IsSuperAdmin && (owner.Domain != caller.Domain || owner.Role == "superadmin"))
            throw new ApiProblemException(ProblemTypes.GenericForbidden, "Domain-admins can perform operations on behalf of other users in the same domain only.");
        return owner;
    }

    internal static LocalSession Resolve(HttpContext ctx, string sessionRef, bool allowStale = false, string? ownerAccessKey = null)
    {
        var registry = ctx.RequestServices.GetRequiredService<SessionRegistry>();
        var owner = ownerAccessKey is null ? ctx.GetIdentity().AccessKey : ResolveOwner(ctx, ownerAccessKey).AccessKey;
        return registry.ResolveSession(owner, sessionRef, allowStale);
    }

    internal static string PyTime(DateTimeOffset t) =>
        t.ToUniversalTime().ToString("yyyy'-'MM'-'dd' 'HH':'mm':'ss'.'ffffff'+00:00'", CultureInfo.InvariantCulture);

    private static JsonArray PublicServicePorts(SessionRegistry registry, LocalSession s) =>
        new([.. registry.Read(s, x => x.ServicePorts()).Select(p => (JsonNode)p.ToJson())]);

    // ---- create ----
    private static async Task<IResult> Create(HttpContext ctx) =>
        await CreateAsync(ctx, (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow(CreateKeys));

    /// <summary>sessions.md §4: the template's values, overridden by the given keys, then validated as a create body.</summary>
    private static async Task<IResult> CreateFromTemplate(HttpContext ctx)
    {
        var request = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow([.. CreateKeys, "template_id", "templateId"]);
        var templateId = request.RequiredString("template_id", "templateId");
        request.ThrowIfInvalid();
        var template = BackendAI.Local.Templates.TemplateEndpoints.Find(ctx, templateId);
        var groupName = template.GroupId is { } gid
            ? ctx.RequestServices.GetRequiredService<IKeypairStore>().All
                .FirstOrDefault(k => k.GroupId == gid && k.Domain == template.DomainName)?.GroupName
            : null;
        var merged = BackendAI.Local.Templates.TemplateMerge.Merge(template, groupName, request.Values);
        return await CreateAsync(ctx, RequestParams.FromJson(merged).Allow(CreateKeys));
    }

    private static async Task<IResult> CreateAsync(HttpContext ctx, RequestParams p)
    {
        var caller = ctx.GetIdentity();
        var registry = ctx.RequestServices.GetRequiredService<SessionRegistry>();
        var keypairs = ctx.RequestServices.GetRequiredService<IKeypairStore>();

        var name = p.RequiredString("name", "clientSessionToken");
        if (p.IsValid && !NamePattern().IsMatch(name)) p.Error("name", $"does not match pattern {NamePatternText}");
        var image = p.RequiredString("image", "lang");
        var arch = p.String("architecture", "arch") ?? (System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "aarch64" : "x86_64");
        var type = (p.String("type", "sessionType") ?? "interactive").ToLowerInvariant();
        if (type is not ("interactive" or "batch")) p.Error("type", "value is not one of interactive, batch");
        var group = p.String("group", "groupName", "group_name") ?? "default";
        var domain = p.String("domain", "domainName", "domain_name") ?? "default";
        var clusterSize = p.Int(1, 1, 64, "clusterSize", "cluster_size");
        var clusterMode = p.String("clusterMode", "cluster_mode") ?? "single-node";
        if (clusterMode is not ("single-node" or "multi-node")) p.Error("clusterMode", "value is not one of single-node, multi-node");
        var tag = p.String("tag");
        var enqueueOnly = p.Bool(false, "enqueueOnly");
        var maxWait = p.Int(0, 0, int.MaxValue, "maxWaitSeconds");
        var startsAtText = p.String("starts_at", "startsAt");
        var reuse = p.Bool(true, "reuseIfExists");
        var startupCommand = p.String("startupCommand");
        var bootstrap = p.String("bootstrap_script", "bootstrapScript");
        var callbackUrl = p.String("callback_url", "callbackUrl", "callbackURL");
        if (callbackUrl is not null && !Uri.TryCreate(callbackUrl, UriKind.Absolute, out _)) p.Error("callback_url", "value is not a URL");
        var ownerKey = p.String("owner_access_key");

        var config = p.Node("config");
        var configErrors = new JsonObject();
        IReadOnlyList<string> mounts = [];
        var mountMap = new Dictionary<string, string>(StringComparer.Ordinal);
        var environ = new Dictionary<string, string>(StringComparer.Ordinal);
        var preopen = new List<int>();
        decimal? cpu = null;
        long? mem = null;
        decimal cuda = 0;
        string? resourceOpts = null;
        var scalingGroup = "default";
        var agentListGiven = false;
        if (config is JsonObject cfg)
        {
            foreach (var (key, value) in cfg)
            {
                if (!ConfigKeys.Contains(key))
                {
                    configErrors[key] = $"{key} is not allowed key";
                    continue;
                }
                switch (key)
                {
                    case "mounts" when value is JsonArray arr:
                        mounts = [.. arr.Select(v => v?.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : "")];
                        if (mounts.Any(m => m.Length == 0)) configErrors[key] = "value is not a list of strings";
                        break;
                    case "mounts" when value is not null:
                        configErrors[key] = "value is not a list";
                        break;
                    case "mount_map" or "mountMap" when value is JsonObject mm:
                        foreach (var (k, v) in mm)
                        {
                            if (v?.GetValueKind() != JsonValueKind.String) { configErrors[key] = "value is not a string map"; break; }
                            var target = v.GetValue<string>();
                            if (mountMap.ContainsValue(target))
                                throw ApiProblemException.InvalidParams("Duplicate alias folder name exists.");
                            mountMap[k] = target;
                        }
                        break;
                    case "environ" when value is JsonObject env:
                        foreach (var (k, v) in env)
                        {
                            if (v?.GetValueKind() != JsonValueKind.String) { configErrors["environ"] = $"value of {k} is not a string"; break; }
                            environ[k] = v.GetValue<string>();
                        }
                        break;
                    case "environ" when value is not null:
                        configErrors[key] = "value is not a mapping";
                        break;
                    case "scalingGroup" or "scaling_group" when value is not null:
                        scalingGroup = value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : "";
                        if (scalingGroup != "default") throw ApiProblemException.NotFound("No such scaling group.");
                        break;
                    case "resources" when value is JsonObject res:
                        foreach (var (k, v) in res)
                        {
                            if (v is null) continue;
                            var text = v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
                            switch (k)
                            {
                                case "cpu":
                                    if (decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var c) && c > 0) cpu = c;
                                    else configErrors["resources"] = "cpu is not a positive number";
                                    break;
                                case "mem":
                                    if (TryParseBytes(text, out var b) && b > 0) mem = b;
                                    else configErrors["resources"] = "mem is not a byte size";
                                    break;
                                case "cuda.shares" or "cuda.device":
                                    if (decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var g) && g >= 0) cuda = g;
                                    else configErrors["resources"] = $"{k} is not a number";
                                    break;
                            }
                        }
                        break;
                    case "resource_opts" or "resourceOpts" when value is JsonObject ro:
                        resourceOpts = ro.ToJsonString();
                        break;
                    case "preopen_ports" or "preopenPorts" when value is JsonArray ports:
                        foreach (var v in ports)
                        {
                            if (v is JsonValue pv && pv.TryGetValue<int>(out var port) && port is >= 1024 and <= 65535) preopen.Add(port);
                            else { configErrors[key] = "value is not a list of ports within 1024..65535"; break; }
                        }
                        break;
                    case "agentList" or "agent_list" when value is JsonArray al:
                        agentListGiven = al.Count > 0;
                        break;
                }
            }
        }
        else if (config is not null)
        {
            p.Error("config", "value is not a mapping");
        }
        if (configErrors.Count > 0) p.Error("config", configErrors.ToJsonString());
        var depsNode = p.Node("dependencies");
        var depRefs = new List<string>();
        if (depsNode is JsonArray deps)
        {
            foreach (var d in deps)
            {
                if (d?.GetValueKind() == JsonValueKind.String) depRefs.Add(d.GetValue<string>());
                else p.Error("dependencies", "value is not a list of strings");
            }
        }
        else if (depsNode is not null)
        {
            p.Error("dependencies", "value is not a list");
        }
        p.ThrowIfInvalid();

        if (name == "from-template") throw ApiProblemException.InvalidParams("The name 'from-template' is reserved.");
        var isBatch = type == "batch";
        DateTimeOffset? startsAt = null;
        if (startsAtText is not null)
        {
            if (!isBatch) throw ApiProblemException.InvalidParams("Parameter starts_at should be used only for batch sessions");
            startsAt = ParseStartsAt(startsAtText, ctx.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow())
                ?? throw ApiProblemException.InvalidParams($"Invalid starts_at value: {startsAtText}");
        }
        if (isBatch && string.IsNullOrWhiteSpace(startupCommand))
            throw ApiProblemException.InvalidParams("Batch sessions must have a non-empty startup command.");
        if (agentListGiven && !caller.IsSuperAdmin)
            throw new ApiProblemException(ProblemTypes.InsufficientPrivilege, "You are not allowed to manually assign agents for your session.");

        var owner = ResolveOwner(ctx, ownerKey);
        if (domain != owner.Domain && !caller.IsSuperAdmin) throw ApiProblemException.InvalidParams("Invalid domain");
        var groups = keypairs.All.Where(k => k.Domain == domain).Select(k => (k.GroupName, k.GroupId)).Distinct().ToList();
        var groupMatch = groups.FirstOrDefault(g => g.GroupName == group);
        if (groupMatch.GroupName is null || (!caller.IsAdmin && owner.GroupName != group))
            throw ApiProblemException.InvalidParams("Invalid group");

        if (!registry.Kernels.Supports(image))
            throw new ApiProblemException(ProblemTypes.ObjectNotFound, $"Unknown image reference: {image}", title: "No such environment image.");
        if (mounts.Count > 0)
        {
            foreach (var m in mounts)
                if (registry.MountResolver?.ResolveMount(owner.ToIdentity(), m) is null)
                    throw new ApiProblemException(ProblemTypes.ObjectNotFound, $"Unknown or inaccessible vfolder: {m}", title: "No such virtual folder.");
        }
        var dependencies = new List<Guid>();
        foreach (var r in depRefs)
            dependencies.Add(registry.ResolveDependency(owner.AccessKey, r)
                ?? throw ApiProblemException.InvalidParams("Unknown session ID or name in the dependency list", new JsonObject { ["session_ref"] = r }));

        var spec = new SessionSpec
        {
            Name = name, Image = image, Owner = owner, Architecture = arch, IsBatch = isBatch, GroupName = group,
            GroupId = groupMatch.GroupId, Domain = domain, Tag = tag, EnqueueOnly = enqueueOnly, MaxWaitSeconds = maxWait,
            StartsAt = startsAt, ReuseIfExists = reuse, StartupCommand = startupCommand, BootstrapScript = bootstrap,
            Dependencies = dependencies, CallbackUrl = callbackUrl, Environ = environ, Mounts = mounts, MountMap = mountMap,
            PreopenPorts = preopen, ResourceOptsJson = resourceOpts, Cpu = cpu, Memory = mem, CudaShares = cuda,
            ScalingGroup = scalingGroup, ClusterSize = clusterSize, ClusterMode = clusterMode,
        };
        var outcome = await registry.CreateAsync(spec, ctx.RequestAborted);
        var s = outcome.Session;
        var running = outcome.Status == SessionStatus.Running;
        var body = new JsonObject
        {
            ["sessionId"] = s.Id.ToString("D"),
            ["sessionName"] = registry.Read(s, x => x.Name),
            ["status"] = outcome.Status,
            ["servicePorts"] = running ? PublicServicePorts(registry, s) : new JsonArray(),
        };
        if (!outcome.Created) body["service_ports"] = JsonNode.Parse(registry.Read(s, x => x.ServicePortsJson()));
        body["created"] = outcome.Created;
        return HttpContextExtensions.Json(body, outcome.Created ? 201 : 200);
    }

    internal static bool TryParseBytes(string text, out long bytes)
    {
        bytes = 0;
        var t = text.Trim().ToLowerInvariant();
        if (t.EndsWith("ib", StringComparison.Ordinal)) t = t[..^2];
        else if (t.EndsWith('b')) t = t[..^1];
        long mult = 1;
        if (t.Length > 0 && "kmgtpe".Contains(t[^1], StringComparison.Ordinal))
        {
            mult = 1L << (10 * ("kmgtpe".IndexOf(t[^1], StringComparison.Ordinal) + 1));
            t = t[..^1];
        }
        if (!decimal.TryParse(t, NumberStyles.Number, CultureInfo.InvariantCulture, out var n) || n < 0) return false;
        bytes = (long)(n * mult);
        return true;
    }

    internal static DateTimeOffset? ParseStartsAt(string text, DateTimeOffset now)
    {
        var m = RelativeDelay().Match(text.Trim());
        if (m.Success && text.Trim().Length > 0)
        {
            long Part(int i) => m.Groups[i].Success ? long.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture) : 0;
            return now + TimeSpan.FromDays(Part(1)) + TimeSpan.FromHours(Part(2)) + TimeSpan.FromMinutes(Part(3)) + TimeSpan.FromSeconds(Part(4));
        }
        return BackendAI.Client.Auth.SignatureDates.TryParse(text, out var at) ? at : null;
    }

    // ---- info / match / logs ----
    private static IResult Info(HttpContext ctx, string id)
    {
        var s = Resolve(ctx, id);
        var registry = ctx.RequestServices.GetRequiredService<SessionRegistry>();
        var now = ctx.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var body = registry.Read(s, x => new JsonObject
        {
            ["domainName"] = x.Domain,
            ["groupId"] = x.GroupId.ToString("D"),
            ["userId"] = x.Owner.UserId.ToString("D"),
            ["lang"] = x.Image,
            ["image"] = x.Image,
            ["architecture"] = x.Architecture,
            ["registry"] = x.ToView().Registry,
            ["tag"] = x.Tag,
            ["containerId"] = x.Id.ToString("N"),
            ["occupiedSlots"] = new JsonObject([.. x.OccupiedSlots().Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))]).ToJsonString(),
            ["occupiedShares"] = "{}",
            ["environ"] = new JsonArray([.. x.Environ.Select(kv => (JsonNode?)JsonValue.Create($"{kv.Key}={kv.Value}"))]).ToJsonString(),
            ["status"] = x.Status,
            ["statusInfo"] = x.StatusInfo.Length == 0 ? "None" : x.StatusInfo,
            ["statusData"] = x.StatusDataJson is null ? null : JsonNode.Parse(x.StatusDataJson),
            ["age"] = (long)(now - x.CreatedAt).TotalMilliseconds,
            ["creationTime"] = PyTime(x.CreatedAt),
            ["terminationTime"] = x.TerminatedAt is { } t ? PyTime(t) : null,
            ["numQueriesExecuted"] = Interlocked.Read(ref x.NumQueries),
            ["lastStat"] = null,
        });
        return HttpContextExtensions.Json(body);
    }

    private static IResult Match(HttpContext ctx)
    {
        var p = RequestParams.FromQuery(ctx.Request.Query).Allow("id", "owner_access_key");
        var prefix = p.RequiredString("id");
        p.ThrowIfInvalid();
        var registry = ctx.RequestServices.GetRequiredService<SessionRegistry>();
        var matches = registry.Match(ctx.GetIdentity().AccessKey, prefix, allowStale: false);
        var list = new JsonArray([.. matches.Select(m => (JsonNode)registry.Read(m, x => new JsonObject
        {
            ["id"] = x.Id.ToString("D"), ["name"] = x.Name, ["status"] = x.Status,
        }))]);
        return HttpContextExtensions.Json(new JsonObject { ["matches"] = list });
    }

    private static IResult Logs(HttpContext ctx, string id)
    {
        var owner = ctx.Request.Query["owner_access_key"].ToString();
        var s = Resolve(ctx, id, allowStale: true, owner.Length > 0 ? owner : null);
        return HttpContextExtensions.Json(new JsonObject { ["result"] = new JsonObject { ["logs"] = ReadLogs(ctx, s) } });
    }

    /// <summary>The session's combined console log (stored at termination, else the live kernel's).</summary>
    internal static string ReadLogs(HttpContext ctx, LocalSession s)
    {
        var registry = ctx.RequestServices.GetRequiredService<SessionRegistry>();
        var (kernel, stored) = registry.Read(s, x => (x.Kernel, x.StoredLogs));
        try
        {
            return stored ?? kernel?.GetLogs() ?? "";
        }
        catch (ObjectDisposedException)
        {
            return registry.Read(s, x => x.StoredLogs) ?? "";
        }
    }

    /// <summary>
    /// sessions.md §12.4: a batch task's log, <c>task/&lt;id[0:2]&gt;/&lt;id[2:4]&gt;/&lt;id[4:]&gt;.log</c> (hex id) in the
    /// caller's <c>.logs</c> vfolder, streamed as text. The local server writes it when a batch session ends.
    /// </summary>
    private static async Task<IResult> TaskLogs(HttpContext ctx)
    {
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("taskId", "task_id", "session_name", "sessionName", "owner_access_key");
        var text = p.RequiredString("taskId", "task_id", "session_name", "sessionName");
        if (p.IsValid && !Guid.TryParse(text, out _)) p.Error("taskId", "value is not a UUID");
        p.ThrowIfInvalid();
        var registry = ctx.RequestServices.GetRequiredService<SessionRegistry>();
        var root = registry.MountResolver?.ResolveMount(ctx.GetIdentity(), SessionRegistry.TaskLogFolder)
            ?? throw ApiProblemException.NotFound("No such vfolder.", "No such vfolder.");
        var path = SessionRegistry.TaskLogPath(root, Guid.Parse(text));
        if (!File.Exists(path)) throw ApiProblemException.NotFound("No such task log.");
        return Results.File(path, "text/plain; charset=utf-8");
    }

    // ---- destroy / restart / rename ----
    private static async Task<IResult> Destroy(HttpContext ctx, string id)
    {
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("forced", "owner_access_key");
        var forced = p.Bool(false, "forced");
        var owner = p.String("owner_access_key");
        p.ThrowIfInvalid();
        if (forced && !ctx.GetIdentity().IsAdmin)
            throw new ApiProblemException(ProblemTypes.InsufficientPrivilege, "You are not allowed to force-terminate");
        var s = Resolve(ctx, id, allowStale: false, owner);
        var registry = ctx.RequestServices.GetRequiredService<SessionRegistry>();
        var stats = await registry.DestroyAsync(s, forced, ctx.RequestAborted);
        return HttpContextExtensions.Json(stats);
    }

    private static async Task<IResult> Restart(HttpContext ctx, string id)
    {
        var s = Resolve(ctx, id);
        await ctx.RequestServices.GetRequiredService<SessionRegistry>().RestartAsync(s, ctx.RequestAborted);
        return Results.NoContent();
    }

    private static IResult Rename(HttpContext ctx, string id)
    {
        var p = RequestParams.FromQuery(ctx.Request.Query).Allow("name", "clientSessionToken", "owner_access_key");
        var newName = p.RequiredString("name", "clientSessionToken");
        if (p.IsValid && !NamePattern().IsMatch(newName)) p.Error("name", $"does not match pattern {NamePatternText}");
        p.ThrowIfInvalid();
        var s = Resolve(ctx, id, allowStale: true);
        ctx.RequestServices.GetRequiredService<SessionRegistry>().Rename(s, newName);
        return Results.NoContent();
    }

    // ---- execute / interrupt / complete ----
    private static IKernel RunningKernel(SessionRegistry registry, LocalSession s) =>
        registry.Read(s, x => x.Status is SessionStatus.Running or SessionStatus.Restarting ? x.Kernel : null)
        ?? throw ApiProblemException.InvalidParams($"The session is not running (status {registry.Read(s, x => x.Status)}).");

    private static async Task<IResult> Execute(HttpContext ctx, string id)
    {
        var s = Resolve(ctx, id);
        var registry = ctx.RequestServices.GetRequiredService<SessionRegistry>();
        var options = ctx.RequestServices.GetRequiredService<LocalBackendOptions>();
        JsonObject body;
        try
        {
            body = await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted) as JsonObject
                ?? throw new ApiProblemException(ProblemTypes.InvalidApiParams);
        }
        catch (JsonException)
        {
            throw new ApiProblemException(ProblemTypes.InvalidApiParams);
        }
        if (!body.ContainsKey("runId")) throw ApiProblemException.InvalidParams("runId is missing!");
        var runIdNode = body["runId"];
        var runId = runIdNode is JsonValue rv && rv.TryGetValue<string>(out var r) && r.Length > 0 ? r : null;
        var modeText = body["mode"] is JsonValue mv && mv.TryGetValue<string>(out var m) ? m : null;
        if (string.IsNullOrEmpty(modeText)) throw ApiProblemException.InvalidParams("mode is missing or empty!");
        var code = body["code"] is JsonValue cv && cv.TryGetValue<string>(out var c) ? c : "";
        if (modeText == "complete")
        {
            var k = RunningKernel(registry, s);
            var completions = await k.CompleteAsync(code, ctx.RequestAborted);
            return HttpContextExtensions.Json(CompletionResult(completions));
        }
        var mode = modeText switch
        {
            "query" => KernelExecuteMode.Query,
            "batch" => KernelExecuteMode.Batch,
            "continue" => KernelExecuteMode.Continue,
            "input" => KernelExecuteMode.Input,
            _ => throw ApiProblemException.InvalidParams("mode has an invalid value."),
        };
        if (mode is KernelExecuteMode.Continue or KernelExecuteMode.Input && runId is null)
            throw ApiProblemException.InvalidParams("continuation requires explicit run ID");
        runId ??= Guid.NewGuid().ToString("N");
        string? clean = null, build = null, exec = null;
        if (mode == KernelExecuteMode.Batch && body["options"] is JsonObject opts)
        {
            static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var x) ? x : null;
            clean = Str(opts["clean"]);
            build = Str(opts["build"]);
            exec = Str(opts["exec"]);
        }
        var kernel = RunningKernel(registry, s);
        if (mode is KernelExecuteMode.Query or KernelExecuteMode.Batch) Interlocked.Increment(ref s.NumQueries);
        KernelResult result;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, s.Terminating.Token);
        try
        {
            result = await kernel.ExecuteAsync(new KernelExecuteRequest(mode, runId, code, clean, build, exec), options.ExecuteFlushWindow, linked.Token);
        }
        catch (Exception e) when (s.Terminating.IsCancellationRequested && !ctx.RequestAborted.IsCancellationRequested
                                  && e is OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            result = new KernelResult("finished", 130, []);
        }
        catch (KernelRunNotFoundException e)
        {
            throw ApiProblemException.InvalidParams(e.Message);
        }
        catch (ArgumentException e)
        {
            throw ApiProblemException.InvalidParams(e.Message);
        }
        return HttpContextExtensions.Json(new JsonObject { ["result"] = ResultJson(result, runId) });
    }

    internal static JsonObject ResultJson(KernelResult result, string? runId)
    {
        var o = new JsonObject { ["status"] = result.Status };
        if (runId is not null) o["runId"] = runId;
        o["exitCode"] = result.ExitCode;
        o["options"] = result.Status == "waiting-input" ? new JsonObject { ["is_password"] = result.IsPassword } : null;
        o["files"] = null;
        o["console"] = new JsonArray([.. result.Console.Select(i => (JsonNode)new JsonArray(i.Type, i.Data.DeepClone()))]);
        return o;
    }

    private static JsonObject CompletionResult(IReadOnlyList<string> completions) => new()
    {
        ["result"] = new JsonObject
        {
            ["status"] = "finished",
            ["completions"] = new JsonArray([.. completions.Select(x => (JsonNode?)JsonValue.Create(x))]),
        },
    };

    private static async Task<IResult> Interrupt(HttpContext ctx, string id)
    {
        var s = Resolve(ctx, id);
        var registry = ctx.RequestServices.GetRequiredService<SessionRegistry>();
        await RunningKernel(registry, s).InterruptAsync(ctx.RequestAborted);
        return Results.NoContent();
    }

    private static async Task<IResult> Complete(HttpContext ctx, string id)
    {
        var s = Resolve(ctx, id);
        var registry = ctx.RequestServices.GetRequiredService<SessionRegistry>();
        string code = "";
        if (RequestParams.HasBody(ctx.Request))
        {
            try
            {
                if (await JsonNode.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted) is JsonObject b
                    && b["code"] is JsonValue v && v.TryGetValue<string>(out var text)) code = text;
            }
            catch (JsonException)
            {
                throw ApiProblemException.InvalidParams("Malformed body");
            }
        }
        var completions = await RunningKernel(registry, s).CompleteAsync(code, ctx.RequestAborted);
        return HttpContextExtensions.Json(CompletionResult(completions));
    }
}

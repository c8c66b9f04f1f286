using System.CommandLine;
using System.Text.Json.Nodes;
using BackendAI.Cli.Parsing;
using BackendAI.Client;

namespace BackendAI.Cli.Commands;

/// <summary><c>backend.ai start IMAGE</c>: creates (or reuses) a session without running code.</summary>
internal static class StartCommand
{
    public static Command Create(CliContext context)
    {
        var image = new Argument<string>("IMAGE") { Description = "The image (and tag), e.g. python:3.9-ubuntu20.04." };
        var name = new Option<string?>("--name", "-t", "--client-token") { Description = "The session name; pysdk-<random hex> when omitted." };
        var owner = new Option<string?>("--owner", "-o", "--owner-access-key") { Description = "Create the session for this access key (admins)." };
        var type = new Option<string>("--type") { Description = "interactive or batch.", DefaultValueFactory = _ => "interactive" };
        type.AcceptOnlyFromAmong("interactive", "batch");
        var startsAt = new Option<string?>("--starts-at") { Description = "Start a batch session at this time (ISO 8601) or after a delay (30m, 1d2h)." };
        var startup = new Option<string?>("--startup-command", "-c") { Description = "The command a batch session runs." };
        var enqueueOnly = new Option<bool>("--enqueue-only") { Description = "Return right after enqueuing." };
        var maxWait = new Option<int>("--max-wait") { Description = "Seconds to wait for the start (0 = no limit).", DefaultValueFactory = _ => 0 };
        var noReuse = new Option<bool>("--no-reuse") { Description = "Fail instead of reusing a session with the same name." };
        var depends = new Option<string[]>("--depends") { Description = "Sessions that must finish successfully first." };
        var callback = new Option<string?>("--callback-url") { Description = "URL called on lifecycle events." };
        var env = new Option<string[]>("--env", "-e") { Description = "KEY=VAL environment variable." };
        var bootstrap = new Option<string?>("--bootstrap-script") { Description = "A local script file run when the session starts." };
        var tag = new Option<string?>("--tag") { Description = "A tag to annotate the session." };
        var mount = new Option<string[]>("--mount", "-m", "-v", "--volume") { Description = "vfolder to mount: NAME or NAME=PATH." };
        var scalingGroup = new Option<string?>("--scaling-group", "--sgroup") { Description = "The scaling group." };
        var resources = new Option<string[]>("--resources", "-r") { Description = "SLOT=VALUE, e.g. cpu=2 mem=4g." };
        var clusterSize = new Option<int>("--cluster-size") { Description = "Number of containers.", DefaultValueFactory = _ => 1 };
        var clusterMode = new Option<string>("--cluster-mode") { Description = "single-node or multi-node.", DefaultValueFactory = _ => "single-node" };
        clusterMode.AcceptOnlyFromAmong("single-node", "multi-node");
        var resourceOpts = new Option<string[]>("--resource-opts") { Description = "KEY=VAL resource options, e.g. shmem=64m." };
        var preopen = new Option<string?>("--preopen") { Description = "Comma-separated container ports to pre-open." };
        var domain = new Option<string?>("--domain", "-d") { Description = "The domain." };
        var group = new Option<string?>("--group", "-g") { Description = "The project (group)." };
        var command = new Command("start", "Prepare and start a compute session without running code (alias of 'session create').")
        {
            image, name, owner, type, startsAt, startup, enqueueOnly, maxWait, noReuse, depends, callback, env, bootstrap, tag,
            mount, scalingGroup, resources, clusterSize, clusterMode, resourceOpts, preopen, domain, group,
        };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var mounts = KeyValueOptions.ParseMounts(parseResult.GetValue(mount));
            var environment = KeyValueOptions.ParseEnvironment(parseResult.GetValue(env)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            IReadOnlyList<int>? ports = null;
            if (parseResult.GetValue(preopen) is { } preopenText)
            {
                ports = preopenText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(p => int.TryParse(p, out var n) && n is >= 1024 and <= 65535 ? n : throw new CliUsageException($"Invalid --preopen port \"{p}\" (1024-65535)."))
                    .ToList();
            }
            string? script = null;
            if (parseResult.GetValue(bootstrap) is { } scriptPath)
                script = await File.ReadAllTextAsync(context.ResolvePath(scriptPath), ct).ConfigureAwait(false);
            var request = new SessionCreateRequest
            {
                Image = parseResult.GetValue(image)!,
                Name = parseResult.GetValue(name) ?? "pysdk-" + SessionOutput.RandomName(),
                OwnerAccessKey = parseResult.GetValue(owner),
                Type = parseResult.GetValue(type) == "batch" ? SessionType.Batch : SessionType.Interactive,
                StartsAt = parseResult.GetValue(startsAt),
                StartupCommand = parseResult.GetValue(startup),
                EnqueueOnly = parseResult.GetValue(enqueueOnly),
                MaxWaitSeconds = parseResult.GetValue(maxWait),
                ReuseIfExists = !parseResult.GetValue(noReuse),
                Dependencies = parseResult.GetValue(depends) is { Length: > 0 } d ? d : null,
                CallbackUrl = parseResult.GetValue(callback),
                Environ = environment,
                BootstrapScript = script,
                Tag = parseResult.GetValue(tag),
                Mounts = mounts.Mounts,
                MountMap = mounts.MountMap,
                ScalingGroup = parseResult.GetValue(scalingGroup),
                Resources = KeyValueOptions.ParseResources(parseResult.GetValue(resources)),
                ClusterSize = parseResult.GetValue(clusterSize),
                ClusterMode = parseResult.GetValue(clusterMode)!,
                ResourceOpts = KeyValueOptions.ParseResourceOptions(parseResult.GetValue(resourceOpts)),
                PreopenPorts = ports,
                Domain = parseResult.GetValue(domain),
                Group = parseResult.GetValue(group),
            };
            await using var session = await context.Runtime.Runtime.StartSessionAsync(request.Image, SessionStarts.ToStartOptions(request), ct).ConfigureAwait(false);
            var result = SessionStarts.CreateResultOf(session);
            if (parseResult.IsJson())
            {
                context.WriteJson(new JsonObject
                {
                    ["session_id"] = result.SessionId,
                    ["name"] = result.SessionName,
                    ["status"] = result.Status,
                    ["created"] = result.Created,
                    ["service_ports"] = new JsonArray(result.ServicePorts.Select(p => (JsonNode?)JsonValue.Create(p.Name)).ToArray()),
                });
            }
            var status = result.Status.ToUpperInvariant();
            var message = status switch
            {
                "PENDING" => $"Session {result.SessionName} ({result.SessionId}) is enqueued for scheduling.",
                "SCHEDULED" => $"Session {result.SessionName} ({result.SessionId}) is scheduled and about to be started.",
                "RUNNING" => result.Created
                    ? $"Session {result.SessionName} ({result.SessionId}) is created and ready."
                    : $"Session {result.SessionName} ({result.SessionId}) is already running and ready.",
                "TERMINATED" => $"Session {result.SessionName} ({result.SessionId}) is already terminated; this may be an error in the image.",
                "TIMEOUT" => $"Session {result.SessionName} ({result.SessionId}) is still on the job queue.",
                _ => $"Session {result.SessionName} ({result.SessionId}) had an error during scheduling/startup or was cancelled ({result.Status}).",
            };
            context.Info(message);
            if (status == "RUNNING" && result.ServicePorts.Count > 0)
                context.Info("This session provides the following app services: " + string.Join(", ", result.ServicePorts.Select(p => p.Name)));
            return status is "ERROR" or "CANCELLED" or "TERMINATED" ? ExitCodes.Failure : ExitCodes.Success;
        });
        return command;
    }
}

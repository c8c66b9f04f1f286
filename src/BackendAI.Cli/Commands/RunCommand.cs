using System.CommandLine;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Threading.Channels;
using Akka.Streams;
using Akka.Streams.Dsl;
using BackendAI.Actors;
using BackendAI.Cli.Parsing;
using BackendAI.Cli.Sweep;
using BackendAI.Client;
using BackendAI.Client.Errors;
using Spectre.Console;

namespace BackendAI.Cli.Commands;

/// <summary>
/// <c>backend.ai run IMAGE [FILES...]</c>: runs a code snippet (<c>-c</c>) or uploaded files (batch mode:
/// clean → build → exec) in a session, with live output and input prompts answered from the console.
/// Range expressions turn one run into a sweep of cases run concurrently, at most <c>--max-parallel</c>
/// at a time, each in its own session <c>&lt;prefix&gt;-&lt;idx&gt;</c> with its output labelled <c>[idx]</c>
/// and logged to files, ending with a summary table. The exit code is the code's own for one case,
/// and 1 when any case of a sweep failed.
/// </summary>
internal sealed class RunCommand
{
    private readonly Argument<string> _image = new("IMAGE") { Description = "The image (and tag) to run, e.g. python:3.9-ubuntu20.04." };
    private readonly Argument<string[]> _files = new("FILES") { Description = "Source files to upload and run in batch mode.", Arity = ArgumentArity.ZeroOrMore };
    private readonly Option<string?> _name = new("--name", "-t", "--session-id", "--client-token") { Description = "The session name (the prefix of case names in a sweep); random when omitted." };
    private readonly Option<string> _type = new("--type") { Description = "Session type: interactive or batch.", DefaultValueFactory = _ => "interactive" };
    private readonly Option<bool> _enqueueOnly = new("--enqueue-only") { Description = "Enqueue the session and return without waiting for it to start (nothing runs)." };
    private readonly Option<int> _maxWait = new("--max-wait") { Description = "Seconds to wait for the session to start (0 = no limit).", DefaultValueFactory = _ => 0 };
    private readonly Option<bool> _noReuse = new("--no-reuse") { Description = "Fail instead of reusing an existing session with the same name." };
    private readonly Option<string?> _code = new("--code", "-c") { Description = "The code snippet to run (query mode)." };
    private readonly Option<string?> _clean = new("--clean") { Description = "Shell command to clean the working directory before the build (batch mode)." };
    private readonly Option<string?> _build = new("--build") { Description = "Shell command to build the files ($VAR templates are filled by --build-range)." };
    private readonly Option<string?> _exec = new("--exec") { Description = "Shell command to run the files ($VAR templates are filled by --exec-range)." };
    private readonly Option<string?> _basedir = new("--basedir") { Description = "Base directory of the uploaded files; all files must be inside it (default: the current directory)." };
    private readonly Option<string[]> _env = new("--env", "-e") { Description = "KEY=VAL environment variable; VAL may use $VAR filled by --env-range.", AllowMultipleArgumentsPerToken = false };
    private readonly Option<bool> _rm = new("--rm") { Description = "Destroy the session when the run ends." };
    private readonly Option<bool> _stats = new("--stats", "-s") { Description = "With --rm, print the session's final statistics." };
    private readonly Option<string?> _tag = new("--tag") { Description = "A tag to annotate the session." };
    private readonly Option<bool> _quiet = new("--quiet", "-q") { Description = "Hide status lines; show only the code's output." };
    private readonly Option<string[]> _envRange = new("--env-range") { Description = "KEY=EXPR range for -e templates: case:a,b | linspace:start,stop,num | range:start,stop[,step]." };
    private readonly Option<string[]> _buildRange = new("--build-range") { Description = "KEY=EXPR range for the --build template." };
    private readonly Option<string[]> _execRange = new("--exec-range") { Description = "KEY=EXPR range for the --exec template." };
    private readonly Option<int> _maxParallel = new("--max-parallel") { Description = "The most cases running at the same time.", DefaultValueFactory = _ => 2 };
    private readonly Option<string[]> _mount = new("--mount", "-m") { Description = "vfolder to mount: NAME or NAME=PATH." };
    private readonly Option<string[]> _mountMap = new("--mount-map") { Description = "NAME=PATH mount path of a vfolder." };
    private readonly Option<string?> _scalingGroup = new("--scaling-group", "--sgroup") { Description = "The scaling group (resource group) to run in." };
    private readonly Option<string[]> _resources = new("--resources", "-r", "--resource") { Description = "SLOT=VALUE resources, e.g. -r cpu=4 -r mem=8g -r cuda.shares=2." };
    private readonly Option<int> _clusterSize = new("--cluster-size") { Description = "Number of containers (1-3).", DefaultValueFactory = _ => 1 };
    private readonly Option<string[]> _resourceOpts = new("--resource-opts") { Description = "KEY=VAL resource options, e.g. shmem=64m." };
    private readonly Option<string?> _domain = new("--domain", "-d") { Description = "The domain to create the session in (default: BACKEND_DOMAIN)." };
    private readonly Option<string?> _group = new("--group", "-g") { Description = "The project (group) to create the session in (default: BACKEND_GROUP)." };
    private readonly Option<string?> _logDir = new("--log-dir") { Description = "Where a sweep writes each case's stdout/stderr logs (default: ~/.cache/backend.ai/client-logs)." };

    private RunCommand()
    {
        _type.AcceptOnlyFromAmong("interactive", "batch");
    }

    public static Command Create(CliContext context)
    {
        var r = new RunCommand();
        var command = new Command("run", "Run a code snippet or files in a compute session (several sessions for range sweeps).")
        {
            r._image, r._files,
            r._name, r._type, r._enqueueOnly, r._maxWait, r._noReuse, r._code, r._clean, r._build, r._exec, r._basedir,
            r._env, r._rm, r._stats, r._tag, r._quiet, r._envRange, r._buildRange, r._execRange, r._maxParallel,
            r._mount, r._mountMap, r._scalingGroup, r._resources, r._clusterSize, r._resourceOpts, r._domain, r._group, r._logDir,
        };
        command.SetCliAction(context, (parseResult, ct) => r.RunAsync(context, parseResult, ct));
        return command;
    }

    private sealed record Plan(
        string Image, IReadOnlyList<string> Files, string BaseDirectory, string? Code, bool Quiet, bool Rm, bool Stats, bool IsMulti,
        string Prefix, string? LogDirectory, Func<SweepCase, SessionCreateRequest> Request);

    private async Task<int> RunAsync(CliContext context, ParseResult parseResult, CancellationToken ct)
    {
        var files = parseResult.GetValue(_files) ?? [];
        var code = parseResult.GetValue(_code);
        if (files.Length > 0 && code is not null)
            throw new CliUsageException("You can run only either source files or a code snippet (-c), not both.");
        if (files.Length == 0 && code is null)
            throw new CliUsageException("Give the code snippet with -c, or files to run in batch mode.");
        var clusterSize = parseResult.GetValue(_clusterSize);
        if (clusterSize is < 1 or > 3)
            throw new CliUsageException("Invalid --cluster-size: it must be 1, 2 or 3.");
        var maxParallel = parseResult.GetValue(_maxParallel);
        var maxWait = parseResult.GetValue(_maxWait);
        if (maxWait < 0)
            throw new CliUsageException("--max-wait must not be negative.");

        var envTemplates = KeyValueOptions.ParseEnvironment(parseResult.GetValue(_env));
        var resources = KeyValueOptions.ParseResources(parseResult.GetValue(_resources));
        var resourceOpts = KeyValueOptions.ParseResourceOptions(parseResult.GetValue(_resourceOpts));
        var mounts = KeyValueOptions.ParseMounts(parseResult.GetValue(_mount), parseResult.GetValue(_mountMap));
        var cases = SweepPlan.Expand(
            envTemplates, parseResult.GetValue(_clean), parseResult.GetValue(_build), parseResult.GetValue(_exec),
            (parseResult.GetValue(_envRange) ?? []).Select(t => RangeExpression.Parse(t, "--env-range")).ToList(),
            (parseResult.GetValue(_buildRange) ?? []).Select(t => RangeExpression.Parse(t, "--build-range")).ToList(),
            (parseResult.GetValue(_execRange) ?? []).Select(t => RangeExpression.Parse(t, "--exec-range")).ToList());
        if (cases.Count == 0)
            throw new CliUsageException("The range expressions expand to no cases (is a range empty?).");
        var isMulti = cases.Count > 1;
        if (isMulti && maxParallel < 1)
            throw new CliUsageException("--max-parallel must be a positive integer.");

        var baseDir = context.ResolvePath(parseResult.GetValue(_basedir) ?? ".");
        var fullFiles = files.Select(context.ResolvePath).ToList();
        foreach (var f in fullFiles)
        {
            if (!File.Exists(f) && !Directory.Exists(f))
                throw new CliUsageException($"The file \"{f}\" does not exist.");
            if (Path.GetRelativePath(baseDir, f).StartsWith("..", StringComparison.Ordinal))
                throw new CliUsageException($"The file \"{f}\" is outside the base directory \"{baseDir}\".");
        }

        var quiet = parseResult.GetValue(_quiet);
        var prefix = parseResult.GetValue(_name) ?? SessionOutput.RandomName();
        var type = parseResult.GetValue(_type) == "batch" ? SessionType.Batch : SessionType.Interactive;
        var plan = new Plan(
            parseResult.GetValue(_image)!, fullFiles, baseDir, code, quiet, parseResult.GetValue(_rm), parseResult.GetValue(_stats), isMulti, prefix,
            isMulti ? context.ResolvePath(parseResult.GetValue(_logDir) ?? Path.Combine(context.HomeDirectory, ".cache", "backend.ai", "client-logs")) : null,
            c => new SessionCreateRequest
            {
                Image = parseResult.GetValue(_image)!,
                Name = NameOf(c, isMulti, prefix),
                Type = type,
                EnqueueOnly = parseResult.GetValue(_enqueueOnly),
                MaxWaitSeconds = maxWait,
                ReuseIfExists = !parseResult.GetValue(_noReuse),
                // A batch session runs its startup command by itself: the exec command, else the snippet.
                StartupCommand = type == SessionType.Batch ? (c.Exec != "*" ? c.Exec : code) : null,
                Mounts = mounts.Mounts,
                MountMap = mounts.MountMap,
                Environ = c.EnvironmentMap,
                Resources = resources,
                ResourceOpts = resourceOpts,
                ScalingGroup = parseResult.GetValue(_scalingGroup),
                ClusterSize = clusterSize,
                Tag = parseResult.GetValue(_tag),
                Domain = parseResult.GetValue(_domain),
                Group = parseResult.GetValue(_group),
            });

        if (!quiet)
        {
            context.Info($"∙ Session name prefix: {prefix}");
            if (isMulti)
            {
                context.Info("∙ Running multiple sessions for the following combinations:");
                foreach (var c in cases)
                    context.Info($"  [{c.Index}] {c.Describe()}");
            }
        }
        if (plan.LogDirectory is not null)
        {
            Directory.CreateDirectory(plan.LogDirectory);
            context.Info($"∙ Check out the stdout/stderr logs stored in {plan.LogDirectory}");
        }

        var runtime = context.Runtime;
        var outputLock = new object();
        var results = await SweepRunner.RunAsync(
            cases, isMulti ? maxParallel : 1,
            (c, token) => RunCaseAsync(context, runtime, plan, c, outputLock, token),
            c => NameOf(c, isMulti, prefix),
            ct).ConfigureAwait(false);

        if (parseResult.IsJson())
        {
            context.WriteJson(new JsonArray(results.Select(r => (JsonNode?)new JsonObject
            {
                ["index"] = r.Index,
                ["session"] = r.SessionName,
                ["status"] = r.Status.ToString().ToLowerInvariant(),
                ["exit_code"] = r.ExitCode,
                ["error"] = r.Error,
            }).ToArray()));
        }
        else if (isMulti)
        {
            var table = new Table().Border(TableBorder.Simple).AddColumns("Case", "Session", "Status", "Exit code", "Error");
            foreach (var r in results)
                table.AddRow(r.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(r.SessionName),
                    r.IsFailure ? $"[red]{r.Status}[/]" : $"[green]{r.Status}[/]",
                    r.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-", Markup.Escape(r.Error ?? ""));
            context.ErrorConsole.Write(table);
        }

        if (isMulti)
        {
            var failed = results.Count(r => r.IsFailure);
            if (failed > 0)
                context.Info($"✗ There were failed cases: {failed} of {results.Count}.");
            return failed > 0 ? ExitCodes.Failure : ExitCodes.Success;
        }
        var single = results[0];
        if (single.Status == CaseStatus.Error)
            await context.Error.WriteLineAsync($"backend.ai: {single.Error}").ConfigureAwait(false);
        return single.Status switch
        {
            CaseStatus.Succeeded or CaseStatus.Failed => single.ExitCode ?? ExitCodes.Failure,
            CaseStatus.Enqueued => ExitCodes.Success,
            CaseStatus.Cancelled => ExitCodes.Interrupted,
            _ => ExitCodes.Failure,
        };
    }

    private static string NameOf(SweepCase c, bool isMulti, string prefix) => isMulti ? $"{prefix}-{c.Index}" : prefix;

    private static async Task<CaseResult> RunCaseAsync(CliContext context, CliRuntime runtime, Plan plan, SweepCase c, object outputLock, CancellationToken ct)
    {
        var request = plan.Request(c);
        var name = request.Name!;
        var label = $"[{c.Index}]";
        void Info(string line)
        {
            if (plan.Quiet)
                return;
            lock (outputLock)
                context.Info(line);
        }

        await using var session = await runtime.Runtime.StartSessionAsync(request.Image, SessionStarts.ToStartOptions(request), ct).ConfigureAwait(false);
        var created = SessionStarts.CreateResultOf(session);
        switch (created.Status.ToUpperInvariant())
        {
            case "RUNNING":
                Info(created.Created
                    ? $"✓ {label} Session {created.SessionName} is ready (id {created.SessionId})."
                    : $"✓ {label} Reusing session {created.SessionName} (id {created.SessionId}).");
                break;
            case "PENDING":
                Info($"∙ {label} Session {created.SessionName} is enqueued for scheduling.");
                return new CaseResult(c.Index, name, CaseStatus.Enqueued, null);
            case "TIMEOUT":
            case "SCHEDULED":
            case "PREPARING":
            case "PULLING":
                Info($"∙ {label} Session {created.SessionName} is still on the job queue ({created.Status}).");
                return new CaseResult(c.Index, name, CaseStatus.Enqueued, null);
            case "TERMINATED":
                return new CaseResult(c.Index, name, CaseStatus.Error, null, $"Session {created.SessionName} is already terminated; this may be an error in the image.");
            default:
                return new CaseResult(c.Index, name, CaseStatus.Error, null, $"Session {created.SessionName} failed to start or was cancelled ({created.Status}).");
        }
        if (request.Type == SessionType.Batch)
        {
            Info($"∙ {label} Batch session {created.SessionName} runs its startup command; follow it with 'backend.ai events {created.SessionName}'.");
            return new CaseResult(c.Index, name, CaseStatus.Enqueued, null);
        }

        StreamWriter? stdoutLog = null, stderrLog = null;
        TextWriter stdout = context.Out, stderr = context.Error;
        LabelledLineWriter? labelledOut = null, labelledErr = null;
        if (plan.IsMulti)
        {
            stdoutLog = new StreamWriter(Path.Combine(plan.LogDirectory!, $"{name}.stdout.log"));
            stderrLog = new StreamWriter(Path.Combine(plan.LogDirectory!, $"{name}.stderr.log"));
            labelledOut = new LabelledLineWriter(context.Out, outputLock, label + " ");
            labelledErr = new LabelledLineWriter(context.Error, outputLock, label + " ");
            stdout = new TeeWriter(stdoutLog, labelledOut);
            stderr = new TeeWriter(stderrLog, labelledErr);
        }
        try
        {
            string code;
            ExecuteOptions options;
            if (plan.Files.Count > 0)
            {
                Info($"∙ {label} Uploading {plan.Files.Count} source file(s)...");
                await SessionTransfers.UploadAsync(context, session, plan.Files, plan.BaseDirectory, showProgress: !plan.IsMulti && !plan.Quiet, ct).ConfigureAwait(false);
                Info($"✓ {label} Uploading done.");
                code = "";
                options = new ExecuteOptions { Mode = ExecuteMode.Batch, Batch = new BatchOptions(c.Clean, c.Build, c.Exec) };
            }
            else
            {
                code = plan.Code!;
                options = new ExecuteOptions { Mode = ExecuteMode.Query };
            }
            options.InputProvider = async (prompt, token) =>
            {
                var text = plan.IsMulti ? $"{label} input{(prompt.IsPassword ? " (password)" : "")}: " : prompt.IsPassword ? "Password: " : "";
                return await context.ReadInputAsync(text, prompt.IsPassword, token).ConfigureAwait(false)
                    ?? throw new CliUsageException("The code waits for input but standard input is closed.");
            };
            var outcome = await StreamRunAsync(runtime, session, code, options, stdout, stderr, ct).ConfigureAwait(false);
            if (outcome.Status == "exec-timeout")
            {
                Info($"✗ {label} Execution timed out.");
                return new CaseResult(c.Index, name, CaseStatus.Failed, null, "The execution timed out.");
            }
            var exitCode = outcome.ExitCode ?? 0;
            Info($"✓ {label} Execution finished. (exit code = {exitCode})");
            return new CaseResult(c.Index, name, exitCode == 0 ? CaseStatus.Succeeded : CaseStatus.Failed, exitCode);
        }
        finally
        {
            await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            await stderr.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            labelledOut?.Dispose();
            labelledErr?.Dispose();
            if (stdoutLog is not null) await stdoutLog.DisposeAsync().ConfigureAwait(false);
            if (stderrLog is not null) await stderrLog.DisposeAsync().ConfigureAwait(false);
            if (plan.Rm)
                await DestroyAsync(context, runtime, session, plan, label, Info).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs the code through the session's run source (one execute call per pull, input answered by the
    /// provider) and writes each console record as it arrives; a slow console slows the run's
    /// <c>continue</c> calls. Cancelling stops the run.
    /// </summary>
    private static async Task<ExecutionOutcome> StreamRunAsync(CliRuntime runtime, ComputeSession session, string code, ExecuteOptions options,
        TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var ((outcome, killSwitch), records) = session.ExecuteSource(code, options)
            .ViaMaterialized(KillSwitches.Single<ConsoleRecord>(), Keep.Both)
            .ToMaterialized(ChannelSink.AsReader<ConsoleRecord>(64, singleReader: true, BoundedChannelFullMode.Wait), Keep.Both)
            .Run(runtime.Materializer);
        using var registration = ct.Register(static ks => ((UniqueKillSwitch)ks!).Shutdown(), killSwitch);
        try
        {
            await foreach (var record in records.ReadAllAsync(ct).ConfigureAwait(false))
            {
                await SessionOutput.WriteRecordAsync(record, stdout, stderr).ConfigureAwait(false);
                if (records.Count == 0)
                {
                    await stdout.FlushAsync(ct).ConfigureAwait(false);
                    await stderr.FlushAsync(ct).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            killSwitch.Shutdown();
        }
        ct.ThrowIfCancellationRequested();
        return await outcome.ConfigureAwait(false);
    }

    private static async Task DestroyAsync(CliContext context, CliRuntime runtime, ComputeSession session, Plan plan, string label, Action<string> info)
    {
        // Cleanup runs even when the run was cancelled, bounded by its own timeout.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            // The runtime's destroy does not return the final statistics; --stats asks the wire client for them.
            JsonElement? stats = null;
            if (plan.Stats)
                stats = (await runtime.Client.Sessions.DestroyAsync(session.Id, false, null, cts.Token).ConfigureAwait(false)).Stats;
            else
                await session.DestroyAsync(false, cts.Token).ConfigureAwait(false);
            // In a sweep, a case's slot is freed only once its session is gone, so --max-parallel bounds live sessions.
            if (plan.IsMulti)
                await session.WaitForStatusAsync(SessionStatuses.IsTerminal, cts.Token).ConfigureAwait(false);
            info($"✓ {label} Cleaned up the session.");
            if (stats is { } s)
                StatsView.Write(context, s, plan.IsMulti ? $"{label} Statistics" : "Statistics");
        }
        catch (Exception e) when (e is BackendException or OperationCanceledException or HttpRequestException)
        {
            context.Info($"✗ {label} Could not destroy session {session.Name}: {ErrorMessages.OneLine(e)}");
        }
    }
}

using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using BackendAI.Client.Errors;
using BackendAI.Local.Events;
using BackendAI.Local.Hosting;
using BackendAI.Local.Kernels;
using Microsoft.Extensions.Logging;

namespace BackendAI.Local.Sessions;

/// <summary>What a create request asks for, after validation.</summary>
internal sealed record SessionSpec
{
    public required string Name { get; init; }
    public required string Image { get; init; }
    public required LocalKeypair Owner { get; init; }
    public string Architecture { get; init; } = "x86_64";
    public bool IsBatch { get; init; }
    public string GroupName { get; init; } = "default";
    public Guid GroupId { get; init; }
    public string Domain { get; init; } = "default";
    public string? Tag { get; init; }
    public bool EnqueueOnly { get; init; }
    public int MaxWaitSeconds { get; init; }
    public DateTimeOffset? StartsAt { get; init; }
    public bool ReuseIfExists { get; init; } = true;
    public string? StartupCommand { get; init; }
    public string? BootstrapScript { get; init; }
    public IReadOnlyList<Guid> Dependencies { get; init; } = [];
    public string? CallbackUrl { get; init; }
    public IReadOnlyDictionary<string, string> Environ { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Mounts { get; init; } = [];
    public IReadOnlyDictionary<string, string> MountMap { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<int> PreopenPorts { get; init; } = [];
    public string? ResourceOptsJson { get; init; }
    public decimal? Cpu { get; init; }
    public long? Memory { get; init; }
    public decimal CudaShares { get; init; }
    public string ScalingGroup { get; init; } = "default";
    public int ClusterSize { get; init; } = 1;
    public string ClusterMode { get; init; } = "single-node";
}

/// <summary>The outcome of a create call.</summary>
internal sealed record CreateOutcome(LocalSession Session, bool Created, string Status);

/// <summary>
/// All sessions of the local server: creation, the capacity scheduler (FIFO), the lifecycle of each
/// session, destroy/restart, and lookups. Implements the registries other areas consume.
/// </summary>
internal sealed partial class SessionRegistry : ISessionQuerySource, ISessionResolver, IAgentInfo, IAsyncDisposable
{
    private static readonly HttpClient CallbackClient = new() { Timeout = TimeSpan.FromSeconds(30) };

    private readonly object _gate = new();
    private readonly Dictionary<Guid, LocalSession> _sessions = [];
    private readonly List<LocalSession> _pending = [];
    private readonly SemaphoreSlim _schedulerSignal = new(0);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly LocalBackendOptions _options;
    private readonly LocalBackendPaths _paths;
    private readonly IKernelFactory _kernels;
    private readonly SessionEventBus _events;
    private readonly TimeProvider _clock;
    private readonly IVFolderMountResolver? _mounts;
    private readonly ILogger<SessionRegistry> _logger;
    private readonly Task _scheduler;
    private readonly List<Task> _lifecycles = [];
    private readonly LocalImagePuller _images;

    public SessionRegistry(
        LocalBackendOptions options, LocalBackendPaths paths, IKernelFactory kernels, SessionEventBus events,
        TimeProvider clock, ILogger<SessionRegistry> logger, IVFolderMountResolver? mounts = null)
    {
        _options = options;
        _paths = paths;
        _kernels = kernels;
        _events = events;
        _clock = clock;
        _mounts = mounts;
        _logger = logger;
        _images = new LocalImagePuller(options.PullImages, options.PullDelay, clock, _shutdown.Token);
        FirstContact = clock.GetUtcNow();
        AvailableSlots = new Dictionary<string, string>
        {
            ["cpu"] = options.CapacityCpu.ToString(CultureInfo.InvariantCulture),
            ["mem"] = options.CapacityMemory.ToString(CultureInfo.InvariantCulture),
            ["cuda.shares"] = options.CapacityCudaShares.ToString(CultureInfo.InvariantCulture),
        };
        _scheduler = Task.Run(SchedulerLoopAsync);
    }

    public IKernelFactory Kernels => _kernels;

    public IVFolderMountResolver? MountResolver => _mounts;

    // ---- IAgentInfo ----
    public string Id => "local";
    public IReadOnlyDictionary<string, string> AvailableSlots { get; }
    public DateTimeOffset FirstContact { get; }

    public IReadOnlyDictionary<string, string> OccupiedSlots()
    {
        lock (_gate)
        {
            var (cpu, mem, cuda) = OccupiedLocked();
            return new Dictionary<string, string>
            {
                ["cpu"] = cpu.ToString(CultureInfo.InvariantCulture),
                ["mem"] = mem.ToString(CultureInfo.InvariantCulture),
                ["cuda.shares"] = cuda.ToString(CultureInfo.InvariantCulture),
            };
        }
    }

    private (decimal Cpu, long Mem, decimal Cuda) OccupiedLocked()
    {
        decimal cpu = 0, cuda = 0;
        long mem = 0;
        foreach (var s in _sessions.Values)
        {
            if (!SessionStatus.OccupiesResources(s.Status)) continue;
            cpu += s.Cpu;
            mem += s.Memory;
            cuda += s.CudaShares;
        }
        return (cpu, mem, cuda);
    }

    // ---- ISessionQuerySource ----
    public IReadOnlyList<SessionView> Sessions()
    {
        lock (_gate) return [.. _sessions.Values.Select(s => s.ToView())];
    }

    public SessionView? Find(Guid id)
    {
        lock (_gate) return _sessions.TryGetValue(id, out var s) ? s.ToView() : null;
    }

    public int ActiveCount()
    {
        lock (_gate) return _sessions.Values.Count(s => !SessionStatus.IsDead(s.Status));
    }

    // ---- ISessionResolver ----
    public LocalSessionHandle Resolve(LocalIdentity caller, string sessionRef, bool allowStale = false)
    {
        var s = ResolveSession(caller.AccessKey, sessionRef, allowStale);
        lock (_gate) return new LocalSessionHandle(s.ToView(), s.Kernel, s.WorkDirectory, s.Terminating.Token);
    }

    /// <summary>sessions.md §1 lookup among the owner's sessions.</summary>
    public LocalSession ResolveSession(string ownerAccessKey, string sessionRef, bool allowStale = false)
    {
        var matches = Match(ownerAccessKey, sessionRef, allowStale);
        if (matches.Count == 0) throw ApiProblemException.NotFound("No such session.");
        if (matches.Count > 1 && allowStale)
        {
            var alive = matches.Where(m => !SessionStatus.IsDead(m.Status)).ToList();
            if (alive.Count == 1) return alive[0];
            if (alive.Count == 0) return matches.OrderByDescending(m => m.CreatedAt).First();
        }
        if (matches.Count > 1)
        {
            JsonArray list;
            lock (_gate)
            {
                list = new JsonArray([.. matches.Take(10).Select(m => (JsonNode)new JsonObject
                {
                    ["id"] = m.Id.ToString("D"), ["name"] = m.Name, ["status"] = m.Status,
                    ["created_at"] = m.CreatedAt.ToString("o", CultureInfo.InvariantCulture),
                })]);
            }
            throw new ApiProblemException(ProblemTypes.TooManySessionsMatched, data: new JsonObject { ["matches"] = list });
        }
        return matches[0];
    }

    /// <summary>The first rule of sessions.md §1 that yields anything.</summary>
    public List<LocalSession> Match(string ownerAccessKey, string sessionRef, bool allowStale)
    {
        lock (_gate)
        {
            var candidates = _sessions.Values
                .Where(s => s.Owner.AccessKey == ownerAccessKey && (allowStale || !SessionStatus.IsDead(s.Status)))
                .OrderBy(s => s.CreatedAt).ToList();
            if (sessionRef.Length == 0) return [];
            var byId = candidates.Where(s => s.Id.ToString("D").StartsWith(sessionRef, StringComparison.OrdinalIgnoreCase)).ToList();
            if (byId.Count > 0) return byId;
            var exact = candidates.Where(s => s.Name == sessionRef).ToList();
            if (exact.Count > 0) return exact;
            return candidates.Where(s => s.Name.StartsWith(sessionRef, StringComparison.Ordinal)).ToList();
        }
    }

    /// <summary>Resolves a dependency reference (id or name, any owner-visible session including finished ones).</summary>
    public Guid? ResolveDependency(string ownerAccessKey, string reference)
    {
        lock (_gate)
        {
            if (Guid.TryParse(reference, out var id) && _sessions.ContainsKey(id)) return id;
            return _sessions.Values.Where(s => s.Owner.AccessKey == ownerAccessKey && s.Name == reference)
                .OrderByDescending(s => s.CreatedAt).Select(s => (Guid?)s.Id).FirstOrDefault();
        }
    }

    // ---- create ----
    public async Task<CreateOutcome> CreateAsync(SessionSpec spec, CancellationToken cancellationToken)
    {
        LocalSession session;
        lock (_gate)
        {
            var existing = _sessions.Values.FirstOrDefault(s =>
                s.Owner.AccessKey == spec.Owner.AccessKey && s.Name == spec.Name && !SessionStatus.IsDead(s.Status));
            if (existing is not null)
            {
                if (!spec.ReuseIfExists || existing.RequestedImage != spec.Image && existing.Image != spec.Image)
                    throw new ApiProblemException(ProblemTypes.SessionAlreadyExists,
                        data: new JsonObject { ["existingSessionId"] = existing.Id.ToString("D") });
                return new CreateOutcome(existing, false, existing.Status);
            }
            var id = Guid.NewGuid();
            var now = _clock.GetUtcNow();
            session = new LocalSession
            {
                Id = id,
                Name = spec.Name,
                Owner = spec.Owner,
                Image = CanonicalImage(spec.Image),
                RequestedImage = spec.Image,
                Architecture = spec.Architecture,
                IsBatch = spec.IsBatch,
                GroupName = spec.GroupName,
                GroupId = spec.GroupId,
                Domain = spec.Domain,
                WorkDirectory = Path.Combine(_paths.SessionsDirectory, id.ToString("D"), "work"),
                CreatedAt = now,
                StatusChanged = now,
                StartsAt = spec.StartsAt,
                StartupCommand = spec.StartupCommand,
                BootstrapScript = spec.BootstrapScript,
                Tag = spec.Tag,
                ScalingGroup = spec.ScalingGroup,
                CallbackUrl = spec.CallbackUrl,
                Environ = spec.Environ,
                Mounts = spec.Mounts,
                MountMap = spec.MountMap,
                Dependencies = spec.Dependencies,
                PreopenPorts = spec.PreopenPorts,
                ResourceOptsJson = spec.ResourceOptsJson,
                Cpu = spec.Cpu ?? _options.DefaultSessionCpu,
                Memory = spec.Memory ?? _options.DefaultSessionMemory,
                CudaShares = spec.CudaShares,
                ClusterSize = spec.ClusterSize,
                ClusterMode = spec.ClusterMode,
            };
            _sessions[id] = session;
            _pending.Add(session);
            Publish(session, "session_enqueued", "");
        }
        Callback(session, "enqueued");
        Signal();
        if (spec.EnqueueOnly) return new CreateOutcome(session, true, SessionStatus.Pending);

        var wait = session.StartedOrDead.Task;
        if (spec.MaxWaitSeconds > 0)
        {
            var finished = await Task.WhenAny(wait, Task.Delay(TimeSpan.FromSeconds(spec.MaxWaitSeconds), _clock, cancellationToken)).ConfigureAwait(false);
            if (finished != wait)
            {
                cancellationToken.ThrowIfCancellationRequested();
                return new CreateOutcome(session, true, "TIMEOUT");
            }
        }
        else
        {
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        lock (_gate) return new CreateOutcome(session, true, session.Status);
    }

    /// <summary>Adds the default registry/namespace and tag: <c>python:3.9</c> → <c>cr.backend.ai/stable/python:3.9</c>.</summary>
    internal static string CanonicalImage(string image)
    {
        var slash = image.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? "" : image[..slash];
        var withRegistry = slash >= 0 && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost")
            ? image
            : slash < 0 ? "cr.backend.ai/stable/" + image : "cr.backend.ai/" + image;
        var lastSegment = withRegistry[(withRegistry.LastIndexOf('/') + 1)..];
        return lastSegment.Contains(':', StringComparison.Ordinal) || lastSegment.Contains('@', StringComparison.Ordinal) ? withRegistry : withRegistry + ":latest";
    }

    // ---- scheduler ----
    private void Signal()
    {
        try
        {
            if (_schedulerSignal.CurrentCount == 0) _schedulerSignal.Release();
        }
        catch (ObjectDisposedException)
        {
            // shutting down
        }
    }

    private async Task SchedulerLoopAsync()
    {
        var ct = _shutdown.Token;
        while (!ct.IsCancellationRequested)
        {
            bool timed;
            try
            {
                timed = ScheduleOnce();
            }
            catch (Exception e)
            {
                LogSchedulerError(_logger, e);
                timed = true;
            }
            try
            {
                await _schedulerSignal.WaitAsync(timed ? TimeSpan.FromMilliseconds(200) : Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One scheduling pass; returns true when some pending session waits on time (starts_at) or another session.</summary>
    private bool ScheduleOnce()
    {
        var started = new List<LocalSession>();
        var waitsOnTime = false;
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            var (cpu, mem, cuda) = OccupiedLocked();
            foreach (var s in _pending.ToList())
            {
                if (s.Status != SessionStatus.Pending)
                {
                    _pending.Remove(s);
                    continue;
                }
                string? failed = null;
                if (s.StartsAt is { } at && at > now)
                {
                    failed = "reserved_time";
                    waitsOnTime = true;
                }
                else if (s.Dependencies.Any(d => !_sessions.TryGetValue(d, out var dep) || dep.Result != "SUCCESS"))
                {
                    failed = "dependencies";
                    waitsOnTime = true;
                }
                if (failed is not null)
                {
                    MarkPendingLocked(s, "predicate-checks-failed", failed, now);
                    continue;
                }
                if (cpu + s.Cpu > _options.CapacityCpu || mem + s.Memory > _options.CapacityMemory || cuda + s.CudaShares > _options.CapacityCudaShares)
                {
                    MarkPendingLocked(s, "no-available-instances", null, now);
                    break; // FIFO: later sessions wait behind the head of the queue
                }
                _pending.Remove(s);
                cpu += s.Cpu;
                mem += s.Memory;
                cuda += s.CudaShares;
                SetStatusLocked(s, SessionStatus.Scheduled, "scheduled", null);
                started.Add(s);
            }
        }
        foreach (var s in started) Track(Task.Run(() => RunLifecycleAsync(s)));
        return waitsOnTime;
    }

    /// <summary>Remembers a background lifecycle task so that <see cref="DisposeAsync"/> waits for it.</summary>
    private void Track(Task t)
    {
        lock (_lifecycles)
        {
            _lifecycles.RemoveAll(x => x.IsCompleted);
            _lifecycles.Add(t);
        }
    }

    private void MarkPendingLocked(LocalSession s, string info, string? failedPredicate, DateTimeOffset now)
    {
        s.SchedulerRetries++;
        s.StatusInfo = info;
        var failed = failedPredicate is null ? "[]"
            : $"[{{\"name\": \"{failedPredicate}\", \"msg\": \"{(failedPredicate == "reserved_time" ? "Before start time" : "Waiting for dependency sessions")}\"}}]";
        s.StatusDataJson = $"{{\"scheduler\": {{\"retries\": {s.SchedulerRetries}, \"last_try\": \"{now:O}\", \"failed_predicates\": {failed}, \"passed_predicates\": []}}}}";
    }

    private void SetStatusLocked(LocalSession s, string status, string info, string? statusData)
    {
        s.Status = status;
        s.StatusInfo = info;
        s.StatusDataJson = statusData;
        s.StatusChanged = _clock.GetUtcNow();
    }

    private void Publish(LocalSession s, string name, string reason) =>
        _events.Publish(new SessionEvent(name, reason, s.Name, s.Owner.AccessKey, s.Id, s.Domain, s.GroupName));

    private Task StepAsync(CancellationToken ct) =>
        _options.LifecycleStepDelay > TimeSpan.Zero ? Task.Delay(_options.LifecycleStepDelay, _clock, ct) : Task.CompletedTask;

    // ---- lifecycle ----
    private async Task RunLifecycleAsync(LocalSession s)
    {
        var ct = CancellationTokenSource.CreateLinkedTokenSource(s.Terminating.Token, _shutdown.Token).Token;
        IKernel? kernel = null;
        try
        {
            lock (_gate) Publish(s, "session_scheduled", "");
            Callback(s, "scheduled");
            await StepAsync(ct).ConfigureAwait(false);
            lock (_gate)
            {
                if (s.Status != SessionStatus.Scheduled) return;
                SetStatusLocked(s, SessionStatus.Preparing, "", null);
                Publish(s, "kernel_preparing", "");
            }
            Callback(s, "preparing");
            await StepAsync(ct).ConfigureAwait(false);
            if (_images.NeedsPull(s.RequestedImage, s.Image))
            {
                lock (_gate)
                {
                    if (s.Status != SessionStatus.Preparing) return;
                    SetStatusLocked(s, SessionStatus.Pulling, "", null);
                    Publish(s, "kernel_pulling", "");
                }
                await _images.PullAsync(s.Image, ct).ConfigureAwait(false);
                lock (_gate)
                {
                    if (s.Status != SessionStatus.Pulling) return;
                    SetStatusLocked(s, SessionStatus.Preparing, "", null);
                }
            }
            lock (_gate)
            {
                if (s.Status != SessionStatus.Preparing) return;
                Publish(s, "kernel_creating", "");
            }
            Directory.CreateDirectory(s.WorkDirectory);
            LinkMounts(s);
            kernel = _kernels.Create(new KernelStartInfo(s.Id, s.RequestedImage, s.WorkDirectory, s.Environ, s.BootstrapScript));
            lock (_gate) s.Kernel = kernel;
            await kernel.StartAsync(ct).ConfigureAwait(false);
            await StepAsync(ct).ConfigureAwait(false);
            lock (_gate)
            {
                if (s.Status != SessionStatus.Preparing) return;
                SetStatusLocked(s, SessionStatus.Running, "", null);
                Publish(s, "kernel_started", "");
                Publish(s, "session_started", "");
            }
            s.StartedOrDead.TrySetResult();
            Callback(s, "started");
            _ = WatchExitAsync(s, kernel);
            if (s.IsBatch) await RunBatchJobAsync(s, kernel, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // destroyed (forced) or shutting down while starting
        }
        catch (Exception e)
        {
            LogStartFailed(_logger, e, s.Id);
            bool cancelled;
            lock (_gate)
            {
                cancelled = s.Status is SessionStatus.Scheduled or SessionStatus.Preparing or SessionStatus.Pulling;
                if (cancelled)
                {
                    SetStatusLocked(s, SessionStatus.Cancelled, "failed-to-start",
                        new JsonObject { ["error"] = new JsonObject { ["src"] = "other", ["name"] = e.GetType().Name, ["repr"] = e.Message } }.ToJsonString());
                    s.TerminatedAt = _clock.GetUtcNow();
                    s.StoredLogs = SafeLogs(kernel);
                    Publish(s, "kernel_cancelled", "failed-to-start");
                    Publish(s, "session_cancelled", "failed-to-start");
                }
            }
            if (cancelled)
            {
                if (kernel is not null) await DisposeKernelAsync(kernel).ConfigureAwait(false);
                s.StartedOrDead.TrySetResult();
                s.Dead.TrySetResult();
                Callback(s, "cancelled");
                Signal();
            }
        }
    }

    private static string SafeLogs(IKernel? kernel)
    {
        try
        {
            return kernel?.GetLogs() ?? "";
        }
        catch (Exception)
        {
            return "";
        }
    }

    private async Task DisposeKernelAsync(IKernel kernel)
    {
        try
        {
            await kernel.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogKernelDisposeFailed(_logger, e);
        }
    }

    private void LinkMounts(LocalSession s)
    {
        if (s.Mounts.Count == 0 || _mounts is null) return;
        foreach (var name in s.Mounts)
        {
            var target = _mounts.ResolveMount(s.Owner.ToIdentity(), name)
                ?? throw new InvalidOperationException($"vfolder '{name}' is not accessible.");
            var rel = s.MountMap.TryGetValue(name, out var m) && !string.IsNullOrEmpty(m) ? m : name;
            if (rel.StartsWith("/home/work/", StringComparison.Ordinal)) rel = rel["/home/work/".Length..];
            rel = rel.TrimStart('/');
            var link = Path.GetFullPath(Path.Combine(s.WorkDirectory, rel));
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            if (!Path.Exists(link)) Directory.CreateSymbolicLink(link, target);
        }
    }

    private async Task WatchExitAsync(LocalSession s, IKernel kernel)
    {
        int? code;
        try
        {
            code = await kernel.Exited.WaitAsync(_shutdown.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        bool selfExit;
        lock (_gate)
        {
            selfExit = s.Kernel == kernel && s.Status is SessionStatus.Running;
            if (selfExit) s.ExitCode = code;
        }
        if (selfExit) await TerminateAsync(s, "self-terminated", skipTerminating: true).ConfigureAwait(false);
    }

    private async Task RunBatchJobAsync(LocalSession s, IKernel kernel, CancellationToken ct)
    {
        var request = new KernelExecuteRequest(KernelExecuteMode.Batch, "batch-job", "", Exec: s.StartupCommand, EchoToLog: true);
        KernelResult result;
        var output = new TaskLogBuffer(MaxTaskLogChars);
        try
        {
            Interlocked.Increment(ref s.NumQueries);
            result = await kernel.ExecuteAsync(request, _options.ExecuteFlushWindow, ct).ConfigureAwait(false);
            output.Append(result);
            while (result.Status is "continued" or "clean-finished" or "build-finished")
            {
                result = await kernel.ExecuteAsync(request with { Mode = KernelExecuteMode.Continue }, _options.ExecuteFlushWindow, ct).ConfigureAwait(false);
                output.Append(result);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        string eventName, reason;
        lock (_gate)
        {
            if (result.Status == "exec-timeout")
            {
                s.Result = "FAILURE";
                s.ExitCode = -2;
                (eventName, reason) = ("session_failure", "task-timeout");
            }
            else
            {
                s.ExitCode = result.ExitCode;
                var ok = result.ExitCode == 0;
                s.Result = ok ? "SUCCESS" : "FAILURE";
                (eventName, reason) = ok ? ("session_success", "task-done") : ("session_failure", "task-failed");
            }
            Publish(s, eventName, reason);
        }
        Callback(s, eventName == "session_success" ? "success" : "failure");
        Signal();
        await WriteTaskLogAsync(s, output.ToString()).ConfigureAwait(false);
        await TerminateAsync(s, "task-finished").ConfigureAwait(false);
    }

    /// <summary>RUNNING/RESTARTING/ERROR → TERMINATING → TERMINATED; completes when the session is dead.</summary>
    public async Task TerminateAsync(LocalSession s, string reason, bool skipTerminating = false)
    {
        IKernel? kernel;
        lock (_gate)
        {
            if (SessionStatus.IsDead(s.Status) || s.Status == SessionStatus.Terminating && !skipTerminating) return;
            if (!skipTerminating)
            {
                SetStatusLocked(s, SessionStatus.Terminating, reason,
                    "{\"kernel\": {\"exit_code\": null}, \"session\": {\"status\": \"terminating\"}}");
                Publish(s, "kernel_terminating", reason);
            }
            kernel = s.Kernel;
        }
        await s.Terminating.CancelAsync().ConfigureAwait(false);
        if (!skipTerminating)
        {
            try
            {
                await StepAsync(_shutdown.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // shutting down: finish quickly
            }
        }
        var logs = SafeLogs(kernel);
        if (kernel is not null) await DisposeKernelAsync(kernel).ConfigureAwait(false);
        FinishTermination(s, reason, logs);
    }

    /// <summary>At most this many characters of a batch job's output are kept for its task log; the rest is dropped.</summary>
    private const int MaxTaskLogChars = 8 << 20;

    /// <summary>The stdout/stderr text of a batch job, bounded: output past the limit is dropped and a marker line added.</summary>
    private sealed class TaskLogBuffer(int limit)
    {
        private readonly System.Text.StringBuilder _text = new();
        private bool _truncated;

        public void Append(KernelResult result)
        {
            foreach (var item in result.Console)
            {
                if (item.Type is not ("stdout" or "stderr") || item.Data is not JsonValue v || !v.TryGetValue<string>(out var chunk)) continue;
                var room = limit - _text.Length;
                if (chunk.Length > room)
                {
                    _text.Append(chunk.AsSpan(0, Math.Max(room, 0)));
                    _truncated = true;
                    return;
                }
                _text.Append(chunk);
            }
        }

        public override string ToString() => _truncated ? _text + "\n[task log truncated]\n" : _text.ToString();
    }

    /// <summary>The vfolder that holds batch task logs (sessions.md §12.4).</summary>
    internal const string TaskLogFolder = ".logs";

    /// <summary><c>task/&lt;id[0:2]&gt;/&lt;id[2:4]&gt;/&lt;id[4:]&gt;.log</c> (id without hyphens) under <paramref name="root"/>.</summary>
    internal static string TaskLogPath(string root, Guid taskId)
    {
        var hex = taskId.ToString("N");
        return Path.Combine(root, "task", hex[..2], hex[2..4], hex[4..] + ".log");
    }

    /// <summary>Stores a finished batch session's output as its task log when the owner has a <c>.logs</c> vfolder.</summary>
    private async Task WriteTaskLogAsync(LocalSession s, string logs)
    {
        try
        {
            var root = _mounts?.ResolveMount(s.Owner.ToIdentity(), TaskLogFolder);
            if (root is null) return;
            var path = TaskLogPath(root, s.Id);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, logs, _shutdown.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            LogTaskLogFailed(_logger, e, s.Id);
        }
    }

    private void FinishTermination(LocalSession s, string reason, string logs)
    {
        lock (_gate)
        {
            if (SessionStatus.IsDead(s.Status)) return;
            var exit = s.ExitCode is { } c ? c.ToString(CultureInfo.InvariantCulture) : "null";
            SetStatusLocked(s, SessionStatus.Terminated, reason,
                $"{{\"kernel\": {{\"exit_code\": {exit}}}, \"session\": {{\"status\": \"terminated\"}}}}");
            s.TerminatedAt = _clock.GetUtcNow();
            s.StoredLogs = logs;
            Publish(s, "kernel_terminated", reason);
            Publish(s, "session_terminated", reason);
        }
        s.StartedOrDead.TrySetResult();
        s.Dead.TrySetResult();
        Callback(s, "terminated");
        Signal();
    }

    // ---- destroy / restart ----
    /// <summary>Destroys per sessions.md §6 and returns the <c>stats</c> object.</summary>
    public async Task<JsonObject> DestroyAsync(LocalSession s, bool forced, CancellationToken cancellationToken)
    {
        string status;
        IKernel? kernel = null;
        lock (_gate)
        {
            status = s.Status;
            switch (status)
            {
                case SessionStatus.Terminated or SessionStatus.Cancelled:
                    throw ApiProblemException.NotFound("No such session.");
                case SessionStatus.Pending:
                    _pending.Remove(s);
                    var reason = forced ? "force-terminated" : "user-requested";
                    SetStatusLocked(s, SessionStatus.Cancelled, reason, null);
                    s.TerminatedAt = _clock.GetUtcNow();
                    Publish(s, "kernel_cancelled", reason);
                    Publish(s, "session_cancelled", reason);
                    break;
                case SessionStatus.Pulling:
                    throw new ApiProblemException(ProblemTypes.GenericForbidden, "Cannot destroy kernels in pulling status");
                case SessionStatus.Scheduled or SessionStatus.Preparing or SessionStatus.Terminating or SessionStatus.Error:
                    if (!forced)
                        throw new ApiProblemException(ProblemTypes.GenericForbidden,
                            $"Cannot destroy kernels in {status.ToLowerInvariant()} status");
                    kernel = s.Kernel;
                    break;
            }
        }
        if (status == SessionStatus.Pending)
        {
            s.StartedOrDead.TrySetResult();
            s.Dead.TrySetResult();
            Callback(s, "cancelled");
            Signal();
            return new JsonObject { ["stats"] = new JsonObject { ["status"] = "cancelled" } };
        }
        if (status is SessionStatus.Scheduled or SessionStatus.Preparing or SessionStatus.Terminating or SessionStatus.Error)
        {
            await s.Terminating.CancelAsync().ConfigureAwait(false);
            var logs = SafeLogs(kernel);
            if (kernel is not null) await DisposeKernelAsync(kernel).ConfigureAwait(false);
            FinishTermination(s, "force-terminated", logs);
            return new JsonObject { ["stats"] = new JsonObject { ["status"] = "terminated" } };
        }
        // sessions.md §6: the reply comes once termination is requested (status TERMINATING, set synchronously
        // by TerminateAsync before its first await); TERMINATED follows asynchronously (events / polling).
        Track(TerminateAsync(s, forced ? "force-terminated" : "user-requested"));
        return new JsonObject { ["stats"] = new JsonObject { ["status"] = "terminated" } };
    }

    /// <summary>RUNNING → RESTARTING → RUNNING (sessions.md §7).</summary>
    public async Task RestartAsync(LocalSession s, CancellationToken cancellationToken)
    {
        IKernel kernel;
        lock (_gate)
        {
            if (s.Status != SessionStatus.Running || s.Kernel is null)
                throw new ApiProblemException(ProblemTypes.InvalidApiParams, $"Cannot restart a session in {s.Status} status");
            SetStatusLocked(s, SessionStatus.Restarting, "restarting", null);
            kernel = s.Kernel;
        }
        try
        {
            await kernel.RestartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            lock (_gate)
            {
                SetStatusLocked(s, SessionStatus.Error, $"other-error ({e.GetType().Name})",
                    new JsonObject { ["error"] = new JsonObject { ["src"] = "other", ["name"] = e.GetType().Name, ["repr"] = e.Message } }.ToJsonString());
            }
            throw new ApiProblemException(ProblemTypes.KernelRestartFailed);
        }
        lock (_gate)
        {
            if (s.Status != SessionStatus.Restarting) return;
            SetStatusLocked(s, SessionStatus.Running, "", null);
            Publish(s, "session_started", "");
        }
    }

    /// <summary>Renames a RUNNING session (sessions.md §12.5).</summary>
    public void Rename(LocalSession s, string newName)
    {
        lock (_gate)
        {
            if (s.Status != SessionStatus.Running)
                throw ApiProblemException.InvalidParams("Can't change name of not running session");
            if (_sessions.Values.Any(o => o != s && o.Owner.AccessKey == s.Owner.AccessKey && o.Name == newName && !SessionStatus.IsDead(o.Status)))
                throw ApiProblemException.InvalidParams("Duplicate session name");
            s.Name = newName;
        }
    }

    /// <summary>Marks a session ERROR (used when an operation on it fails).</summary>
    public void MarkError(LocalSession s, string info)
    {
        lock (_gate) SetStatusLocked(s, SessionStatus.Error, info, null);
    }

    /// <summary>A consistent read of a session's status fields.</summary>
    public T Read<T>(LocalSession s, Func<LocalSession, T> read)
    {
        lock (_gate) return read(s);
    }

    private void Callback(LocalSession s, string evt)
    {
        if (string.IsNullOrEmpty(s.CallbackUrl)) return;
        var url = s.CallbackUrl;
        var body = new JsonObject
        {
            ["type"] = "session_lifecycle", ["event"] = evt, ["session_id"] = s.Id.ToString("D"),
            ["when"] = _clock.GetUtcNow().ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'+00:00'", CultureInfo.InvariantCulture),
        };
        _ = Task.Run(async () =>
        {
            try
            {
                using var r = await CallbackClient.PostAsJsonAsync(url, body, _shutdown.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                LogCallbackFailed(_logger, e, url);
            }
        });
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _shutdown.CancelAsync().ConfigureAwait(false);
        try
        {
            await _scheduler.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // expected
        }
        Task[] lifecycles;
        lock (_lifecycles) lifecycles = [.. _lifecycles];
        await Task.WhenAll(lifecycles.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        List<IKernel> kernels;
        lock (_gate)
        {
            kernels = [.. _sessions.Values.Select(s => s.Kernel).OfType<IKernel>()];
            foreach (var s in _sessions.Values)
            {
                s.Terminating.Cancel();
                s.StartedOrDead.TrySetResult();
                s.Dead.TrySetResult();
            }
        }
        await Task.WhenAll(kernels.Select(DisposeKernelAsync)).ConfigureAwait(false);
        _shutdown.Dispose();
        _schedulerSignal.Dispose();
    }

    [LoggerMessage(EventId = 3010, Level = LogLevel.Error, Message = "Scheduler pass failed")]
    private static partial void LogSchedulerError(ILogger logger, Exception e);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning, Message = "Session {SessionId} failed to start")]
    private static partial void LogStartFailed(ILogger logger, Exception e, Guid sessionId);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Disposing a kernel failed")]
    private static partial void LogKernelDisposeFailed(ILogger logger, Exception e);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Warning, Message = "Writing the task log of session {SessionId} failed")]
    private static partial void LogTaskLogFailed(ILogger logger, Exception e, Guid sessionId);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Information, Message = "Lifecycle callback to {Url} failed")]
    private static partial void LogCallbackFailed(ILogger logger, Exception e, string url);
}

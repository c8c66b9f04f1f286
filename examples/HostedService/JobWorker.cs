using System.Diagnostics;
using Akka;
using Akka.Actor;
using System.Text;
using System.Threading.Channels;
using BackendAI.Actors;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BackendAI.Examples.HostedService;

/// <summary>One finished job (for whoever waits on <see cref="JobWorker.Completed"/>).</summary>
public sealed record JobCompleted(int Number, string SessionId, string SessionName, string Status, int? ExitCode, string Stdout);

/// <summary>
/// The worker: starts (or reuses) its session, runs <see cref="WorkerOptions.Code"/> every <see cref="WorkerOptions.Interval"/>
/// in a span, and on shutdown destroys the session — or keeps it when <see cref="WorkerOptions.KeepSessionOnShutdown"/>.
/// </summary>
public sealed partial class JobWorker(BackendAIRuntime runtime, IOptions<WorkerOptions> options, WorkerTelemetry telemetry, ILogger<JobWorker> logger)
    : BackgroundService
{
    private readonly Channel<JobCompleted> _completed = Channel.CreateBounded<JobCompleted>(
        new BoundedChannelOptions(16) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true });

    private readonly object _shutdownGate = new();
    private Task? _shutdown;

    /// <summary>Finished jobs, newest kept when nobody reads (bounded, drop-oldest).</summary>
    public ChannelReader<JobCompleted> Completed => _completed.Reader;

    /// <summary>The worker's session once started.</summary>
    public ComputeSession? Session { get; private set; }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        using var events = runtime.Events.Subscribe(telemetry.Observe, _ => { });
        try
        {
            using (var start = telemetry.Source.StartActivity("Worker.StartSession"))
            {
                Session = await runtime.StartSessionAsync(o.Image,
                    new SessionStartOptions { Name = o.SessionName, KeepOnDispose = o.KeepSessionOnShutdown }, stoppingToken).ConfigureAwait(false);
                start?.SetTag("backendai.session.id", Session.Id);
            }
            LogStarted(logger, Session.Name, Session.Id, o.Image);
            // Akka.Hosting starts the actor system's coordinated shutdown as soon as the host begins to stop (in parallel
            // with this worker's StopAsync), so the session is handled in a shutdown phase that runs while the actors
            // still work; the finally block below covers stops that do not go through the actor system.
            CoordinatedShutdown.Get(runtime.System).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "backendai-worker-session",
                async () =>
                {
                    await ShutDownSessionOnceAsync(o).ConfigureAwait(false);
                    return Done.Instance;
                });
            using var timer = new PeriodicTimer(o.Interval);
            var n = 0;
            do
            {
                await RunJobAsync(Session, ++n, o.Code, stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // host stopping
        }
        finally
        {
            _completed.Writer.TryComplete();
            await ShutDownSessionOnceAsync(o).ConfigureAwait(false);
        }
    }

    private async Task RunJobAsync(ComputeSession session, int n, string code, CancellationToken ct)
    {
        using var activity = telemetry.Source.StartActivity("Worker.RunJob");
        activity?.SetTag("backendai.session.id", session.Id);
        activity?.SetTag("job.number", n);
        try
        {
            telemetry.Bytes(Encoding.UTF8.GetByteCount(code), "sent");
            var outcome = await session.ExecuteAsync(code, cancellationToken: ct).ConfigureAwait(false);
            telemetry.Bytes(Encoding.UTF8.GetByteCount(outcome.Stdout) + Encoding.UTF8.GetByteCount(outcome.Stderr), "received");
            var ok = outcome.Status == "finished" && outcome.ExitCode is null or 0;
            telemetry.Job(ok ? "ok" : "failed");
            activity?.SetTag("job.status", outcome.Status);
            activity?.SetStatus(ok ? ActivityStatusCode.Ok : ActivityStatusCode.Error);
            LogJob(logger, n, outcome.Status, outcome.Stdout.TrimEnd());
            _completed.Writer.TryWrite(new JobCompleted(n, session.Id, session.Name, outcome.Status, outcome.ExitCode, outcome.Stdout));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            telemetry.Job("error");
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            LogJobFailed(logger, n, ex);
        }
    }

    private Task ShutDownSessionOnceAsync(WorkerOptions o)
    {
        lock (_shutdownGate) return _shutdown ??= ShutDownSessionAsync(o);
    }

    private async Task ShutDownSessionAsync(WorkerOptions o)
    {
        if (Session is null) return;
        if (o.KeepSessionOnShutdown)
        {
            LogKept(logger, Session.Name);
            await Session.DisposeAsync().ConfigureAwait(false); // KeepOnDispose: stops following, keeps it on the server
            return;
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var activity = telemetry.Source.StartActivity("Worker.DestroySession");
        try
        {
            await Session.DestroyAsync(ct: cts.Token).ConfigureAwait(false);
            LogDestroyed(logger, Session.Name);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogDestroyFailed(logger, Session.Name, ex);
        }
        finally
        {
            Session.KeepOnDispose = true; // destroyed (or failed to be): dispose only stops following it
            await Session.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(5001, LogLevel.Information, "Session {Name} ({Id}) of {Image} is running")]
    private static partial void LogStarted(ILogger logger, string name, string id, string image);

    [LoggerMessage(5002, LogLevel.Information, "Job {Number}: {Status}: {Stdout}")]
    private static partial void LogJob(ILogger logger, int number, string status, string stdout);

    [LoggerMessage(5003, LogLevel.Warning, "Job {Number} failed")]
    private static partial void LogJobFailed(ILogger logger, int number, Exception exception);

    [LoggerMessage(5004, LogLevel.Information, "Keeping session {Name} on the server (Worker:KeepSessionOnShutdown)")]
    private static partial void LogKept(ILogger logger, string name);

    [LoggerMessage(5005, LogLevel.Information, "Destroyed session {Name}")]
    private static partial void LogDestroyed(ILogger logger, string name);

    [LoggerMessage(5006, LogLevel.Warning, "Destroying session {Name} failed")]
    private static partial void LogDestroyFailed(ILogger logger, string name, Exception exception);
}

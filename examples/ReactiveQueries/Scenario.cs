using System.Collections.Concurrent;
using System.Reactive.Linq;
using BackendAI.Actors;
using BackendAI.Client;

namespace BackendAI.Examples.ReactiveQueries;

/// <summary>Scenario settings.</summary>
/// <param name="SlowStartThreshold">A start slower than this is reported.</param>
/// <param name="FailureWindow">The sliding window of the failure count.</param>
/// <param name="BatchImage">Image of the failing batch job (its startup command is <c>exit 3</c>).</param>
/// <param name="Image">Image of the interactive sessions.</param>
public sealed record ScenarioOptions(TimeSpan SlowStartThreshold, TimeSpan FailureWindow, string Image = "sim", string BatchImage = "bash");

/// <summary>What the queries emitted while the scenario ran.</summary>
public sealed record ScenarioReport(string Prefix, IReadOnlyList<SlowStart> SlowStarts, IReadOnlyList<FailureWindow> Failures, IReadOnlyList<StatusTally> Tallies);

/// <summary>
/// Runs the three queries over <see cref="BackendAIRuntime.Events"/> while a small scenario plays out on a server
/// with room for two sessions (the embedded one is started that way): two sessions start and fill it, a third
/// waits in PENDING, a fourth is cancelled while pending, freeing a slot lets the third start (slowly), and a
/// batch job exits 3. Results are printed as they occur.
/// </summary>
public static class Scenario
{
    /// <summary>Subscribes the queries, plays the scenario, and returns what they emitted.</summary>
    public static async Task<ScenarioReport> RunAsync(BackendAIRuntime runtime, ScenarioOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        var prefix = "rq" + Guid.NewGuid().ToString("N")[..6];
        var writeGate = new object();
        void Print(string tag, object item)
        {
            lock (writeGate) output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} [{tag}] {item}");
        }

        // One subscription to the runtime, shared by every query (Publish + Connect).
        var events = runtime.Events.Where(e => e.SessionName.StartsWith(prefix, StringComparison.Ordinal)).Publish();
        var slow = new ConcurrentQueue<SlowStart>();
        var failures = new ConcurrentQueue<FailureWindow>();
        var tallies = new ConcurrentQueue<StatusTally>();
        var seen = new ConcurrentDictionary<string, TaskCompletionSource>(StringComparer.Ordinal);
        using var s1 = events.SlowStarts(options.SlowStartThreshold).Subscribe(x => { slow.Enqueue(x); Print("slow start", x); });
        using var s2 = events.FailuresInWindow(options.FailureWindow).Subscribe(x => { failures.Enqueue(x); Print("failures", x); });
        using var s3 = events.StatusTallies().Subscribe(x => { tallies.Enqueue(x); Print("tally", x); });
        using var s4 = events.Subscribe(e => Seen(seen, $"{e.SessionName}/{e.Name}").TrySetResult());
        using var connection = events.Connect();

        Task Await(string session, string eventName) =>
            Seen(seen, $"{prefix}-{session}/{eventName}").Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);

        await WaitUntilSubscribedAsync(runtime, options, prefix, seen, cancellationToken).ConfigureAwait(false);

        var a = await runtime.StartSessionAsync(options.Image, new SessionStartOptions { Name = $"{prefix}-a" }, cancellationToken).ConfigureAwait(false);
        var b = await runtime.StartSessionAsync(options.Image, new SessionStartOptions { Name = $"{prefix}-b" }, cancellationToken).ConfigureAwait(false);
        var slowSession = await runtime.StartSessionAsync(options.Image, new SessionStartOptions { Name = $"{prefix}-slow", EnqueueOnly = true }, cancellationToken)
            .ConfigureAwait(false);
        var doomed = await runtime.StartSessionAsync(options.Image, new SessionStartOptions { Name = $"{prefix}-doomed", EnqueueOnly = true }, cancellationToken)
            .ConfigureAwait(false);
        await Await("doomed", "session_enqueued").ConfigureAwait(false);
        Print("scenario", $"{prefix}-slow and {prefix}-doomed wait for a slot; cancelling {prefix}-doomed");
        await doomed.DestroyAsync(ct: cancellationToken).ConfigureAwait(false);
        await Await("doomed", "session_cancelled").ConfigureAwait(false);

        // Let the waiting session exceed the threshold, then free a slot for it.
        await Task.Delay(options.SlowStartThreshold + TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        Print("scenario", $"destroying {prefix}-a to free a slot");
        await a.DisposeAsync().ConfigureAwait(false);
        await Await("slow", "session_started").ConfigureAwait(false);

        Print("scenario", $"destroying {prefix}-b; starting a batch job that exits 3");
        await b.DisposeAsync().ConfigureAwait(false);
        await using (var batch = await runtime.StartSessionAsync(options.BatchImage, new SessionStartOptions
        {
            Name = $"{prefix}-batch",
            Type = SessionType.Batch,
            StartupCommand = "exit 3",
            KeepOnDispose = true,
        }, cancellationToken).ConfigureAwait(false))
        {
            await Await("batch", "session_failure").ConfigureAwait(false);
            await Await("batch", "session_terminated").ConfigureAwait(false);
        }
        await slowSession.DisposeAsync().ConfigureAwait(false);
        await Await("slow", "session_terminated").ConfigureAwait(false);
        Print("scenario", "done");
        return new ScenarioReport(prefix, [.. slow], [.. failures], [.. tallies]);
    }

    private static TaskCompletionSource Seen(ConcurrentDictionary<string, TaskCompletionSource> seen, string key) =>
        seen.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>
    /// The runtime's event stream is hot and the server replays nothing, so the scenario waits until events reach the
    /// queries: a probe session is started and destroyed until its <c>session_started</c> is seen.
    /// </summary>
    private static async Task WaitUntilSubscribedAsync(BackendAIRuntime runtime, ScenarioOptions options, string prefix,
        ConcurrentDictionary<string, TaskCompletionSource> seen, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var name = $"{prefix}-probe{attempt}";
            await using var probe = await runtime.StartSessionAsync(options.Image, new SessionStartOptions { Name = name }, ct).ConfigureAwait(false);
            var started = Seen(seen, $"{name}/session_terminated").Task;
            await probe.DestroyAsync(ct: ct).ConfigureAwait(false);
            try
            {
                await started.WaitAsync(TimeSpan.FromSeconds(2), ct).ConfigureAwait(false);
                return;
            }
            catch (TimeoutException) when (attempt < 10)
            {
                // not subscribed yet: try again
            }
        }
    }
}

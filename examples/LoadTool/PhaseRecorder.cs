using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace BackendAI.Examples.LoadTool;

/// <summary>
/// Records one measured phase: round-trip latencies (HdrHistogram, microseconds), session start latencies,
/// errors by type, and peak memory sampled every 50 ms (process working set and managed heap).
/// Thread-safe; <see cref="Complete"/> stops the sampler and returns the summary.
/// </summary>
public sealed class PhaseRecorder : IAsyncDisposable
{
    private const long MaxMicros = 10L * 60 * 1_000_000;
    private readonly LongHistogram _roundTrips = new(MaxMicros, 3);
    private readonly LongHistogram _starts = new(MaxMicros, 3);
    private readonly ConcurrentDictionary<string, int> _errors = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private readonly int _gen0 = GC.CollectionCount(0), _gen2 = GC.CollectionCount(2);
    private readonly TimeSpan _cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly long _allocatedStart = GC.GetTotalAllocatedBytes();
    private long _peakWorkingSet = Environment.WorkingSet;
    private long _peakManaged = GC.GetTotalMemory(false);

    /// <summary>Starts recording (and the memory sampler).</summary>
    public PhaseRecorder(string name)
    {
        Name = name;
        _sampler = SampleAsync(_stop.Token);
    }

    /// <summary>The phase name (<c>runtime</c> or <c>baseline</c>).</summary>
    public string Name { get; }

    /// <summary>Records one successful round trip.</summary>
    public void RoundTrip(TimeSpan latency)
    {
        lock (_roundTrips) _roundTrips.RecordValue(Math.Clamp((long)latency.TotalMicroseconds, 0, MaxMicros));
    }

    /// <summary>Records one successful session start.</summary>
    public void SessionStarted(TimeSpan latency)
    {
        lock (_starts) _starts.RecordValue(Math.Clamp((long)latency.TotalMicroseconds, 0, MaxMicros));
    }

    /// <summary>Counts one failure under its type.</summary>
    public void Error(string type) => _errors.AddOrUpdate(type, 1, (_, n) => n + 1);

    /// <summary>Counts one failure under the exception's type (the innermost of an aggregate).</summary>
    public void Error(Exception ex)
    {
        while (ex is AggregateException { InnerException: { } inner }) ex = inner;
        Error(ex switch
        {
            BaselineHttpException h => $"HTTP {h.Status}",
            BackendAI.Client.Errors.BackendApiException a => $"{a.GetType().Name} ({a.Status})",
            _ => ex.GetType().Name,
        });
    }

    /// <summary>Stops the clock and the sampler; returns the phase summary.</summary>
    public async Task<PhaseResult> CompleteAsync(int sessions, int executionsPerSession, int concurrency)
    {
        var elapsed = Stopwatch.GetElapsedTime(_startTimestamp);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - _cpuStart;
        var allocated = GC.GetTotalAllocatedBytes() - _allocatedStart;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sampler.ConfigureAwait(false);
        Sample();
        static double Ms(long micros) => Math.Round(micros / 1000.0, 3);
        lock (_roundTrips)
        lock (_starts)
        {
            var n = _roundTrips.TotalCount;
            var errors = new SortedDictionary<string, int>(_errors, StringComparer.Ordinal);
            return new PhaseResult(
                Name, sessions, executionsPerSession, concurrency, n, errors.Values.Sum(), errors,
                Math.Round(elapsed.TotalSeconds, 3),
                Math.Round(n / Math.Max(elapsed.TotalSeconds, 1e-9), 1),
                n == 0 ? 0 : Ms(_roundTrips.GetValueAtPercentile(50)),
                n == 0 ? 0 : Ms(_roundTrips.GetValueAtPercentile(90)),
                n == 0 ? 0 : Ms(_roundTrips.GetValueAtPercentile(99)),
                n == 0 ? 0 : Ms(_roundTrips.GetMaxValue()),
                _starts.TotalCount == 0 ? 0 : Ms(_starts.GetValueAtPercentile(50)),
                _starts.TotalCount == 0 ? 0 : Ms(_starts.GetValueAtPercentile(99)),
                Math.Round(Interlocked.Read(ref _peakWorkingSet) / 1048576.0, 1),
                Math.Round(Interlocked.Read(ref _peakManaged) / 1048576.0, 1),
                GC.CollectionCount(0) - _gen0, GC.CollectionCount(2) - _gen2,
                Math.Round(cpu.TotalSeconds, 3), n == 0 ? 0 : Math.Round(cpu.TotalMicroseconds / n, 1),
                n == 0 ? 0 : Math.Round(allocated / 1024.0 / n, 1));
        }
    }

    private async Task SampleAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false)) Sample();
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    private void Sample()
    {
        Max(ref _peakWorkingSet, Environment.WorkingSet);
        Max(ref _peakManaged, GC.GetTotalMemory(false));
    }

    private static void Max(ref long field, long value)
    {
        long seen;
        while (value > (seen = Interlocked.Read(ref field)) && Interlocked.CompareExchange(ref field, value, seen) != seen)
        {
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sampler.ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>The summary of one phase (JSON names are camelCase). <c>CpuSeconds</c> is the process CPU time of the phase
/// (client and embedded server together); <c>CpuMicrosPerRoundTrip</c> is that per successful round trip (session starts
/// and destroys included), a figure that depends much less than round trips/s on what else the machine runs;
/// <c>AllocatedKbPerRoundTrip</c> is the managed allocation of the phase per round trip (client and server).</summary>
public sealed record PhaseResult(
    string Name, int Sessions, int ExecutionsPerSession, int Concurrency, long RoundTrips, int Errors,
    IReadOnlyDictionary<string, int> ErrorsByType, double ElapsedSeconds, double RoundTripsPerSecond,
    double P50Ms, double P90Ms, double P99Ms, double MaxMs, double SessionStartP50Ms, double SessionStartP99Ms,
    double PeakWorkingSetMb, double PeakManagedMb, int Gen0Collections, int Gen2Collections,
    double CpuSeconds, double CpuMicrosPerRoundTrip, double AllocatedKbPerRoundTrip);

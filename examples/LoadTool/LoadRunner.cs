using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using BackendAI.Actors;

namespace BackendAI.Examples.LoadTool;

/// <summary>The whole report: the machine, the settings, each phase and runtime/baseline throughput.</summary>
public sealed record LoadReport(string Target, string Image, MachineInfo Machine, PhaseResult Runtime, PhaseResult? Baseline)
{
    /// <summary>The <c>--client</c> phase (BackendAIClient without actors), when run.</summary>
    public PhaseResult? Client { get; init; }

    /// <summary>Every measured runtime phase, one per round (<see cref="Runtime"/> is the median one).</summary>
    public IReadOnlyList<PhaseResult> RuntimeRounds { get; init; } = [];

    /// <summary>Every measured baseline phase, one per round (empty without <c>--baseline</c>).</summary>
    public IReadOnlyList<PhaseResult> BaselineRounds { get; init; } = [];

    /// <summary>
    /// The runtime's mean round trips per second over the counted rounds divided by the baseline's (null without
    /// <c>--baseline</c>). With three or more rounds the first is not counted: the first measured phase of a
    /// process is slower whatever the mode (thread-pool growth, JIT tiering, GC budgets still settling).
    /// </summary>
    public double? Ratio => Baseline is null ? null : Divide(Mean(RuntimeRounds, Runtime, p => p.RoundTripsPerSecond), Mean(BaselineRounds, Baseline, p => p.RoundTripsPerSecond));

    private static double Mean(IReadOnlyList<PhaseResult> rounds, PhaseResult single, Func<PhaseResult, double> f) =>
        rounds.Count > 0 ? LoadRunner.Counted(rounds).Average(f) : f(single);

    private static double? Divide(double a, double b) => b > 0 ? Math.Round(a / b, 3) : null;

    /// <summary>
    /// The baseline's CPU per round trip divided by the runtime's (null without <c>--baseline</c>): what the throughput
    /// ratio would be if the process were CPU-bound on a machine of its own, so it is steadier on a busy machine.
    /// </summary>
    public double? CpuRatio => Baseline is null ? null
        : Divide(Mean(BaselineRounds, Baseline, p => p.CpuMicrosPerRoundTrip), Mean(RuntimeRounds, Runtime, p => p.CpuMicrosPerRoundTrip));
}

/// <summary>What the numbers were measured on.</summary>
public sealed record MachineInfo(string Os, string Framework, int ProcessorCount, string Architecture, bool ServerGc)
{
    /// <summary>The current machine.</summary>
    public static MachineInfo Current => new(RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
        Environment.ProcessorCount, RuntimeInformation.ProcessArchitecture.ToString(), System.Runtime.GCSettings.IsServerGC);
}

/// <summary>Runs the load (runtime, then the baseline when asked) and formats the report.</summary>
public static class LoadRunner
{
    /// <summary>The rounds that count: all but the first when there are three or more (the first settles the process).</summary>
    internal static IReadOnlyList<PhaseResult> Counted(IReadOnlyList<PhaseResult> rounds) => rounds.Count >= 3 ? rounds.Skip(1).ToList() : rounds;

    /// <summary>JSON settings of <c>--json</c> (camelCase).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The command-line entry: parses flags, picks the target, runs, prints; returns the exit code.</summary>
    public static Task<int> MainAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        MainAsync(args, output, error, null, cancellationToken);

    /// <summary>As <see cref="MainAsync(IReadOnlyList{string}, TextWriter, TextWriter, CancellationToken)"/> with an explicit environment (null = the process's).</summary>
    public static async Task<int> MainAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error,
        IDictionary<string, string?>? environment, CancellationToken cancellationToken)
    {
        LoadOptions options;
        try
        {
            options = LoadOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return 2;
        }
        await using var target = await LoadTarget.CreateAsync(environment, cancellationToken).ConfigureAwait(false);
        var log = options.Json ? error : output;
        await log.WriteLineAsync($"Load target: {target.Description}").ConfigureAwait(false);
        var report = await RunAsync(target, options, log, cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync(options.Json ? ToJson(report) : ToText(report)).ConfigureAwait(false);
        return report.Runtime.Errors == 0 && (report.Baseline?.Errors ?? 0) == 0 && (report.Client?.Errors ?? 0) == 0 ? 0 : 1;
    }

    /// <summary>Runs the runtime phase and, with <see cref="LoadOptions.Baseline"/>, the baseline phase, against <paramref name="target"/>.</summary>
    public static async Task<LoadReport> RunAsync(LoadTarget target, LoadOptions options, TextWriter? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        var image = options.Image ?? target.DefaultImage;
        var run = DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture) + "-" + Random.Shared.Next(1000, 9999).ToString(CultureInfo.InvariantCulture);

        // Every mode is created and warmed up before any is measured: the phases share the HTTP stack, the
        // signer and the in-process server, and whichever ran first used to pay their JIT tiering (tier-0
        // code, no dynamic PGO yet) inside its measurement.
        await using var runtime = new RuntimeMode(BackendAIRuntime.Create(target.ClientOptions));
        await using var plain = options.Baseline ? new BaselineMode(target.ClientOptions) : null;
        await using var direct = options.Client ? new ClientMode(new BackendAI.Client.BackendAIClient(target.ClientOptions)) : null;
        ILoadMode?[] modes = [runtime, plain, direct];
        if (options.Warmup)
        {
            foreach (var mode in modes)
                if (mode is not null) await WarmUpAsync(mode, image, options, $"w{run}", cancellationToken).ConfigureAwait(false);
        }

        var results = new List<PhaseResult>?[modes.Length];
        for (var round = 0; round < options.Rounds; round++)
        {
            for (var k = 0; k < modes.Length; k++)
            {
                var i = round % 2 == 0 ? k : modes.Length - 1 - k;
                if (modes[i] is not { } mode) continue;
                var phase = await PhaseAsync(mode, image, options, $"{mode.Name[..2]}{round}-{run}", progress, cancellationToken).ConfigureAwait(false);
                (results[i] ??= []).Add(phase);
            }
        }
        static PhaseResult? Median(List<PhaseResult>? phases)
        {
            if (phases is null) return null;
            var counted = Counted(phases);
            return counted.OrderBy(p => p.RoundTripsPerSecond).ElementAt(counted.Count / 2);
        }
        return new LoadReport(target.Description, image, MachineInfo.Current, Median(results[0])!, Median(results[1]))
        {
            Client = Median(results[2]),
            RuntimeRounds = results[0]!,
            BaselineRounds = results[1] ?? [],
        };
    }

    /// <summary>
    /// Enough round trips, long enough, for the shared hot paths to reach their optimized JIT tier:
    /// up to one session per concurrent caller, 60 executions each.
    /// </summary>
    private static async Task WarmUpAsync(ILoadMode mode, string image, LoadOptions o, string prefix, CancellationToken ct)
    {
        await using var warm = new PhaseRecorder("warmup");
        await Workload.RunAsync(mode, image, Math.Min(o.Sessions, o.Concurrency), Math.Min(o.Executions, 60), o.Concurrency,
            prefix + mode.Name, warm, ct).ConfigureAwait(false);
    }

    private static async Task<PhaseResult> PhaseAsync(ILoadMode mode, string image, LoadOptions o, string prefix, TextWriter? progress, CancellationToken ct)
    {
        // Start both phases from a comparable heap.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        if (progress is not null)
            await progress.WriteLineAsync($"{mode.Name}: {o.Sessions} sessions x {o.Executions} executions, concurrency {o.Concurrency}, image {image} ...")
                .ConfigureAwait(false);
        await using var recorder = new PhaseRecorder(mode.Name);
        await Workload.RunAsync(mode, image, o.Sessions, o.Executions, o.Concurrency, prefix, recorder, ct).ConfigureAwait(false);
        return await recorder.CompleteAsync(o.Sessions, o.Executions, o.Concurrency).ConfigureAwait(false);
    }

    /// <summary>The <c>--json</c> form: <c>runtime</c>, <c>baseline</c> (when run) and <c>ratio</c>, plus target/image/machine.</summary>
    public static string ToJson(LoadReport report) => JsonSerializer.Serialize(report, JsonOptions);

    /// <summary>The text form.</summary>
    public static string ToText(LoadReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var w = new StringWriter(CultureInfo.InvariantCulture);
        var m = report.Machine;
        w.WriteLine($"machine: {m.ProcessorCount} cores {m.Architecture}, {m.Os}, {m.Framework}, server GC {m.ServerGc}");
        w.WriteLine($"image: {report.Image}");
        w.WriteLine();
        w.WriteLine($"{"",-24}{"runtime",14}{(report.Baseline is null ? "" : $"{"baseline",14}")}{(report.Client is null ? "" : $"{"client",14}")}");
        void Row(string label, Func<PhaseResult, string> f) =>
            w.WriteLine($"{label,-24}{f(report.Runtime),14}{(report.Baseline is { } b ? $"{f(b),14}" : "")}{(report.Client is { } c ? $"{f(c),14}" : "")}");
        string F(double d) => d.ToString("0.0", CultureInfo.InvariantCulture);
        Row("round trips", p => p.RoundTrips.ToString(CultureInfo.InvariantCulture));
        Row("elapsed (s)", p => p.ElapsedSeconds.ToString("0.00", CultureInfo.InvariantCulture));
        Row("round trips/s", p => F(p.RoundTripsPerSecond));
        Row("p50 (ms)", p => p.P50Ms.ToString("0.00", CultureInfo.InvariantCulture));
        Row("p90 (ms)", p => p.P90Ms.ToString("0.00", CultureInfo.InvariantCulture));
        Row("p99 (ms)", p => p.P99Ms.ToString("0.00", CultureInfo.InvariantCulture));
        Row("max (ms)", p => p.MaxMs.ToString("0.00", CultureInfo.InvariantCulture));
        Row("start p50 (ms)", p => p.SessionStartP50Ms.ToString("0.00", CultureInfo.InvariantCulture));
        Row("start p99 (ms)", p => p.SessionStartP99Ms.ToString("0.00", CultureInfo.InvariantCulture));
        Row("errors", p => p.Errors.ToString(CultureInfo.InvariantCulture));
        Row("peak working set (MB)", p => F(p.PeakWorkingSetMb));
        Row("peak managed (MB)", p => F(p.PeakManagedMb));
        Row("gen0 / gen2 GCs", p => $"{p.Gen0Collections} / {p.Gen2Collections}");
        Row("CPU (s)", p => p.CpuSeconds.ToString("0.00", CultureInfo.InvariantCulture));
        Row("CPU per round trip (us)", p => F(p.CpuMicrosPerRoundTrip));
        Row("allocated per rt (KB)", p => F(p.AllocatedKbPerRoundTrip));
        foreach (var phase in new[] { report.Runtime, report.Baseline, report.Client })
            if (phase is { Errors: > 0 })
                foreach (var (type, n) in phase.ErrorsByType) w.WriteLine($"  {phase.Name} error {type}: {n}");
        if (report.Ratio is { } r) w.WriteLine($"\nruntime/baseline throughput ratio: {r.ToString("0.000", CultureInfo.InvariantCulture)} (mean over {Counted(report.RuntimeRounds).Count} counted round(s) of {report.RuntimeRounds.Count}, alternating which mode runs first; columns show each mode's median counted round)");
        if (report.CpuRatio is { } c) w.WriteLine($"baseline/runtime CPU-per-round-trip ratio: {c.ToString("0.000", CultureInfo.InvariantCulture)}");
        return w.ToString().TrimEnd();
    }
}

using System.Text.Json;
using BackendAI.Examples.LoadTool;

namespace BackendAI.Examples.Tests.LoadTool;

public sealed class LoadToolTests
{
    private static readonly Dictionary<string, string?> NoEndpoint = new(StringComparer.Ordinal);

    [Fact]
    public async Task Small_baseline_json_run_reports_every_round_trip_of_both_modes_without_errors()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await LoadRunner.MainAsync(
            ["--sessions", "5", "--executions", "10", "--concurrency", "3", "--baseline", "--json", "--no-warmup"],
            stdout, stderr, NoEndpoint, cts.Token);

        Assert.True(exit == 0, stderr.ToString() + stdout);
        Assert.Contains("embedded local server", stderr.ToString(), StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(stdout.ToString());
        var root = doc.RootElement;
        Assert.Equal("sim", root.GetProperty("image").GetString());
        foreach (var phase in new[] { "runtime", "baseline" })
        {
            var p = root.GetProperty(phase);
            Assert.Equal(50, p.GetProperty("roundTrips").GetInt64());
            Assert.Equal(0, p.GetProperty("errors").GetInt32());
            Assert.True(p.GetProperty("roundTripsPerSecond").GetDouble() > 0, phase);
            var p50 = p.GetProperty("p50Ms").GetDouble();
            var p99 = p.GetProperty("p99Ms").GetDouble();
            Assert.True(p50 > 0 && p99 >= p50, $"{phase}: p50 {p50}, p99 {p99}");
            Assert.True(p.GetProperty("peakWorkingSetMb").GetDouble() > 0, phase);
        }
        // Three rounds by default, alternating which mode runs first; the first round settles the process
        // and the ratio is the mean of the other rounds' throughputs.
        double CountedMean(string rounds)
        {
            var all = root.GetProperty(rounds).EnumerateArray().ToList();
            Assert.Equal(3, all.Count);
            Assert.All(all, r => Assert.Equal(50, r.GetProperty("roundTrips").GetInt64()));
            return all.Skip(1).Average(r => r.GetProperty("roundTripsPerSecond").GetDouble());
        }
        var ratio = root.GetProperty("ratio").GetDouble();
        var expected = CountedMean("runtimeRounds") / CountedMean("baselineRounds");
        // Both figures are rounded in the JSON, so compare with a tolerance rather than by rounding.
        Assert.InRange(ratio, expected - 0.01, expected + 0.01);
    }

    [Fact]
    public async Task Client_phase_runs_the_same_workload_and_every_phase_reports_cpu_and_allocation_per_round_trip()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var target = await LoadTarget.StartLocalAsync(cts.Token);

        var report = await LoadRunner.RunAsync(target, LoadOptions.Parse(["-n", "3", "-m", "4", "-c", "3", "--no-warmup", "--client"]), null, cts.Token);

        var client = Assert.IsType<PhaseResult>(report.Client);
        Assert.Equal(("client", 12L, 0), (client.Name, client.RoundTrips, client.Errors));
        foreach (var phase in new[] { report.Runtime, client })
        {
            Assert.True(phase.CpuSeconds > 0 && phase.CpuMicrosPerRoundTrip > 0, phase.Name);
            // CpuSeconds is rounded to milliseconds in the report (±0.5 ms), the per-round-trip figure to 0.1 µs.
            Assert.InRange(phase.CpuMicrosPerRoundTrip, (phase.CpuSeconds - 0.0005) * 1e6 / phase.RoundTrips - 0.1,
                (phase.CpuSeconds + 0.0005) * 1e6 / phase.RoundTrips + 0.1);
            Assert.True(phase.AllocatedKbPerRoundTrip > 0, phase.Name);
        }
        var text = LoadRunner.ToText(report);
        Assert.Contains("CPU per round trip (us)", text, StringComparison.Ordinal);
        Assert.Contains("client", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_report_without_baseline_has_no_ratio_and_sessions_are_destroyed()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var target = await LoadTarget.StartLocalAsync(cts.Token);

        var report = await LoadRunner.RunAsync(target, LoadOptions.Parse(["-n", "3", "-m", "4", "-c", "3", "--no-warmup"]), null, cts.Token);

        Assert.Null(report.Baseline);
        Assert.Null(report.Ratio);
        Assert.Equal(12, report.Runtime.RoundTrips);
        Assert.Empty(report.Runtime.ErrorsByType);
        var text = LoadRunner.ToText(report);
        Assert.Contains("round trips/s", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ratio", text, StringComparison.Ordinal);
        Assert.DoesNotContain(LoadTargetSecret(target), text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--sessions", "0", "--sessions must be a positive whole number")]
    [InlineData("--executions", "x", "--executions must be a positive whole number")]
    [InlineData("--concurrency", null, "--concurrency needs a value")]
    [InlineData("--bogus", null, "Unknown flag '--bogus'")]
    public void Bad_flags_are_rejected_with_a_message_naming_the_flag(string flag, string? value, string message)
    {
        string[] args = value is null ? [flag] : [flag, value];
        var ex = Assert.Throws<ArgumentException>(() => LoadOptions.Parse(args));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Flags_parse_into_options()
    {
        var o = LoadOptions.Parse(["--sessions", "200", "--executions", "50", "--concurrency", "64", "--image", "python", "--baseline", "--json"]);
        Assert.Equal(new LoadOptions { Sessions = 200, Executions = 50, Concurrency = 64, Image = "python", Baseline = true, Json = true }, o);
    }

    private static string LoadTargetSecret(LoadTarget target) => target.ClientOptions.SecretKey;
}

using BackendAI.Actors;
using BackendAI.Client;
using BackendAI.Examples.ReactiveQueries;
using BackendAI.Local;

namespace BackendAI.Examples.Tests.ReactiveQueries;

public sealed class ScenarioSmokeTests
{
    [Fact]
    public async Task Scenario_makes_the_queries_emit_one_slow_start_two_failures_and_a_final_tally()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var local = await LocalBackend.StartAsync(ScenarioServer.Options(), cts.Token);
        await using var runtime = BackendAIRuntime.Create(ScenarioServer.ClientOptions(local));
        var output = new StringWriter();
        // Well above a normal start on a loaded 2-core CI machine (seen near 1 s), so only the session kept waiting counts.
        var threshold = TimeSpan.FromMilliseconds(2500);

        var report = await Scenario.RunAsync(runtime, new ScenarioOptions(threshold, TimeSpan.FromMinutes(5)), output, cts.Token);

        var slow = Assert.Single(report.SlowStarts);
        Assert.Equal(report.Prefix + "-slow", slow.SessionName);
        Assert.True(slow.Took > threshold, slow.ToString());

        Assert.Equal([1, 2], report.Failures.Select(f => f.Count));
        Assert.All(report.Failures, f => Assert.True(f.Entered));
        Assert.Equal(("session_cancelled", report.Prefix + "-doomed"), (report.Failures[0].Event.Name, report.Failures[0].Event.SessionName));
        Assert.Equal(("session_failure", report.Prefix + "-batch", "task-failed"),
            (report.Failures[1].Event.Name, report.Failures[1].Event.SessionName, report.Failures[1].Event.Reason));

        var final = report.Tallies[^1];
        Assert.Equal(1, final[SessionStatus.Cancelled]);
        Assert.Equal(0, final[SessionStatus.Running]);
        Assert.Equal(0, final[SessionStatus.Pending]);
        Assert.True(final[SessionStatus.Terminated] >= 4, final.ToString()); // a, b, slow, batch (+ the probe)
        Assert.Contains(report.Tallies, t => t[SessionStatus.Pending] == 2); // slow and doomed waiting together

        var text = output.ToString();
        Assert.Contains("[slow start] " + report.Prefix + "-slow took", text, StringComparison.Ordinal);
        Assert.Contains("[failures] 2 in window (+ session_failure " + report.Prefix + "-batch task-failed)", text, StringComparison.Ordinal);
        Assert.Contains("[tally]", text, StringComparison.Ordinal);
    }
}

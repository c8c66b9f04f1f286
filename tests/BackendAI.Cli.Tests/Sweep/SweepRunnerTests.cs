using BackendAI.Cli.Parsing;
using BackendAI.Cli.Sweep;

namespace BackendAI.Cli.Tests.Sweep;

public class SweepRunnerTests
{
    private static IReadOnlyList<SweepCase> Cases(int n) =>
        SweepPlan.Expand([], null, null, "run $I", [], [], [RangeExpression.Parse($"I=range:{n}")]);

    [Fact]
    public async Task Never_runs_more_cases_at_once_than_max_parallel()
    {
        var live = 0;
        var peak = 0;
        var started = 0;
        var cases = Cases(7);
        var results = await SweepRunner.RunAsync(cases, 2, async (c, ct) =>
        {
            var now = Interlocked.Increment(ref live);
            InterlockedMax(ref peak, now);
            Interlocked.Increment(ref started);
            await Task.Delay(20, ct);
            Interlocked.Decrement(ref live);
            return new CaseResult(c.Index, $"s-{c.Index}", CaseStatus.Succeeded, 0);
        }, c => $"s-{c.Index}");
        Assert.Equal(7, started);
        Assert.Equal(2, peak);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], results.Select(r => r.Index));
    }

    [Fact]
    public async Task A_throwing_case_becomes_an_error_result_and_the_others_go_on()
    {
        var results = await SweepRunner.RunAsync(Cases(3), 3, (c, _) =>
            c.Index == 1
                ? throw new InvalidOperationException("boom")
                : Task.FromResult(new CaseResult(c.Index, "s", c.Index == 2 ? CaseStatus.Failed : CaseStatus.Succeeded, c.Index == 2 ? 3 : 0)),
            c => $"s-{c.Index}");
        Assert.Equal(CaseStatus.Succeeded, results[0].Status);
        Assert.Equal(CaseStatus.Error, results[1].Status);
        Assert.Contains("boom", results[1].Error, StringComparison.Ordinal);
        Assert.Equal("s-1", results[1].SessionName);
        Assert.Equal(3, results[2].ExitCode);
        Assert.True(results[2].IsFailure);
    }

    [Fact]
    public async Task Rejects_non_positive_max_parallel()
    {
        await Assert.ThrowsAsync<CliUsageException>(() => SweepRunner.RunAsync(Cases(2), 0, (c, _) => Task.FromResult(new CaseResult(c.Index, "s", CaseStatus.Succeeded, 0)), _ => "s"));
    }

    [Fact]
    public void Labelled_writer_emits_whole_lines_with_the_label()
    {
        var sink = new StringWriter();
        var gate = new object();
        using (var a = new LabelledLineWriter(sink, gate, "[0] "))
        using (var b = new LabelledLineWriter(sink, gate, "[1] "))
        {
            a.Write("hel");
            b.Write("x\r\ny");
            a.Write("lo\nwor");
            b.Write("z\n");
            a.Write("ld");
        }
        Assert.Equal("[1] x\n[0] hello\n[1] yz\n[0] world\n", sink.ToString().ReplaceLineEndings("\n"));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

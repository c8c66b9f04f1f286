using System.Text.Json;
using BackendAI.Cli.Commands;

namespace BackendAI.Cli.Tests.Parsing;

public class StatsViewTests
{
    [Fact]
    public void Manager_measurements_become_one_readable_row_each_and_other_objects_are_flattened()
    {
        var stats = JsonDocument.Parse("""
            {
              "cpu_used": {"current": "1530.0", "capacity": null, "pct": null, "unit_hint": "msec"},
              "mem": {"current": "104857600", "capacity": "1073741824", "pct": "9.77", "unit_hint": "bytes"},
              "status": "terminated",
              "io": {"read": 10, "write": null}
            }
            """).RootElement;
        Assert.Equal(
            [
                ("cpu_used", "1530.0 msec"),
                ("mem", "100.0 MiB / 1.0 GiB (9.77%)"),
                ("status", "terminated"),
                ("io.read", "10"),
                ("io.write", "-"),
            ],
            StatsView.Rows(stats));
    }

    [Fact]
    public void The_table_has_no_json_punctuation()
    {
        var output = new StringWriter();
        var context = new CliContext(output, output, new Dictionary<string, string?>());
        StatsView.Write(context.Console, JsonDocument.Parse("""{"status": "terminated", "mem": {"current": "2048", "unit_hint": "bytes"}}""").RootElement, "Statistics");
        var text = output.ToString();
        Assert.Contains("Statistics", text, StringComparison.Ordinal);
        Assert.Matches(@"status\s+terminated", text);
        Assert.Matches(@"mem\s+2\.0 KiB", text);
        Assert.DoesNotContain("{", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"", text, StringComparison.Ordinal);
    }
}

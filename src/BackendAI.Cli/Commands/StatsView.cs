using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace BackendAI.Cli.Commands;

/// <summary>
/// Renders a session's final statistics (the <c>stats</c> of a destroy response) as a table: one row per
/// metric. A manager measurement (<c>{"current", "capacity", "pct", "unit_hint"}</c>) becomes
/// "current / capacity unit (pct%)"; other nested objects are flattened into dotted names.
/// </summary>
internal static class StatsView
{
    /// <summary>The rows of the table, in document order.</summary>
    public static IReadOnlyList<(string Metric, string Value)> Rows(JsonElement stats)
    {
        var rows = new List<(string, string)>();
        Flatten(stats, "", rows);
        return rows;
    }

    /// <summary>Writes the table to the error console (status output) under <paramref name="title"/>.</summary>
    public static void Write(CliContext context, JsonElement stats, string title) => Write(context.ErrorConsole, stats, title);

    /// <summary>Writes the table to <paramref name="console"/> under <paramref name="title"/>.</summary>
    public static void Write(IAnsiConsole console, JsonElement stats, string title)
    {
        var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape(title)).AddColumns("Metric", "Value");
        var rows = Rows(stats);
        if (rows.Count == 0)
            table.AddRow("(none)", "");
        foreach (var (metric, value) in rows)
            table.AddRow(Markup.Escape(metric), Markup.Escape(value));
        console.Write(table);
    }

    private static void Flatten(JsonElement e, string prefix, List<(string, string)> rows)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object when IsMeasurement(e):
                rows.Add((prefix, Measurement(e)));
                break;
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                    Flatten(p.Value, prefix.Length == 0 ? p.Name : $"{prefix}.{p.Name}", rows);
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in e.EnumerateArray())
                    Flatten(item, $"{prefix}[{i++}]", rows);
                break;
            default:
                rows.Add((prefix.Length == 0 ? "value" : prefix, Scalar(e)));
                break;
        }
    }

    private static bool IsMeasurement(JsonElement e) => e.TryGetProperty("current", out _);

    private static string Measurement(JsonElement e)
    {
        var unit = e.TryGetProperty("unit_hint", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
        var text = Quantity(e.GetProperty("current"), unit);
        if (e.TryGetProperty("capacity", out var cap) && cap.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            text += " / " + Quantity(cap, unit);
        else if (unit is not null and not "bytes")
            text += " " + unit;
        if (e.TryGetProperty("pct", out var pct) && pct.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            text += $" ({Scalar(pct)}%)";
        return text;
    }

    private static string Quantity(JsonElement v, string? unit)
    {
        if (unit == "bytes" && double.TryParse(Scalar(v), NumberStyles.Float, CultureInfo.InvariantCulture, out var bytes))
            return Sizes.Format((long)bytes);
        return Scalar(v);
    }

    private static string Scalar(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString() ?? "",
        JsonValueKind.Null => "-",
        _ => v.GetRawText(),
    };
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace BackendAI.Cli.Parsing;

/// <summary>
/// A <c>KEY=EXPR</c> range expression of <c>run --env-range/--build-range/--exec-range</c>, expanded to
/// the values the variable takes, as the Python CLI does:
/// <list type="bullet">
/// <item><c>case:a,b,c</c> — the comma-separated strings as given;</item>
/// <item><c>linspace:start,stop,num</c> — <c>num</c> evenly spaced decimals from <c>start</c> to <c>stop</c> inclusive (numpy.linspace);</item>
/// <item><c>range:stop</c>, <c>range:start,stop[,step]</c> — integers as Python's <c>range</c> (stop excluded).</item>
/// </list>
/// </summary>
public sealed partial record RangeExpression(string Key, IReadOnlyList<string> Values)
{
    private const int MaxValues = 10_000;

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex KeyPattern();

    /// <summary>Parses <c>KEY=EXPR</c>; throws <see cref="CliUsageException"/> naming <paramref name="option"/> on bad input.</summary>
    public static RangeExpression Parse(string text, string option = "--env-range")
    {
        ArgumentNullException.ThrowIfNull(text);
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq < 0)
            throw Fail(option, text, "expected KEY=EXPR, e.g. X=case:1,2,3");
        var key = text[..eq];
        var expr = text[(eq + 1)..];
        if (!KeyPattern().IsMatch(key))
            throw Fail(option, text, $"the key \"{key}\" must be a letter or underscore followed by letters, digits or underscores");
        IReadOnlyList<string> values;
        if (expr.StartsWith("case:", StringComparison.Ordinal))
            values = expr[5..].Split(',');
        else if (expr.StartsWith("linspace:", StringComparison.Ordinal))
            values = Linspace(option, text, expr[9..]);
        else if (expr.StartsWith("range:", StringComparison.Ordinal))
            values = PyRange(option, text, expr[6..]);
        else
            throw Fail(option, text, "unrecognized range expression type (use case:, linspace: or range:)");
        return new RangeExpression(key, values);
    }

    private static List<string> Linspace(string option, string text, string args)
    {
        var parts = args.Split(',');
        if (parts.Length != 3)
            throw Fail(option, text, "linspace takes start,stop,num");
        var start = ParseDecimal(option, text, parts[0]);
        var stop = ParseDecimal(option, text, parts[1]);
        if (!int.TryParse(parts[2].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var num) || num < 1)
            throw Fail(option, text, $"num \"{parts[2]}\" must be a positive integer");
        if (num > MaxValues)
            throw Fail(option, text, $"num must be at most {MaxValues}");
        if (num == 1)
            return [Format(start)];
        var step = (stop - start) / (num - 1);
        var values = new List<string>(num);
        for (var tick = 0; tick < num; tick++)
            values.Add(Format(start + step * tick));
        return values;
    }

    private static List<string> PyRange(string option, string text, string args)
    {
        var parts = args.Split(',');
        if (parts.Length is < 1 or > 3)
            throw Fail(option, text, "range takes stop, or start,stop[,step]");
        var numbers = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out numbers[i]))
                throw Fail(option, text, $"\"{parts[i]}\" is not an integer");
        }
        var (start, stop, step) = numbers.Length switch
        {
            1 => (0L, numbers[0], 1L),
            2 => (numbers[0], numbers[1], 1L),
            _ => (numbers[0], numbers[1], numbers[2]),
        };
        if (step == 0)
            throw Fail(option, text, "the range step must not be zero");
        var values = new List<string>();
        for (var v = start; step > 0 ? v < stop : v > stop; v += step)
        {
            if (values.Count == MaxValues)
                throw Fail(option, text, $"the range yields more than {MaxValues} values");
            values.Add(v.ToString(CultureInfo.InvariantCulture));
        }
        return values;
    }

    private static decimal ParseDecimal(string option, string text, string s)
    {
        if (!decimal.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
            throw Fail(option, text, $"\"{s}\" is not a number");
        return d;
    }

    // decimal keeps its scale like Python's Decimal: 1 + 0.5*0 prints "1.0", 1 + 0.5*2 prints "2.0".
    private static string Format(decimal d) => d.ToString(CultureInfo.InvariantCulture);

    private static CliUsageException Fail(string option, string text, string problem) =>
        new($"Invalid {option} \"{text}\": {problem}.");
}

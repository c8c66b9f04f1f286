namespace BackendAI.Cli.Parsing;

/// <summary>One combination of a <c>run</c> sweep: its index, environment and batch commands.</summary>
/// <param name="Index">0-based case index (the session name suffix and the <c>[idx]</c> label).</param>
/// <param name="Environment">The interpolated <c>-e</c> variables, in option order.</param>
/// <param name="Clean">The clean command (<c>*</c> = the runtime's default).</param>
/// <param name="Build">The interpolated build command (<c>*</c> when <c>--build</c> is not given).</param>
/// <param name="Exec">The interpolated exec command (<c>*</c> when <c>--exec</c> is not given).</param>
public sealed record SweepCase(int Index, IReadOnlyList<KeyValuePair<string, string>> Environment, string Clean, string Build, string Exec)
{
    /// <summary>The environment as a map for the create request.</summary>
    public IReadOnlyDictionary<string, string> EnvironmentMap => Environment.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>A one-line description: <c>env = 'X=1 Y=a', build = '*', exec = 'python main.py 1'</c>.</summary>
    public string Describe() =>
        $"env = '{string.Join(' ', Environment.Select(p => $"{p.Key}={p.Value}"))}', build = '{Build}', exec = '{Exec}'";
}

/// <summary>
/// Expands <c>--env-range</c>, <c>--build-range</c> and <c>--exec-range</c> into the cases to run, the
/// way the Python CLI does: the cartesian product of every env-range value map × every build-range
/// value map × every exec-range value map (the last key varying fastest), each interpolated into the
/// <c>-e</c>, <c>--build</c> and <c>--exec</c> templates, duplicates removed keeping the first occurrence.
/// </summary>
public static class SweepPlan
{
    /// <summary>The largest number of cases one run may expand to.</summary>
    public const int MaxCases = 10_000;

    /// <summary>Builds the cases.</summary>
    public static IReadOnlyList<SweepCase> Expand(
        IReadOnlyList<KeyValuePair<string, string>> environmentTemplates,
        string? clean, string? build, string? exec,
        IReadOnlyList<RangeExpression> envRanges,
        IReadOnlyList<RangeExpression> buildRanges,
        IReadOnlyList<RangeExpression> execRanges)
    {
        var envMaps = Product(envRanges);
        var buildMaps = Product(buildRanges);
        var execMaps = Product(execRanges);
        if ((long)envMaps.Count * buildMaps.Count * execMaps.Count > MaxCases)
            throw new CliUsageException($"The range expressions expand to more than {MaxCases} cases.");
        var cleanCommand = string.IsNullOrEmpty(clean) ? "*" : clean;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var cases = new List<SweepCase>();
        foreach (var envMap in envMaps)
        {
            foreach (var buildMap in buildMaps)
            {
                foreach (var execMap in execMaps)
                {
                    var env = environmentTemplates
                        .Select(p => new KeyValuePair<string, string>(p.Key, DollarTemplate.Substitute(p.Value, envMap, $"-e {p.Key}={p.Value}")))
                        .ToList();
                    var buildCommand = string.IsNullOrEmpty(build) ? "*" : DollarTemplate.Substitute(build, buildMap, "--build");
                    var execCommand = string.IsNullOrEmpty(exec) ? "*" : DollarTemplate.Substitute(exec, execMap, "--exec");
                    var key = string.Join('\0', env.Select(p => p.Key + "\u0001" + p.Value)) + "\0\0" + buildCommand + "\0\0" + execCommand;
                    if (seen.Add(key))
                        cases.Add(new SweepCase(cases.Count, env, cleanCommand, buildCommand, execCommand));
                }
            }
        }
        return cases;
    }

    /// <summary>
    /// Every combination of the ranges' values as variable maps. A key given twice keeps its first
    /// position and its last values (a Python dict built from the options). No ranges → one empty map.
    /// </summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, string>> Product(IReadOnlyList<RangeExpression> ranges)
    {
        var order = new List<string>();
        var byKey = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var r in ranges)
        {
            if (!byKey.ContainsKey(r.Key))
                order.Add(r.Key);
            byKey[r.Key] = r.Values;
        }
        IReadOnlyList<IReadOnlyDictionary<string, string>> maps = [new Dictionary<string, string>(StringComparer.Ordinal)];
        foreach (var key in order)
        {
            var next = new List<IReadOnlyDictionary<string, string>>(maps.Count * byKey[key].Count);
            foreach (var map in maps)
            {
                foreach (var value in byKey[key])
                {
                    var m = new Dictionary<string, string>(map, StringComparer.Ordinal) { [key] = value };
                    next.Add(m);
                }
            }
            if (next.Count > MaxCases)
                throw new CliUsageException($"The range expressions expand to more than {MaxCases} cases.");
            maps = next;
        }
        return maps;
    }
}

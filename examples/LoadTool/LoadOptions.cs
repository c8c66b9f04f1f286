using System.Globalization;

namespace BackendAI.Examples.LoadTool;

/// <summary>The load tool's flags.</summary>
public sealed record LoadOptions
{
    /// <summary>Sessions to create (each runs <see cref="Executions"/> executions, then is destroyed).</summary>
    public int Sessions { get; init; } = 20;

    /// <summary>Executions (full runs until <c>finished</c>) per session.</summary>
    public int Executions { get; init; } = 10;

    /// <summary>Sessions in flight at once.</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>Image; null = <c>sim</c> on the embedded server, <c>python</c> elsewhere.</summary>
    public string? Image { get; init; }

    /// <summary>Also run the same workload with a plain signed HttpClient loop.</summary>
    public bool Baseline { get; init; }

    /// <summary>Also run the workload through <c>BackendAIClient</c> alone (no actors), to split the runtime's overhead.</summary>
    public bool Client { get; init; }

    /// <summary>Print one JSON object instead of the text report.</summary>
    public bool Json { get; init; }

    /// <summary>Run a small unmeasured warm-up of each mode first (JIT, connection pool).</summary>
    public bool Warmup { get; init; } = true;

    /// <summary>
    /// How many times each mode is measured; odd rounds run the modes in reverse order, so no mode always
    /// runs first. With three or more the first round only settles the process and is not counted (the first
    /// phase of a process pays thread-pool growth and JIT tiering the later ones do not).
    /// </summary>
    public int Rounds { get; init; } = 3;

    /// <summary>The usage text.</summary>
    public const string Usage =
        "usage: LoadTool [--sessions N] [--executions M] [--concurrency C] [--image IMAGE] [--baseline] [--client] [--json] [--no-warmup] [--rounds R]";

    /// <summary>Parses the command line.</summary>
    /// <exception cref="ArgumentException">An unknown flag, a missing value or a value out of range (the message names it).</exception>
    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var o = new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var flag = args[i];
            string Value() => i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                ? args[++i]
                : throw new ArgumentException($"{flag} needs a value.");
            int Positive()
            {
                var text = Value();
                return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
                    ? n
                    : throw new ArgumentException($"{flag} must be a positive whole number (was '{text}').");
            }
            o = flag switch
            {
                "--sessions" or "-n" => o with { Sessions = Positive() },
                "--executions" or "-m" => o with { Executions = Positive() },
                "--concurrency" or "-c" => o with { Concurrency = Positive() },
                "--image" => o with { Image = Value() },
                "--baseline" => o with { Baseline = true },
                "--client" => o with { Client = true },
                "--json" => o with { Json = true },
                "--no-warmup" => o with { Warmup = false },
                "--rounds" => o with { Rounds = Positive() },
                _ => throw new ArgumentException($"Unknown flag '{flag}'. {Usage}"),
            };
        }
        return o;
    }
}

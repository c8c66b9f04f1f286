using System.CommandLine;

namespace BackendAI.Cli;

/// <summary>The options every command accepts (declared once on the root, recursive), looked up by name.</summary>
public static class CliOptions
{
    /// <summary>The name of the output-format option.</summary>
    public const string OutputName = "--output";

    /// <summary>The name of the debug option.</summary>
    public const string DebugName = "--debug";

    /// <summary><c>--output console|json</c>: human output (default) or JSON for scripts.</summary>
    public static Option<string> CreateOutput()
    {
        var o = new Option<string>(OutputName)
        {
            Description = "Output format: console (tables and colours) or json (for scripts).",
            DefaultValueFactory = _ => "console",
            Recursive = true,
        };
        o.AcceptOnlyFromAmong("console", "json");
        return o;
    }

    /// <summary><c>--debug</c>: print the full error (type, stack, inner errors) after the one-line reason.</summary>
    public static Option<bool> CreateDebug() => new(DebugName)
    {
        Description = "Print error details (stack traces) for troubleshooting.",
        Recursive = true,
    };

    /// <summary>True when <c>--output json</c> was given.</summary>
    public static bool IsJson(this ParseResult parseResult) =>
        string.Equals(parseResult.GetValue<string>(OutputName), "json", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when <c>--debug</c> was given.</summary>
    public static bool IsDebug(this ParseResult parseResult) => parseResult.GetValue<bool>(DebugName);
}

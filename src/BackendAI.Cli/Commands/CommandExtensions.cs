using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BackendAI.Cli.Commands;

/// <summary>Helpers shared by the verbs.</summary>
internal static class CommandExtensions
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Sets the command's action: errors become one line on stderr (<c>backend.ai: reason</c>, plus
    /// the details with <c>--debug</c>) and the exit code of <see cref="ErrorMessages.ExitCodeOf"/>.
    /// </summary>
    public static void SetCliAction(this Command command, CliContext context, Func<ParseResult, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                return await action(parseResult, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                await context.Error.WriteLineAsync($"backend.ai: {ErrorMessages.OneLine(e)}").ConfigureAwait(false);
                if (parseResult.IsDebug())
                    await context.Error.WriteLineAsync(e.ToString()).ConfigureAwait(false);
                return ErrorMessages.ExitCodeOf(e);
            }
        });
    }

    /// <summary>Writes a JSON document (indented) to standard output.</summary>
    public static void WriteJson(this CliContext context, JsonNode? node)
    {
        context.Out.WriteLine(node is null ? "null" : node.ToJsonString(Indented));
        context.Out.Flush();
    }

    /// <summary>Writes a JSON element (indented) to standard output.</summary>
    public static void WriteJson(this CliContext context, JsonElement element)
    {
        context.Out.WriteLine(JsonSerializer.Serialize(element, Indented));
        context.Out.Flush();
    }

    /// <summary>A status line on stderr (suppressed by <c>-q</c> where the command has it).</summary>
    public static void Info(this CliContext context, string line)
    {
        context.Error.WriteLine(line);
        context.Error.Flush();
    }

    /// <summary>A node for a string that may be null.</summary>
    public static JsonNode? Node(string? value) => value is null ? null : JsonValue.Create(value);

    /// <summary>
    /// Follows an existing session through the runtime; a failure (e.g. the server's 404) names the session
    /// in its one line. The handle keeps the session when disposed.
    /// </summary>
    public static async Task<BackendAI.Actors.ComputeSession> AttachAsync(this CliRuntime runtime, string reference, CancellationToken ct)
    {
        try
        {
            return await runtime.Runtime.AttachSessionAsync(reference, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new NamedFailureException($"Session {reference}", e);
        }
    }
}

/// <summary>A failure about a named thing: its one line is "<c>name: reason</c>", its exit code the cause's.</summary>
internal sealed class NamedFailureException(string name, Exception inner) : Exception($"{name}: {ErrorMessages.OneLine(inner)}", inner);

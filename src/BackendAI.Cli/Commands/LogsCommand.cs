using System.CommandLine;
using System.Text.Json.Nodes;

namespace BackendAI.Cli.Commands;

/// <summary><c>backend.ai logs SESSION</c>: prints the session's console log.</summary>
internal static class LogsCommand
{
    public static Command Create(CliContext context)
    {
        var session = new Argument<string>("SESSION") { Description = "The session name or id." };
        var owner = new Option<string?>("--owner", "-o", "--owner-access-key") { Description = "The owner's access key (admins)." };
        var command = new Command("logs", "Show the full console log of a compute session.") { session, owner };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            // The runtime's session handle has no log call: the runtime's wire client reads it.
            var logs = await context.Client.Sessions.GetLogsAsync(parseResult.GetValue(session)!, parseResult.GetValue(owner), ct).ConfigureAwait(false);
            if (parseResult.IsJson())
                context.WriteJson(new JsonObject { ["logs"] = logs });
            else
                await context.Out.WriteLineAsync(logs).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }
}

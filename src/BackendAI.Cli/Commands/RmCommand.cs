using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BackendAI.Cli.Commands;

/// <summary><c>backend.ai rm SESSION...</c>: destroys sessions; exit code 1 when any could not be destroyed.</summary>
internal static class RmCommand
{
    public static Command Create(CliContext context)
    {
        var sessions = new Argument<string[]>("SESSIONS") { Description = "Session names or ids (or unique prefixes).", Arity = ArgumentArity.OneOrMore };
        var forced = new Option<bool>("--forced", "-f") { Description = "Force-terminate sessions in any state (admins)." };
        var owner = new Option<string?>("--owner", "-o", "--owner-access-key") { Description = "The owner's access key (admins)." };
        var stats = new Option<bool>("--stats", "-s") { Description = "Print the final statistics." };
        var command = new Command("rm", "Terminate compute sessions (alias of 'session destroy').") { sessions, forced, owner, stats };
        command.Aliases.Add("destroy");
        command.Aliases.Add("kill");
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var runtime = context.Runtime;
            var failures = 0;
            var json = new JsonArray();
            foreach (var session in parseResult.GetValue(sessions)!)
            {
                try
                {
                    // The runtime's destroy does not return statistics nor act for another owner: those go to the wire client.
                    JsonElement? result = null;
                    if (parseResult.GetValue(stats) || parseResult.GetValue(owner) is not null || parseResult.IsJson())
                    {
                        result = (await runtime.Client.Sessions.DestroyAsync(session, parseResult.GetValue(forced), parseResult.GetValue(owner), ct).ConfigureAwait(false)).Stats;
                    }
                    else
                    {
                        await using var handle = await runtime.Runtime.AttachSessionAsync(session, ct).ConfigureAwait(false);
                        await handle.DestroyAsync(parseResult.GetValue(forced), ct).ConfigureAwait(false);
                    }
                    json.Add(new JsonObject { ["session"] = session, ["destroyed"] = true, ["stats"] = result is { } r ? JsonNode.Parse(r.GetRawText()) : null });
                    if (!parseResult.IsJson())
                    {
                        context.Info($"✓ Session {session} is being terminated.");
                        if (parseResult.GetValue(stats) && result is { } s)
                            StatsView.Write(context.Console, s, $"Statistics of {session}");
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failures++;
                    json.Add(new JsonObject { ["session"] = session, ["destroyed"] = false, ["error"] = ErrorMessages.OneLine(e) });
                    context.Info($"✗ {session}: {ErrorMessages.OneLine(e)}");
                }
            }
            if (parseResult.IsJson())
                context.WriteJson(json);
            return failures == 0 ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }
}

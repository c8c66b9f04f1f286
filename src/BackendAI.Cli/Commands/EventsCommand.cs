using System.CommandLine;
using System.Text.Json.Nodes;
using BackendAI.Client;
using Spectre.Console;

namespace BackendAI.Cli.Commands;

/// <summary>
/// <c>backend.ai events SESSION</c>: prints the session's lifecycle events as they arrive (one JSON
/// object per line with <c>--output json</c>) until the session is terminated or cancelled, the server
/// closes the stream, or Ctrl+C.
/// </summary>
internal static class EventsCommand
{
    public static Command Create(CliContext context)
    {
        var session = new Argument<string>("SESSION") { Description = "The session name or id." };
        var owner = new Option<string?>("--owner", "-o", "--owner-access-key") { Description = "The owner's access key (admins)." };
        var scope = new Option<string>("--scope") { Description = "*, session or kernel events.", DefaultValueFactory = _ => "*" };
        scope.AcceptOnlyFromAmong("*", "session", "kernel");
        var follow = new Option<bool>("--follow") { Description = "Keep listening after the session is terminated." };
        var command = new Command("events", "Monitor the lifecycle events of a compute session.") { session, owner, scope, follow };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var reference = parseResult.GetValue(session)!;
            var filter = Guid.TryParse(reference, out _)
                ? new SessionEventFilter(SessionId: reference, OwnerAccessKey: parseResult.GetValue(owner), Scope: parseResult.GetValue(scope)!)
                : new SessionEventFilter(SessionName: reference, OwnerAccessKey: parseResult.GetValue(owner), Scope: parseResult.GetValue(scope)!);
            await using var client = context.CreateClient();
            await foreach (var e in client.Events.SessionEventsAsync(filter, ct).ConfigureAwait(false))
            {
                var json = new JsonObject
                {
                    ["event"] = e.Name,
                    ["sessionName"] = e.SessionName,
                    ["sessionId"] = e.SessionId,
                    ["ownerAccessKey"] = e.OwnerAccessKey,
                    ["kernelId"] = e.KernelId,
                    ["clusterRole"] = e.ClusterRole,
                    ["clusterIdx"] = e.ClusterIdx,
                    ["reason"] = e.Reason,
                };
                if (parseResult.IsJson())
                {
                    context.Out.WriteLine(json.ToJsonString());
                    context.Out.Flush();
                }
                else
                {
                    context.Console.MarkupLine($"[bold cyan]{Markup.Escape(e.Name)}[/] {Markup.Escape(json.ToJsonString())}");
                }
                if (!parseResult.GetValue(follow) && e.Name is "session_terminated" or "session_cancelled")
                    break;
            }
            return ExitCodes.Success;
        });
        return command;
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using BackendAI.Client;
using BackendAI.Client.Errors;
using Spectre.Console;

namespace BackendAI.Cli.Commands;

/// <summary>
/// <c>backend.ai events SESSION</c>: prints the session's lifecycle events as they arrive (one JSON
/// object per line with <c>--output json</c>) until the session is terminated or cancelled, the server
/// closes the stream, or Ctrl+C. A dropped connection is re-opened (re-signed, with backoff).
/// </summary>
internal static class EventsCommand
{
    public static Command Create(CliContext context)
    {
        var session = new Argument<string>("SESSION") { Description = "The session name or id (* for every session)." };
        var owner = new Option<string?>("--owner", "-o", "--owner-access-key") { Description = "The owner's access key (admins)." };
        var scope = new Option<string>("--scope") { Description = "*, session or kernel events.", DefaultValueFactory = _ => "*" };
        scope.AcceptOnlyFromAmong("*", "session", "kernel");
        var command = new Command("events", "Monitor the lifecycle events of a compute session.") { session, owner, scope };
        command.SetCliAction(context, async (parseResult, ct) =>
        {
            var reference = parseResult.GetValue(session)!;
            var filter = Guid.TryParse(reference, out _)
                ? new SessionEventFilter(SessionId: reference, OwnerAccessKey: parseResult.GetValue(owner), Scope: parseResult.GetValue(scope)!)
                : new SessionEventFilter(SessionName: reference, OwnerAccessKey: parseResult.GetValue(owner), Scope: parseResult.GetValue(scope)!);
            var json = parseResult.IsJson();
            await using var client = context.CreateClient();

            // The first connection is opened here so that errors surface at once and "Listening" means listening.
            await using (var reader = await client.Events.OpenSessionEventsAsync(filter, ct).ConfigureAwait(false))
            {
                context.Info($"∙ Listening for events of {reference} (Ctrl+C to stop).");
                while (await reader.ReadAsync(ct).ConfigureAwait(false) is { } message)
                {
                    if (message.Event == "server_close")
                        return ExitCodes.Success;
                    SessionEvent e;
                    try
                    {
                        e = SessionEvent.Parse(message);
                    }
                    catch (BackendProtocolException)
                    {
                        continue;
                    }
                    Print(context, e, json);
                    if (filter.IsSingleSession && e.IsTerminal)
                        return ExitCodes.Success;
                }
            }
            // The connection dropped: go on with the reconnecting stream (it ends on the terminal event).
            await foreach (var e in client.Events.SessionEventsAsync(filter, ct).ConfigureAwait(false))
                Print(context, e, json);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Print(CliContext context, SessionEvent e, bool json)
    {
        var data = new JsonObject
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
        if (json)
        {
            context.Out.WriteLine(data.ToJsonString());
            context.Out.Flush();
        }
        else
        {
            context.Console.MarkupLine($"[bold cyan]{Markup.Escape(e.Name)}[/] {Markup.Escape(data.ToJsonString())}");
        }
    }
}

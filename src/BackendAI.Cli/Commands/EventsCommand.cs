using System.CommandLine;
using System.Text.Json.Nodes;
using BackendAI.Actors;
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
            if (parseResult.GetValue(owner) is not null)
                return await FollowOtherOwnerAsync(context, filter, reference, json, ct).ConfigureAwait(false);

            // The runtime's one event stream (every session of the access key), filtered here. It is hot, so
            // "Listening" is printed once it is connected, the subscription is attached, and the session
            // (unless *) is known to exist (the attach fails with the server's 404 otherwise).
            var runtime = context.Runtime;
            var scopeName = parseResult.GetValue(scope)!;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            await using var events = runtime.Runtime.EventsAsync(stop.Token).GetAsyncEnumerator(stop.Token);
            var pending = events.MoveNextAsync().AsTask();
            ComputeSession? handle = null;
            try
            {
                if (filter.IsSingleSession)
                    handle = await runtime.AttachAsync(reference, ct).ConfigureAwait(false);
                await runtime.EventsConnected.WaitAsync(ct).ConfigureAwait(false);
                context.Info($"∙ Listening for events of {reference} (Ctrl+C to stop).");
                while (await pending.ConfigureAwait(false))
                {
                    var e = events.Current;
                    pending = events.MoveNextAsync().AsTask();
                    if (filter.IsSingleSession && e.SessionId != reference && e.SessionName != reference)
                        continue;
                    if (scopeName == "session" && !e.Name.StartsWith("session_", StringComparison.Ordinal)
                        || scopeName == "kernel" && !e.Name.StartsWith("kernel_", StringComparison.Ordinal))
                        continue;
                    Print(context, e, json);
                    if (filter.IsSingleSession && e.IsTerminal)
                        return ExitCodes.Success;
                }
                return ExitCodes.Success;
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                // An async iterator cannot be disposed while a MoveNextAsync is in flight: let it end first.
                await pending.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
                    .ConfigureAwait(false);
                if (handle is not null)
                    await handle.DisposeAsync().ConfigureAwait(false);
            }
        });
        return command;
    }

    // The runtime follows its own access key's events; another owner's (admins) are read with the wire client.
    private static async Task<int> FollowOtherOwnerAsync(CliContext context, SessionEventFilter filter, string reference, bool json, CancellationToken ct)
    {
        var client = context.Client;
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

using System.Runtime.CompilerServices;
using System.Text.Json;
using BackendAI.Client;
using BackendAI.Client.Sse;
using BackendAI.Client.WebSockets;

namespace BackendAI.Actors.Internal;

/// <summary>The production <see cref="ISessionApi"/>: every call goes to <see cref="BackendAIClient"/>.</summary>
internal sealed class ClientSessionApi(BackendAIClient client) : ISessionApi
{
    private static readonly string[] s_summaryFields = ["session_id", "name", "image", "status", "status_info", "access_key", "created_at", "type"];

    public Task<SessionCreateResult> CreateAsync(SessionCreateRequest request, CancellationToken cancellationToken) =>
        client.Sessions.CreateAsync(request, cancellationToken);

    public Task<SessionInfo> GetInfoAsync(string sessionRef, CancellationToken cancellationToken) =>
        client.Sessions.GetInfoAsync(sessionRef, cancellationToken: cancellationToken);

    public async Task DestroyAsync(string sessionRef, bool forced, CancellationToken cancellationToken)
    {
        try
        {
            await client.Sessions.DestroyAsync(sessionRef, forced, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (BackendAI.Client.Errors.ForbiddenException e)
            when (!forced && e.Msg?.Contains("terminating status", StringComparison.OrdinalIgnoreCase) == true)
        {
            // Destroy answers once termination is requested (sessions.md §6); a repeated destroy of a TERMINATING
            // session is refused by the server but what the caller asked for is already under way.
        }
    }

    public Task<ExecutionResult> ExecuteAsync(string sessionRef, ExecuteRequest request, CancellationToken cancellationToken) =>
        client.Sessions.ExecuteAsync(sessionRef, request, cancellationToken);

    public async Task<IExecuteStream> OpenExecuteStreamAsync(string sessionRef, ExecuteRequest request, CancellationToken cancellationToken)
    {
        var mode = request.Mode switch
        {
            ExecuteMode.Query => "query",
            ExecuteMode.Batch => "batch",
            _ => throw new ArgumentException($"A streaming execute starts in query or batch mode, not {request.Mode}.", nameof(request)),
        };
        return new ExecuteStreamAdapter(await client.Streams.OpenExecuteAsync(sessionRef, request.Code, mode, request.Options, cancellationToken)
            .ConfigureAwait(false));
    }

    public async Task UploadAsync(string sessionRef, IReadOnlyList<string> localPaths, IProgress<TransferProgress>? progress,
        CancellationToken cancellationToken)
    {
        var files = localPaths.Select(p => UploadFile.FromPath(p)).ToArray();
        var tracker = new UploadProgressTracker(files, localPaths.Select(p => File.Exists(p) ? new FileInfo(p).Length : (long?)null).ToArray(), progress);
        await client.Sessions.UploadAsync(sessionRef, tracker.Files, cancellationToken).ConfigureAwait(false);
        tracker.Complete();
    }

    public Task<IReadOnlyList<string>> DownloadAsync(string sessionRef, IReadOnlyList<string> remotePaths, string destinationDirectory,
        IProgress<TransferProgress>? progress, CancellationToken cancellationToken) =>
        client.Sessions.DownloadAsync(sessionRef, remotePaths, destinationDirectory, progress, cancellationToken);

    public Task<IReadOnlyList<SessionFileEntry>> ListFilesAsync(string sessionRef, string path, CancellationToken cancellationToken) =>
        client.Sessions.ListFilesAsync(sessionRef, path, cancellationToken);

    public Task InterruptAsync(string sessionRef, CancellationToken cancellationToken) =>
        client.Sessions.InterruptAsync(sessionRef, cancellationToken);

    public Task RestartAsync(string sessionRef, CancellationToken cancellationToken) =>
        client.Sessions.RestartAsync(sessionRef, cancellationToken);

    public async IAsyncEnumerable<SessionSummary> ListSessionsAsync(string? status, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in client.Admin.ListComputeSessionsAsync(status, s_summaryFields, 100, cancellationToken: cancellationToken)
                           .ConfigureAwait(false))
        {
            yield return new SessionSummary(
                Str(item, "session_id") ?? Str(item, "id") ?? "", Str(item, "name") ?? "", Str(item, "image"),
                Str(item, "status") ?? "", Str(item, "status_info"), Str(item, "access_key"),
                DateTimeOffset.TryParse(Str(item, "created_at"), out var at) ? at : null, Str(item, "type"));
        }
    }

    public async Task<ISessionEventConnection> OpenSessionEventsAsync(SessionEventFilter filter, CancellationToken cancellationToken) =>
        new Connection(await client.Events.OpenSessionEventsAsync(filter, cancellationToken).ConfigureAwait(false));

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText())
            : null;

    private sealed class ExecuteStreamAdapter(ExecuteStream stream) : IExecuteStream
    {
        public Task SendInputAsync(string input, CancellationToken cancellationToken) => stream.SendInputAsync(input, cancellationToken);

        public Task<ExecutionResult?> ReadAsync(CancellationToken cancellationToken) => stream.ReadAsync(cancellationToken);

        public ValueTask DisposeAsync() => stream.DisposeAsync();
    }

    private sealed class Connection(SseEventReader reader) : ISessionEventConnection
    {
        public async ValueTask<SessionEvent?> ReadAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                SseMessage? message;
                try
                {
                    message = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    throw new EventStreamDroppedException("The session event stream broke: " + ex.Message, ex);
                }
                if (message is null) throw new EventStreamDroppedException("The session event stream ended without server_close.");
                if (message.Event == "server_close") return null;
                if (message.Event.StartsWith("session_", StringComparison.Ordinal) || message.Event.StartsWith("kernel_", StringComparison.Ordinal))
                    return SessionEvent.Parse(message);
            }
        }

        public ValueTask DisposeAsync() => reader.DisposeAsync();
    }
}

using BackendAI.Client;

namespace BackendAI.Actors.Internal;

/// <summary>
/// The narrow port through which every actor reaches the server. Production code adapts
/// <c>BackendAIClient</c>; actor tests use fakes. Implementations must be thread-safe:
/// calls are started from many actors at once and their tasks piped back.
/// </summary>
internal interface ISessionApi
{
    Task<SessionCreateResult> CreateAsync(SessionCreateRequest request, CancellationToken cancellationToken);
    Task<SessionInfo> GetInfoAsync(string sessionRef, CancellationToken cancellationToken);
    Task DestroyAsync(string sessionRef, bool forced, CancellationToken cancellationToken);
    Task<ExecutionResult> ExecuteAsync(string sessionRef, ExecuteRequest request, CancellationToken cancellationToken);

    /// <summary>Opens the streaming-execute WebSocket of one run (query or batch <paramref name="request"/>).</summary>
    Task<IExecuteStream> OpenExecuteStreamAsync(string sessionRef, ExecuteRequest request, CancellationToken cancellationToken) =>
        Task.FromException<IExecuteStream>(new NotSupportedException("This session API has no streaming execute."));
    Task UploadAsync(string sessionRef, IReadOnlyList<string> localPaths, IProgress<TransferProgress>? progress, CancellationToken cancellationToken);
    Task<IReadOnlyList<string>> DownloadAsync(string sessionRef, IReadOnlyList<string> remotePaths, string destinationDirectory, IProgress<TransferProgress>? progress, CancellationToken cancellationToken);
    Task<IReadOnlyList<SessionFileEntry>> ListFilesAsync(string sessionRef, string path, CancellationToken cancellationToken);
    Task InterruptAsync(string sessionRef, CancellationToken cancellationToken);
    Task RestartAsync(string sessionRef, CancellationToken cancellationToken);

    IAsyncEnumerable<SessionSummary> ListSessionsAsync(string? status, CancellationToken cancellationToken);

    /// <summary>Opens one freshly signed SSE connection.</summary>
    Task<ISessionEventConnection> OpenSessionEventsAsync(SessionEventFilter filter, CancellationToken cancellationToken);
}

/// <summary>One open streaming-execute WebSocket (one run). Used by one call at a time.</summary>
internal interface IExecuteStream : IAsyncDisposable
{
    /// <summary>Sends an answer to <c>waiting-input</c>.</summary>
    Task SendInputAsync(string input, CancellationToken cancellationToken);

    /// <summary>The next result; <c>null</c> when the server closed the socket.</summary>
    Task<ExecutionResult?> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>One open SSE connection.</summary>
internal interface ISessionEventConnection : IAsyncDisposable
{
    /// <summary>
    /// The next session event; <c>null</c> when the server said <c>server_close</c> (do not reconnect).
    /// A connection that ends without <c>server_close</c> throws <see cref="EventStreamDroppedException"/>.
    /// </summary>
    ValueTask<SessionEvent?> ReadAsync(CancellationToken cancellationToken);
}

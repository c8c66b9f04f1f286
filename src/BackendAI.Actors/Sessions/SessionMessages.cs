using Akka.Actor;
using BackendAI.Client;

namespace BackendAI.Actors.Sessions;

/// <summary>A message about one session; the session id (or, before it is known, its name) comes first.</summary>
public interface ISessionMessage
{
    /// <summary>The session the message is for: the key the session actor was registered under.</summary>
    string SessionId { get; }
}

/// <summary>
/// A command that needs a RUNNING session: stashed before RUNNING, refused with
/// <see cref="SessionStateException"/> in a terminal state, failed with
/// <see cref="SessionStartTimeoutException"/> when the start wait passes.
/// </summary>
public interface ISessionCommand : ISessionMessage;

/// <summary>
/// Start a run; answered by its first <see cref="Kernels.RunBatch"/> (the first execute call is made at once).
/// Pull the rest with <see cref="Kernels.PullRunBatch"/> from <see cref="Kernels.RunBatch.RunLoop"/>.
/// <paramref name="UseWebSocket"/> runs it over the streaming-execute WebSocket instead of REST calls.
/// </summary>
public sealed record StartRun(string SessionId, ExecuteRequest Request, bool UseWebSocket = false) : ISessionCommand;

/// <summary>Upload local files; answered by <see cref="Akka.Done"/>. <paramref name="Progress"/> and <paramref name="CancellationToken"/> are local-only.</summary>
public sealed record UploadFiles(string SessionId, IReadOnlyList<string> LocalPaths, IProgress<TransferProgress>? Progress = null, CancellationToken CancellationToken = default) : ISessionCommand;

/// <summary>Download files; answered by <see cref="FilesDownloaded"/>. <paramref name="Progress"/> and <paramref name="CancellationToken"/> are local-only.</summary>
public sealed record DownloadFiles(string SessionId, IReadOnlyList<string> RemotePaths, string DestinationDirectory, IProgress<TransferProgress>? Progress = null, CancellationToken CancellationToken = default) : ISessionCommand;

/// <summary>The files written by a download.</summary>
public sealed record FilesDownloaded(string SessionId, IReadOnlyList<string> LocalPaths) : ISessionMessage;

/// <summary>List files; answered by <see cref="FilesListed"/>.</summary>
public sealed record ListFiles(string SessionId, string Path) : ISessionCommand;

/// <summary>A directory listing.</summary>
public sealed record FilesListed(string SessionId, IReadOnlyList<SessionFileEntry> Entries) : ISessionMessage;

/// <summary>Interrupt the running code; answered by <see cref="Akka.Done"/>.</summary>
public sealed record InterruptSession(string SessionId) : ISessionCommand;

/// <summary>Restart the kernel; answered by <see cref="Akka.Done"/>.</summary>
public sealed record RestartSession(string SessionId) : ISessionCommand;

/// <summary>Destroy the session; answered by <see cref="Akka.Done"/>. Allowed in every state (a no-op once terminal).</summary>
public sealed record DestroySession(string SessionId, bool Forced) : ISessionCommand;

/// <summary>Read the server's session info; answered by <see cref="SessionInfoAnswered"/>.</summary>
public sealed record GetSessionInfo(string SessionId) : ISessionCommand;

/// <summary>The server's session info.</summary>
public sealed record SessionInfoAnswered(string SessionId, SessionInfo Info) : ISessionMessage;

/// <summary>Ask for the actor's current view; answered by <see cref="SessionSnapshot"/> in any state.</summary>
public sealed record GetSessionSnapshot(string SessionId) : ISessionMessage;

/// <summary>The session actor's current view.</summary>
public sealed record SessionSnapshot(string SessionId, string? SessionName, SessionStatus? Status) : ISessionMessage;

/// <summary>A status read from a create response (fed by the sessions manager after a create).</summary>
public sealed record SessionStatusObserved(string SessionId, SessionStatus Status, string Source) : ISessionMessage;

/// <summary>An SSE event for this session.</summary>
public sealed record SessionEventObserved(string SessionId, SessionEvent Event) : ISessionMessage;

/// <summary>Re-read the status from the server now (sent after the event stream reconnected).</summary>
public sealed record ReconcileSession(string SessionId) : ISessionMessage;

/// <summary>Stop the session actor without touching the server.</summary>
public sealed record ReleaseSession(string SessionId) : ISessionMessage;

/// <summary>Published on the Akka event stream for every transition.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="Previous">The status before (<c>null</c> = first observation).</param>
/// <param name="Current">The status now.</param>
/// <param name="Cause">What was observed: <c>create</c>, <c>event:&lt;name&gt;</c>, <c>reconcile</c>, <c>reconcile:404</c>.</param>
public sealed record SessionTransitioned(string SessionId, SessionStatus? Previous, SessionStatus Current, string Cause) : ISessionMessage;

/// <summary>Published on the Akka event stream when a session actor gives up (fatal error, e.g. auth).</summary>
public sealed record SessionFailed(string SessionId, Exception Cause) : ISessionMessage;

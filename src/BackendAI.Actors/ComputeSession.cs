using Akka;
using Akka.Actor;
using Akka.Streams.Dsl;
using BackendAI.Actors.Kernels;
using BackendAI.Actors.Reactive;
using BackendAI.Actors.Sessions;
using BackendAI.Client;

namespace BackendAI.Actors;

/// <summary>
/// A compute session followed by its session actor. Commands wait until the session is RUNNING
/// (up to its max wait), fail with <see cref="SessionStateException"/> once it is gone.
/// </summary>
public sealed class ComputeSession : IAsyncDisposable
{
    private readonly BackendAIRuntime _runtime;
    private readonly IActorRef _actor;
    private readonly SessionStatusCell _cell;
    private int _disposed;

    internal ComputeSession(BackendAIRuntime runtime, string id, string name, IActorRef actor, SessionStatusCell cell, bool keepOnDispose)
    {
        _runtime = runtime;
        Id = id;
        Name = name;
        _actor = actor;
        _cell = cell;
        KeepOnDispose = keepOnDispose;
        Status = StreamBridges.ToObservable(ct => _cell.ReadAllAsync(ct));
        Events = StreamBridges.ToObservable(ct => _runtime.EventsAsync(ct).WhereSession(Id, Name));
    }

    /// <summary>The session id (or, for a session attached by name, the name).</summary>
    public string Id { get; }

    /// <summary>The session name.</summary>
    public string Name { get; }

    /// <summary>The latest status the runtime knows (PENDING until anything is known).</summary>
    public SessionStatus CurrentStatus => _cell.Current ?? SessionStatus.Pending;

    /// <summary>Status changes, starting with the current status; completes after a terminal status.</summary>
    public IObservable<SessionStatus> Status { get; }

    /// <summary>This session's SSE events (hot: only events after subscription).</summary>
    public IObservable<SessionEvent> Events { get; }

    /// <summary>
    /// The server's answer to the create request (status, whether it was created or reused, service
    /// ports); null for a session attached with <see cref="BackendAIRuntime.AttachSessionAsync"/>.
    /// </summary>
    public SessionCreateResult? CreateResult { get; internal init; }

    /// <summary>Keep the session on the server when this object is disposed.</summary>
    public bool KeepOnDispose { get; set; }

    internal IActorRef Actor => _actor;

    /// <summary>Waits until the status satisfies <paramref name="predicate"/>; fails if the session ends first.</summary>
    public Task<SessionStatus> WaitForStatusAsync(Func<SessionStatus, bool> predicate, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return _cell.WaitAsync(predicate, ct);
    }

    /// <summary>Runs code to the end and collects its output.</summary>
    public async Task<ExecutionOutcome> ExecuteAsync(string code, ExecuteOptions? options = null, CancellationToken cancellationToken = default)
    {
        // No stream is materialised here: nothing downstream needs backpressure, so the run loop is
        // pulled directly (one execute call per pull, as the streaming variants do).
        var (request, inputProvider) = PrepareRun(code, options);
        var s = _runtime.Settings;
        return await RunSource.CollectAsync(_actor, Id, request, inputProvider, s.Session.AskTimeout, s.RunLoop.CallTimeout,
            options?.UseWebSocket ?? false, cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs code and streams its console records; a slow consumer slows the run's <c>continue</c> calls.</summary>
    public IAsyncEnumerable<ConsoleRecord> Execute(string code, ExecuteOptions? options = null, CancellationToken cancellationToken = default) =>
        StreamBridges.ToAsyncEnumerable(CreateRunSource(code, options, collect: false, cancellationToken),
            _runtime.Settings.RunLoop.BufferSize, _runtime.Materializer, cancellationToken);

    /// <summary>
    /// The run as an Akka.Streams source: one execute call per demand. Each materialization is a
    /// new run; the materialized task completes with the outcome (with empty Stdout/Stderr/Console:
    /// the records went downstream).
    /// </summary>
    public Source<ConsoleRecord, Task<ExecutionOutcome>> ExecuteSource(string code, ExecuteOptions? options = null) =>
        CreateRunSource(code, options, collect: false, CancellationToken.None);

    /// <summary>Uploads local files into the session's working directory.</summary>
    public async Task UploadAsync(IReadOnlyList<string> localPaths, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(localPaths);
        await AskAsync<Done>(new UploadFiles(Id, localPaths, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Downloads files from the session into <paramref name="destinationDirectory"/>; returns the written paths.</summary>
    public async Task<IReadOnlyList<string>> DownloadAsync(IReadOnlyList<string> remotePaths, string destinationDirectory,
        IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remotePaths);
        ArgumentException.ThrowIfNullOrEmpty(destinationDirectory);
        var r = await AskAsync<FilesDownloaded>(new DownloadFiles(Id, remotePaths, destinationDirectory, progress, cancellationToken), cancellationToken)
            .ConfigureAwait(false);
        return r.LocalPaths;
    }

    /// <summary>Lists a directory of the session.</summary>
    public async Task<IReadOnlyList<SessionFileEntry>> ListFilesAsync(string path = ".", CancellationToken cancellationToken = default) =>
        (await AskAsync<FilesListed>(new ListFiles(Id, path), cancellationToken).ConfigureAwait(false)).Entries;

    /// <summary>The server's info about the session.</summary>
    public async Task<SessionInfo> GetInfoAsync(CancellationToken cancellationToken = default) =>
        (await AskAsync<SessionInfoAnswered>(new GetSessionInfo(Id), cancellationToken).ConfigureAwait(false)).Info;

    /// <summary>Interrupts the running code.</summary>
    public Task InterruptAsync(CancellationToken ct = default) => AskAsync<Done>(new InterruptSession(Id), ct);

    /// <summary>Restarts the kernel.</summary>
    public Task RestartAsync(CancellationToken ct = default) => AskAsync<Done>(new RestartSession(Id), ct);

    /// <summary>Destroys the session (a no-op once it is gone).</summary>
    public Task DestroyAsync(bool forced = false, CancellationToken ct = default) => AskAsync<Done>(new DestroySession(Id, forced), ct);

    /// <summary>Destroys the session unless <see cref="KeepOnDispose"/>, then stops following it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            if (!KeepOnDispose) await DestroyAsync().ConfigureAwait(false);
        }
        finally
        {
            _runtime.Release(this);
        }
    }

    private Source<ConsoleRecord, Task<ExecutionOutcome>> CreateRunSource(string code, ExecuteOptions? options, bool collect, CancellationToken ct)
    {
        var (request, inputProvider) = PrepareRun(code, options);
        var s = _runtime.Settings;
        return RunSource.Create(_actor, Id, request, inputProvider, s.Session.AskTimeout, s.RunLoop.CallTimeout,
            s.RunLoop.BufferSize, collect, options?.UseWebSocket ?? false, ct);
    }

    private static (ExecuteRequest Request, Func<InputPrompt, CancellationToken, ValueTask<string>>? InputProvider) PrepareRun(
        string code, ExecuteOptions? options)
    {
        ArgumentNullException.ThrowIfNull(code);
        options ??= new ExecuteOptions();
        var request = options.Mode switch
        {
            ExecuteMode.Query => new ExecuteRequest(ExecuteMode.Query, code, null),
            ExecuteMode.Batch => new ExecuteRequest(ExecuteMode.Batch, "", null, options.Batch ?? new BatchOptions(null, "*", "*")),
            _ => throw new ArgumentException($"ExecuteOptions.Mode must be Query or Batch (got {options.Mode}); continue/input calls are made by the run loop.", nameof(options)),
        };
        return (request, options.InputProvider);
    }

    private async Task<T> AskAsync<T>(object message, CancellationToken ct)
    {
        try
        {
            return await _actor.Ask<T>(message, _runtime.Settings.Session.AskTimeout, ct).ConfigureAwait(false);
        }
        catch (AskTimeoutException ex)
        {
            throw new SessionStateException(Id, _cell.Current, $"Session '{Id}' did not answer {message.GetType().Name} in time.", ex);
        }
    }
}

internal static class SessionEventFilters
{
    public static async IAsyncEnumerable<SessionEvent> WhereSession(this IAsyncEnumerable<SessionEvent> events, string id, string name)
    {
        await foreach (var e in events.ConfigureAwait(false))
            if (e.SessionId == id || e.SessionName == name) yield return e;
    }
}

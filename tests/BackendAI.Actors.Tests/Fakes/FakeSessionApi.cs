using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using BackendAI.Actors.Internal;
using BackendAI.Client;
using BackendAI.Client.Errors;

namespace BackendAI.Actors.Tests.Fakes;

/// <summary>
/// An in-memory server for actor specs: a status per session, scripted execute results, and
/// SSE connections fed from channels that tests can drop.
/// </summary>
internal sealed class FakeSessionApi : ISessionApi
{
    private readonly object _gate = new();
    private readonly Dictionary<string, SessionStatus> _status = new();
    private readonly Dictionary<string, Exception> _infoFailures = new();

    public ConcurrentQueue<(string Session, ExecuteRequest Request)> ExecuteCalls { get; } = new();
    public ConcurrentQueue<string> Calls { get; } = new();
    public Func<string, ExecuteRequest, Task<ExecutionResult>> OnExecute { get; set; } =
        (_, r) => Task.FromResult(Result("finished", r.RunId ?? "run-1", 0, ("stdout", "ok\n")));
    public Func<string, IReadOnlyList<string>, IProgress<TransferProgress>?, CancellationToken, Task> OnUpload { get; set; } =
        (_, _, _, _) => Task.CompletedTask;
    public SessionCreateResult? NextCreate { get; set; }
    public int InfoCalls;
    public Channel<FakeConnection> Connections { get; } = Channel.CreateUnbounded<FakeConnection>();
    public int OpenedConnections;

    public void SetStatus(string session, SessionStatus status)
    {
        lock (_gate) { _status[session] = status; _infoFailures.Remove(session); }
    }

    public void Remove(string session) => FailInfo(session, NotFound(session));

    public void FailInfo(string session, Exception ex)
    {
        lock (_gate) _infoFailures[session] = ex;
    }

    public static BackendApiException NotFound(string session) =>
        new(404, "Not Found", "https://api.backend.ai/probs/session-not-found", "No such session.", session);

    public static ExecutionResult Result(string status, string runId, int? exitCode, params (string Type, string Text)[] console) =>
        new(status, runId, exitCode, false, console.Select(c => Record(c.Type, c.Text)).ToArray(), null);

    public static ConsoleRecord Record(string type, string text) =>
        new(type, text, null, JsonSerializer.SerializeToElement(new[] { type, text }));

    public Task<SessionCreateResult> CreateAsync(SessionCreateRequest request, CancellationToken cancellationToken)
    {
        Calls.Enqueue("create");
        var r = NextCreate ?? new SessionCreateResult(Guid.NewGuid().ToString(), request.Name ?? "s", "RUNNING", [], true);
        SetStatus(r.SessionId, r.Status == "TIMEOUT" ? SessionStatus.Pending : SessionStatuses.Parse(r.Status));
        return Task.FromResult(r);
    }

    public Task<SessionInfo> GetInfoAsync(string sessionRef, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref InfoCalls);
        lock (_gate)
        {
            if (_infoFailures.TryGetValue(sessionRef, out var ex)) return Task.FromException<SessionInfo>(ex);
            if (!_status.TryGetValue(sessionRef, out var s)) return Task.FromException<SessionInfo>(NotFound(sessionRef));
            return Task.FromResult(new SessionInfo { Status = s, Image = "sim" });
        }
    }

    public Task DestroyAsync(string sessionRef, bool forced, CancellationToken cancellationToken)
    {
        Calls.Enqueue("destroy");
        Remove(sessionRef);
        return Task.CompletedTask;
    }

    public Task<ExecutionResult> ExecuteAsync(string sessionRef, ExecuteRequest request, CancellationToken cancellationToken)
    {
        ExecuteCalls.Enqueue((sessionRef, request));
        return OnExecute(sessionRef, request);
    }

    public Task UploadAsync(string sessionRef, IReadOnlyList<string> localPaths, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        Calls.Enqueue("upload");
        return OnUpload(sessionRef, localPaths, progress, cancellationToken);
    }

    public Task<IReadOnlyList<string>> DownloadAsync(string sessionRef, IReadOnlyList<string> remotePaths, string destinationDirectory,
        IProgress<TransferProgress>? progress, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(remotePaths.Select(p => Path.Combine(destinationDirectory, p)).ToArray());

    public Task<IReadOnlyList<SessionFileEntry>> ListFilesAsync(string sessionRef, string path, CancellationToken cancellationToken)
    {
        Calls.Enqueue("list:" + path);
        return Task.FromResult<IReadOnlyList<SessionFileEntry>>([new SessionFileEntry("a.txt", "-rw-r--r--", 1, 0, 0, 0)]);
    }

    public Task InterruptAsync(string sessionRef, CancellationToken cancellationToken)
    {
        Calls.Enqueue("interrupt");
        return Task.CompletedTask;
    }

    public Task RestartAsync(string sessionRef, CancellationToken cancellationToken)
    {
        Calls.Enqueue("restart");
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<SessionSummary> ListSessionsAsync(string? status, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<KeyValuePair<string, SessionStatus>> all;
        lock (_gate) all = _status.ToList();
        foreach (var (id, s) in all)
        {
            await Task.Yield();
            if (status is null || SessionStatuses.ToWire(s) == status)
                yield return new SessionSummary(id, id, "sim", SessionStatuses.ToWire(s), null, null, null, "INTERACTIVE");
        }
    }

    public async Task<ISessionEventConnection> OpenSessionEventsAsync(SessionEventFilter filter, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref OpenedConnections);
        var c = new FakeConnection();
        await Connections.Writer.WriteAsync(c, cancellationToken);
        return c;
    }

    public static SessionEvent Event(string name, string sessionId, string sessionName = "s", string reason = "") =>
        new(name, reason, sessionName, "AKIA", sessionId, sessionId, null, null);
}

/// <summary>One fake SSE connection: tests push events, then drop or close it.</summary>
internal sealed class FakeConnection : ISessionEventConnection
{
    private readonly Channel<SessionEvent?> _events = Channel.CreateUnbounded<SessionEvent?>();
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Disposed => _disposed.Task;

    /// <summary>How many reads the consumer issued (a read = one frame pulled off the socket).</summary>
    public int Reads => Volatile.Read(ref _reads);

    private int _reads;

    public void Push(SessionEvent e) => _events.Writer.TryWrite(e);

    /// <summary>The connection ends without server_close (the runtime must reconnect).</summary>
    public void Drop() => _events.Writer.TryComplete(new EventStreamDroppedException("dropped by the test"));

    /// <summary>server_close.</summary>
    public void Close() => _events.Writer.TryWrite(null);

    public async ValueTask<SessionEvent?> ReadAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        try
        {
            return await _events.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException ex) when (ex.InnerException is not null)
        {
            throw ex.InnerException;
        }
    }

    public ValueTask DisposeAsync()
    {
        _disposed.TrySetResult();
        return ValueTask.CompletedTask;
    }
}

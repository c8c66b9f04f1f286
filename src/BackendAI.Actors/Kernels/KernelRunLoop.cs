using Akka.Actor;
using BackendAI.Actors.Hosting;
using BackendAI.Actors.Internal;
using BackendAI.Actors.Sessions;
using BackendAI.Client;

namespace BackendAI.Actors.Kernels;

/// <summary>
/// Ask the run loop for the next batch of run <paramref name="Run"/>: exactly one execute call (REST) or one
/// result frame (WebSocket). <paramref name="Input"/> answers a <c>waiting-input</c>.
/// </summary>
public sealed record PullRunBatch(string SessionId, long Run, string? Input = null) : ISessionMessage;

/// <summary>The console output of one execute call (or one streamed result) and what the server said next.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="Run">The run's number in its session's run loop: pull and stop the run with it.</param>
/// <param name="RunLoop">The run loop serving the run (send <see cref="PullRunBatch"/> and <see cref="StopRun"/> here).</param>
/// <param name="RunId">The run id (the server's, kept from the first call).</param>
/// <param name="Status"><c>continued</c>, <c>waiting-input</c>, <c>finished</c>, <c>clean-finished</c>, <c>build-finished</c>, <c>exec-timeout</c>.</param>
/// <param name="ExitCode">The exit code, when the server gave one.</param>
/// <param name="IsPassword">For <c>waiting-input</c>: hide the echo.</param>
/// <param name="Console">The records of this call, in order.</param>
/// <param name="IsFinished">True when the run is over (no further pulls).</param>
public sealed record RunBatch(string SessionId, long Run, IActorRef RunLoop, string? RunId, string Status, int? ExitCode, bool IsPassword,
    IReadOnlyList<ConsoleRecord> Console, bool IsFinished) : ISessionMessage;

/// <summary>The consumer of run <paramref name="Run"/> is gone: no further calls are made for it (its WebSocket is closed).</summary>
public sealed record StopRun(string SessionId, long Run) : ISessionMessage;

/// <summary>
/// The run loop of one session (sessions.md §10): a long-lived child of the session actor that serves
/// every run of the session. Each run is its own logical loop — its own number, the server's run id
/// kept from its first result, one call per <see cref="PullRunBatch"/> so the consumer's demand paces
/// the <c>continue</c> requests — and is forgotten as soon as it is over or stopped. A
/// <see cref="StartRun"/> is answered by the run's first batch, so a run that finishes in one call
/// costs one message round trip and no actor creation.
/// </summary>
/// <remarks>
/// Runs with <see cref="StartRun.UseWebSocket"/> use the streaming-execute WebSocket instead of REST: the
/// first pull opens it (the first frame carries the code), each pull reads one result frame, an input
/// answer is sent as a text frame before the next read, and stopping the run closes the socket (the
/// server interrupts the run). At most one call per run is in flight; runs of one session are independent.
/// </remarks>
internal sealed class KernelRunLoop : ReceiveActor
{
    private readonly string _sessionId;
    private readonly ISessionApi _api;
    private readonly RunLoopSettings _settings;
    private readonly Dictionary<long, Run> _runs = [];
    private readonly IActorRef _self;
    private long _nextRun;

    public KernelRunLoop(string sessionId, ISessionApi api, RunLoopSettings settings)
    {
        _sessionId = sessionId;
        _api = api;
        _settings = settings;
        _self = Self;

        Receive<StartRun>(Start);
        Receive<PullRunBatch>(Pull);
        Receive<CallCompleted>(Completed);
        Receive<CallFailed>(Failed);
        Receive<StopRun>(s =>
        {
            if (!_runs.Remove(s.Run, out var run)) return;
            run.Stopped = true;
            if (!run.Busy) run.Connection?.Close();  // a busy call sees the cancellation and closes it when it ends
            else run.Connection?.Cancel();
        });
    }

    internal static Props Props(string sessionId, ISessionApi api, RunLoopSettings settings) =>
        Akka.Actor.Props.Create(() => new KernelRunLoop(sessionId, api, settings)).WithDispatcher(settings.Dispatcher);

    /// <inheritdoc />
    protected override void PostStop()
    {
        foreach (var run in _runs.Values)
        {
            run.Stopped = true;
            if (run.Busy) run.Connection?.Cancel();
            else run.Connection?.Close();
        }
        _runs.Clear();
    }

    private void Start(StartRun start)
    {
        var run = new Run(++_nextRun, start.Request, start.UseWebSocket);
        _runs.Add(run.Number, run);
        Call(run, null, Sender);
    }

    private void Pull(PullRunBatch pull)
    {
        if (!_runs.TryGetValue(pull.Run, out var run) || run.Busy)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException(
                run is null ? $"Run {pull.Run} of session '{_sessionId}' is over." : "A batch is already being fetched; pull one at a time.")));
            return;
        }
        Call(run, pull.Input, Sender);
    }

    private void Call(Run run, string? input, IActorRef replyTo)
    {
        run.Busy = true;
        Task<ExecutionResult> call;
        if (run.UseWebSocket)
        {
            run.Connection ??= new WebSocketRun(_api, _sessionId, run.First!);
            run.First = null;
            call = run.Connection.NextAsync(run.LastStatus == "waiting-input" ? input ?? "" : null);
        }
        else
        {
            ExecuteRequest request;
            if (run.First is { } first)
            {
                request = first;
                run.First = null;
            }
            else if (run.LastStatus == "waiting-input")
            {
                request = new ExecuteRequest(ExecuteMode.Input, input ?? "", run.RunId);
            }
            else
            {
                request = new ExecuteRequest(ExecuteMode.Continue, "", run.RunId);
            }
            call = _api.ExecuteAsync(_sessionId, request, CancellationToken.None);
        }

        if (call.IsCompletedSuccessfully)
        {
            var r = call.Result;
            var batch = BatchOf(run, r);
            Completed(new CallCompleted(run, r));
            replyTo.Tell(batch, Self);
            return;
        }
        // The answer goes to the caller straight from the call's continuation (no hop through this
        // mailbox). The bookkeeping message is sent first, so it is processed before the caller's
        // next pull, which can only be sent after the answer.
        call.WaitAsync(_settings.CallTimeout).ContinueWith(static (t, state) =>
        {
            var (loop, run, replyTo, self) = ((KernelRunLoop, Run, IActorRef, IActorRef))state!;
            if (t.IsCompletedSuccessfully)
            {
                var batch = loop.BatchOf(run, t.Result);
                self.Tell(new CallCompleted(run, t.Result), ActorRefs.NoSender);
                RunReply.Answer(replyTo, batch, self);
            }
            else
            {
                var cause = t.Exception is { } ex ? SessionActor.Unwrap(ex) : new TaskCanceledException(t);
                self.Tell(new CallFailed(run, cause), ActorRefs.NoSender);
                RunReply.Answer(replyTo, new Status.Failure(cause), self);
            }
        }, (this, run, replyTo, Self), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// The answer to one call. Reads only what no one writes while the call is in flight (the session id
    /// and the run id kept from earlier calls), so the call's continuation may build it outside the actor.
    /// </summary>
    private RunBatch BatchOf(Run run, ExecutionResult r) =>
        new(_sessionId, run.Number, _self, run.RunId ?? r.RunId, r.Status, r.ExitCode, r.IsPassword, r.Console, IsOver(r.Status));

    private static bool IsOver(string status) => status is not ("continued" or "waiting-input" or "clean-finished" or "build-finished");

    private void Completed(CallCompleted c)
    {
        var run = c.Run;
        run.Busy = false;
        var r = c.Result;
        run.RunId ??= r.RunId;   // the first call had none: keep the server's for the rest of the run
        run.LastStatus = r.Status;
        if (run.Stopped || IsOver(r.Status))
        {
            _runs.Remove(run.Number);
            run.Connection?.Close();
        }
    }

    private void Failed(CallFailed f)
    {
        var run = f.Run;
        run.Busy = false;
        _runs.Remove(run.Number);
        run.Connection?.Close();
    }

    private sealed class Run(long number, ExecuteRequest first, bool useWebSocket)
    {
        public long Number { get; } = number;
        public bool UseWebSocket { get; } = useWebSocket;
        public ExecuteRequest? First { get; set; } = first;
        public string? RunId { get; set; } = first.RunId;
        public string? LastStatus { get; set; }
        public bool Busy { get; set; }
        public bool Stopped { get; set; }
        public WebSocketRun? Connection { get; set; }
    }

    private sealed record CallCompleted(Run Run, ExecutionResult Result);

    private sealed record CallFailed(Run Run, Exception Cause);
}

/// <summary>
/// The streaming-execute WebSocket of one run. Calls are strictly one at a time (the run loop marks the
/// run busy), so the socket is only ever used by one task; <see cref="Cancel"/> may come from the actor
/// while a call is in flight and makes it fail; <see cref="Close"/> is only called when no call is in flight.
/// </summary>
internal sealed class WebSocketRun(ISessionApi api, string sessionId, ExecuteRequest first)
{
    private readonly CancellationTokenSource _cancel = new();
    private IExecuteStream? _stream;
    private int _closed;

    /// <summary>Opens the socket on the first call; sends <paramref name="input"/> (when given) and reads the next result.</summary>
    public async Task<ExecutionResult> NextAsync(string? input)
    {
        var ct = _cancel.Token;
        _stream ??= await api.OpenExecuteStreamAsync(sessionId, first, ct).ConfigureAwait(false);
        if (input is not null) await _stream.SendInputAsync(input, ct).ConfigureAwait(false);
        return await _stream.ReadAsync(ct).ConfigureAwait(false)
            ?? throw new BackendAI.Client.Errors.BackendProtocolException(
                $"The streaming-execute WebSocket of session '{sessionId}' closed before the run finished.");
    }

    /// <summary>Makes an in-flight call fail (the run was stopped).</summary>
    public void Cancel()
    {
        if (Volatile.Read(ref _closed) == 0) _cancel.Cancel();
    }

    /// <summary>Closes the socket (in the background); idempotent.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        var stream = _stream;
        _stream = null;
        _cancel.Dispose();
        if (stream is not null) _ = stream.DisposeAsync().AsTask();
    }
}

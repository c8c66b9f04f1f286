using Akka.Actor;
using BackendAI.Actors.Hosting;
using BackendAI.Actors.Internal;
using BackendAI.Actors.Sessions;
using BackendAI.Client;

namespace BackendAI.Actors.Kernels;

/// <summary>Ask the run loop for the next batch: exactly one execute call. <paramref name="Input"/> answers a <c>waiting-input</c>.</summary>
public sealed record PullRunBatch(string SessionId, string? Input = null) : ISessionMessage;

/// <summary>The console output of one execute call and what the server said next.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="RunId">The run id (the server's, kept from the first call).</param>
/// <param name="Status"><c>continued</c>, <c>waiting-input</c>, <c>finished</c>, <c>clean-finished</c>, <c>build-finished</c>, <c>exec-timeout</c>.</param>
/// <param name="ExitCode">The exit code, when the server gave one.</param>
/// <param name="IsPassword">For <c>waiting-input</c>: hide the echo.</param>
/// <param name="Console">The records of this call, in order.</param>
/// <param name="IsFinished">True when the run is over (no further pulls).</param>
public sealed record RunBatch(string SessionId, string? RunId, string Status, int? ExitCode, bool IsPassword,
    IReadOnlyList<ConsoleRecord> Console, bool IsFinished) : ISessionMessage;

/// <summary>The consumer is gone: stop the run loop (no further calls are made).</summary>
public sealed record StopRun(string SessionId) : ISessionMessage;

/// <summary>
/// One run (sessions.md §10): issues one execute call per <see cref="PullRunBatch"/>, so the
/// consumer's demand paces the <c>continue</c> requests. Keeps the server's run id from the first
/// result; stops itself when the run is over.
/// </summary>
internal sealed class KernelRunLoop : ReceiveActor
{
    private readonly string _sessionId;
    private readonly ISessionApi _api;
    private readonly RunLoopSettings _settings;
    private ExecuteRequest? _first;
    private string? _runId;
    private string? _lastStatus;
    private bool _busy;
    private bool _finished;

    public KernelRunLoop(string sessionId, ExecuteRequest first, ISessionApi api, RunLoopSettings settings)
    {
        _sessionId = sessionId;
        _first = first;
        _runId = first.RunId;
        _api = api;
        _settings = settings;

        Receive<PullRunBatch>(Pull);
        Receive<CallCompleted>(Completed);
        Receive<CallFailed>(f =>
        {
            _busy = false;
            _finished = true;
            f.ReplyTo.Tell(new Status.Failure(f.Cause));
            Context.Stop(Self);
        });
        Receive<StopRun>(_ => Context.Stop(Self));
    }

    internal static Props Props(string sessionId, ExecuteRequest first, ISessionApi api, RunLoopSettings settings) =>
        Akka.Actor.Props.Create(() => new KernelRunLoop(sessionId, first, api, settings)).WithDispatcher(settings.Dispatcher);

    private void Pull(PullRunBatch pull)
    {
        if (_finished || _busy)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException(
                _finished ? "The run is over." : "A batch is already being fetched; pull one at a time.")));
            return;
        }

        ExecuteRequest request;
        if (_first is { } first)
        {
            request = first;
            _first = null;
        }
        else if (_lastStatus == "waiting-input")
        {
            request = new ExecuteRequest(ExecuteMode.Input, pull.Input ?? "", _runId);
        }
        else
        {
            request = new ExecuteRequest(ExecuteMode.Continue, "", _runId);
        }

        _busy = true;
        var replyTo = Sender;
        _api.ExecuteAsync(_sessionId, request, CancellationToken.None)
            .WaitAsync(_settings.CallTimeout)
            .PipeTo(Self, success: r => new CallCompleted(r, replyTo), failure: ex => new CallFailed(SessionActor.Unwrap(ex), replyTo));
    }

    private void Completed(CallCompleted c)
    {
        _busy = false;
        var r = c.Result;
        _runId ??= r.RunId;   // the first call had none: keep the server's for the rest of the run
        _lastStatus = r.Status;
        _finished = r.Status is not ("continued" or "waiting-input" or "clean-finished" or "build-finished");
        c.ReplyTo.Tell(new RunBatch(_sessionId, _runId, r.Status, r.ExitCode, r.IsPassword, r.Console, _finished));
        if (_finished) Context.Stop(Self);
    }

    private sealed record CallCompleted(ExecutionResult Result, IActorRef ReplyTo);

    private sealed record CallFailed(Exception Cause, IActorRef ReplyTo);
}

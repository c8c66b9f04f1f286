using Akka.Actor;
using BackendAI.Actors.Hosting;
using BackendAI.Actors.Internal;
using BackendAI.Actors.Sessions;

namespace BackendAI.Actors.Transfers;

/// <summary>
/// Runs a transfer (vfolder upload or download) in the pool; the caller awaits <paramref name="Completion"/>, which
/// <paramref name="Work"/>'s outcome completes. A transfer cancelled while it waits for a slot never starts.
/// Local-only (carries a delegate and a token).
/// </summary>
/// <param name="What">What is transferred, for errors.</param>
/// <param name="Work">The transfer; started once a slot is free.</param>
/// <param name="Completion">Completed with the outcome of <paramref name="Work"/>, or failed when the queue is full.</param>
/// <param name="CancellationToken">The caller's token (passed to <paramref name="Work"/>).</param>
internal sealed record RunTransfer(string What, Func<CancellationToken, Task> Work, TaskCompletionSource Completion, CancellationToken CancellationToken);

/// <summary>
/// Runs uploads and downloads with bounded concurrency (<c>backendai.transfer.max-concurrent</c>);
/// further transfers wait in a bounded queue (<c>queue-size</c>) and beyond that fail at once.
/// Session transfers (<see cref="UploadFiles"/>, <see cref="DownloadFiles"/>) and vfolder transfers
/// (<see cref="RunTransfer"/>) share the slots. The transfer itself is the client's (multipart upload,
/// safe tar extraction, tus, range download); progress and cancellation are passed straight through.
/// </summary>
internal sealed class TransferActor : ReceiveActor
{
    private readonly ISessionApi _api;
    private readonly TransferSettings _settings;
    private readonly Queue<(object Command, IActorRef ReplyTo)> _waiting = new();
    private int _running;

    public TransferActor(ISessionApi api, TransferSettings settings)
    {
        _api = api;
        _settings = settings;
        Receive<UploadFiles>(cmd => Admit(cmd, cmd.CancellationToken));
        Receive<DownloadFiles>(cmd => Admit(cmd, cmd.CancellationToken));
        Receive<RunTransfer>(cmd => Admit(cmd, cmd.CancellationToken));
        Receive<TransferFinished>(f =>
        {
            f.ReplyTo.Tell(f.Reply);
            _running = Math.Max(0, _running - 1);
            while (_running < _settings.MaxConcurrent && _waiting.TryDequeue(out var next))
                Start(next.Command, next.ReplyTo);
        });
    }

    internal static Props Props(ISessionApi api, TransferSettings settings) =>
        Akka.Actor.Props.Create(() => new TransferActor(api, settings)).WithDispatcher(settings.Dispatcher);

    private void Admit(object cmd, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) Cancelled(cmd, Sender);
        else if (_running < _settings.MaxConcurrent) Start(cmd, Sender);
        else if (_waiting.Count < _settings.QueueSize) _waiting.Enqueue((cmd, Sender));
        else Refuse(cmd, Sender, new InvalidOperationException(
            $"Too many transfers waiting ({_settings.QueueSize}, backendai.transfer.queue-size); try again later."));
    }

    private void Start(object cmd, IActorRef replyTo)
    {
        switch (cmd)
        {
            case UploadFiles up when up.CancellationToken.IsCancellationRequested:
            case DownloadFiles down when down.CancellationToken.IsCancellationRequested:
            case RunTransfer run when run.CancellationToken.IsCancellationRequested:
                Cancelled(cmd, replyTo); // gave up while waiting: never started, the slot stays free
                return;
        }

        _running++;
        switch (cmd)
        {
            case UploadFiles up:
                Started(() => Diagnostics.ActorsTelemetry.CountUpload(_api.UploadAsync(up.SessionId, up.LocalPaths, up.Progress, up.CancellationToken), up.LocalPaths))
                    .PipeTo(Self, success: () => new TransferFinished(replyTo, Akka.Done.Instance),
                        failure: ex => new TransferFinished(replyTo, new Status.Failure(SessionActor.Unwrap(ex))));
                break;
            case DownloadFiles down:
                Started(() => Diagnostics.ActorsTelemetry.CountDownload(_api.DownloadAsync(down.SessionId, down.RemotePaths, down.DestinationDirectory, down.Progress, down.CancellationToken), down.DestinationDirectory))
                    .PipeTo(Self, success: paths => new TransferFinished(replyTo, new FilesDownloaded(down.SessionId, paths)),
                        failure: ex => new TransferFinished(replyTo, new Status.Failure(SessionActor.Unwrap(ex))));
                break;
            case RunTransfer run:
                Started(() => run.Work(run.CancellationToken)).ContinueWith(t =>
                {
                    // The caller sees the outcome first; the slot is freed when the actor reads TransferFinished.
                    if (t.IsCanceled) run.Completion.TrySetCanceled(run.CancellationToken);
                    else if (t.Exception is { } e) run.Completion.TrySetException(SessionActor.Unwrap(e));
                    else run.Completion.TrySetResult();
                    return new TransferFinished(ActorRefs.Nobody, Akka.Done.Instance);
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).PipeTo(Self);
                break;
        }
    }

    /// <summary>Runs <paramref name="start"/>, turning a synchronous throw into a failed task (the actor must not crash).</summary>
    private static Task<T> Started<T>(Func<Task<T>> start)
    {
        try
        {
            return start();
        }
        catch (Exception ex)
        {
            return Task.FromException<T>(ex);
        }
    }

    private static Task Started(Func<Task> start)
    {
        try
        {
            return start();
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    private static void Cancelled(object cmd, IActorRef replyTo)
    {
        if (cmd is RunTransfer run) run.Completion.TrySetCanceled(run.CancellationToken);
        else replyTo.Tell(new Status.Failure(new OperationCanceledException("The transfer was cancelled before it started.")));
    }

    private static void Refuse(object cmd, IActorRef replyTo, Exception error)
    {
        if (cmd is RunTransfer run) run.Completion.TrySetException(error);
        else replyTo.Tell(new Status.Failure(error));
    }

    /// <summary>Transfers still waiting when the pool stops (runtime disposal) or restarts fail instead of hanging.</summary>
    protected override void PostStop()
    {
        while (_waiting.TryDequeue(out var next))
            Refuse(next.Command, next.ReplyTo, new InvalidOperationException("The transfer pool stopped before the transfer started."));
    }

    /// <summary>How many transfers run now (for tests and diagnostics).</summary>
    internal int Running => _running;

    private sealed record TransferFinished(IActorRef ReplyTo, object Reply);
}

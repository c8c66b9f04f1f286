using Akka.Actor;
using BackendAI.Actors.Hosting;
using BackendAI.Actors.Internal;
using BackendAI.Actors.Sessions;

namespace BackendAI.Actors.Transfers;

/// <summary>
/// Runs uploads and downloads with bounded concurrency (<c>backendai.transfer.max-concurrent</c>);
/// further transfers wait in a bounded queue (<c>queue-size</c>) and beyond that fail at once.
/// The transfer itself is the client's (multipart upload, safe tar extraction); progress and
/// cancellation are passed straight through.
/// </summary>
internal sealed class TransferActor : ReceiveActor
{
    private readonly ISessionApi _api;
    private readonly TransferSettings _settings;
    private readonly Queue<(ISessionCommand Command, IActorRef ReplyTo)> _waiting = new();
    private int _running;

    public TransferActor(ISessionApi api, TransferSettings settings)
    {
        _api = api;
        _settings = settings;
        Receive<UploadFiles>(cmd => Admit(cmd));
        Receive<DownloadFiles>(cmd => Admit(cmd));
        Receive<TransferFinished>(f =>
        {
            f.ReplyTo.Tell(f.Reply);
            _running--;
            while (_running < _settings.MaxConcurrent && _waiting.TryDequeue(out var next))
                Start(next.Command, next.ReplyTo);
        });
    }

    internal static Props Props(ISessionApi api, TransferSettings settings) =>
        Akka.Actor.Props.Create(() => new TransferActor(api, settings)).WithDispatcher(settings.Dispatcher);

    private void Admit(ISessionCommand cmd)
    {
        if (_running < _settings.MaxConcurrent) Start(cmd, Sender);
        else if (_waiting.Count < _settings.QueueSize) _waiting.Enqueue((cmd, Sender));
        else Sender.Tell(new Status.Failure(new InvalidOperationException(
            $"Too many transfers waiting ({_settings.QueueSize}, backendai.transfer.queue-size); try again later.")));
    }

    private void Start(ISessionCommand cmd, IActorRef replyTo)
    {
        _running++;
        switch (cmd)
        {
            case UploadFiles up:
                Diagnostics.ActorsTelemetry.CountUpload(_api.UploadAsync(up.SessionId, up.LocalPaths, up.Progress, up.CancellationToken), up.LocalPaths)
                    .PipeTo(Self, success: () => new TransferFinished(replyTo, Akka.Done.Instance),
                        failure: ex => new TransferFinished(replyTo, new Status.Failure(SessionActor.Unwrap(ex))));
                break;
            case DownloadFiles down:
                Diagnostics.ActorsTelemetry.CountDownload(_api.DownloadAsync(down.SessionId, down.RemotePaths, down.DestinationDirectory, down.Progress, down.CancellationToken), down.DestinationDirectory)
                    .PipeTo(Self, success: paths => new TransferFinished(replyTo, new FilesDownloaded(down.SessionId, paths)),
                        failure: ex => new TransferFinished(replyTo, new Status.Failure(SessionActor.Unwrap(ex))));
                break;
        }
    }

    /// <summary>How many transfers run now (for tests and diagnostics).</summary>
    internal int Running => _running;

    private sealed record TransferFinished(IActorRef ReplyTo, object Reply);
}

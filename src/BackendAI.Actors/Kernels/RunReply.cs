using Akka.Actor;

namespace BackendAI.Actors.Kernels;

/// <summary>
/// The reply address of one <see cref="Sessions.StartRun"/> or <see cref="PullRunBatch"/>: a promise that is not
/// registered with the actor system and keeps no timer (the caller bounds the wait itself).
/// </summary>
/// <remarks>
/// Two ways in. <see cref="ICanTell.Tell"/> from an actor (a refusal, a stashed command failed) completes
/// the promise on the thread pool, so the caller's continuation never runs inside that actor. The run
/// loop's call continuation answers through <see cref="Complete"/>, which completes it on the calling
/// thread: the awaiting code goes on where the HTTP response arrived, as a plain client loop would,
/// instead of hopping through the loop's mailbox and then through the thread pool.
/// </remarks>
internal sealed class RunReply : MinimalActorRef
{
    private readonly TaskCompletionSource<RunBatch> _promise = new();

    public RunReply(IActorRefProvider provider)
    {
        Provider = provider;
        Path = provider.TempPath();
    }

    /// <inheritdoc />
    public override ActorPath Path { get; }

    /// <inheritdoc />
    public override IActorRefProvider Provider { get; }

    /// <summary>The answer: the batch, or the failure the actor sent.</summary>
    public Task<RunBatch> Task => _promise.Task;

    /// <summary>Sends <paramref name="message"/> to <paramref name="replyTo"/>: inline when it is a <see cref="RunReply"/>, as a message otherwise.</summary>
    public static void Answer(IActorRef replyTo, object message, IActorRef sender)
    {
        if (replyTo is RunReply reply) reply.Complete(message);
        else replyTo.Tell(message, sender);
    }

    /// <summary>Completes the promise on this thread.</summary>
    public void Complete(object message)
    {
        switch (message)
        {
            case RunBatch batch:
                _promise.TrySetResult(batch);
                break;
            case Status.Failure failure:
                _promise.TrySetException(failure.Cause);
                break;
            default:
                _promise.TrySetException(new InvalidOperationException($"Unexpected answer {message.GetType().Name} to a run request."));
                break;
        }
    }

    /// <inheritdoc />
    protected override void TellInternal(object message, IActorRef sender) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Reply.Complete(s.Message), (Reply: this, Message: message), preferLocal: false);
}

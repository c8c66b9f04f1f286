using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
using BackendAI.Actors.Sessions;
using BackendAI.Client;

namespace BackendAI.Actors.Kernels;

/// <summary>
/// The console records of one run as a <see cref="Source{TOut,TMat}"/>. Each downstream pull
/// that finds the buffer empty asks the session's <see cref="KernelRunLoop"/> for one batch (one
/// execute call, or one WebSocket result), so a slow consumer delays the next <c>continue</c>
/// request (or the next socket read) instead of filling memory.
/// </summary>
internal static class RunSource
{
    public static Source<ConsoleRecord, Task<ExecutionOutcome>> Create(
        IActorRef session, string sessionId, ExecuteRequest request,
        Func<InputPrompt, CancellationToken, ValueTask<string>>? inputProvider,
        TimeSpan askTimeout, TimeSpan callTimeout, int bufferSize, bool collect, bool useWebSocket, CancellationToken cancellationToken) =>
        Source.Setup((_, _) =>
            {
                var cursor = new RunCursor(Provider(session), session, sessionId, request, inputProvider, askTimeout, callTimeout, collect, useWebSocket, cancellationToken);
                // UnfoldAsync, not UnfoldResourceAsync: the latter reads ahead, which would issue
                // execute calls nobody asked for. The run loop is stopped when the stream ends.
                return Source.UnfoldAsync<RunCursor, IReadOnlyList<ConsoleRecord>>(cursor, c => c.NextAsync())
                    .WatchTermination((mat, done) =>
                    {
                        done.ContinueWith(_ => cursor.Close(), TaskScheduler.Default);
                        return mat;
                    })
                    .SelectMany(batch => batch)
                    .Buffer(bufferSize, OverflowStrategy.Backpressure)
                    .MapMaterializedValue(_ => cursor.Outcome);
            })
            .MapMaterializedValue(t => t.Unwrap());

    /// <summary>
    /// Drives a run to its end and collects the outcome without materialising a stream: the same
    /// <see cref="KernelRunLoop"/> protocol (one execute call per pull), pulled as fast as results arrive.
    /// Used by the collecting <c>ExecuteAsync</c>, where nobody downstream needs backpressure.
    /// </summary>
    public static async Task<ExecutionOutcome> CollectAsync(
        IActorRef session, string sessionId, ExecuteRequest request,
        Func<InputPrompt, CancellationToken, ValueTask<string>>? inputProvider,
        TimeSpan askTimeout, TimeSpan callTimeout, bool useWebSocket, CancellationToken cancellationToken)
    {
        var cursor = new RunCursor(Provider(session), session, sessionId, request, inputProvider, askTimeout, callTimeout, collect: true, useWebSocket, cancellationToken);
        try
        {
            while ((await cursor.NextAsync().ConfigureAwait(false)).HasValue)
            {
            }
        }
        catch (Exception) when (cursor.Outcome.IsFaulted)
        {
            // the outcome carries the unwrapped cause
        }
        finally
        {
            cursor.Close();
        }
        return await cursor.Outcome.ConfigureAwait(false);
    }

    private static IActorRefProvider Provider(IActorRef session) =>
        session is IInternalActorRef local ? local.Provider : throw new ArgumentException("The session actor must be a local actor.", nameof(session));

    private sealed class RunCursor(
        IActorRefProvider provider, IActorRef session, string sessionId, ExecuteRequest request,
        Func<InputPrompt, CancellationToken, ValueTask<string>>? inputProvider,
        TimeSpan askTimeout, TimeSpan callTimeout, bool collect, bool useWebSocket, CancellationToken cancellationToken)
    {
        private readonly TaskCompletionSource<ExecutionOutcome> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<ConsoleRecord> _console = [];
        private readonly System.Text.StringBuilder _stdout = new();
        private readonly System.Text.StringBuilder _stderr = new();
        private IActorRef? _loop;
        private long _run;
        private InputPrompt? _prompt;
        private bool _done;

        public Task<ExecutionOutcome> Outcome => _outcome.Task;

        public async Task<Option<(RunCursor, IReadOnlyList<ConsoleRecord>)>> NextAsync()
        {
            if (_done) return Option<(RunCursor, IReadOnlyList<ConsoleRecord>)>.None;
            try
            {
                RunBatch batch;
                if (_loop is null)
                {
                    batch = await StartAsync().ConfigureAwait(false);
                    _loop = batch.RunLoop;
                    _run = batch.Run;
                }
                else
                {
                    string? input = null;
                    if (_prompt is { } prompt)
                    {
                        if (inputProvider is null)
                            throw new InvalidOperationException(
                                $"The run in session '{sessionId}' waits for input but ExecuteOptions.InputProvider is not set.");
                        input = await inputProvider(prompt, cancellationToken).ConfigureAwait(false);
                        _prompt = null;
                    }
                    var reply = new RunReply(provider);
                    _loop.Tell(new PullRunBatch(sessionId, _run, input), reply);
                    batch = await Bounded(reply.Task, callTimeout, "PullRunBatch").ConfigureAwait(false);
                }
                foreach (var record in batch.Console)
                {
                    if (!collect) break;
                    _console.Add(record);
                    if (record.Type == "stdout") _stdout.Append(record.Text);
                    else if (record.Type == "stderr") _stderr.Append(record.Text);
                }

                if (batch.Status == "waiting-input")
                {
                    var promptText = batch.Console.LastOrDefault(r => r.Type == "stdout")?.Text ?? "";
                    _prompt = new InputPrompt(sessionId, promptText, batch.IsPassword);
                }

                if (batch.IsFinished)
                {
                    _done = true;
                    _outcome.TrySetResult(new ExecutionOutcome(batch.Status, batch.ExitCode, _stdout.ToString(),
                        _stderr.ToString(), _console.ToArray(), batch.RunId ?? ""));
                }

                return Option<(RunCursor, IReadOnlyList<ConsoleRecord>)>.Create((this, batch.Console));
            }
            catch (Exception ex)
            {
                _done = true;
                _outcome.TrySetException(SessionActor.Unwrap(ex));
                // A cancelled or timed-out pull leaves the run behind in the loop (and its socket open):
                // stop it. After a failed call the loop has already forgotten the run; this is then a no-op.
                _loop?.Tell(new StopRun(sessionId, _run));
                throw;
            }
        }

        /// <summary>
        /// Starts the run: one ask to the session actor, answered by the run's first batch (it waits,
        /// stashed, until the session is RUNNING, then for the first call). When the consumer cancels
        /// before the answer, the run is stopped as soon as its number is known.
        /// </summary>
        private async Task<RunBatch> StartAsync()
        {
            var reply = new RunReply(provider);
            session.Tell(new StartRun(sessionId, request, useWebSocket), reply);
            try
            {
                return await Bounded(reply.Task, askTimeout + callTimeout, "StartRun").ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _ = reply.Task.ContinueWith(static (t, state) =>
                {
                    var id = (string)state!;
                    if (t.IsCompletedSuccessfully && !t.Result.IsFinished) t.Result.RunLoop.Tell(new StopRun(id, t.Result.Run));
                }, sessionId, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw;
            }
        }

        /// <summary>Waits for an answer, at most <paramref name="timeout"/> (an actor that is gone never answers).</summary>
        private async Task<RunBatch> Bounded(Task<RunBatch> answer, TimeSpan timeout, string what)
        {
            try
            {
                return await answer.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new AskTimeoutException($"Session '{sessionId}' did not answer {what} within {timeout}.");
            }
        }

        public void Close()
        {
            if (_done) return;
            _loop?.Tell(new StopRun(sessionId, _run));
            _outcome.TrySetException(new OperationCanceledException($"The run in session '{sessionId}' was cancelled by its consumer."));
        }
    }
}

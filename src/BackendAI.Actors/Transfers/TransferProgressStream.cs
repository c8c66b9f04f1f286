using System.Runtime.CompilerServices;
using System.Threading.Channels;
using BackendAI.Actors.Reactive;

namespace BackendAI.Actors.Transfers;

/// <summary>
/// Progress as a stream: runs a transfer that takes an <see cref="IProgress{T}"/> and yields its reports.
/// Works for every transfer of the runtime, e.g.
/// <c>TransferProgressStream.Observe((p, ct) =&gt; runtime.VFolders.UploadAsync("data", files, progress: p, cancellationToken: ct))</c>
/// or <c>(p, ct) =&gt; session.DownloadAsync(paths, dir, p, ct)</c>.
/// </summary>
/// <remarks>
/// The reports wait in a bounded buffer; a consumer slower than the transfer skips intermediate reports (the oldest
/// are dropped), never the latest one, so the last report seen is the transfer's final state and the transfer is
/// never slowed by its observer. The stream ends when the transfer ends and rethrows its error. Stopping the
/// enumeration early (or cancelling it) cancels the transfer and waits for it to clean up.
/// </remarks>
public static class TransferProgressStream
{
    /// <summary>The default number of reports held for a slow consumer.</summary>
    public const int DefaultBufferSize = 64;

    /// <summary>Runs <paramref name="transfer"/> and yields its progress reports.</summary>
    /// <param name="transfer">The transfer, given the progress sink and the cancellation token to use.</param>
    /// <param name="bufferSize">Reports held for a slow consumer before the oldest are dropped.</param>
    /// <param name="cancellationToken">Cancels the transfer and the enumeration.</param>
    public static async IAsyncEnumerable<TransferProgress> Observe(Func<IProgress<TransferProgress>, CancellationToken, Task> transfer,
        int bufferSize = DefaultBufferSize, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bufferSize);
        var channel = Channel.CreateBounded<TransferProgress>(new BoundedChannelOptions(bufferSize)
        {
            FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false,
        });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = RunAsync(transfer, new ChannelProgress(channel.Writer), channel.Writer, cts.Token);
        var finished = false;
        try
        {
            await foreach (var report in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                yield return report;
            finished = true;
        }
        finally
        {
            if (!finished) await cts.CancelAsync().ConfigureAwait(false);
            try
            {
                await running.ConfigureAwait(false);
            }
            catch (Exception) when (!finished)
            {
                // abandoned early: the transfer's cancellation is the expected outcome
            }
        }
    }

    /// <summary>As <see cref="Observe"/>, as an observable: each subscription runs the transfer once.</summary>
    /// <param name="transfer">The transfer, given the progress sink and the cancellation token to use.</param>
    /// <param name="bufferSize">Reports held for a slow observer before the oldest are dropped.</param>
    public static IObservable<TransferProgress> ToObservable(Func<IProgress<TransferProgress>, CancellationToken, Task> transfer,
        int bufferSize = DefaultBufferSize)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        return StreamBridges.ToObservable(ct => Observe(transfer, bufferSize, ct));
    }

    private static async Task RunAsync(Func<IProgress<TransferProgress>, CancellationToken, Task> transfer, IProgress<TransferProgress> progress,
        ChannelWriter<TransferProgress> writer, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Yield();
            await transfer(progress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private sealed class ChannelProgress(ChannelWriter<TransferProgress> writer) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => writer.TryWrite(value);
    }
}

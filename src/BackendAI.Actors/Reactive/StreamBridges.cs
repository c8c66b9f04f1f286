using System.Reactive.Linq;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace BackendAI.Actors.Reactive;

/// <summary>Bridges from Akka.Streams to <see cref="IAsyncEnumerable{T}"/> and <see cref="IObservable{T}"/> (STYLE §7).</summary>
internal static class StreamBridges
{
    /// <summary>
    /// Materializes <paramref name="source"/> once, on the first <c>MoveNextAsync</c>, into a bounded
    /// channel (capacity <paramref name="bufferSize"/>, backpressure when full); a slow
    /// <c>await foreach</c> backpressures the stream. Cancelling or disposing the enumerator stops it.
    /// </summary>
    public static async IAsyncEnumerable<T> ToAsyncEnumerable<T, TMat>(Source<T, TMat> source, int bufferSize,
        IMaterializer materializer, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (killSwitch, reader) = source
            .ViaMaterialized(KillSwitches.Single<T>(), Keep.Right)
            .ToMaterialized(ChannelSink.AsReader<T>(bufferSize, singleReader: true, BoundedChannelFullMode.Wait), Keep.Both)
            .Run(materializer);
        using var registration = cancellationToken.Register(static ks => ((UniqueKillSwitch)ks!).Shutdown(), killSwitch);
        try
        {
            await foreach (var item in reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return item;
        }
        finally
        {
            killSwitch.Shutdown();
        }
    }

    /// <summary>An observable whose subscriptions each enumerate <paramref name="factory"/>: OnNext runs at the observer's pace.</summary>
    public static IObservable<T> ToObservable<T>(Func<CancellationToken, IAsyncEnumerable<T>> factory) =>
        Observable.Create<T>(async (observer, ct) =>
        {
            await foreach (var item in factory(ct).ConfigureAwait(false))
                observer.OnNext(item);
            observer.OnCompleted();
        });
}

using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace BackendAI.Actors.Reactive;

/// <summary>
/// The subscribers of a latest-value cell (a session's status, the event stream's state). Each has a bounded
/// channel that drops its oldest entry on overflow, so a slow subscriber still ends on the latest value.
/// The owning cell holds <see cref="Gate"/> around <see cref="Publish"/> and <see cref="CompleteAll"/>, so a
/// new subscriber is seeded and registered atomically with respect to updates.
/// </summary>
internal sealed class ReplaySubscribers<T>(int bufferSize)
{
    private readonly List<Channel<T>> _subscribers = [];

    /// <summary>The lock of the owning cell.</summary>
    public object Gate { get; } = new();

    /// <summary>Writes <paramref name="value"/> to every subscriber (caller holds <see cref="Gate"/>).</summary>
    public void Publish(T value)
    {
        foreach (var s in _subscribers) s.Writer.TryWrite(value);
    }

    /// <summary>Ends every subscription, with <paramref name="error"/> if given (caller holds <see cref="Gate"/>).</summary>
    public void CompleteAll(Exception? error = null)
    {
        foreach (var s in _subscribers) s.Writer.TryComplete(error);
        _subscribers.Clear();
    }

    /// <summary>
    /// A subscription. <paramref name="seed"/> runs under <see cref="Gate"/> with the new channel: it writes the
    /// current value and returns whether to stay subscribed (false after completing the writer itself).
    /// </summary>
    public async IAsyncEnumerable<T> ReadAllAsync(Func<ChannelWriter<T>, bool> seed, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(bufferSize)
        {
            FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false,
        });
        lock (Gate)
        {
            if (seed(channel.Writer)) _subscribers.Add(channel);
        }
        try
        {
            await foreach (var value in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return value;
        }
        finally
        {
            lock (Gate) _subscribers.Remove(channel);
        }
    }
}

using Akka.Configuration;
using Akka.Streams;

namespace BackendAI.Actors.Hosting;

/// <summary>The runtime's defaults: the embedded <c>reference.conf</c>.</summary>
public static class BackendAIConfig
{
    private static readonly Lazy<Config> s_reference = new(LoadReference);

    /// <summary>The embedded reference configuration (<c>backendai { … }</c>).</summary>
    public static Config Reference => s_reference.Value;

    /// <summary>The user's configuration with the reference configuration as fallback.</summary>
    public static Config WithFallback(Config? user) =>
        user is null || user.IsEmpty || ReferenceEquals(user, Reference) ? Reference : user.WithFallback(Reference);

    private static Config LoadReference()
    {
        using var stream = typeof(BackendAIConfig).Assembly.GetManifestResourceStream("BackendAI.Actors.reference.conf")
            ?? throw new InvalidOperationException("Embedded resource BackendAI.Actors.reference.conf is missing.");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}

/// <summary>Exponential backoff with jitter.</summary>
/// <param name="MinBackoff">First delay.</param>
/// <param name="MaxBackoff">Largest delay.</param>
/// <param name="RandomFactor">Jitter: up to this fraction is added at random.</param>
public sealed record BackoffSettings(TimeSpan MinBackoff, TimeSpan MaxBackoff, double RandomFactor)
{
    /// <summary>Reads <c>min-backoff</c>, <c>max-backoff</c>, <c>random-factor</c>.</summary>
    public static BackoffSettings Create(Config c) =>
        new(c.GetTimeSpan("min-backoff"), c.GetTimeSpan("max-backoff"), c.GetDouble("random-factor"));

    /// <summary>The delay before attempt <paramref name="attempt"/> (0-based), jittered.</summary>
    public TimeSpan Delay(int attempt, Random? random = null)
    {
        var exp = Math.Min(MaxBackoff.TotalMilliseconds, MinBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        var jitter = 1 + ((random ?? Random.Shared).NextDouble() * RandomFactor);
        return TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, exp * jitter));
    }
}

/// <summary><c>backendai.session</c>.</summary>
public sealed record SessionSettings(
    TimeSpan StartMaxWait, TimeSpan ReconcileInterval, TimeSpan AskTimeout, int StatusBufferSize,
    BackoffSettings RestartBackoff, int MaxRestarts, TimeSpan RestartWindow, string Dispatcher)
{
    /// <summary>Reads the settings from a <c>backendai.session</c> block.</summary>
    public static SessionSettings Create(Config c) => new(
        c.GetTimeSpan("start-max-wait"), c.GetTimeSpan("reconcile-interval"), c.GetTimeSpan("ask-timeout"),
        c.GetInt("status-buffer-size"), BackoffSettings.Create(c.GetConfig("restart-backoff")),
        c.GetInt("max-restarts"), c.GetTimeSpan("restart-window"), c.GetString("dispatcher"));
}

/// <summary><c>backendai.run-loop</c>.</summary>
public sealed record RunLoopSettings(TimeSpan CallTimeout, int BufferSize, string Dispatcher)
{
    /// <summary>Reads the settings from a <c>backendai.run-loop</c> block.</summary>
    public static RunLoopSettings Create(Config c) =>
        new(c.GetTimeSpan("call-timeout"), c.GetInt("buffer-size"), c.GetString("dispatcher"));
}

/// <summary><c>backendai.event-stream</c>.</summary>
public sealed record EventStreamSettings(
    int BufferSize, OverflowStrategy Overflow, int SubscriberBufferSize, OverflowStrategy SubscriberOverflow,
    BackoffSettings Reconnect, string Dispatcher)
{
    /// <summary>Reads the settings from a <c>backendai.event-stream</c> block.</summary>
    public static EventStreamSettings Create(Config c) => new(
        c.GetInt("buffer-size"), ParseOverflow(c.GetString("overflow"), "backendai.event-stream.overflow"),
        c.GetInt("subscriber-buffer-size"),
        ParseOverflow(c.GetString("subscriber-overflow"), "backendai.event-stream.subscriber-overflow"),
        BackoffSettings.Create(c.GetConfig("reconnect")), c.GetString("dispatcher"));

    /// <summary>Parses <c>backpressure</c>, <c>drop-head</c>, <c>drop-tail</c>, <c>fail</c>.</summary>
    public static OverflowStrategy ParseOverflow(string value, string setting) => value switch
    {
        "backpressure" => OverflowStrategy.Backpressure,
        "drop-head" => OverflowStrategy.DropHead,
        "drop-tail" => OverflowStrategy.DropTail,
        "fail" => OverflowStrategy.Fail,
        _ => throw new ConfigurationException(
            $"{setting} = '{value}' is not an overflow strategy; use backpressure, drop-head, drop-tail or fail."),
    };
}

/// <summary><c>backendai.transfer</c>.</summary>
public sealed record TransferSettings(int MaxConcurrent, int QueueSize, string Dispatcher)
{
    /// <summary>Bytes per tus <c>PATCH</c> of vfolder uploads (<c>tus-chunk-size</c>).</summary>
    public int TusChunkSize { get; init; } = BackendAI.Client.VFolders.VFoldersApi.DefaultChunkSize;

    /// <summary>Reads the settings from a <c>backendai.transfer</c> block.</summary>
    public static TransferSettings Create(Config c)
    {
        var chunk = c.GetByteSize("tus-chunk-size") ?? throw new ConfigurationException("backendai.transfer.tus-chunk-size is missing.");
        if (chunk is < 1 or > int.MaxValue)
            throw new ConfigurationException($"backendai.transfer.tus-chunk-size = {chunk} bytes is not within 1 byte .. 2 GiB.");
        return new(c.GetInt("max-concurrent"), c.GetInt("queue-size"), c.GetString("dispatcher")) { TusChunkSize = (int)chunk };
    }
}

/// <summary>Every runtime setting, read from <c>backendai { … }</c>.</summary>
public sealed record BackendAISettings(SessionSettings Session, RunLoopSettings RunLoop, EventStreamSettings EventStream, TransferSettings Transfer)
{
    /// <summary>Reads <c>backendai</c> from a configuration (the reference configuration is added as fallback).</summary>
    public static BackendAISettings Create(Config c)
    {
        var b = BackendAIConfig.WithFallback(c).GetConfig("backendai");
        return new(SessionSettings.Create(b.GetConfig("session")), RunLoopSettings.Create(b.GetConfig("run-loop")),
            EventStreamSettings.Create(b.GetConfig("event-stream")), TransferSettings.Create(b.GetConfig("transfer")));
    }
}

using System.Text.Json.Serialization;

namespace BackendAI.Local.Hosting;

/// <summary>One injected fault on a family of routes.</summary>
public sealed class RouteFault
{
    /// <summary>Requests whose path starts with this prefix are affected (default <c>/</c> = all).</summary>
    [JsonPropertyName("pathPrefix")]
    public string PathPrefix { get; set; } = "/";

    /// <summary>Only this HTTP method (null = any).</summary>
    [JsonPropertyName("method")]
    public string? Method { get; set; }

    /// <summary>Probability (0–1) that a matching request fails with <see cref="ErrorStatus"/>.</summary>
    [JsonPropertyName("errorRate")]
    public double ErrorRate { get; set; }

    /// <summary>Status of injected errors: 502, 503 or 429 (others are accepted as given).</summary>
    [JsonPropertyName("errorStatus")]
    public int ErrorStatus { get; set; } = 503;

    /// <summary><c>Retry-After</c> sent with injected errors (whole seconds), or none.</summary>
    [JsonPropertyName("retryAfter")]
    [JsonConverter(typeof(SecondsConverter))]
    public TimeSpan? RetryAfter { get; set; }

    /// <summary>Stop injecting errors after this many (null = unlimited). Makes "fail the next N calls" deterministic.</summary>
    [JsonPropertyName("maxErrors")]
    public int? MaxErrors { get; set; }

    /// <summary>Latency added to every matching request.</summary>
    [JsonPropertyName("latency")]
    [JsonConverter(typeof(SecondsConverter))]
    public TimeSpan? Latency { get; set; }

    internal int Injected;

    internal bool Matches(string path, string method) =>
        path.StartsWith(PathPrefix, StringComparison.Ordinal)
        && (Method is null || string.Equals(Method, method, StringComparison.OrdinalIgnoreCase));
}

/// <summary>The fault injection settings (a mutable description; apply it with <see cref="FaultInjection.Set"/>).</summary>
public sealed class FaultSettings
{
    /// <summary>Route faults (errors, latency), first match wins.</summary>
    [JsonPropertyName("routes")]
    public List<RouteFault> Routes { get; set; } = [];

    /// <summary>SSE streams end (the response completes without <c>server_close</c>) after this many events.</summary>
    [JsonPropertyName("sseDropAfterEvents")]
    public int? SseDropAfterEvents { get; set; }

    /// <summary>WebSocket streams are aborted (no close frame) after this many server messages (read by the streams area).</summary>
    [JsonPropertyName("websocketCloseAfterMessages")]
    public int? WebSocketCloseAfterMessages { get; set; }

    /// <summary>File downloads are cut (connection aborted) after this many body bytes.</summary>
    [JsonPropertyName("truncateDownloadsAfterBytes")]
    public long? TruncateDownloadsAfterBytes { get; set; }
}

/// <summary>
/// Runtime fault injection of a <see cref="LocalBackend"/> (also settable by admins with
/// <c>POST /local/faults</c>). Thread-safe: settings are swapped atomically.
/// </summary>
public sealed class FaultInjection
{
    private volatile FaultSettings _settings = new();

    /// <summary>The settings in effect (do not mutate; call <see cref="Set"/>).</summary>
    public FaultSettings Current => _settings;

    /// <summary>Replaces the settings.</summary>
    public void Set(FaultSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        foreach (var r in settings.Routes)
        {
            if (r.ErrorRate is < 0 or > 1) throw new ArgumentException($"errorRate {r.ErrorRate} is not within 0..1.", nameof(settings));
            if (r.ErrorStatus is < 400 or > 599) throw new ArgumentException($"errorStatus {r.ErrorStatus} is not an error status.", nameof(settings));
        }
        _settings = settings;
    }

    /// <summary>Removes every fault.</summary>
    public void Reset() => _settings = new FaultSettings();

    /// <summary>Fails the next <paramref name="count"/> requests matching the prefix (and method) with <paramref name="status"/>.</summary>
    public void FailNext(string pathPrefix, int count, int status = 503, TimeSpan? retryAfter = null, string? method = null)
    {
        var s = _settings;
        Set(new FaultSettings
        {
            Routes = [new RouteFault { PathPrefix = pathPrefix, Method = method, ErrorRate = 1, ErrorStatus = status, RetryAfter = retryAfter, MaxErrors = count }, .. s.Routes],
            SseDropAfterEvents = s.SseDropAfterEvents,
            WebSocketCloseAfterMessages = s.WebSocketCloseAfterMessages,
            TruncateDownloadsAfterBytes = s.TruncateDownloadsAfterBytes,
        });
    }

    /// <summary>SSE streams are dropped after this many events (null = never).</summary>
    public int? SseDropAfterEvents => _settings.SseDropAfterEvents;

    /// <summary>WebSocket streams are aborted after this many server messages (null = never).</summary>
    public int? WebSocketCloseAfterMessages => _settings.WebSocketCloseAfterMessages;

    /// <summary>Downloads are cut after this many bytes (null = never).</summary>
    public long? TruncateDownloadsAfterBytes => _settings.TruncateDownloadsAfterBytes;

    internal (TimeSpan Latency, RouteFault? Error) Evaluate(string path, string method)
    {
        var latency = TimeSpan.Zero;
        RouteFault? error = null;
        foreach (var r in _settings.Routes)
        {
            if (!r.Matches(path, method)) continue;
            if (r.Latency is { } l && l > latency) latency = l;
            if (error is null && r.ErrorRate > 0 && (r.ErrorRate >= 1 || Random.Shared.NextDouble() < r.ErrorRate))
            {
                if (r.MaxErrors is { } max && Interlocked.Increment(ref r.Injected) > max) continue;
                error = r;
            }
        }
        return (latency, error);
    }
}

/// <summary>Reads/writes a <see cref="TimeSpan"/> as a number of seconds.</summary>
internal sealed class SecondsConverter : JsonConverter<TimeSpan?>
{
    public override TimeSpan? Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        reader.TokenType == System.Text.Json.JsonTokenType.Null ? null : TimeSpan.FromSeconds(reader.GetDouble());

    public override void Write(System.Text.Json.Utf8JsonWriter writer, TimeSpan? value, System.Text.Json.JsonSerializerOptions options)
    {
        if (value is null) writer.WriteNullValue();
        else writer.WriteNumberValue(value.Value.TotalSeconds);
    }
}

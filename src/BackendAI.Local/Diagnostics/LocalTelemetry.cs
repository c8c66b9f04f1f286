using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace BackendAI.Local.Diagnostics;

/// <summary>
/// The names of the local server's <see cref="ActivitySource"/> and <see cref="Meter"/> (both <c>BackendAI.Local</c>), for
/// <c>AddSource</c>/<c>AddMeter</c>. Instrument: <c>backendai.local.sse.events_sent</c> (counter, tag <c>stream</c>).
/// ASP.NET Core's own <c>Microsoft.AspNetCore.*</c> meters and activities cover the HTTP requests.
/// </summary>
public static class LocalTelemetry
{
    /// <summary>The activity source name.</summary>
    public const string ActivitySourceName = "BackendAI.Local";

    /// <summary>The meter name.</summary>
    public const string MeterName = "BackendAI.Local";

    /// <summary>SSE events written to clients (counter).</summary>
    public const string SseEventsSent = "backendai.local.sse.events_sent";

    internal static readonly ActivitySource Source = new(ActivitySourceName, typeof(LocalTelemetry).Assembly.GetName().Version?.ToString());
    internal static readonly Meter Meter = new(MeterName, typeof(LocalTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> s_sseEvents = Meter.CreateCounter<long>(SseEventsSent, "{event}", "SSE events written to clients.");

    /// <summary>Counts <paramref name="count"/> events written to a <c>session</c> or <c>background-task</c> stream.</summary>
    internal static void EventsSent(long count, string stream)
    {
        if (count > 0 && s_sseEvents.Enabled) s_sseEvents.Add(count, new KeyValuePair<string, object?>("stream", stream));
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using BackendAI.Client;

namespace BackendAI.Examples.HostedService;

/// <summary>
/// The example's <see cref="ActivitySource"/> and <see cref="Meter"/> (both named <see cref="Name"/>): a span per job
/// run, and instruments for sessions by status, requests, retries, event-stream reconnects and bytes transferred.
/// HTTP calls get their spans from .NET's own <c>System.Net.Http</c> source (one per request).
/// </summary>
public sealed class WorkerTelemetry : IDisposable
{
    /// <summary>The ActivitySource and Meter name.</summary>
    public const string Name = "BackendAI.Examples.HostedService";

    private readonly ConcurrentDictionary<string, SessionStatus> _sessions = new(StringComparer.Ordinal);
    private readonly Counter<long> _requests, _retries, _reconnects, _bytes, _jobs;

    /// <summary>Creates the instruments.</summary>
    public WorkerTelemetry()
    {
        Source = new ActivitySource(Name);
        Meter = new Meter(Name);
        _requests = Meter.CreateCounter<long>("backendai.client.requests", "{request}", "HTTP requests sent by the client");
        _retries = Meter.CreateCounter<long>("backendai.client.retries", "{retry}", "Requests retried by the client");
        _reconnects = Meter.CreateCounter<long>("backendai.event_stream.reconnects", "{reconnect}", "Session event stream reconnects");
        _bytes = Meter.CreateCounter<long>("backendai.transfer.bytes", "By", "Bytes of code sent and console output received by jobs");
        _jobs = Meter.CreateCounter<long>("backendai.worker.jobs", "{job}", "Jobs run, by outcome");
        Meter.CreateObservableGauge("backendai.sessions", ObserveSessions, "{session}", "Sessions seen on the event stream, by status");
    }

    /// <summary>Spans of job runs.</summary>
    public ActivitySource Source { get; }

    /// <summary>The instruments' meter.</summary>
    public Meter Meter { get; }

    /// <summary>Counts one HTTP request (tag: status code).</summary>
    public void Request(int status) => _requests.Add(1, new KeyValuePair<string, object?>("http.response.status_code", status));

    /// <summary>Counts one retry.</summary>
    public void Retry() => _retries.Add(1);

    /// <summary>Counts one event-stream reconnect.</summary>
    public void Reconnect() => _reconnects.Add(1);

    /// <summary>Counts bytes moved (tag: direction <c>sent</c> or <c>received</c>).</summary>
    public void Bytes(long n, string direction) => _bytes.Add(n, new KeyValuePair<string, object?>("direction", direction));

    /// <summary>Counts one job by outcome.</summary>
    public void Job(string outcome) => _jobs.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>Tracks a session's latest status from an event.</summary>
    public void Observe(SessionEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.ImpliedStatus is not { } status) return;
        if (SessionStatuses.IsTerminal(status)) _sessions.TryRemove(e.SessionId, out _);
        else _sessions[e.SessionId] = status;
    }

    private IEnumerable<Measurement<long>> ObserveSessions() =>
        _sessions.Values.GroupBy(s => s).Select(g =>
            new Measurement<long>(g.Count(), new KeyValuePair<string, object?>("status", SessionStatuses.ToWire(g.Key))));

    /// <inheritdoc />
    public void Dispose()
    {
        Source.Dispose();
        Meter.Dispose();
    }
}

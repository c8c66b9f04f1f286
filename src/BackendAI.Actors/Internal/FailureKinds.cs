using BackendAI.Client.Errors;

namespace BackendAI.Actors.Internal;

/// <summary>How the runtime reacts to a failure (docs/architecture.md, "Supervision").</summary>
internal enum FailureKind
{
    /// <summary>Network, 5xx, timeouts: retry / restart with backoff.</summary>
    Transient,
    /// <summary>429: wait (Retry-After or backoff) and retry, without restarting.</summary>
    RateLimited,
    /// <summary>404 on a session.</summary>
    NotFound,
    /// <summary>Auth, configuration, other 4xx, protocol violations: stop and surface the typed error.</summary>
    Fatal,
    /// <summary>Anything that is not a Backend.AI error: a bug.</summary>
    Bug,
}

internal static class FailureKinds
{
    public static FailureKind Classify(Exception ex) => ex switch
    {
        BackendApiException { Status: 404 } => FailureKind.NotFound,
        BackendApiException { Status: 429 } => FailureKind.RateLimited,
        BackendApiException { Status: >= 500 } => FailureKind.Transient,
        BackendApiException => FailureKind.Fatal,
        BackendClientException or BackendProtocolException => FailureKind.Fatal,
        BackendConnectionException or HttpRequestException or TimeoutException or OperationCanceledException
            or IOException => FailureKind.Transient,
        EventStreamDroppedException => FailureKind.Transient,
        BackendException => FailureKind.Transient,
        _ => FailureKind.Bug,
    };

    /// <summary>The server's <c>Retry-After</c>, when the error carries one.</summary>
    public static TimeSpan? RetryAfter(Exception ex) => (ex as RateLimitedException)?.RetryAfter;
}

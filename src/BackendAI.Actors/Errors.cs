using BackendAI.Client;
using BackendAI.Client.Errors;

namespace BackendAI.Actors;

/// <summary>A command cannot run in the session's current state (e.g. the session is terminated).</summary>
public sealed class SessionStateException : BackendException
{
    /// <summary>Creates the error.</summary>
    public SessionStateException(string sessionId, SessionStatus? status, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        SessionId = sessionId;
        Status = status;
    }

    /// <summary>The session the command was for.</summary>
    public string SessionId { get; }

    /// <summary>The session's status when the command was refused (<c>null</c> when never known).</summary>
    public SessionStatus? Status { get; }
}

/// <summary>The session did not reach RUNNING within its maximum wait, so a waiting command was given up.</summary>
public sealed class SessionStartTimeoutException : BackendException
{
    /// <summary>Creates the error.</summary>
    public SessionStartTimeoutException(string sessionId, SessionStatus? lastStatus, TimeSpan maxWait)
        : base($"Session '{sessionId}' did not reach RUNNING within {maxWait} (last status: {(lastStatus is { } s ? SessionStatuses.ToWire(s) : "unknown")}).")
    {
        SessionId = sessionId;
        LastStatus = lastStatus;
        MaxWait = maxWait;
    }

    /// <summary>The session.</summary>
    public string SessionId { get; }
    /// <summary>The last status seen.</summary>
    public SessionStatus? LastStatus { get; }
    /// <summary>The wait that passed.</summary>
    public TimeSpan MaxWait { get; }
}

/// <summary>The session event stream ended without <c>server_close</c>; the runtime reconnects.</summary>
public sealed class EventStreamDroppedException : BackendException
{
    /// <summary>Creates the error.</summary>
    public EventStreamDroppedException(string message, Exception? innerException = null) : base(message, innerException) { }
}

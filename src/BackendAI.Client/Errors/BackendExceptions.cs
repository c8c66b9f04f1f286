using System.Text.Json;

namespace BackendAI.Client.Errors;

/// <summary>Base of every error raised by the Backend.AI client.</summary>
public class BackendException : Exception
{
    /// <summary>Creates the error.</summary>
    public BackendException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>Bad arguments or bad configuration, detected before anything is sent.</summary>
public class BackendClientException : BackendException
{
    /// <summary>Creates the error.</summary>
    /// <param name="message">What is wrong, naming the setting or argument.</param>
    /// <param name="setting">The setting or argument at fault, when there is one.</param>
    /// <param name="innerException">The cause.</param>
    public BackendClientException(string message, string? setting = null, Exception? innerException = null)
        : base(message, innerException) => Setting = setting;

    /// <summary>The setting or argument at fault, e.g. <c>endpoint</c>.</summary>
    public string? Setting { get; }
}

/// <summary>The server sent something that breaks the protocol: malformed JSON, an oversized frame, a bad archive.</summary>
public class BackendProtocolException : BackendException
{
    /// <summary>Creates the error.</summary>
    public BackendProtocolException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>No endpoint could be reached (connection refused/reset, DNS, TLS, connect timeout) after failover.</summary>
public class BackendConnectionException : BackendException
{
    /// <summary>Creates the error.</summary>
    public BackendConnectionException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>
/// The server answered with an error status. <see cref="ErrorType"/> is the problem <c>type</c> URI;
/// callers dispatch on it (or on the subclasses), never on <see cref="Title"/>.
/// </summary>
public class BackendApiException : BackendException
{
    /// <summary>Creates the error.</summary>
    public BackendApiException(int status, string reason, string errorType, string title, string? msg = null,
        JsonElement? data = null, Exception? innerException = null)
        : base(FormatMessage(status, reason, title, msg), innerException)
    {
        Status = status;
        Reason = reason;
        ErrorType = errorType;
        Title = title;
        Msg = msg;
        Data = data;
    }

    /// <summary>HTTP status code.</summary>
    public int Status { get; }
    /// <summary>HTTP reason phrase.</summary>
    public string Reason { get; }
    /// <summary>The problem <c>type</c> URI, e.g. <c>https://api.backend.ai/probs/auth-failed</c>.</summary>
    public string ErrorType { get; }
    /// <summary>The problem <c>title</c>.</summary>
    public string Title { get; }
    /// <summary>The problem <c>msg</c>, when present.</summary>
    public string? Msg { get; }
    /// <summary>The problem <c>data</c>, when present (any JSON).</summary>
    public new JsonElement? Data { get; }

    /// <summary>True when <see cref="ErrorType"/> is the given type.</summary>
    public bool Is(ProblemType type) => string.Equals(ErrorType, type.Uri, StringComparison.Ordinal);

    private static string FormatMessage(int status, string reason, string title, string? msg) =>
        msg is null ? $"{status} {reason}: {title}" : $"{status} {reason}: {title} ({msg})";
}

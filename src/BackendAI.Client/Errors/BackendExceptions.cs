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

/// <summary><c>401 auth-failed</c>: unknown access key, signature mismatch, anonymous call to a protected endpoint.</summary>
public class AuthenticationFailedException : BackendApiException
{
    /// <summary>Creates the error.</summary>
    public AuthenticationFailedException(int status, string reason, string errorType, string title, string? msg = null, JsonElement? data = null)
        : base(status, reason, errorType, title, msg, data) { }
}

/// <summary>
/// <c>400 invalid-auth-params</c> "Date/time sync error": the local clock is more than 15 minutes away from the
/// server's. Retrying does not help; fix the clock.
/// </summary>
public class DateSyncException : BackendApiException
{
    /// <summary>Creates the error.</summary>
    public DateSyncException(int status, string reason, string errorType, string title, string? msg = null, JsonElement? data = null)
        : base(status, reason, errorType, title, msg, data) { }
}

/// <summary><c>403 generic-forbidden</c> or <c>insufficient-privilege</c>.</summary>
public class ForbiddenException : BackendApiException
{
    /// <summary>Creates the error.</summary>
    public ForbiddenException(int status, string reason, string errorType, string title, string? msg = null, JsonElement? data = null)
        : base(status, reason, errorType, title, msg, data) { }
}

/// <summary><c>404 object-not-found</c> "No such session." (or another not-found on a session route).</summary>
public class SessionNotFoundException : BackendApiException
{
    /// <summary>Creates the error.</summary>
    public SessionNotFoundException(int status, string reason, string errorType, string title, string? msg = null, JsonElement? data = null)
        : base(status, reason, errorType, title, msg, data) { }
}

/// <summary><c>object-not-found</c> "No such virtual folder." (also upstream's 400 "No such vfolder.").</summary>
public class VFolderNotFoundException : BackendApiException
{
    /// <summary>Creates the error.</summary>
    public VFolderNotFoundException(int status, string reason, string errorType, string title, string? msg = null, JsonElement? data = null)
        : base(status, reason, errorType, title, msg, data) { }
}

/// <summary><c>429 rate-limit-exceeded</c> (or the webserver's <c>too-many-requests</c>).</summary>
public class RateLimitedException : BackendApiException
{
    /// <summary>Creates the error.</summary>
    public RateLimitedException(int status, string reason, string errorType, string title, string? msg = null, JsonElement? data = null, TimeSpan? retryAfter = null)
        : base(status, reason, errorType, title, msg, data) => RetryAfter = retryAfter;

    /// <summary>The server's <c>Retry-After</c>, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary><c>412 quota-exceeded</c>: a resource-policy limit was hit.</summary>
public class QuotaExceededException : BackendApiException
{
    /// <summary>Creates the error.</summary>
    public QuotaExceededException(int status, string reason, string errorType, string title, string? msg = null, JsonElement? data = null)
        : base(status, reason, errorType, title, msg, data) { }
}

/// <summary><c>400 session-already-exists</c>: the name is taken (different image, or reuse not allowed).</summary>
public class SessionAlreadyExistsException : BackendApiException
{
    /// <summary>Creates the error.</summary>
    public SessionAlreadyExistsException(int status, string reason, string errorType, string title, string? msg = null, JsonElement? data = null)
        : base(status, reason, errorType, title, msg, data) =>
        ExistingSessionId = data is { ValueKind: JsonValueKind.Object } d && d.TryGetProperty("existingSessionId", out var id)
            && id.ValueKind == JsonValueKind.String ? id.GetString() : null;

    /// <summary>The id of the session that holds the name (<c>data.existingSessionId</c>), when sent.</summary>
    public string? ExistingSessionId { get; }
}

/// <summary>A GraphQL query returned errors (<c>/admin/gql</c> envelope with <c>errors</c>, or legacy <c>graphql-error</c>).</summary>
public class GraphQLException : BackendApiException
{
    /// <summary>Creates the error.</summary>
    public GraphQLException(int status, string reason, string errorType, string title, string? msg = null, JsonElement? data = null)
        : base(status, reason, errorType, title, msg ?? FirstMessage(data), data) =>
        Messages = data is { ValueKind: JsonValueKind.Array } a
            ? a.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("message", out var m) ? m.ToString() : e.ToString()).ToList()
            : [];

    /// <summary>The <c>message</c> of every GraphQL error.</summary>
    public IReadOnlyList<string> Messages { get; }

    private static string? FirstMessage(JsonElement? data) =>
        data is { ValueKind: JsonValueKind.Array } a && a.GetArrayLength() > 0 && a[0].ValueKind == JsonValueKind.Object
            && a[0].TryGetProperty("message", out var m) ? m.ToString() : null;
}

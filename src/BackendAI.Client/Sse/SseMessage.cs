namespace BackendAI.Client.Sse;

/// <summary>One dispatched server-sent event.</summary>
/// <param name="Event">The event name; <c>message</c> when the server sent none.</param>
/// <param name="Data">The data lines of the event joined with <c>\n</c> (no trailing newline).</param>
/// <param name="Id">The last event id seen on the stream (the standard's "last event ID"), or null when none was ever sent.</param>
/// <param name="RetryMs">The <c>retry:</c> value sent in this event's block, in milliseconds as the SSE standard
/// defines it (Backend.AI sends <c>retry: 5</c> on background-task events), or null when the block had none.</param>
public sealed record SseMessage(string Event, string Data, string? Id, int? RetryMs);

/// <summary>Limits and ownership for <see cref="SseEventReader"/>.</summary>
public sealed class SseParserOptions
{
    /// <summary>
    /// The largest event accepted, in bytes: the sum of the lengths of an event's field lines
    /// (and of any single line, comments included). Larger input raises
    /// <see cref="Errors.BackendProtocolException"/>. Default 1 MiB.
    /// </summary>
    public int MaxEventSize { get; init; } = 1024 * 1024;

    /// <summary>When true, disposing the reader leaves the underlying stream (or given <c>PipeReader</c>) open. Default false.</summary>
    public bool LeaveOpen { get; init; }
}

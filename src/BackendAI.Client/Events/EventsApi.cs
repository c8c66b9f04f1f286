using System.Runtime.CompilerServices;
using System.Text.Json;
using BackendAI.Client.Errors;
using BackendAI.Client.Json;
using BackendAI.Client.Models;
using BackendAI.Client.Rest;
using BackendAI.Client.Sse;

namespace BackendAI.Client.Events;

/// <summary>Which session events to receive (<c>GET /events/session</c>).</summary>
/// <param name="SessionName">A session name, or null for all (<c>*</c>).</param>
/// <param name="SessionId">A session UUID; overrides the name.</param>
/// <param name="OwnerAccessKey">Owner of the named session (sent as <c>ownerAccessKey</c>).</param>
/// <param name="Group">Project name filter.</param>
/// <param name="Scope"><c>*</c>, <c>session</c> or <c>kernel</c>.</param>
public sealed record SessionEventFilter(string? SessionName = null, string? SessionId = null, string? OwnerAccessKey = null,
    string? Group = null, string Scope = "*")
{
    /// <summary>True when the filter follows one session (so its terminal event ends <see cref="EventsApi.SessionEventsAsync"/>).</summary>
    public bool IsSingleSession => SessionId is not null || (SessionName is not null && SessionName != "*");
}

/// <summary>A session lifecycle event (streaming.md A.2).</summary>
/// <param name="Name">Event name, e.g. <c>session_started</c>.</param>
/// <param name="Reason">Reason (may be empty).</param>
/// <param name="SessionName">Session name.</param>
/// <param name="OwnerAccessKey">Owner.</param>
/// <param name="SessionId">Session id.</param>
/// <param name="KernelId">Kernel id.</param>
/// <param name="ClusterRole">Kernel role (kernel events).</param>
/// <param name="ClusterIdx">Kernel index (kernel events).</param>
public sealed record SessionEvent(string Name, string Reason, string SessionName, string? OwnerAccessKey, string SessionId, string? KernelId,
    string? ClusterRole, int? ClusterIdx)
{
    /// <summary>The session status this event implies, when it implies one.</summary>
    public SessionStatus? ImpliedStatus => Name switch
    {
        "session_enqueued" => SessionStatus.Pending,
        "session_scheduled" => SessionStatus.Scheduled,
        "kernel_preparing" or "kernel_creating" => SessionStatus.Preparing,
        "kernel_pulling" => SessionStatus.Pulling,
        "session_started" => SessionStatus.Running,
        "kernel_cancelled" or "session_cancelled" => SessionStatus.Cancelled,
        "kernel_terminating" => SessionStatus.Terminating,
        "session_terminated" => SessionStatus.Terminated,
        _ => null,
    };

    /// <summary>True for <c>session_terminated</c> and <c>session_cancelled</c> (the stream is closed by the client after them).</summary>
    public bool IsTerminal => Name is "session_terminated" or "session_cancelled";

    /// <summary>Parses one SSE message of the session stream.</summary>
    public static SessionEvent Parse(SseMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        JsonElement d;
        try
        {
            d = Wire.Parse(message.Data);
        }
        catch (JsonException ex)
        {
            throw new BackendProtocolException($"The '{message.Event}' event data is not JSON.", ex);
        }
        return new SessionEvent(message.Event, d.Str("reason") ?? string.Empty, d.Str("sessionName") ?? string.Empty, d.Str("ownerAccessKey"),
            d.Str("sessionId") ?? string.Empty, d.Str("kernelId"), d.Str("clusterRole"), (int?)d.Long("clusterIdx"));
    }
}

/// <summary>A background-task event (streaming.md A.3).</summary>
/// <param name="Name">Event name (<c>bgtask_updated</c>, <c>bgtask_done</c>, <c>task_done</c>, …).</param>
/// <param name="TaskId">Task id.</param>
/// <param name="Message">Message text.</param>
/// <param name="CurrentProgress">Progress so far.</param>
/// <param name="TotalProgress">Total progress.</param>
public sealed record BackgroundTaskEvent(string Name, string? TaskId, string? Message, double? CurrentProgress, double? TotalProgress)
{
    /// <summary>True for <c>bgtask_done/failed/cancelled</c> and the <c>task_*</c> spellings of already-finished tasks.</summary>
    public bool IsTerminal => Name is "bgtask_done" or "bgtask_failed" or "bgtask_cancelled" or "task_done" or "task_failed" or "task_cancelled";

    /// <summary>True when the task finished successfully.</summary>
    public bool IsSuccess => Name is "bgtask_done" or "task_done";
}

/// <summary>Server-sent event streams. Every (re)connection is a fresh signed GET with no Content-Type.</summary>
public class EventsApi
{
    private static readonly TimeSpan MinReconnect = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxReconnect = TimeSpan.FromSeconds(30);
    private readonly ApiTransport _t;

    /// <summary>For mocks.</summary>
    protected EventsApi() => _t = null!;

    internal EventsApi(ApiTransport transport) => _t = transport;

    /// <summary>Opens one signed session-event connection; the reader yields messages until the connection ends.
    /// Dispose the reader to close the connection.</summary>
    public virtual async Task<SseEventReader> OpenSessionEventsAsync(SessionEventFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.Scope is not ("*" or "session" or "kernel")) throw new BackendClientException($"Scope must be *, session or kernel (was '{filter.Scope}').", "Scope");
        var v = await _t.EnsureVersionAsync(cancellationToken).ConfigureAwait(false);
        ApiRequest req;
        if (v.Major <= 4)
        {
            req = new ApiRequest(HttpMethod.Get, "/stream/kernel/_/events").With("sessionId", filter.SessionName ?? "*").With("owner_access_key", filter.OwnerAccessKey);
        }
        else if (v.Major == 5)
        {
            req = new ApiRequest(HttpMethod.Get, "/events/session").With("name", filter.SessionName ?? "*").With("owner_access_key", filter.OwnerAccessKey);
        }
        else
        {
            req = new ApiRequest(HttpMethod.Get, "/events/session");
            if (filter.SessionId is not null) req.With("sessionId", filter.SessionId);
            else req.With("sessionName", filter.SessionName ?? "*");
            req.With("ownerAccessKey", filter.OwnerAccessKey).With("group", filter.Group).With("scope", filter.Scope);
        }
        req.NoContentType = true;
        return await OpenAsync(req, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens one signed background-task event connection (<c>GET /events/background-task?task_id=…</c>).</summary>
    public virtual Task<SseEventReader> OpenBackgroundTaskEventsAsync(Guid taskId, CancellationToken cancellationToken = default) =>
        OpenAsync(new ApiRequest(HttpMethod.Get, "/events/background-task") { NoContentType = true }.With("task_id", taskId.ToString()), cancellationToken);

    private async Task<SseEventReader> OpenAsync(ApiRequest req, CancellationToken ct)
    {
        var resp = await _t.SendAsync(req, ct).ConfigureAwait(false);
        try
        {
            var stream = await resp.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            return new SseEventReader(stream);
        }
        catch
        {
            resp.Dispose();
            throw;
        }
    }

    /// <summary>Session events with reconnection (re-signed, backoff 1–30 s) on dropped connections. Ends on
    /// <c>server_close</c>, or — when the filter names one session — after its <c>session_terminated</c>/<c>session_cancelled</c>.
    /// HTTP errors on (re)connect are thrown.</summary>
    public virtual async IAsyncEnumerable<SessionEvent> SessionEventsAsync(SessionEventFilter filter,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var m in ReconnectingAsync(() => OpenSessionEventsAsync(filter, cancellationToken), cancellationToken)
                           .ConfigureAwait(false))
        {
            if (m.Event == "message" && string.IsNullOrEmpty(m.Data)) continue;
            var e = SessionEvent.Parse(m);
            yield return e;
            if (filter.IsSingleSession && e.IsTerminal) yield break;
        }
    }

    /// <summary>Background-task progress; ends after the terminal event (<c>bgtask_*</c> or <c>task_*</c>) or <c>server_close</c>.</summary>
    public virtual async IAsyncEnumerable<BackgroundTaskEvent> BackgroundTaskEventsAsync(Guid taskId,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var m in ReconnectingAsync(() => OpenBackgroundTaskEventsAsync(taskId, cancellationToken), cancellationToken)
                           .ConfigureAwait(false))
        {
            JsonElement d;
            try
            {
                d = Wire.Parse(m.Data);
            }
            catch (JsonException ex)
            {
                throw new BackendProtocolException($"The '{m.Event}' event data is not JSON.", ex);
            }
            var e = new BackgroundTaskEvent(m.Event, d.Str("task_id"), d.Str("message"), d.Double("current_progress"), d.Double("total_progress"));
            yield return e;
            if (e.IsTerminal) yield break;
        }
    }

    /// <summary>
    /// The messages of a stream that is reopened (re-signed, backoff doubling from 1 s to 30 s, reset by every
    /// message) whenever the connection ends or drops; ends on <c>server_close</c>.
    /// </summary>
    private async IAsyncEnumerable<SseMessage> ReconnectingAsync(Func<Task<SseEventReader>> open,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var delay = MinReconnect;
        while (true)
        {
            await using (var reader = await OpenWithRetryAsync(open, cancellationToken).ConfigureAwait(false))
            {
                while (true)
                {
                    SseMessage? m;
                    try
                    {
                        m = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                    {
                        m = null;
                    }
                    if (m is null) break;
                    if (m.Event == "server_close") yield break;
                    delay = MinReconnect;
                    yield return m;
                }
            }
            await Task.Delay(delay, _t.Time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxReconnect.Ticks));
        }
    }

    private async Task<SseEventReader> OpenWithRetryAsync(Func<Task<SseEventReader>> open, CancellationToken ct)
    {
        var delay = MinReconnect;
        while (true)
        {
            try
            {
                return await open().ConfigureAwait(false);
            }
            catch (BackendConnectionException) when (!ct.IsCancellationRequested)
            {
                await Task.Delay(delay, _t.Time, ct).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxReconnect.Ticks));
            }
        }
    }
}

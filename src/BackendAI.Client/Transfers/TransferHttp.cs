using System.Net;
using System.Text.Json;
using BackendAI.Client.Errors;

namespace BackendAI.Client.Transfers;

/// <summary>Retry limits for storage-proxy transfers (tus uploads and range downloads).</summary>
/// <param name="MaxAttempts">Consecutive failed attempts (without any progress in between) before giving up.</param>
/// <param name="InitialBackoff">Wait after the first failure; doubled after each further failure.</param>
/// <param name="MaxBackoff">The longest wait.</param>
internal sealed record TransferRetry(int MaxAttempts, TimeSpan InitialBackoff, TimeSpan MaxBackoff)
{
    public static TransferRetry Default { get; } = new(5, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));

    public TimeSpan Backoff(int failures)
    {
        var ms = InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Max(0, failures - 1));
        ms = Math.Min(ms, MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ms * (0.8 + (0.4 * Random.Shared.NextDouble()))); // ±20 % jitter
    }
}

/// <summary>HTTP helpers shared by the transfer clients.</summary>
internal static class TransferHttp
{
    private const int MaxErrorBody = 64 * 1024;

    /// <summary>True for failures worth retrying: dropped or refused connections, truncated bodies, timeouts.</summary>
    public static bool IsTransient(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested, // HttpClient.Timeout
        HttpRequestException or IOException => true,
        TransientStatusException => true,
        _ => false,
    };

    /// <summary>True for statuses that a retry may fix.</summary>
    public static bool IsTransientStatus(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    /// <summary>Builds the typed error for a non-retryable error response (problem+json when the body is one).</summary>
    public static async Task<BackendApiException> ErrorAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var reason = response.ReasonPhrase ?? response.StatusCode.ToString();
        string type = ProblemTypes.GenericError.Uri, title = $"{what} failed";
        string? msg = null;
        JsonElement? data = null;
        try
        {
            var body = await ReadLimitedAsync(response, cancellationToken).ConfigureAwait(false);
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                var root = json.RootElement;
                if (root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String) type = t.GetString()!;
                if (root.TryGetProperty("title", out var ti) && ti.ValueKind == JsonValueKind.String) title = ti.GetString()!;
                if (root.TryGetProperty("msg", out var m) && m.ValueKind == JsonValueKind.String) msg = m.GetString();
                if (root.TryGetProperty("data", out var d)) data = d.Clone();
            }
        }
        catch (Exception e) when (e is JsonException or IOException or HttpRequestException)
        {
            // not problem+json: keep the generic type and title
        }

        return new BackendApiException(status, reason, type, title, msg, data);
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[MaxErrorBody];
        var total = 0;
        int n;
        while (total < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += n;
        }

        return buffer[..total];
    }
}

/// <summary>A retryable error status (5xx, 408, 429) seen during a transfer.</summary>
internal sealed class TransientStatusException(HttpStatusCode status, string what)
    : Exception($"{what} answered {(int)status} {status}")
{
    public HttpStatusCode Status { get; } = status;
}

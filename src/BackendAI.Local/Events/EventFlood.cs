using System.Text.Json;
using BackendAI.Client.Errors;
using BackendAI.Local.Hosting;
using Microsoft.AspNetCore.Http;

namespace BackendAI.Local.Events;

/// <summary>
/// A test-only load generator, off by default: a superadmin arms it with <c>POST /local/events/flood</c>
/// (<c>{"count": N}</c>), and the next <c>GET /events/session</c> connection of any caller first receives N synthetic
/// <c>kernel_pulling</c> events of a session nobody owns (<c>flood-0</c>, <c>flood-1</c>, … as the reason), written as
/// fast as the socket takes them, followed by the live events as usual. Used to measure SSE throughput (issue #3/#4).
/// </summary>
internal sealed class EventFlood
{
    /// <summary>The largest flood one request may arm.</summary>
    public const int MaxCount = 100_000_000;

    private long _armed;

    /// <summary>Arms a flood of <paramref name="count"/> events for the next session event connection (replacing any armed one).</summary>
    public void Arm(long count) => Interlocked.Exchange(ref _armed, count);

    /// <summary>Takes the armed flood, if any (one connection gets it).</summary>
    public long Take() => Interlocked.Exchange(ref _armed, 0);

    /// <summary>The synthetic event number <paramref name="index"/> for <paramref name="owner"/>.</summary>
    public static SessionEvent Event(long index, string owner, Guid sessionId) =>
        new("kernel_pulling", "flood-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture), "flood", owner, sessionId, "default", "default");

    /// <summary><c>POST /local/events/flood</c>: superadmin only.</summary>
    public async Task<IResult> ArmAsync(HttpContext ctx)
    {
        var caller = ctx.GetIdentity();
        if (!caller.IsSuperAdmin) throw new ApiProblemException(ProblemTypes.InsufficientPrivilege, "Requires superadmin privileges.");
        long count;
        try
        {
            using var doc = await JsonDocument.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted).ConfigureAwait(false);
            if (!doc.RootElement.TryGetProperty("count", out var c) || !c.TryGetInt64(out count))
                throw ApiProblemException.InvalidParams("Missing or malformed parameters", "count: an integer is required");
        }
        catch (JsonException e)
        {
            throw ApiProblemException.InvalidParams("Malformed body", e.Message);
        }
        if (count is < 1 or > MaxCount)
            throw ApiProblemException.InvalidParams("Missing or malformed parameters", $"count: must be within 1..{MaxCount}");
        Arm(count);
        return Results.NoContent();
    }
}

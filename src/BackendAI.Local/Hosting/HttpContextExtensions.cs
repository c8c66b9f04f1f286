using System.Text.Json.Nodes;
using BackendAI.Client.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace BackendAI.Local.Hosting;

/// <summary>Endpoint metadata: the endpoint needs no signature (hello, status, token-authorised storage URLs…).</summary>
public sealed class PublicEndpointMetadata
{
    /// <summary>The shared instance.</summary>
    public static PublicEndpointMetadata Instance { get; } = new();
}

/// <summary>Endpoint metadata: the endpoint changes state and answers 503 server-frozen while the manager is frozen.</summary>
public sealed class RejectWhenFrozenMetadata
{
    /// <summary>The shared instance.</summary>
    public static RejectWhenFrozenMetadata Instance { get; } = new();
}

/// <summary>Helpers for handlers of the local server.</summary>
public static class HttpContextExtensions
{
    private static readonly object IdentityKey = new();

    /// <summary>The signed-in caller; throws 401 "Unauthorized access" for anonymous requests.</summary>
    public static LocalIdentity GetIdentity(this HttpContext context) =>
        context.TryGetIdentity() ?? throw new ApiProblemException(ProblemTypes.AuthFailed, "Unauthorized access");

    /// <summary>The signed-in caller, or null on public endpoints called anonymously.</summary>
    public static LocalIdentity? TryGetIdentity(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Items.TryGetValue(IdentityKey, out var v) ? v as LocalIdentity : null;
    }

    internal static void SetIdentity(this HttpContext context, LocalIdentity identity)
    {
        context.Items[IdentityKey] = identity;
        context.Features.Set(identity);
    }

    /// <summary>
    /// Marks endpoints as public: no date check, no signature, <c>Authorization</c> ignored (ASP.NET's
    /// <c>.AllowAnonymous()</c> is honoured the same way).
    /// </summary>
    public static TBuilder AllowAnonymousAccess<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(PublicEndpointMetadata.Instance);

    /// <summary>Marks endpoints that change state: 503 server-frozen while the manager is frozen.</summary>
    public static TBuilder RejectWhenFrozen<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(RejectWhenFrozenMetadata.Instance);

    /// <summary>Writes a JSON body (<c>application/json; charset=utf-8</c>) with a status.</summary>
    public static Task WriteJsonAsync(this HttpResponse response, JsonNode? body, int status = 200, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        return response.WriteAsync(body?.ToJsonString() ?? "null", cancellationToken);
    }

    /// <summary>A JSON result for minimal-API handlers (keeps key order and nulls as written).</summary>
    public static IResult Json(JsonNode? body, int status = 200) =>
        Results.Text(body?.ToJsonString() ?? "null", "application/json; charset=utf-8", null, status);
}

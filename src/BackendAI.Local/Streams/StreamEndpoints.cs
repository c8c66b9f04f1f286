using Microsoft.AspNetCore.Routing;

namespace BackendAI.Local.Streams;

/// <summary>Maps the <c>/stream/session/{id}/...</c> WebSocket and app endpoints.</summary>
public static class StreamEndpoints
{
    /// <summary>Maps the endpoints. (Placeholder until the kernels/streams area lands.)</summary>
    public static IEndpointRouteBuilder MapStreamEndpoints(this IEndpointRouteBuilder app) => app;
}

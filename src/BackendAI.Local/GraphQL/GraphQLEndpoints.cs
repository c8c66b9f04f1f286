using Microsoft.AspNetCore.Routing;

namespace BackendAI.Local.GraphQL;

/// <summary>Maps <c>POST /admin/gql</c> and the legacy <c>POST /admin/graphql</c>.</summary>
public static class GraphQLEndpoints
{
    /// <summary>Registers the GraphQL schema and executor in DI.</summary>
    public static IServiceCollection AddLocalGraphQL(this IServiceCollection services) => services;

    /// <summary>Maps the endpoints. (Placeholder until the GraphQL area lands.)</summary>
    public static IEndpointRouteBuilder MapGraphQLEndpoints(this IEndpointRouteBuilder app) => app;
}

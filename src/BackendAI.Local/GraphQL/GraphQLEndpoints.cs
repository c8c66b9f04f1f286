using System.Text.Json.Nodes;
using BackendAI.Client.Errors;
using BackendAI.Local.Hosting;
using BackendAI.Local.VFolders;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace BackendAI.Local.GraphQL;

/// <summary>Maps <c>POST /admin/gql</c> and the legacy <c>POST /admin/graphql</c>.</summary>
public static class GraphQLEndpoints
{
    /// <summary>
    /// Registers the GraphQL schema and executor in DI. Data comes from <see cref="ISessionQuerySource"/>,
    /// <see cref="IKeypairStore"/>, <see cref="IAgentInfo"/> and the vfolder store when they are registered.
    /// </summary>
    public static IServiceCollection AddLocalGraphQL(this IServiceCollection services)
    {
        services.AddSingleton(sp => new GraphQLExecutor(sp));
        return services;
    }

    /// <summary>
    /// Maps <c>POST /admin/gql</c> (standard envelope, HTTP 200 also for GraphQL errors) and the legacy
    /// <c>POST /admin/graphql</c> (bare data; errors as 400 <c>graphql-error</c>). Both need a signed request.
    /// </summary>
    public static IEndpointRouteBuilder MapGraphQLEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/admin/gql", async (HttpContext context, GraphQLExecutor executor) =>
        {
            var result = await RunAsync(context, executor).ConfigureAwait(false);
            return Results.Text(executor.Serialize(result), "application/json; charset=utf-8", System.Text.Encoding.UTF8, StatusCodes.Status200OK);
        });
        app.MapPost("/admin/graphql", async (HttpContext context, GraphQLExecutor executor) =>
        {
            var result = await RunAsync(context, executor).ConfigureAwait(false);
            var envelope = JsonNode.Parse(executor.Serialize(result))!.AsObject();
            if (envelope["errors"] is JsonArray { Count: > 0 } errors)
                throw new ApiProblemException(ProblemTypes.GraphQLError, data: errors.DeepClone());
            return VFolderService.Json(envelope["data"]?.DeepClone() ?? new JsonObject());
        });
        return app;
    }

    private static async Task<global::GraphQL.ExecutionResult> RunAsync(HttpContext context, GraphQLExecutor executor)
    {
        var caller = CallerIdentity.Get(context);
        var p = (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false))
            .AllowOnly("query", "variables", "operation_name", "operationName");
        var query = p.RequiredString("query");
        var variables = p.Node("variables") switch
        {
            null => null,
            JsonObject o => o,
            _ => throw ApiParams.Invalid("variables", "value is not a dict"),
        };
        var operationName = p.String("operation_name", "operationName");
        return await executor.ExecuteAsync(caller, query, variables, operationName, context.RequestAborted).ConfigureAwait(false);
    }
}

using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using GraphQL;
using GraphQL.Conversion;
using GraphQL.Execution;
using GraphQL.SystemTextJson;
using GraphQL.Types;

namespace BackendAI.Local.GraphQL;

/// <summary>The admin schema with snake_case names exactly as declared.</summary>
internal sealed class LocalSchema : Schema
{
    public LocalSchema()
    {
        NameConverter = DefaultNameConverter.Instance;
        Query = new QueryType();
    }
}

/// <summary>Runs GraphQL documents against <see cref="LocalSchema"/> for a caller and serializes results.</summary>
internal sealed class GraphQLExecutor
{
    private readonly LocalSchema _schema = new();
    private readonly DocumentExecuter _executer = new();
    private readonly GraphQLSerializer _serializer = new(new ErrorInfoProvider(o => o.ExposeExtensions = false));
    private readonly GraphQLData _data;

    public GraphQLExecutor(IServiceProvider services)
    {
        _data = new GraphQLData(services);
        _schema.Initialize();
    }

    /// <summary>Executes <paramref name="query"/>; variables are a JSON object (or null).</summary>
    public Task<ExecutionResult> ExecuteAsync(LocalIdentity caller, string query, JsonObject? variables, string? operationName,
        CancellationToken cancellationToken = default) =>
        _executer.ExecuteAsync(o =>
        {
            o.Schema = _schema;
            o.Query = query;
            o.Variables = variables is null ? Inputs.Empty : _serializer.Deserialize<Inputs>(variables.ToJsonString()) ?? Inputs.Empty;
            o.OperationName = operationName;
            o.UserContext = new GraphQLRequestContext { Caller = caller, Data = _data };
            o.CancellationToken = cancellationToken;
            o.ThrowOnUnhandledException = false;
        });

    /// <summary>The standard envelope (<c>errors</c> before <c>data</c>), keys in request order.</summary>
    public string Serialize(ExecutionResult result) => _serializer.Serialize(result);
}

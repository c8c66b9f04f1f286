using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Client.Config;
using BackendAI.Client.Errors;
using BackendAI.Client.Json;
using BackendAI.Client.Rest;

namespace BackendAI.Client.Admin;

/// <summary>Admin GraphQL (admin-graphql.md).</summary>
public class AdminApi
{
    /// <summary>Largest page the client requests.</summary>
    public const int MaxPageSize = 100;
    private readonly ApiTransport _t;

    /// <summary>For mocks.</summary>
    protected AdminApi() => _t = null!;

    internal AdminApi(ApiTransport transport) => _t = transport;

    /// <summary>Runs a GraphQL document and returns <c>data</c>. Goes to <c>/admin/gql</c> (≥ v6.20210815) or the legacy
    /// <c>/admin/graphql</c>; any GraphQL error raises <see cref="GraphQLException"/>.</summary>
    public virtual async Task<JsonElement> QueryAsync(string query, IReadOnlyDictionary<string, object?>? variables = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(query)) throw new BackendClientException("The GraphQL query must not be empty.", "query");
        var v = await _t.EnsureVersionAsync(cancellationToken).ConfigureAwait(false);
        var vars = new JsonObject();
        if (variables is not null) foreach (var (k, val) in variables) vars[k] = Wire.ToNode(val);
        var body = new JsonObject { ["query"] = query, ["variables"] = vars };
        var trimmed = query.TrimStart();
        var readOnly = trimmed.StartsWith('{') || trimmed.StartsWith("query", StringComparison.Ordinal);
        var path = v.UsesGqlEnvelope ? "/admin/gql" : "/admin/graphql";
        var req = new ApiRequest(HttpMethod.Post, path) { Content = Wire.JsonBody(body), Idempotent = readOnly };
        var j = await _t.SendJsonAsync(req, cancellationToken).ConfigureAwait(false);
        if (!v.UsesGqlEnvelope) return j;
        if (j.Prop("errors") is { ValueKind: JsonValueKind.Array } errors && errors.GetArrayLength() > 0)
            throw new GraphQLException(400, "Bad request", ProblemTypes.GraphQLError.Uri, "GraphQL-generated error", null, errors.Clone());
        return j.Prop("data") ?? default;
    }

    /// <summary>Pages through <c>compute_session_list</c> (pages of at most 100), yielding each item.</summary>
    /// <param name="status">Comma-separated statuses, or null for any.</param>
    /// <param name="fields">Fields to request, e.g. <c>name</c>, <c>session_id</c>, <c>status</c>.</param>
    /// <param name="pageSize">Items per request, 1–100.</param>
    /// <param name="accessKey">Owner filter (admins).</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    public virtual async IAsyncEnumerable<JsonElement> ListComputeSessionsAsync(string? status, IReadOnlyList<string> fields, int pageSize = 20,
        string? accessKey = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0) throw new BackendClientException("At least one field is required.", "fields");
        if (pageSize is < 1 or > MaxPageSize) throw new BackendClientException($"pageSize must be between 1 and {MaxPageSize} (was {pageSize}).", "pageSize");
        foreach (var f in fields)
            if (f.Length == 0 || !f.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ' ' or '{' or '}'))
                throw new BackendClientException($"'{f}' is not a GraphQL field name.", "fields");
        var v = await _t.EnsureVersionAsync(cancellationToken).ConfigureAwait(false);
        var mapped = fields.Select(f => v.UsesLegacyNaming ? f switch { "name" => "sess_id", "type" => "sess_type", _ => f } : f);
        var items = string.Join(" ", mapped);
        var query = v.UsesGqlEnvelope
            ? "query($limit:Int!, $offset:Int!, $status: String, $access_key: String, $filter: String, $order: String) {\n"
              + "  compute_session_list(\n      limit:$limit, offset:$offset, status:$status, access_key:$access_key, filter:$filter, order:$order) {\n"
              + $"    items {{ {items} }}\n    total_count\n  }}\n}}"
            : "query($limit:Int!, $offset:Int!, $status: String, $access_key: String) {\n"
              + "  compute_session_list(\n      limit:$limit, offset:$offset, status:$status, access_key:$access_key) {\n"
              + $"    items {{ {items} }}\n    total_count\n  }}\n}}";
        var offset = 0;
        while (true)
        {
            var vars = new Dictionary<string, object?> { ["status"] = status, ["access_key"] = accessKey, ["limit"] = pageSize, ["offset"] = offset };
            if (v.UsesGqlEnvelope)
            {
                vars["filter"] = null;
                vars["order"] = null;
            }
            var data = await QueryAsync(query, vars, cancellationToken).ConfigureAwait(false);
            var list = data.Prop("compute_session_list") ?? throw new BackendProtocolException("The response has no 'compute_session_list'.");
            var page = list.Prop("items") is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray().ToList() : [];
            foreach (var item in page) yield return item;
            offset += page.Count;
            var total = list.Long("total_count") ?? 0;
            if (page.Count == 0 || offset >= total) yield break;
        }
    }
}

/// <summary>The manager announcement.</summary>
/// <param name="Enabled">Whether a banner is set.</param>
/// <param name="Message">The text.</param>
public sealed record Announcement(bool Enabled, string Message);

/// <summary>Manager status, freezing and the announcement banner.</summary>
public class ManagerApi
{
    private readonly ApiTransport _t;

    /// <summary>For mocks.</summary>
    protected ManagerApi() => _t = null!;

    internal ManagerApi(ApiTransport transport) => _t = transport;

    /// <summary><c>GET /manager/status</c>.</summary>
    public virtual Task<JsonElement> GetStatusAsync(CancellationToken cancellationToken = default) =>
        _t.SendJsonAsync(new ApiRequest(HttpMethod.Get, "/manager/status"), cancellationToken);

    /// <summary>Freezes the manager (<c>PUT /manager/status</c>, superadmin).</summary>
    public virtual Task FreezeAsync(bool force = false, CancellationToken cancellationToken = default) =>
        _t.SendNoContentAsync(new ApiRequest(HttpMethod.Put, "/manager/status")
        {
            Content = Wire.JsonBody(new JsonObject { ["status"] = "frozen", ["force_kill"] = force }),
        }, cancellationToken);

    /// <summary>Unfreezes the manager.</summary>
    public virtual Task UnfreezeAsync(CancellationToken cancellationToken = default) =>
        _t.SendNoContentAsync(new ApiRequest(HttpMethod.Put, "/manager/status")
        {
            Content = Wire.JsonBody(new JsonObject { ["status"] = "running" }),
        }, cancellationToken);

    /// <summary><c>GET /manager/announcement</c>; an enabled banner is also passed to
    /// <see cref="BackendAIClientOptions.AnnouncementHandler"/>.</summary>
    public virtual async Task<Announcement> GetAnnouncementAsync(CancellationToken cancellationToken = default)
    {
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Get, "/manager/announcement"), cancellationToken).ConfigureAwait(false);
        var a = new Announcement(j.Bool("enabled") ?? false, j.Str("message") ?? string.Empty);
        if (a.Enabled && a.Message.Length > 0) _t.Options.AnnouncementHandler?.Invoke(a.Message);
        return a;
    }
}

/// <summary>Result of a webserver login.</summary>
/// <param name="Authenticated">True on success.</param>
/// <param name="Data">The <c>data</c> object (access key and role, or the failure details).</param>
public sealed record LoginResult(bool Authenticated, JsonElement Data);

/// <summary>Login/logout through a webserver (<c>session</c> endpoint type) and the signed echo test.</summary>
public class AuthApi
{
    private readonly ApiTransport _t;

    /// <summary>For mocks.</summary>
    protected AuthApi() => _t = null!;

    internal AuthApi(ApiTransport transport) => _t = transport;

    /// <summary><c>POST /server/login</c>; the session cookie is kept for later calls.</summary>
    /// <exception cref="AuthenticationFailedException">The webserver answered <c>authenticated: false</c>.</exception>
    public virtual async Task<LoginResult> LoginAsync(string username, string password, CancellationToken cancellationToken = default)
    {
        RequireSessionMode();
        if (string.IsNullOrEmpty(username)) throw new BackendClientException("The username is required.", "username");
        var body = new JsonObject { ["username"] = username, ["password"] = password ?? string.Empty };
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Post, "/server/login") { Content = Wire.JsonBody(body), Unsigned = true },
            cancellationToken).ConfigureAwait(false);
        var data = j.Prop("data") ?? default;
        if (j.Bool("authenticated") != true)
            throw new AuthenticationFailedException(401, "Unauthorized", data.Str("type") ?? ProblemTypes.AuthFailed.Uri,
                data.Str("title") ?? "Login failed.", data.Str("details"), data.ValueKind == JsonValueKind.Undefined ? null : data);
        return new LoginResult(true, data);
    }

    /// <summary><c>POST /server/logout</c>.</summary>
    public virtual Task LogoutAsync(CancellationToken cancellationToken = default)
    {
        RequireSessionMode();
        return _t.SendNoContentAsync(new ApiRequest(HttpMethod.Post, "/server/logout") { Unsigned = true }, cancellationToken);
    }

    /// <summary><c>POST /auth/test</c> with <c>{"echo": …}</c>; returns the echoed text (proves the signature).</summary>
    public virtual async Task<string> TestAsync(string echo, CancellationToken cancellationToken = default)
    {
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Post, "/auth/test")
        {
            Content = Wire.JsonBody(new JsonObject { ["echo"] = echo ?? string.Empty }),
            Idempotent = true,
        }, cancellationToken).ConfigureAwait(false);
        return j.Str("echo") ?? string.Empty;
    }

    private void RequireSessionMode()
    {
        if (_t.Options.EndpointType != EndpointType.Session)
            throw new BackendClientException("Login and logout need endpoint-type = session.", "endpoint-type");
    }
}

/// <summary>Keypair, agents, images and scaling groups.</summary>
public class ResourcesApi
{
    private readonly ApiTransport _t;
    private readonly AdminApi _admin;

    /// <summary>For mocks.</summary>
    protected ResourcesApi()
    {
        _t = null!;
        _admin = null!;
    }

    internal ResourcesApi(ApiTransport transport)
    {
        _t = transport;
        _admin = new AdminApi(transport);
    }

    /// <summary>The caller's keypair (GraphQL <c>keypair</c>; the secret key is not requested).</summary>
    public virtual async Task<JsonElement> GetKeypairInfoAsync(CancellationToken cancellationToken = default)
    {
        var data = await _admin.QueryAsync(
            "query { keypair { user_id access_key is_active is_admin resource_policy rate_limit num_queries concurrency_used } }",
            null, cancellationToken).ConfigureAwait(false);
        return data.Prop("keypair") ?? default;
    }

    /// <summary>Agents (GraphQL <c>agent_list</c>, superadmin), first page of up to 100.</summary>
    public virtual async Task<IReadOnlyList<JsonElement>> ListAgentsAsync(string? status = "ALIVE", CancellationToken cancellationToken = default)
    {
        var data = await _admin.QueryAsync(
            "query($limit:Int!, $offset:Int!, $status: String) { agent_list(limit:$limit, offset:$offset, status:$status) { items { id status scaling_group available_slots occupied_slots } total_count } }",
            new Dictionary<string, object?> { ["limit"] = AdminApi.MaxPageSize, ["offset"] = 0, ["status"] = status }, cancellationToken).ConfigureAwait(false);
        return data.Prop("agent_list")?.Prop("items") is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray().ToList() : [];
    }

    /// <summary>Images (GraphQL <c>images</c>).</summary>
    public virtual async Task<IReadOnlyList<JsonElement>> ListImagesAsync(CancellationToken cancellationToken = default)
    {
        var data = await _admin.QueryAsync("query { images { name tag registry architecture digest installed } }", null, cancellationToken)
            .ConfigureAwait(false);
        return data.Prop("images") is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray().ToList() : [];
    }

    /// <summary>Scaling groups usable by a project (<c>GET /scaling-groups?group=…</c>).</summary>
    public virtual async Task<IReadOnlyList<string>> ListScalingGroupsAsync(string? group = null, CancellationToken cancellationToken = default)
    {
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Get, "/scaling-groups").With("group", group ?? _t.Options.Group), cancellationToken)
            .ConfigureAwait(false);
        return j.Prop("scaling_groups") is { ValueKind: JsonValueKind.Array } a
            ? a.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Object ? x.Str("name") ?? string.Empty : x.ToString()).ToList()
            : [];
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Client.Errors;
using BackendAI.Client.Json;
using BackendAI.Client.Rest;

namespace BackendAI.Client.Sessions;

/// <summary>
/// A stored session (task) template as the server reports it (<c>GET /template/session[/{id}]</c>).
/// </summary>
public sealed class SessionTemplateInfo
{
    internal SessionTemplateInfo(Guid id, string name, string? userId, string? groupId, string? domainName, bool isOwner,
        string? userEmail, string? groupName, string? createdAt, JsonElement template, JsonElement raw)
    {
        Id = id;
        Name = name;
        UserId = userId;
        GroupId = groupId;
        DomainName = domainName;
        IsOwner = isOwner;
        UserEmail = userEmail;
        GroupName = groupName;
        CreatedAt = createdAt;
        Template = template;
        Raw = raw;
    }

    /// <summary>The template id.</summary>
    public Guid Id { get; }

    /// <summary>The template name.</summary>
    public string Name { get; }

    /// <summary>The owning user's UUID (string as sent).</summary>
    public string? UserId { get; }

    /// <summary>The group (project) UUID, if any.</summary>
    public string? GroupId { get; }

    /// <summary>The domain name.</summary>
    public string? DomainName { get; }

    /// <summary>Whether the caller owns (or, as an admin, manages) it; false from <see cref="SessionTemplatesApi.GetAsync"/>.</summary>
    public bool IsOwner { get; }

    /// <summary>The owner's e-mail (lists only).</summary>
    public string? UserEmail { get; }

    /// <summary>The group name (lists only).</summary>
    public string? GroupName { get; }

    /// <summary>Creation time as the server renders it (lists only).</summary>
    public string? CreatedAt { get; }

    /// <summary>The template document (<c>api_version</c>, <c>kind</c>, <c>metadata</c>, <c>spec</c>).</summary>
    public JsonElement Template { get; }

    /// <summary>The whole response item.</summary>
    public JsonElement Raw { get; }

    /// <inheritdoc />
    public override string ToString() => $"SessionTemplateInfo({Id:N}, {Name})";
}

/// <summary>
/// Session templates (<c>/template/session</c>): stored creation settings that
/// <see cref="SessionsApi.CreateFromTemplateAsync"/> starts sessions from. A payload is the text (JSON or YAML) of
/// <c>{"session_templates": [{"name": …, "group_id": …, "user_uuid": …, "template": {"api_version": "v1",
/// "kind": "taskTemplate", "metadata": {"name": …}, "spec": {"kernel": {"image": …}}}}]}</c>;
/// <see cref="BuildPayload"/> makes one from a template document.
/// </summary>
public class SessionTemplatesApi
{
    private readonly ApiTransport _t;

    /// <summary>For mocks.</summary>
    protected SessionTemplatesApi() => _t = null!;

    internal SessionTemplatesApi(ApiTransport transport) => _t = transport;

    /// <summary>Wraps one template document into a payload (<c>session_templates</c> with one item).</summary>
    /// <param name="template">The template document (<c>api_version</c>, <c>kind</c>, <c>metadata</c>, <c>spec</c>).</param>
    /// <param name="name">The stored name; null = the template's <c>metadata.name</c>.</param>
    public static string BuildPayload(JsonNode template, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        return new JsonObject
        {
            ["session_templates"] = new JsonArray(new JsonObject
            {
                ["name"] = name, ["group_id"] = null, ["user_uuid"] = null, ["template"] = template.DeepClone(),
            }),
        }.ToJsonString();
    }

    /// <summary>Stores the template(s) of <paramref name="payload"/> (<c>POST /template/session</c>); returns the id
    /// of the last one stored.</summary>
    /// <param name="payload">JSON or YAML text (see the class summary).</param>
    /// <param name="domainName">Domain; null = the configured one.</param>
    /// <param name="groupName">Group (project); null = the configured one.</param>
    /// <param name="ownerAccessKey">Store on behalf of another keypair (admins).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public virtual async Task<Guid> CreateAsync(string payload, string? domainName = null, string? groupName = null,
        string? ownerAccessKey = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(payload)) throw new BackendClientException("The template payload must not be empty.", "payload");
        var body = new JsonObject
        {
            ["payload"] = payload,
            ["group_name"] = groupName ?? _t.Options.Group,
            ["domain_name"] = domainName ?? _t.Options.Domain,
            ["owner_access_key"] = ownerAccessKey,
        };
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Post, "/template/session") { Content = Wire.JsonBody(body) },
            cancellationToken).ConfigureAwait(false);
        return ParseId(j.Str("id"), "template create");
    }

    /// <summary>The templates the caller can see (<c>GET /template/session</c>); <paramref name="listAll"/> lists every
    /// template (superadmins only).</summary>
    public virtual async Task<IReadOnlyList<SessionTemplateInfo>> ListAsync(bool listAll = false, CancellationToken cancellationToken = default)
    {
        var req = new ApiRequest(HttpMethod.Get, "/template/session").With("all", listAll ? "true" : "false");
        var j = await _t.SendJsonAsync(req, cancellationToken).ConfigureAwait(false);
        if (j.ValueKind != JsonValueKind.Array) throw new BackendProtocolException("The template list response is not a JSON array.");
        return [.. j.EnumerateArray().Select(e => Parse(e, ParseId(e.Str("id"), "template list")))];
    }

    /// <summary>One template (<c>GET /template/session/{id}</c>).</summary>
    public virtual async Task<SessionTemplateInfo> GetAsync(Guid templateId, string? ownerAccessKey = null, CancellationToken cancellationToken = default)
    {
        var req = new ApiRequest(HttpMethod.Get, Path(templateId)).With("format", "json").With("owner_access_key", ownerAccessKey);
        var j = await _t.SendJsonAsync(req, cancellationToken).ConfigureAwait(false);
        return Parse(j, templateId);
    }

    /// <summary>Replaces a template with the one in <paramref name="payload"/> (<c>PUT /template/session/{id}</c>).</summary>
    public virtual async Task UpdateAsync(Guid templateId, string payload, string? ownerAccessKey = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(payload)) throw new BackendClientException("The template payload must not be empty.", "payload");
        var body = new JsonObject { ["payload"] = payload };
        if (ownerAccessKey is not null) body["owner_access_key"] = ownerAccessKey;
        await _t.SendNoContentAsync(new ApiRequest(HttpMethod.Put, Path(templateId)) { Content = Wire.JsonBody(body) },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a template (<c>DELETE /template/session/{id}</c>).</summary>
    public virtual async Task DeleteAsync(Guid templateId, string? ownerAccessKey = null, CancellationToken cancellationToken = default)
    {
        var req = new ApiRequest(HttpMethod.Delete, Path(templateId)).With("owner_access_key", ownerAccessKey);
        await _t.SendNoContentAsync(req, cancellationToken).ConfigureAwait(false);
    }

    private static string Path(Guid templateId) => "/template/session/" + templateId.ToString("N", CultureInfo.InvariantCulture);

    private static Guid ParseId(string? text, string what) =>
        Guid.TryParse(text, out var id) ? id : throw new BackendProtocolException($"The {what} response has no valid template 'id'.");

    private static SessionTemplateInfo Parse(JsonElement e, Guid id) => new(
        id,
        e.Str("name") ?? string.Empty,
        e.Str("user") ?? e.Str("user_uuid"),
        e.Str("group") ?? e.Str("group_id"),
        e.Str("domain_name"),
        e.Bool("is_owner") ?? false,
        e.Str("user_email"),
        e.Str("group_name"),
        e.Str("created_at"),
        e.Prop("template") ?? default,
        e);
}

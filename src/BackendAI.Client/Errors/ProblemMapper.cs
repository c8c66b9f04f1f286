using System.Text.Json;

namespace BackendAI.Client.Errors;

/// <summary>Turns an error response (problem+json or anything else) into the typed exception family.</summary>
public static class ProblemMapper
{
    /// <summary>Maps one error response. A body that is not a JSON object with <c>type</c> becomes <c>generic-error</c>
    /// with the raw text in <c>data.content</c>.</summary>
    /// <param name="status">HTTP status.</param>
    /// <param name="reason">HTTP reason phrase.</param>
    /// <param name="body">The response body as text.</param>
    /// <param name="requestPath">The API path that was called (decides session vs vfolder not-found types).</param>
    /// <param name="retryAfter">The parsed <c>Retry-After</c> header, when present.</param>
    public static BackendApiException Map(int status, string reason, string body, string requestPath, TimeSpan? retryAfter = null)
    {
        string type, title;
        string? msg = null;
        JsonElement? data = null;
        if (TryParseProblem(body, out var root) && root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String)
        {
            type = t.GetString()!;
            title = root.TryGetProperty("title", out var ti) && ti.ValueKind == JsonValueKind.String ? ti.GetString()! : reason;
            if (root.TryGetProperty("msg", out var m) && m.ValueKind != JsonValueKind.Null) msg = m.ValueKind == JsonValueKind.String ? m.GetString() : m.GetRawText();
            if (root.TryGetProperty("data", out var d) && d.ValueKind != JsonValueKind.Null) data = d.Clone();
            else if (root.TryGetProperty("agent-details", out var ad)) data = ad.Clone();
        }
        else
        {
            type = ProblemTypes.GenericError.Uri;
            title = ProblemTypes.GenericError.Title;
            msg = body.Length > 2048 ? body[..2048] + "…" : body;
            using var doc = JsonDocument.Parse(JsonSerializer.Serialize(new Dictionary<string, string> { ["content"] = body },
                Json.BackendAIJsonContext.Default.DictionaryStringString));
            data = doc.RootElement.Clone();
        }
        return Create(status, reason, type, title, msg, data, requestPath, retryAfter);
    }

    /// <summary>Builds the subclass matching a problem type.</summary>
    public static BackendApiException Create(int status, string reason, string type, string title, string? msg, JsonElement? data,
        string requestPath, TimeSpan? retryAfter = null)
    {
        var suffix = type.StartsWith(ProblemTypes.Prefix, StringComparison.Ordinal) ? type[ProblemTypes.Prefix.Length..] : type;
        var path = requestPath.TrimStart('/');
        if (path.StartsWith("func/", StringComparison.Ordinal)) path = path[5..];
        var sessionRoute = path.StartsWith("session", StringComparison.Ordinal) || path.StartsWith("kernel", StringComparison.Ordinal)
            || path.StartsWith("stream/session", StringComparison.Ordinal) || path.StartsWith("stream/kernel", StringComparison.Ordinal);
        var folderRoute = path.StartsWith("folders", StringComparison.Ordinal);
        return suffix switch
        {
            "auth-failed" => new AuthenticationFailedException(status, reason, type, title, msg, data),
            "invalid-auth-params" when msg is not null && msg.Contains("Date/time sync", StringComparison.OrdinalIgnoreCase)
                => new DateSyncException(status, reason, type, title, msg, data),
            "generic-forbidden" or "insufficient-privilege" => new ForbiddenException(status, reason, type, title, msg, data),
            "object-not-found" when title.Contains("session", StringComparison.OrdinalIgnoreCase)
                || (sessionRoute && !title.Contains("image", StringComparison.OrdinalIgnoreCase) && !title.Contains("app", StringComparison.OrdinalIgnoreCase)
                    && !title.Contains("template", StringComparison.OrdinalIgnoreCase))
                => new SessionNotFoundException(status, reason, type, title, msg, data),
            "object-not-found" when title.Contains("virtual folder", StringComparison.OrdinalIgnoreCase) || title.Contains("vfolder", StringComparison.OrdinalIgnoreCase)
                => new VFolderNotFoundException(status, reason, type, title, msg, data),
            "invalid-api-params" when folderRoute && msg is not null && msg.Contains("No such vfolder", StringComparison.OrdinalIgnoreCase)
                => new VFolderNotFoundException(status, reason, type, title, msg, data),
            "rate-limit-exceeded" or "too-many-requests" => new RateLimitedException(status, reason, type, title, msg, data, retryAfter),
            "quota-exceeded" => new QuotaExceededException(status, reason, type, title, msg, data),
            "session-already-exists" => new SessionAlreadyExistsException(status, reason, type, title, msg, data),
            "graphql-error" => new GraphQLException(status, reason, type, title, msg, data),
            _ when status == 429 => new RateLimitedException(status, reason, type, title, msg, data, retryAfter),
            _ => new BackendApiException(status, reason, type, title, msg, data),
        };
    }

    private static bool TryParseProblem(string body, out JsonElement root)
    {
        root = default;
        if (string.IsNullOrWhiteSpace(body)) return false;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return false;
            root = doc.RootElement.Clone();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

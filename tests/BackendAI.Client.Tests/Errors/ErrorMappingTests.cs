using BackendAI.Client.Errors;
using BackendAI.Client.Tests.Infrastructure;

namespace BackendAI.Client.Tests.Errors;

public class ErrorMappingTests
{
    private static string Problem(string suffix, string title, string? msg = null, string? data = null) =>
        $"{{\"type\": \"https://api.backend.ai/probs/{suffix}\", \"title\": \"{title}\""
        + (msg is null ? "" : $", \"msg\": \"{msg}\"") + (data is null ? "" : $", \"data\": {data}") + "}";

    public static TheoryData<int, string, string, string?, string, Type> Cases() => new()
    {
        { 401, "auth-failed", "Credential/signature mismatch.", "Signature mismatch", "/session/x", typeof(AuthenticationFailedException) },
        { 400, "invalid-auth-params", "Missing or invalid authorization parameters.", "Date/time sync error", "/session/x", typeof(DateSyncException) },
        { 400, "invalid-auth-params", "Missing or invalid authorization parameters.", "Malformed authorization header", "/session/x", typeof(BackendApiException) },
        { 404, "object-not-found", "No such session.", null, "/session/x", typeof(SessionNotFoundException) },
        { 404, "object-not-found", "No such virtual folder.", "Your operation may be permission denied.", "/folders/x", typeof(VFolderNotFoundException) },
        { 400, "invalid-api-params", "Missing or invalid API parameters.", "No such vfolder.", "/folders/x", typeof(VFolderNotFoundException) },
        { 404, "object-not-found", "No such environment image.", null, "/session", typeof(BackendApiException) },
        { 429, "rate-limit-exceeded", "You have reached your API query rate limit.", null, "/session", typeof(RateLimitedException) },
        { 412, "quota-exceeded", "You have reached your resource limit.", null, "/session", typeof(QuotaExceededException) },
        { 403, "generic-forbidden", "Forbidden operation.", null, "/session/x", typeof(ForbiddenException) },
        { 403, "insufficient-privilege", "Insufficient privilege.", null, "/session/x", typeof(ForbiddenException) },
        { 400, "graphql-error", "GraphQL-generated error.", null, "/admin/graphql", typeof(GraphQLException) },
        { 500, "kernel-execution-failed", "Executing user code in the kernel has failed.", null, "/session/x", typeof(BackendApiException) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Client13_problem_types_map_to_typed_errors(int status, string suffix, string title, string? msg, string path, Type expected)
    {
        var ex = ProblemMapper.Map(status, "Reason", Problem(suffix, title, msg), path);
        Assert.IsType(expected, ex);
        Assert.Equal(status, ex.Status);
        Assert.Equal(ProblemTypes.Prefix + suffix, ex.ErrorType);
        Assert.Equal(title, ex.Title);
        Assert.Equal(msg, ex.Msg);
    }

    [Fact]
    public void Session_already_exists_exposes_the_existing_session_id()
    {
        var ex = Assert.IsType<SessionAlreadyExistsException>(ProblemMapper.Map(400, "Bad Request",
            Problem("session-already-exists", "The session already exists but you requested not to reuse existing one.", null,
                "{\"existingSessionId\": \"5c3ad8c9-8f4e-4b57-9a2a-2f1c4a2e6d10\"}"), "/session"));
        Assert.Equal("5c3ad8c9-8f4e-4b57-9a2a-2f1c4a2e6d10", ex.ExistingSessionId);
    }

    [Fact]
    public void Client13_non_json_body_becomes_generic_error_with_the_raw_text()
    {
        var ex = ProblemMapper.Map(502, "Bad Gateway", "<html>upstream down</html>", "/session");
        Assert.Equal(ProblemTypes.GenericError.Uri, ex.ErrorType);
        Assert.Equal("Generic Error (could not parse error string)", ex.Title);
        Assert.Equal("<html>upstream down</html>", ex.Data!.Value.GetProperty("content").GetString());
        var empty = ProblemMapper.Map(500, "Internal Server Error", "", "/x");
        Assert.Equal(ProblemTypes.GenericError.Uri, empty.ErrorType);
        var array = ProblemMapper.Map(500, "Internal Server Error", "[1,2]", "/x");
        Assert.Equal(ProblemTypes.GenericError.Uri, array.ErrorType);
    }

    [Fact]
    public void Agent_details_are_kept_as_data()
    {
        var ex = ProblemMapper.Map(500, "Internal Server Error",
            "{\"type\": \"https://api.backend.ai/probs/kernel-execution-failed\", \"title\": \"Executing user code in the kernel has failed.\", \"agent-details\": {\"type\": \"https://api.backend.ai/probs/agent-failure\", \"exception\": \"boom\"}}",
            "/session/x/download");
        Assert.Equal("boom", ex.Data!.Value.GetProperty("exception").GetString());
    }

    [Fact]
    public async Task Client14_date_sync_error_over_the_wire_is_distinct_and_not_retried()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) =>
            LoopbackServer.WriteProblem(ctx, 400, "invalid-auth-params", "Missing or invalid authorization parameters.", "Date/time sync error"));
        await using var client = server.Client();
        var ex = await Assert.ThrowsAsync<DateSyncException>(() => client.Sessions.GetInfoAsync("s1"));
        Assert.Equal(400, ex.Status);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Session_not_found_over_the_wire()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, _) => LoopbackServer.WriteProblem(ctx, 404, "object-not-found", "No such session."));
        await using var client = server.Client();
        await Assert.ThrowsAsync<SessionNotFoundException>(() => client.Sessions.GetInfoAsync("nope"));
    }

    [Fact]
    public void Exception_messages_carry_status_title_and_msg()
    {
        var ex = ProblemMapper.Map(401, "Unauthorized", Problem("auth-failed", "Credential/signature mismatch.", "Access key not found"), "/x");
        Assert.Equal("401 Unauthorized: Credential/signature mismatch. (Access key not found)", ex.Message);
        Assert.True(ex.Is(ProblemTypes.AuthFailed));
    }
}

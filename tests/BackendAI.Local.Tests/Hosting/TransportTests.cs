using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Client.Auth;
using BackendAI.Local;
using BackendAI.Local.Hosting;
using BackendAI.Testing;

namespace BackendAI.Local.Tests.Hosting;

/// <summary>Conformance checklist Server 1–40 (transport, version, auth, errors, rate limits).</summary>
public class TransportTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>
{
    private static async Task<JsonObject> ProblemAsync(HttpResponseMessage r, HttpStatusCode status, string typeSuffix)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(status == r.StatusCode, $"expected {status}, got {(int)r.StatusCode}: {text}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(text)!.AsObject();
        Assert.Equal("https://api.backend.ai/probs/" + typeSuffix, body["type"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["title"]!.GetValue<string>()));
        return body;
    }

    private HttpRequestMessage Raw(HttpMethod method, string path, string? authorization, string? date, string version = "v6.20220315")
    {
        var r = new HttpRequestMessage(method, fx.Admin.UriOf(path));
        if (date is not null) r.Headers.TryAddWithoutValidation("Date", date);
        r.Headers.TryAddWithoutValidation("X-BackendAI-Version", version);
        if (authorization is not null) r.Headers.TryAddWithoutValidation("Authorization", authorization);
        return r;
    }

    private string SignAdmin(string method, string target, string date, string contentType = "application/octet-stream", string hash = "sha256", string version = "v6.20220315")
    {
        var signer = new RequestSigner(WellKnownKeypairs.SuperAdmin.AccessKey, WellKnownKeypairs.SuperAdmin.SecretKey, SignatureHash.Get(hash));
        return signer.Authorization(new SignatureInput(method, target, date, fx.Endpoint.Authority, contentType, version));
    }

    [Fact]
    public async Task Server1_hello_without_headers_returns_version_json()
    {
        using var r = await fx.Anonymous.Client.GetAsync(fx.Endpoint);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
        Assert.Equal("v6.20220315", body["version"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["manager"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Server2_empty_path_behaves_like_root()
    {
        using var r = await fx.Anonymous.Client.GetAsync(fx.Endpoint.GetLeftPart(UriPartial.Authority));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("v6.20220315", JsonNode.Parse(await r.Content.ReadAsStringAsync())!["version"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server3_every_response_carries_server_backendai()
    {
        using var ok = await fx.Anonymous.Client.GetAsync(fx.Endpoint);
        using var notFound = await fx.Admin.GetAsync("/no/such/path");
        using var unauthorized = await fx.Anonymous.GetAsync("/auth/test");
        foreach (var r in new[] { ok, notFound, unauthorized })
            Assert.Equal("BackendAI", Assert.Single(r.Headers.GetValues("Server")));
    }

    [Fact]
    public async Task Server4_unsupported_version_is_rejected_with_400()
    {
        fx.Admin.ApiVersion = "v7.20990101";
        try
        {
            using var r = await fx.Admin.PostAsync("/auth/test", new JsonObject { ["echo"] = "x" });
            var body = await ProblemAsync(r, HttpStatusCode.BadRequest, "generic-bad-request");
            Assert.Equal("Unsupported API version.", body["msg"]!.GetValue<string>());
        }
        finally
        {
            fx.Admin.ApiVersion = "v6.20220315";
        }
    }

    [Theory]
    [InlineData("v4.20190615")]
    [InlineData("v5.20191215")]
    [InlineData("v6.20210815")]
    [InlineData("v6.20220315")]
    public async Task Server5_known_versions_are_accepted(string version)
    {
        using var http = new SignedHttp(fx.Endpoint, WellKnownKeypairs.SuperAdmin) { ApiVersion = version };
        var body = await http.JsonAsync(HttpMethod.Post, "/auth/test", new JsonObject { ["echo"] = version });
        Assert.Equal(version, body!["echo"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server6_7_raw_target_with_query_is_signed_and_accepted()
    {
        var date = RequestSigner.FormatDate(DateTimeOffset.UtcNow);
        const string target = "/auth/test?echo=a%20b*c";
        using var r = await fx.Admin.Client.SendAsync(Raw(HttpMethod.Get, target, SignAdmin("GET", target, date), date));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("a b*c", JsonNode.Parse(await r.Content.ReadAsStringAsync())!["echo"]!.GetValue<string>());
        // The same signature over a different target fails.
        using var bad = await fx.Admin.Client.SendAsync(Raw(HttpMethod.Get, "/auth/test?echo=other", SignAdmin("GET", target, date), date));
        await ProblemAsync(bad, HttpStatusCode.Unauthorized, "auth-failed");
    }

    [Fact]
    public async Task Server8_multipart_is_signed_without_boundary()
    {
        var (_, name) = await fx.CreateSessionAsync(fx.Admin);
        var content = new MultipartFormDataContent("f7a9bbcc03d34076833183e4f351bc8d");
        content.Add(new ByteArrayContent("hi"u8.ToArray()), "src", "a.txt");
        using var r = await fx.Admin.SendAsync(HttpMethod.Post, $"/session/{name}/upload", content);
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
    }

    [Fact]
    public async Task Server9_no_content_type_is_verified_as_octet_stream()
    {
        var date = RequestSigner.FormatDate(DateTimeOffset.UtcNow);
        using var r = await fx.Admin.Client.SendAsync(Raw(HttpMethod.Get, "/auth/role", SignAdmin("GET", "/auth/role", date), date));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var wrong = await fx.Admin.Client.SendAsync(Raw(HttpMethod.Get, "/auth/role", SignAdmin("GET", "/auth/role", date, "text/plain"), date));
        await ProblemAsync(wrong, HttpStatusCode.Unauthorized, "auth-failed");
    }

    [Fact]
    public async Task Server10_body_does_not_affect_signature()
    {
        foreach (var echo in new[] { "one", "two two", "{}" })
        {
            var body = await fx.Admin.JsonAsync(HttpMethod.Post, "/auth/test", new JsonObject { ["echo"] = echo });
            Assert.Equal(echo, body!["echo"]!.GetValue<string>());
        }
    }

    [Theory]
    [InlineData("sha1")]
    [InlineData("md5")]
    [InlineData("sha512")]
    [InlineData("sha384")]
    public async Task Server11_other_hashes_are_accepted(string hash)
    {
        using var http = new SignedHttp(fx.Endpoint, WellKnownKeypairs.SuperAdmin) { Hash = SignatureHash.Get(hash) };
        var body = await http.JsonAsync(HttpMethod.Post, "/auth/test", new JsonObject { ["echo"] = hash });
        Assert.Equal(hash, body!["echo"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("BackendAI signMethod=HMAC-FOO, credential=AKIAIOSFODNN7EXAMPLE:abc", "Unsupported request signing method (hash type)")]
    [InlineData("BackendAI signMethod=XMAC-SHA256, credential=AKIAIOSFODNN7EXAMPLE:abc", "Unsupported request signing method (MAC type)")]
    [InlineData("BadType signMethod=HMAC-SHA256, credential=a:b", "Invalid authorization type name")]
    [InlineData("nospace", "Malformed authorization header")]
    [InlineData("BackendAI signMethod=HMAC-SHA256", "Missing or malformed authorization parameters")]
    [InlineData("BackendAI signMethod=HMAC-SHA256, credential=nocolon", "Missing or malformed authorization parameters")]
    [InlineData("BackendAI garbage, credential=AKIAIOSFODNN7EXAMPLE:abc", "Missing or malformed authorization parameters")]
    public async Task Server12_to_16_malformed_authorization_is_400_invalid_auth_params(string authorization, string msg)
    {
        var date = RequestSigner.FormatDate(DateTimeOffset.UtcNow);
        using var r = await fx.Admin.Client.SendAsync(Raw(HttpMethod.Get, "/auth/role", authorization, date));
        var body = await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-auth-params");
        Assert.Equal(msg, body["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server17_unknown_access_key_is_401()
    {
        using var http = new SignedHttp(fx.Endpoint, "AKIANOSUCHKEYEXAMPLE", "secret");
        using var r = await http.GetAsync("/auth/role");
        var body = await ProblemAsync(r, HttpStatusCode.Unauthorized, "auth-failed");
        Assert.Equal("Access key not found", body["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server18_wrong_signature_is_401_signature_mismatch()
    {
        using var http = new SignedHttp(fx.Endpoint, WellKnownKeypairs.SuperAdmin.AccessKey, "not-the-secret");
        using var r = await http.GetAsync("/auth/role");
        var body = await ProblemAsync(r, HttpStatusCode.Unauthorized, "auth-failed");
        Assert.Equal("Signature mismatch", body["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server19_authenticated_endpoint_without_authorization_is_401_unauthorized_access()
    {
        using var r = await fx.Anonymous.GetAsync("/auth/role");
        var body = await ProblemAsync(r, HttpStatusCode.Unauthorized, "auth-failed");
        Assert.Equal("Unauthorized access", body["msg"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(-905)]
    [InlineData(905)]
    public async Task Server20_21_date_skew_over_15_minutes_is_rejected_with_400(int seconds)
    {
        using var r = await fx.Admin.Client.SendAsync(fx.Admin.Build(HttpMethod.Get, "/auth/role", date: DateTimeOffset.UtcNow.AddSeconds(seconds)));
        var body = await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-auth-params");
        Assert.Equal("Date/time sync error", body["msg"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(-895)]
    [InlineData(895)]
    public async Task Server22_date_skew_under_15_minutes_is_accepted(int seconds)
    {
        using var r = await fx.Admin.Client.SendAsync(fx.Admin.Build(HttpMethod.Get, "/auth/role", date: DateTimeOffset.UtcNow.AddSeconds(seconds)));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task Server23_no_date_is_400_before_401()
    {
        using var r = await fx.Admin.Client.SendAsync(Raw(HttpMethod.Get, "/auth/role", authorization: null, date: null));
        var body = await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-auth-params");
        Assert.Equal("Date/time sync error", body["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server24_x_backendai_date_is_used_when_date_is_absent()
    {
        var date = RequestSigner.FormatDate(DateTimeOffset.UtcNow);
        var request = Raw(HttpMethod.Get, "/auth/role", SignAdmin("GET", "/auth/role", date), date: null);
        request.Headers.TryAddWithoutValidation("X-BackendAI-Date", date);
        using var r = await fx.Admin.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task Server25_rfc1123_dates_are_accepted_and_signed_verbatim()
    {
        var date = DateTimeOffset.UtcNow.ToString("r", System.Globalization.CultureInfo.InvariantCulture);
        using var r = await fx.Admin.Client.SendAsync(Raw(HttpMethod.Get, "/auth/role", SignAdmin("GET", "/auth/role", date), date));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task Server26_non_utc_offset_uses_its_own_calendar_day_for_the_key()
    {
        // 23:30 at -12:00 is usually another UTC day; the day key must be the local one.
        var now = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(-11));
        var date = now.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", System.Globalization.CultureInfo.InvariantCulture);
        using var r = await fx.Admin.Client.SendAsync(Raw(HttpMethod.Get, "/auth/role", SignAdmin("GET", "/auth/role", date), date));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/")]
    [InlineData("GET", "/manager/announcement")]
    [InlineData("GET", "/manager/status")]
    public async Task Server27_public_endpoints_ignore_a_bogus_authorization(string method, string path)
    {
        using var r = await fx.Admin.Client.SendAsync(Raw(new HttpMethod(method), path, "BackendAI bogus", date: null));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task Server27_authorize_ignores_bogus_authorization_and_checks_credentials()
    {
        var request = Raw(HttpMethod.Post, "/auth/authorize", "nonsense", null);
        request.Content = SignedHttp.Json(new JsonObject { ["type"] = "keypair", ["domain"] = "default", ["username"] = "user@lablup.com", ["password"] = "C8qnIo29" });
        using var r = await fx.Admin.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var data = JsonNode.Parse(await r.Content.ReadAsStringAsync())!["data"]!;
        Assert.Equal(WellKnownKeypairs.User.AccessKey, data["access_key"]!.GetValue<string>());
        Assert.Equal("user", data["role"]!.GetValue<string>());

        using var wrong = await fx.Anonymous.PostAsync("/auth/authorize", new JsonObject { ["type"] = "keypair", ["domain"] = "default", ["username"] = "user@lablup.com", ["password"] = "nope" });
        var body = await ProblemAsync(wrong, HttpStatusCode.Unauthorized, "auth-failed");
        Assert.Equal("User credential mismatch.", body["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server28_auth_test_echoes()
    {
        var body = await fx.User.JsonAsync(HttpMethod.Post, "/auth/test", new JsonObject { ["echo"] = "x" });
        Assert.Equal("""{"authorized":"yes","echo":"x"}""", body!.ToJsonString());
    }

    [Fact]
    public async Task Server29_auth_test_without_echo_is_input_validation_error()
    {
        using var r = await fx.User.PostAsync("/auth/test", new JsonObject { ["other"] = 1 });
        var body = await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
        Assert.Equal("Input validation error", body["msg"]!.GetValue<string>());
        Assert.NotNull(body["data"]!["echo"]);
    }

    [Fact]
    public async Task Server31_unrouted_path_is_404_url_not_found_with_path()
    {
        using var r = await fx.Admin.GetAsync("/no/such/thing");
        var body = await ProblemAsync(r, HttpStatusCode.NotFound, "url-not-found");
        Assert.Equal("/no/such/thing", body["data"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server32_wrong_method_is_405_with_allowed_methods()
    {
        using var r = await fx.Admin.SendAsync(HttpMethod.Put, "/auth/role");
        var body = await ProblemAsync(r, HttpStatusCode.MethodNotAllowed, "method-not-allowed");
        Assert.Equal("PUT", body["msg"]!.GetValue<string>());
        Assert.Contains("GET", body["data"]!.AsArray().Select(x => x!.GetValue<string>()));
    }

    [Fact]
    public async Task Server33_successful_responses_carry_rate_limit_headers()
    {
        using var r = await fx.Admin.GetAsync("/auth/role");
        Assert.Equal("30000", r.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.True(int.Parse(r.Headers.GetValues("X-RateLimit-Remaining").Single(), System.Globalization.CultureInfo.InvariantCulture) < 30000);
        Assert.Equal("900", r.Headers.GetValues("X-RateLimit-Window").Single());
        using var err = await fx.Admin.GetAsync("/nowhere");
        Assert.False(err.Headers.Contains("X-RateLimit-Limit"));
    }

    [Fact]
    public async Task Server34_anonymous_responses_carry_1000_1000()
    {
        using var r = await fx.Anonymous.Client.GetAsync(fx.Endpoint);
        Assert.Equal("1000", r.Headers.GetValues("X-RateLimit-Limit").Single());
        Assert.Equal("1000", r.Headers.GetValues("X-RateLimit-Remaining").Single());
    }

    [Fact]
    public async Task Server35_rate_limit_counts_down_then_429()
    {
        var options = LocalServerFixture.FastOptions();
        var limited = WellKnownKeypairs.User with { AccessKey = "AKIALIMITEDEXAMPLE00", SecretKey = "limited-secret", RateLimit = 3, Email = "limited@local" };
        options.ExtraKeypairs.Add(limited);
        await using var backend = await LocalBackend.StartAsync(options);
        using var http = new SignedHttp(backend.Endpoint, limited);
        var remaining = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var ok = await http.GetAsync("/auth/role");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            remaining.Add(ok.Headers.GetValues("X-RateLimit-Remaining").Single());
        }
        Assert.Equal(["2", "1", "0"], remaining);
        using var r = await http.GetAsync("/auth/role");
        await ProblemAsync(r, (HttpStatusCode)429, "rate-limit-exceeded");
    }

    [Fact]
    public async Task Server36_37_params_from_body_on_get_else_from_query()
    {
        var fromBody = await fx.Admin.JsonAsync(HttpMethod.Get, "/auth/test", new JsonObject { ["echo"] = "body" });
        Assert.Equal("body", fromBody!["echo"]!.GetValue<string>());
        var fromQuery = await fx.Admin.JsonAsync(HttpMethod.Get, "/auth/test?echo=query");
        Assert.Equal("query", fromQuery!["echo"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server38_unknown_key_is_rejected_with_not_allowed_key()
    {
        using var r = await fx.Admin.PostAsync("/session", new JsonObject { ["name"] = "abcd", ["image"] = "sim", ["foo"] = 1 });
        var body = await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
        Assert.Equal("Input validation error", body["msg"]!.GetValue<string>());
        Assert.Equal("foo is not allowed key", body["data"]!["foo"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server39_non_json_body_is_malformed_body()
    {
        var content = new StringContent("{not json", Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var r = await fx.Admin.SendAsync(HttpMethod.Post, "/auth/test", content);
        var body = await ProblemAsync(r, HttpStatusCode.BadRequest, "invalid-api-params");
        Assert.Equal("Malformed body", body["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task Server40_announcement_defaults_to_disabled()
    {
        using var r = await fx.Anonymous.Client.GetAsync(fx.Anonymous.UriOf("/manager/announcement"));
        Assert.Equal("""{"enabled":false,"message":""}""", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Manager_status_is_public_and_reports_running()
    {
        using var r = await fx.Anonymous.Client.GetAsync(fx.Anonymous.UriOf("/manager/status"));
        var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
        Assert.Equal("running", body["status"]!.GetValue<string>());
        Assert.Equal(6, body["nodes"]![0]!["api_version"]![0]!.GetValue<int>());
    }

    [Fact]
    public async Task Auth_role_reports_roles_and_group_membership()
    {
        var admin = await fx.Admin.JsonAsync(HttpMethod.Get, "/auth/role");
        Assert.Equal("superadmin", admin!["global_role"]!.GetValue<string>());
        var user = await fx.User.JsonAsync(HttpMethod.Get, $"/auth/role?group={WellKnownKeypairs.DefaultGroupId}");
        Assert.Equal("user", user!["global_role"]!.GetValue<string>());
        Assert.Equal("user", user["group_role"]!.GetValue<string>());
        using var r = await fx.User.GetAsync($"/auth/role?group={Guid.NewGuid()}");
        await ProblemAsync(r, HttpStatusCode.NotFound, "object-not-found");
    }

    [Fact]
    public async Task Scaling_groups_lists_default()
    {
        var body = await fx.User.JsonAsync(HttpMethod.Get, "/scaling-groups?group=default");
        Assert.Equal("""{"scaling_groups":[{"name":"default"}]}""", body!.ToJsonString());
    }
}

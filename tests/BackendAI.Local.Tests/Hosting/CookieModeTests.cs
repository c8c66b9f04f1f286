using System.Net;
using System.Text.Json.Nodes;
using BackendAI.Testing;

namespace BackendAI.Local.Tests.Hosting;

/// <summary>Cookie ("session" endpoint type) mode: /server/login and /func forwarding (auth-and-transport.md §12).</summary>
public class CookieModeTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>
{
    [Fact]
    public async Task Login_cookie_forwards_func_calls_as_the_user_until_logout()
    {
        var cookies = new CookieContainer();
        using var client = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies }) { BaseAddress = fx.Endpoint };

        var hello = JsonNode.Parse(await client.GetStringAsync("/func/"))!;
        Assert.Equal("v6.20220315", hello["version"]!.GetValue<string>());
        using (var anonymous = await client.GetAsync("/func/auth/role"))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        using (var bad = await client.PostAsync("/server/login", SignedHttp.Json(new JsonObject { ["username"] = "user@lablup.com", ["password"] = "wrong" })))
            Assert.False(JsonNode.Parse(await bad.Content.ReadAsStringAsync())!["authenticated"]!.GetValue<bool>());

        using (var login = await client.PostAsync("/server/login", SignedHttp.Json(new JsonObject { ["username"] = "user@lablup.com", ["password"] = "C8qnIo29" })))
        {
            var body = JsonNode.Parse(await login.Content.ReadAsStringAsync())!;
            Assert.True(body["authenticated"]!.GetValue<bool>());
            Assert.Equal("user", body["data"]!["role"]!.GetValue<string>());
        }
        var role = JsonNode.Parse(await client.GetStringAsync("/func/auth/role"))!;
        Assert.Equal("user", role["global_role"]!.GetValue<string>());
        using (var again = await client.PostAsync("/server/login", SignedHttp.Json(new JsonObject { ["username"] = "user@lablup.com", ["password"] = "C8qnIo29" })))
            Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);

        using (var logout = await client.PostAsync("/server/logout", null))
            Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
        using var after = await client.GetAsync("/func/auth/role");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using BackendAI.Client.Errors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace BackendAI.Local.Hosting;

/// <summary>
/// Cookie ("session" endpoint type) mode as the Backend.AI webserver offers it (auth-and-transport.md §12):
/// <c>POST /server/login</c>, <c>/server/logout</c>, <c>/server/login-check</c>, and <c>/func/&lt;api path&gt;</c>
/// forwarded to the API as the logged-in user. Logins live in memory (bounded).
/// </summary>
internal sealed class CookieSessions
{
    public const string CookieName = "AIOHTTP_SESSION";
    private const int MaxLogins = 10_000;
    private static readonly object ForwardedKey = new();
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);

    public string Login(string accessKey)
    {
        if (_tokens.Count >= MaxLogins) _tokens.Clear();
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        _tokens[token] = accessKey;
        return token;
    }

    public string? AccessKeyOf(HttpRequest request) =>
        request.Cookies.TryGetValue(CookieName, out var token) && token is not null && _tokens.TryGetValue(token, out var key) ? key : null;

    public void Logout(HttpRequest request)
    {
        if (request.Cookies.TryGetValue(CookieName, out var token) && token is not null) _tokens.TryRemove(token, out _);
    }

    /// <summary>
    /// Rewrites <c>/func/…</c> to the API path (before routing) and remembers the cookie's access key;
    /// the auth middleware then trusts it instead of a signature.
    /// </summary>
    public void RewriteForwarded(HttpContext context)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/func", out var rest)) return;
        context.Request.Path = rest.HasValue ? rest : "/";
        context.Items[ForwardedKey] = AccessKeyOf(context.Request) ?? "";
    }

    /// <summary>True when the request came through <c>/func</c>; <paramref name="accessKey"/> is empty when not logged in.</summary>
    public static bool IsForwarded(HttpContext context, out string accessKey)
    {
        accessKey = context.Items.TryGetValue(ForwardedKey, out var v) ? v as string ?? "" : "";
        return context.Items.ContainsKey(ForwardedKey);
    }

    public static IEndpointRouteBuilder MapCookieEndpoints(IEndpointRouteBuilder app)
    {
        app.MapPost("/server/login", (Delegate)LoginAsync).AllowAnonymousAccess();
        app.MapPost("/server/logout", (HttpContext ctx, CookieSessions sessions) =>
        {
            sessions.Logout(ctx.Request);
            ctx.Response.Cookies.Delete(CookieName);
            return HttpContextExtensions.Json(new JsonObject());
        }).AllowAnonymousAccess();
        app.MapPost("/server/login-check", (HttpContext ctx, CookieSessions sessions, IKeypairStore keypairs) =>
        {
            var key = sessions.AccessKeyOf(ctx.Request);
            var k = key is null ? null : keypairs.Find(key);
            return HttpContextExtensions.Json(new JsonObject
            {
                ["authenticated"] = k is not null,
                ["data"] = k is null ? new JsonObject() : new JsonObject { ["access_key"] = k.AccessKey, ["role"] = k.Role, ["status"] = "active" },
            });
        }).AllowAnonymousAccess();
        return app;
    }

    private static async Task<IResult> LoginAsync(HttpContext ctx)
    {
        var sessions = ctx.RequestServices.GetRequiredService<CookieSessions>();
        var store = ctx.RequestServices.GetRequiredService<LocalKeypairStore>();
        if (sessions.AccessKeyOf(ctx.Request) is not null)
            throw new ApiProblemException(ProblemTypes.GenericBadRequest, "You have already logged in.");
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted).ConfigureAwait(false)).Allow("username", "password", "otp");
        var username = p.RequiredString("username");
        var password = p.RequiredString("password");
        p.ThrowIfInvalid();
        var k = store.Authenticate(username, password);
        if (k is null)
        {
            return HttpContextExtensions.Json(new JsonObject
            {
                ["authenticated"] = false,
                ["data"] = new JsonObject
                {
                    ["type"] = ProblemTypes.AuthFailed.Uri, ["title"] = ProblemTypes.AuthFailed.Title, ["details"] = "User credential mismatch.",
                },
            });
        }
        ctx.Response.Cookies.Append(CookieName, sessions.Login(k.AccessKey), new CookieOptions { HttpOnly = true, Path = "/", SameSite = SameSiteMode.Lax });
        return HttpContextExtensions.Json(new JsonObject
        {
            ["authenticated"] = true,
            ["data"] = new JsonObject { ["access_key"] = k.AccessKey, ["role"] = k.Role, ["status"] = "active" },
        });
    }
}

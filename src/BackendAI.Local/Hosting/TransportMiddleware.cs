using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Client;
using BackendAI.Client.Auth;
using BackendAI.Client.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace BackendAI.Local.Hosting;

/// <summary>
/// Outer middleware: <c>Server: BackendAI</c>, problem+json for every error, injected faults.
/// Runs before routing.
/// </summary>
internal sealed partial class ErrorMiddleware(RequestDelegate next, FaultInjection faults, ILogger<ErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        context.Response.Headers.Server = "BackendAI";
        context.Response.Headers.AccessControlAllowOrigin = "*";
        try
        {
            var (latency, error) = faults.Evaluate(context.Request.Path.Value ?? "/", context.Request.Method);
            if (latency > TimeSpan.Zero) await Task.Delay(latency, context.RequestAborted).ConfigureAwait(false);
            if (error is not null && !context.Request.Path.StartsWithSegments("/local/faults"))
            {
                var type = error.ErrorStatus switch
                {
                    429 => ProblemTypes.RateLimitExceeded,
                    503 => ProblemTypes.ServiceUnavailable,
                    502 => new ProblemType("bad-gateway", 502, "Bad gateway."),
                    _ => ProblemTypes.InternalServerError,
                };
                await WriteProblemAsync(context, new ApiProblemException(type, "Injected fault", status: error.ErrorStatus), error.RetryAfter).ConfigureAwait(false);
                return;
            }
            await next(context).ConfigureAwait(false);
        }
        catch (ApiProblemException e)
        {
            await WriteProblemAsync(context, e).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // client went away
        }
        catch (BadHttpRequestException e)
        {
            await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.InvalidApiParams, e.Message)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogUnhandled(logger, e, context.Request.Method, context.Request.Path.Value ?? "");
            await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.InternalServerError)).ConfigureAwait(false);
        }
    }

    internal static async Task WriteProblemAsync(HttpContext context, ApiProblemException e, TimeSpan? retryAfter = null)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }
        context.Response.Clear();
        context.Response.Headers.Server = "BackendAI";
        context.Response.StatusCode = e.Status;
        if (retryAfter is { } ra) context.Response.Headers.RetryAfter = ((int)Math.Ceiling(ra.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.ContentType = "application/problem+json; charset=utf-8";
        await context.Response.WriteAsync(e.ToJson().ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Unhandled error in {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception e, string method, string path);
}

/// <summary>
/// Inner middleware (after routing): version header, 404/405, date and signature check,
/// rate limiting and its headers, frozen check (auth-and-transport.md §3.2, §4, §7).
/// </summary>
internal sealed class AuthMiddleware(
    RequestDelegate next, IKeypairStore keypairs, RateLimiter rateLimiter, ManagerState manager,
    LocalBackendOptions options, TimeProvider clock)
{
    private static readonly HashSet<string> PythonHashes = new(StringComparer.Ordinal)
    {
        "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_224", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s",
    };

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var versionHeader = request.Headers["X-BackendAI-Version"].ToString();
        if (versionHeader.Length > 0 && (!ApiVersion.TryParse(versionHeader, out var v) || !ApiVersion.Known.Contains(v.Value)))
            throw new ApiProblemException(ProblemTypes.GenericBadRequest, "Unsupported API version.");

        var endpoint = context.GetEndpoint();
        if (endpoint is null)
            throw new ApiProblemException(ProblemTypes.UrlNotFound, data: JsonValue.Create(request.Path.Value ?? "/"));
        if (endpoint.DisplayName?.StartsWith("405 ", StringComparison.Ordinal) == true)
        {
            if (endpoint.RequestDelegate is { } d) await d(context).ConfigureAwait(false);
            var allowed = context.Response.Headers.Allow.ToString()
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            throw new ApiProblemException(ProblemTypes.MethodNotAllowed, request.Method,
                new JsonArray([.. allowed.Select(a => (JsonNode?)JsonValue.Create(a))]));
        }

        int limit, remaining;
        if (endpoint.Metadata.GetMetadata<PublicEndpointMetadata>() is not null
            || endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null)
        {
            limit = remaining = 1000;
        }
        else
        {
            var keypair = Authenticate(request);
            limit = keypair.RateLimit;
            if (!rateLimiter.TryAcquire(keypair.AccessKey, limit, out remaining))
                throw new ApiProblemException(ProblemTypes.RateLimitExceeded);
            context.SetIdentity(keypair.ToIdentity());
        }

        if (manager.Frozen && endpoint.Metadata.GetMetadata<RejectWhenFrozenMetadata>() is not null)
            throw new ApiProblemException(ProblemTypes.ServerFrozen);

        var response = context.Response;
        response.OnStarting(() =>
        {
            if (response.StatusCode < 400)
            {
                response.Headers["X-RateLimit-Limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
                response.Headers["X-RateLimit-Remaining"] = remaining.ToString(System.Globalization.CultureInfo.InvariantCulture);
                response.Headers["X-RateLimit-Window"] = "900";
            }
            return Task.CompletedTask;
        });
        await next(context).ConfigureAwait(false);
    }

    private static ApiProblemException AuthParams(string msg) => new(ProblemTypes.InvalidAuthParams, msg);

    private LocalKeypair Authenticate(HttpRequest request)
    {
        var h = request.Headers;
        var dateText = h.Date.Count > 0 ? h.Date.ToString()
            : h["X-BackendAI-Date"].Count > 0 ? h["X-BackendAI-Date"].ToString()
            : h["X-Sorna-Date"].ToString();
        var now = clock.GetUtcNow();
        if (!SignatureDates.TryParse(dateText, out var date)
            || !(now - options.DateSkewWindow < date && date < now + options.DateSkewWindow))
            throw AuthParams("Date/time sync error");

        var authorization = h.Authorization.ToString();
        if (authorization.Length == 0) throw new ApiProblemException(ProblemTypes.AuthFailed, "Unauthorized access");
        var space = authorization.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0) throw AuthParams("Malformed authorization header");
        var scheme = authorization[..space];
        if (scheme is not ("BackendAI" or "Sorna")) throw AuthParams("Invalid authorization type name");
        string? signMethod = null, credential = null;
        foreach (var part in authorization[(space + 1)..].Split(','))
        {
            var p = part.Trim();
            var eq = p.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0) throw AuthParams("Missing or malformed authorization parameters");
            var key = p[..eq].Trim();
            if (key == "signMethod") signMethod = p[(eq + 1)..].Trim();
            else if (key == "credential") credential = p[(eq + 1)..].Trim();
        }
        if (signMethod is null || credential is null || !credential.Contains(':', StringComparison.Ordinal))
            throw AuthParams("Missing or malformed authorization parameters");
        var colon = credential.IndexOf(':', StringComparison.Ordinal);
        var accessKey = credential[..colon];
        var signature = credential[(colon + 1)..];

        var keypair = keypairs.Find(accessKey);
        if (keypair is null || !keypair.IsActive) throw new ApiProblemException(ProblemTypes.AuthFailed, "Access key not found");

        var dash = signMethod.IndexOf('-', StringComparison.Ordinal);
        var mac = (dash < 0 ? signMethod : signMethod[..dash]).ToLowerInvariant();
        var hashName = dash < 0 ? "" : signMethod[(dash + 1)..].ToLowerInvariant();
        if (mac != "hmac") throw AuthParams("Unsupported request signing method (MAC type)");
        if (!PythonHashes.Contains(hashName) || !SignatureHash.TryGet(hashName, out var hash))
            throw AuthParams("Unsupported request signing method (hash type)");

        var version = h["X-BackendAI-Version"].Count > 0 ? h["X-BackendAI-Version"].ToString() : h["X-Sorna-Version"].ToString();
        if (version.Length == 0) throw AuthParams("API version missing in request headers");

        var rawTarget = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget
            ?? (request.PathBase + request.Path + request.QueryString).ToString();
        var contentType = request.ContentType is { Length: > 0 } ct ? ct.Split(';')[0].Trim().ToLowerInvariant() : "application/octet-stream";
        var host = h.Host.ToString();
        string expected;
        try
        {
            expected = new RequestSigner(keypair.AccessKey, keypair.SecretKey, hash)
                .Sign(new SignatureInput(request.Method, rawTarget, dateText, host, contentType, version));
        }
        catch (FormatException)
        {
            throw AuthParams("Date/time sync error");
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature.ToLowerInvariant())))
            throw new ApiProblemException(ProblemTypes.AuthFailed, "Signature mismatch");
        return keypair;
    }
}

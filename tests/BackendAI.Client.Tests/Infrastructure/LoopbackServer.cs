using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BackendAI.Client.Auth;
using BackendAI.Client.Config;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BackendAI.Client.Tests.Infrastructure;

/// <summary>A request as the server saw it, with the signature re-verified by <see cref="RequestSigner"/>.</summary>
public sealed record CapturedRequest(
    string Method, string RawTarget, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body,
    bool? SignatureValid, string SignedContentType)
{
    public string BodyText => Encoding.UTF8.GetString(Body);
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
    public bool HasHeader(string name) => Headers.ContainsKey(name);
    public System.Text.Json.JsonElement Json => System.Text.Json.JsonDocument.Parse(Body).RootElement.Clone();
}

/// <summary>A real Kestrel listener on 127.0.0.1:0 that records every request and verifies signatures.</summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    public const string AccessKey = "AKIAIOSFODNN7EXAMPLE";
    public const string SecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }
    public ConcurrentQueue<CapturedRequest> Requests { get; } = new();
    public IReadOnlyList<CapturedRequest> Api => Requests.Where(r => r.Path != "/" && r.Path.Length > 0).ToList();

    public static async Task<LoopbackServer> StartAsync(Func<HttpContext, CapturedRequest, Task> handler, string? pathBase = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.UseWebSockets();
        LoopbackServer? self = null;
        app.Run(async ctx =>
        {
            var captured = await CaptureAsync(ctx).ConfigureAwait(false);
            self!.Requests.Enqueue(captured);
            await handler(ctx, captured).ConfigureAwait(false);
        });
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var uri = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + (pathBase ?? "/"));
        self = new LoopbackServer(app, uri);
        return self;
    }

    /// <summary>A server answering every request with a JSON body (and <c>GET /</c> with a hello).</summary>
    public static Task<LoopbackServer> StartJsonAsync(string json, int status = 200, string helloVersion = "v6.20220315") =>
        StartAsync(async (ctx, req) =>
        {
            if (req.Path is "/" or "")
            {
                await WriteJson(ctx, 200, $"{{\"version\": \"{helloVersion}\", \"manager\": \"22.03.3\"}}");
                return;
            }
            await WriteJson(ctx, status, json);
        });

    public static async Task WriteJson(HttpContext ctx, int status, string json, string contentType = "application/json")
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = contentType;
        await ctx.Response.WriteAsync(json).ConfigureAwait(false);
    }

    public static Task WriteProblem(HttpContext ctx, int status, string type, string title, string? msg = null, string? dataJson = null) =>
        WriteJson(ctx, status,
            $"{{\"type\": \"https://api.backend.ai/probs/{type}\", \"title\": \"{title}\"" + (msg is null ? "" : $", \"msg\": \"{msg}\"")
            + (dataJson is null ? "" : $", \"data\": {dataJson}") + "}", "application/problem+json; charset=utf-8");

    private static async Task<CapturedRequest> CaptureAsync(HttpContext ctx)
    {
        var raw = ctx.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var headers = ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        byte[] body = [];
        if (!ctx.WebSockets.IsWebSocketRequest)
        {
            using var ms = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(ms).ConfigureAwait(false);
            body = ms.ToArray();
        }
        var media = ctx.Request.ContentType is { Length: > 0 } ct ? ct.Split(';')[0].Trim().ToLowerInvariant() : "application/octet-stream";
        bool? valid = null;
        if (headers.TryGetValue("Authorization", out var auth))
        {
            valid = false;
            var credential = auth.Split(", ").FirstOrDefault(p => p.StartsWith("credential=", StringComparison.Ordinal))?["credential=".Length..];
            var method = auth.Split(", ")[0].Split('=')[1];
            if (credential is not null && headers.TryGetValue("Date", out var date) && headers.TryGetValue("X-BackendAI-Version", out var version)
                && SignatureHash.TryGet(method["HMAC-".Length..], out var hash))
            {
                var parts = credential.Split(':', 2);
                var signer = new RequestSigner(parts[0], SecretKey, hash);
                var expected = signer.Sign(new SignatureInput(ctx.Request.Method, raw, date, headers["Host"], media, version));
                valid = parts[0] == AccessKey && expected == parts[1];
            }
        }
        return new CapturedRequest(ctx.Request.Method, raw, ctx.Request.Path.Value ?? "", headers, body, valid, media);
    }

    public BackendAIClientOptions Options(Action<BackendAIClientOptions>? configure = null)
    {
        var o = new BackendAIClientOptions
        {
            Endpoints = [BaseUri],
            AccessKey = AccessKey,
            SecretKey = SecretKey,
            ApiVersion = ApiVersion.Current,
            Retry = new RetryOptions { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(50) },
        };
        configure?.Invoke(o);
        return o;
    }

    public BackendAIClient Client(Action<BackendAIClientOptions>? configure = null, TimeProvider? time = null) =>
        new(Options(configure), null, time);

    /// <summary>A loopback URL on which nothing listens (connection refused).</summary>
    public static Uri DeadEndpoint()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>A clock that moves forward by a fixed step each time it is read (every request gets a new Date).</summary>
public sealed class SteppingTimeProvider(DateTimeOffset start, TimeSpan step) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Add(ref _ticks, step.Ticks), TimeSpan.Zero);
}

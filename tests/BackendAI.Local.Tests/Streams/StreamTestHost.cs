using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using BackendAI.Local.Kernels;
using BackendAI.Local.Streams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BackendAI.Local.Tests.Streams;

/// <summary>
/// A real Kestrel server on 127.0.0.1:0 with only the stream endpoints mapped, a test
/// <see cref="ISessionResolver"/> over real kernels, and a stand-in for the server's auth
/// middleware (header <c>X-Test-Access-Key</c> → identity) and problem+json error middleware.
/// </summary>
internal sealed class StreamTestHost : IAsyncDisposable
{
    public const string UserKey = "AKIANABBDUSEREXAMPLE";
    public const string OtherKey = "AKIAOTHERUSEREXAMPLE";

    private readonly WebApplication _app;
    private readonly TestSessions _sessions;
    private readonly List<string> _dirs = [];

    private StreamTestHost(WebApplication app, TestSessions sessions, Uri endpoint)
    {
        _app = app;
        _sessions = sessions;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public static async Task<StreamTestHost> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var sessions = new TestSessions();
        builder.Services.AddSingleton<ISessionResolver>(sessions);
        builder.Services.AddLocalKernels();
        builder.Services.AddRouting();
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            try
            {
                if (context.Request.Headers.TryGetValue("X-Test-Access-Key", out var key))
                    context.SetIdentity(new LocalIdentity(key.ToString(), Guid.NewGuid(), "user@lablup.com", "user", "default", "default", Guid.Empty));
                await next();
            }
            catch (ApiProblemException ex) when (!context.Response.HasStarted)
            {
                context.Response.StatusCode = ex.Status;
                context.Response.ContentType = "application/problem+json";
                await context.Response.WriteAsync(ex.ToJson().ToJsonString());
            }
        });
        app.UseWebSockets();
        app.UseRouting();
        app.MapStreamEndpoints();
        await app.StartAsync();
        var address = app.Urls.First();
        return new StreamTestHost(app, sessions, new Uri(address));
    }

    /// <summary>Adds a session for <see cref="UserKey"/> with a started kernel of <paramref name="image"/> (or the given kernel).</summary>
    public async Task<TestSession> AddSessionAsync(string name, string image, IKernel? kernel = null)
    {
        var dir = Path.Combine(Path.GetTempPath(), "bai-stream-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        _dirs.Add(dir);
        var id = Guid.NewGuid();
        if (kernel is null)
        {
            kernel = new LocalKernelFactory(new LocalKernelOptions()).Create(new KernelStartInfo(id, image, dir, new Dictionary<string, string>(), null));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await kernel.StartAsync(cts.Token);
        }
        var session = new TestSession(id, name, image, dir, kernel);
        _sessions.Add(session);
        return session;
    }

    public Uri WsUri(string path) => new UriBuilder(Endpoint) { Scheme = "ws", Path = path.Split('?')[0], Query = path.Contains('?') ? path[(path.IndexOf('?') + 1)..] : "" }.Uri;

    public async Task<ClientWebSocket> ConnectAsync(string path, string accessKey = UserKey)
    {
        var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("X-Test-Access-Key", accessKey);
        ws.Options.CollectHttpResponseDetails = true;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await ws.ConnectAsync(WsUri(path), cts.Token);
        return ws;
    }

    /// <summary>Attempts an upgrade that is expected to fail; returns the HTTP status and body.</summary>
    public async Task<(HttpStatusCode Status, string Body)> FailedUpgradeAsync(string path, string accessKey = UserKey)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Endpoint, path));
        request.Headers.Add("X-Test-Access-Key", accessKey);
        request.Headers.Add("Connection", "Upgrade");
        request.Headers.Add("Upgrade", "websocket");
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path, string accessKey = UserKey)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Endpoint, path));
        request.Headers.Add("X-Test-Access-Key", accessKey);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _sessions.All) await s.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var d in _dirs)
        {
            try
            {
                Directory.Delete(d, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private sealed class TestSessions : ISessionResolver
    {
        private readonly ConcurrentDictionary<Guid, TestSession> _sessions = new();

        public IEnumerable<TestSession> All => _sessions.Values;

        public void Add(TestSession s) => _sessions[s.Id] = s;

        public LocalSessionHandle Resolve(LocalIdentity caller, string sessionRef, bool allowStale = false)
        {
            var match = _sessions.Values.FirstOrDefault(s => caller.AccessKey == UserKey && (s.Id.ToString() == sessionRef || s.Name == sessionRef))
                ?? throw ApiProblemException.NotFound("No such session.");
            return match.Handle(caller);
        }
    }
}

internal sealed class TestSession(Guid id, string name, string image, string workDirectory, IKernel kernel) : IAsyncDisposable
{
    private readonly CancellationTokenSource _terminating = new();

    public Guid Id { get; } = id;
    public string Name { get; } = name;
    public string WorkDirectory { get; } = workDirectory;
    public IKernel Kernel { get; } = kernel;

    public void Terminate() => _terminating.Cancel();

    public LocalSessionHandle Handle(LocalIdentity owner) => new(new SessionView
    {
        Id = Id,
        Name = Name,
        AccessKey = owner.AccessKey,
        UserId = owner.UserId,
        UserEmail = owner.Email,
        DomainName = "default",
        GroupName = "default",
        GroupId = Guid.Empty,
        Image = image,
        Type = "INTERACTIVE",
        Status = "RUNNING",
        StatusChanged = DateTimeOffset.UtcNow,
        CreatedAt = DateTimeOffset.UtcNow,
    }, Kernel, WorkDirectory, _terminating.Token);

    public async ValueTask DisposeAsync()
    {
        await Kernel.DisposeAsync();
        _terminating.Dispose();
    }
}

internal static class WebSocketTestExtensions
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    public static Task SendTextAsync(this WebSocket ws, string text) =>
        ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, new CancellationTokenSource(Generous).Token);

    public static Task SendJsonAsync(this WebSocket ws, JsonNode node) => ws.SendTextAsync(node.ToJsonString());

    /// <summary>The next whole message, or null when the server closed (then CloseStatus is set).</summary>
    public static async Task<(WebSocketMessageType Type, byte[] Data)?> ReceiveMessageAsync(this WebSocket ws, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Generous);
        var buffer = new byte[65536];
        using var ms = new MemoryStream();
        while (true)
        {
            var r = await ws.ReceiveAsync(buffer, cts.Token);
            if (r.MessageType == WebSocketMessageType.Close) return null;
            ms.Write(buffer, 0, r.Count);
            if (r.EndOfMessage) return (r.MessageType, ms.ToArray());
        }
    }

    public static async Task<JsonObject?> ReceiveJsonAsync(this WebSocket ws, TimeSpan? timeout = null)
    {
        var m = await ws.ReceiveMessageAsync(timeout);
        return m is null ? null : (JsonObject)JsonNode.Parse(m.Value.Data)!;
    }
}

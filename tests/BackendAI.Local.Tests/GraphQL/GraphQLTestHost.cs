using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Local;
using BackendAI.Local.Hosting;
using BackendAI.Local.GraphQL;
using BackendAI.Local.Tests.VFolders;
using BackendAI.Local.VFolders;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BackendAI.Local.Tests.GraphQL;

/// <summary>
/// A Kestrel host on 127.0.0.1:0 with only the GraphQL and vfolder endpoints over injected (fake) data sources, a
/// test identity middleware (header <c>X-Test-Access-Key</c>) and problem+json for <see cref="ApiProblemException"/>.
/// Used for the executor's data-dependent behaviour (filters, order, scoping) with fixed sessions.
/// </summary>
public sealed class GraphQLTestHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GraphQLTestHost(WebApplication app, string dataDirectory, bool ownsDirectory)
    {
        _app = app;
        DataDirectory = dataDirectory;
        OwnsDirectory = ownsDirectory;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Endpoint = new Uri(address);
        Http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) }) { BaseAddress = Endpoint };
    }

    public Uri Endpoint { get; }
    public HttpClient Http { get; }
    public string DataDirectory { get; }
    public bool OwnsDirectory { get; set; }
    public IServiceProvider Services => _app.Services;

    public static async Task<GraphQLTestHost> StartAsync(string? dataDirectory = null, Action<VFolderOptions>? configure = null,
        Action<IServiceCollection>? services = null)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "bai-vf-" + Guid.NewGuid().ToString("N"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddLocalVFolders(new LocalBackendPaths(dataDirectory));
        if (configure is not null) builder.Services.Configure(configure);
        builder.Services.AddLocalGraphQL();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            var key = context.Request.Headers["X-Test-Access-Key"].ToString();
            var identity = new[] { VFolderTestHost.Admin, VFolderTestHost.User, VFolderTestHost.User2 }.FirstOrDefault(i => i.AccessKey == key);
            if (identity is not null) context.SetIdentity(identity);
            try
            {
                await next(context);
            }
            catch (ApiProblemException e)
            {
                context.Response.StatusCode = e.Status;
                context.Response.ContentType = "application/problem+json; charset=utf-8";
                await context.Response.WriteAsync(e.ToJson().ToJsonString());
            }
        });
        app.MapVFolderEndpoints();
        app.MapGraphQLEndpoints();
        await app.StartAsync();
        return new GraphQLTestHost(app, dataDirectory, owns);
    }

    /// <summary>A manager request as <paramref name="caller"/> with an optional JSON body.</summary>
    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> CallAsync(
        HttpMethod method, string path, object? json = null, LocalIdentity? caller = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Test-Access-Key", (caller ?? VFolderTestHost.Admin).AccessKey);
        if (json is not null)
        {
            var text = json is JsonNode node ? node.ToJsonString() : System.Text.Json.JsonSerializer.Serialize(json);
            request.Content = new StringContent(text, Encoding.UTF8, "application/json");
        }
        var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, body.Length == 0 ? null : JsonNode.Parse(body), response);
    }

    /// <summary>A storage request (no credentials).</summary>
    public async Task<HttpResponseMessage> StorageAsync(HttpMethod method, string url, byte[]? body = null, long? offset = null, string? range = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (offset is not null) request.Headers.Add("upload-offset", offset.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("Tus-Resumable", "1.0.0");
        if (range is not null) request.Headers.Range = RangeHeaderValue.Parse(range);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        }
        return await Http.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (OwnsDirectory)
        {
            try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
        }
    }
}

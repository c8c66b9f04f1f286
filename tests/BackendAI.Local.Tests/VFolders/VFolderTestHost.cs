using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using BackendAI.Local.VFolders;
using BackendAI.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BackendAI.Local.Tests.VFolders;

/// <summary>
/// A real <see cref="LocalBackend"/> on 127.0.0.1:0 (fast fixture timings) plus helpers: signed manager calls as one of
/// the test identities, and unsigned storage calls (tus / download) as client-py makes them.
/// </summary>
public sealed class VFolderTestHost : IAsyncDisposable
{
    /// <summary>A second plain user in another group (added as an extra keypair).</summary>
    public static readonly LocalKeypair User2Keypair = new("AKIAOTHERUSEREXAMPLE", "OtherUserSecretKeyForTestsOnly0000000000",
        "user2@lablup.com", Guid.Parse("0b7c4f3e-7a53-4b8e-9f5c-0d6f4c2a1b11"), "user", true, 30000, "default", "default", "other",
        Guid.Parse("5a1f6f0e-9a9b-4f59-8d35-6b5a0c0d7e22"));

    public static readonly LocalIdentity Admin = WellKnownKeypairs.SuperAdmin.ToIdentity();
    public static readonly LocalIdentity DomainAdmin = WellKnownKeypairs.DomainAdmin.ToIdentity();
    public static readonly LocalIdentity User = WellKnownKeypairs.User.ToIdentity();
    public static readonly LocalIdentity User2 = User2Keypair.ToIdentity();

    private readonly Dictionary<string, SignedHttp> _signers = new(StringComparer.Ordinal);

    private VFolderTestHost(LocalBackend backend, string dataDirectory, bool ownsDirectory)
    {
        Backend = backend;
        DataDirectory = dataDirectory;
        OwnsDirectory = ownsDirectory;
        Http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) }) { BaseAddress = Endpoint };
        foreach (var k in backend.Services.GetRequiredService<IKeypairStore>().All)
            _signers[k.AccessKey] = new SignedHttp(Endpoint, k, Http);
    }

    public LocalBackend Backend { get; }
    public Uri Endpoint => Backend.Endpoint;
    public HttpClient Http { get; }
    public string DataDirectory { get; }
    public bool OwnsDirectory { get; set; }
    public IServiceProvider Services => Backend.Services;

    /// <summary>Signed requests as <paramref name="caller"/>.</summary>
    public SignedHttp As(LocalIdentity caller) => _signers[caller.AccessKey];

    public static async Task<VFolderTestHost> StartAsync(string? dataDirectory = null, Action<VFolderOptions>? configure = null)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "bai-vf-" + Guid.NewGuid().ToString("N"));
        var options = LocalServerFixture.FastOptions();
        options.DataDirectory = dataDirectory;
        options.ExtraKeypairs.Add(User2Keypair);
        var backend = await LocalBackend.StartAsync(options, logging: _ => { });
        // The options object is the live singleton the vfolder services read at request time.
        configure?.Invoke(backend.Services.GetRequiredService<IOptions<VFolderOptions>>().Value);
        return new VFolderTestHost(backend, dataDirectory, owns);
    }

    /// <summary>A signed manager request as <paramref name="caller"/> (default: superadmin) with an optional JSON body.</summary>
    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> CallAsync(
        HttpMethod method, string path, object? json = null, LocalIdentity? caller = null)
    {
        HttpContent? content = null;
        if (json is not null)
            content = SignedHttp.Json(json as JsonNode ?? JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(json))!);
        using var request = As(caller ?? Admin).Build(method, path, content);
        var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, body.Length == 0 ? null : JsonNode.Parse(body), response);
    }

    /// <summary>A storage request with no credentials, as aiotusclient / client-py send them.</summary>
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
        foreach (var s in _signers.Values) s.Dispose();
        Http.Dispose();
        await Backend.DisposeAsync();
        if (OwnsDirectory)
        {
            try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
        }
    }
}

using System.Text.Json.Nodes;
using BackendAI.Local;
using BackendAI.Local.Hosting;
using Xunit;

namespace BackendAI.Testing;

/// <summary>
/// xunit fixture: one in-process <see cref="LocalBackend"/> on <c>127.0.0.1:0</c> with a temporary data
/// directory and fast timings (5 ms lifecycle steps, 300 ms execute flush window, 1 s SSE pings).
/// Use it as <c>IClassFixture&lt;LocalServerFixture&gt;</c>; derive and override <see cref="Configure"/>
/// for other settings. <see cref="Admin"/> and <see cref="User"/> send signed requests.
/// </summary>
public class LocalServerFixture : IAsyncLifetime
{
    private LocalBackend? _backend;

    /// <summary>The server (after <see cref="InitializeAsync"/>).</summary>
    public LocalBackend Backend => _backend ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <summary>The server's base URL.</summary>
    public Uri Endpoint => Backend.Endpoint;

    /// <summary>Signed requests as the superadmin (<c>AKIAIOSFODNN7EXAMPLE</c>).</summary>
    public SignedHttp Admin { get; private set; } = null!;

    /// <summary>Signed requests as the plain user (<c>AKIANABBDUSEREXAMPLE</c>).</summary>
    public SignedHttp User { get; private set; } = null!;

    /// <summary>Signed requests as the domain admin (<c>AKIAHUKCHDEZGEXAMPLE</c>).</summary>
    public SignedHttp DomainAdmin { get; private set; } = null!;

    /// <summary>Unsigned requests.</summary>
    public SignedHttp Anonymous { get; private set; } = null!;

    /// <summary>Adjusts the options before the server starts (override in a derived fixture).</summary>
    protected virtual void Configure(LocalBackendOptions options)
    {
    }

    /// <summary>The fast test defaults.</summary>
    public static LocalBackendOptions FastOptions() => new()
    {
        LifecycleStepDelay = TimeSpan.FromMilliseconds(5),
        ExecuteFlushWindow = TimeSpan.FromMilliseconds(300),
        SseKeepAliveInterval = TimeSpan.FromSeconds(1),
    };

    /// <summary>A signed-request helper for any keypair.</summary>
    public SignedHttp ClientFor(LocalKeypair keypair) => new(Endpoint, keypair);

    /// <summary>Creates a session (waiting until it runs) and returns its id; the name defaults to a unique one.</summary>
    public async Task<(Guid Id, string Name)> CreateSessionAsync(SignedHttp http, string image = "sim", string? name = null,
        JsonObject? extra = null, CancellationToken cancellationToken = default)
    {
        name ??= "t-" + Guid.NewGuid().ToString("N")[..10];
        var body = new JsonObject { ["name"] = name, ["image"] = image };
        if (extra is not null)
            foreach (var (k, v) in extra) body[k] = v?.DeepClone();
        var r = await http.JsonAsync(HttpMethod.Post, "/session", body, 201, cancellationToken).ConfigureAwait(false);
        return (Guid.Parse(r!["sessionId"]!.GetValue<string>()), name);
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var options = FastOptions();
        Configure(options);
        _backend = await LocalBackend.StartAsync(options).ConfigureAwait(false);
        Admin = new SignedHttp(Endpoint, WellKnownKeypairs.SuperAdmin);
        User = new SignedHttp(Endpoint, WellKnownKeypairs.User);
        DomainAdmin = new SignedHttp(Endpoint, WellKnownKeypairs.DomainAdmin);
        Anonymous = new SignedHttp(Endpoint, accessKey: null, secretKey: null);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        User?.Dispose();
        DomainAdmin?.Dispose();
        Anonymous?.Dispose();
        if (_backend is not null) await _backend.DisposeAsync().ConfigureAwait(false);
    }
}

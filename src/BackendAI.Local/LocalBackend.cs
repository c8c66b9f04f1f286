using BackendAI.Local.Hosting;
using BackendAI.Local.Sessions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;

namespace BackendAI.Local;

/// <summary>
/// An embedded Backend.AI-compatible server (like Azurite for Azure Storage) listening on loopback.
/// Start one with <see cref="StartAsync(LocalBackendOptions?, CancellationToken)"/>, point a client at <see cref="Endpoint"/> with
/// <see cref="AdminKeypair"/> or <see cref="UserKeypair"/>, dispose it to kill every kernel.
/// </summary>
public sealed class LocalBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string? _tempDirectory;
    private int _disposed;

    private LocalBackend(WebApplication app, Uri endpoint, LocalBackendPaths paths, FaultInjection faults, string? tempDirectory)
    {
        _app = app;
        Endpoint = endpoint;
        Paths = paths;
        Faults = faults;
        _tempDirectory = tempDirectory;
        var keys = app.Services.GetRequiredService<IKeypairStore>().All;
        AdminKeypair = keys.FirstOrDefault(k => k.Role == "superadmin") ?? WellKnownKeypairs.SuperAdmin;
        UserKeypair = keys.FirstOrDefault(k => k.Role == "user") ?? WellKnownKeypairs.User;
    }

    /// <summary>The base URL, e.g. <c>http://127.0.0.1:54321/</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>A superadmin keypair (the example <c>AKIAIOSFODNN7EXAMPLE</c> by default).</summary>
    public LocalKeypair AdminKeypair { get; }

    /// <summary>A plain user keypair (the example <c>AKIANABBDUSEREXAMPLE</c> by default).</summary>
    public LocalKeypair UserKeypair { get; }

    /// <summary>Runtime fault injection (errors, latency, dropped streams, truncated downloads).</summary>
    public FaultInjection Faults { get; }

    /// <summary>Where the server keeps its state.</summary>
    public LocalBackendPaths Paths { get; }

    /// <summary>The server's services (registries, options).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a server with <paramref name="options"/> (port 0 = a free port) and waits until it listens.</summary>
    /// <param name="options">Settings; null = defaults (127.0.0.1, free port, temporary data directory).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static Task<LocalBackend> StartAsync(LocalBackendOptions? options = null, CancellationToken cancellationToken = default) =>
        StartAsync(options, null, cancellationToken);

    /// <summary>As <see cref="StartAsync(LocalBackendOptions?, CancellationToken)"/>, with a logging setup (default: warnings to the console).</summary>
    public static async Task<LocalBackend> StartAsync(LocalBackendOptions? options, Action<ILoggingBuilder>? logging, CancellationToken cancellationToken = default)
    {
        options ??= new LocalBackendOptions();
        string? temp = null;
        var dataDir = options.DataDirectory;
        if (string.IsNullOrEmpty(dataDir))
        {
            temp = Path.Combine(Path.GetTempPath(), "backendai-local-" + Guid.NewGuid().ToString("N")[..12]);
            dataDir = temp;
        }
        var paths = new LocalBackendPaths(Path.GetFullPath(dataDir));
        Directory.CreateDirectory(paths.SessionsDirectory);
        var faults = new FaultInjection();
        faults.Set(options.Faults);
        var app = LocalServer.Build(options, paths, faults, logging);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var uri = new Uri(address.Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal).Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/");
        return new LocalBackend(app, uri, paths, faults, temp);
    }

    /// <summary>Blocks until the host shuts down (Ctrl+C for the executable).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops the server, kills every kernel process and closes every stream.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            try
            {
                await _app.StopAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // forced stop
            }
        }
        await _app.Services.GetRequiredService<SessionRegistry>().DisposeAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        if (_tempDirectory is not null)
        {
            try
            {
                Directory.Delete(_tempDirectory, recursive: true);
            }
            catch (IOException)
            {
                // best effort
            }
            catch (UnauthorizedAccessException)
            {
                // best effort
            }
        }
    }
}

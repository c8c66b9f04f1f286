using BackendAI.Client.Config;
using BackendAI.Local;
using Microsoft.Extensions.Logging;

namespace BackendAI.Examples.MonitoringConsole;

/// <summary>The endpoint to watch: <c>BACKEND_ENDPOINT</c> (+ keys from <c>BACKEND_*</c>), or an embedded local server (as superadmin).</summary>
public sealed class MonitorTarget : IAsyncDisposable
{
    private MonitorTarget(BackendAIClientOptions options, LocalBackend? local)
    {
        ClientOptions = options;
        Local = local;
    }

    /// <summary>Client options for the target.</summary>
    public BackendAIClientOptions ClientOptions { get; }

    /// <summary>The embedded server, when used.</summary>
    public LocalBackend? Local { get; }

    /// <summary>Uses <c>BACKEND_ENDPOINT</c> or starts the embedded server (its logs off, they would tear the live display).</summary>
    public static async Task<MonitorTarget> CreateAsync(IDictionary<string, string?>? environment = null, LocalBackendOptions? localOptions = null,
        CancellationToken cancellationToken = default)
    {
        var env = environment ?? Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
        if (env.TryGetValue("BACKEND_ENDPOINT", out var endpoint) && !string.IsNullOrWhiteSpace(endpoint))
            return new MonitorTarget(BackendAIClientOptions.FromEnvironment(env), null);
        var local = await LocalBackend.StartAsync(localOptions ?? new LocalBackendOptions(), logging => logging.ClearProviders(), cancellationToken)
            .ConfigureAwait(false);
        return new MonitorTarget(new BackendAIClientOptions
        {
            Endpoints = [local.Endpoint],
            AccessKey = local.AdminKeypair.AccessKey,
            SecretKey = local.AdminKeypair.SecretKey,
        }, local);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Local is not null) await Local.DisposeAsync().ConfigureAwait(false);
    }
}

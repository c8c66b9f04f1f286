using BackendAI.Client.Config;
using BackendAI.Local;
using BackendAI.Local.Hosting;
using Microsoft.Extensions.Logging;

namespace BackendAI.Examples.LoadTool;

/// <summary>
/// Where the load goes: the endpoint in <c>BACKEND_ENDPOINT</c> (with <c>BACKEND_ACCESS_KEY</c>/<c>BACKEND_SECRET_KEY</c>),
/// or — when it is not set — an embedded <see cref="LocalBackend"/> sized for load (no slot limit, a keypair without
/// rate limit) whose <c>sim</c> image echoes code in-process.
/// </summary>
public sealed class LoadTarget : IAsyncDisposable
{
    private readonly LocalBackend? _local;

    private LoadTarget(BackendAIClientOptions options, LocalBackend? local, string description)
    {
        ClientOptions = options;
        _local = local;
        Description = description;
    }

    /// <summary>Client options for the target (validated).</summary>
    public BackendAIClientOptions ClientOptions { get; }

    /// <summary>True when the embedded server is used.</summary>
    public bool IsLocal => _local is not null;

    /// <summary>One line saying where the load goes.</summary>
    public string Description { get; }

    /// <summary>The image to use when none was asked for.</summary>
    public string DefaultImage => IsLocal ? "sim" : "python";

    /// <summary>Uses <c>BACKEND_ENDPOINT</c>, or starts the embedded server when it is unset.</summary>
    public static async Task<LoadTarget> CreateAsync(IDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        var env = environment ?? Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
        if (env.TryGetValue("BACKEND_ENDPOINT", out var endpoint) && !string.IsNullOrWhiteSpace(endpoint))
        {
            var options = BackendAIClientOptions.FromEnvironment(env);
            options.Validate();
            return new LoadTarget(options, null, $"endpoint {string.Join(", ", options.Endpoints)}");
        }
        return await StartLocalAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts the embedded server sized for load.</summary>
    public static async Task<LoadTarget> StartLocalAsync(CancellationToken cancellationToken = default)
    {
        var keypair = new LocalKeypair("AKIALOADTOOL0EXAMPLE", "loadtool-local-only-secret-0123456789abcdef", "loadtool@local",
            Guid.NewGuid(), "superadmin", IsActive: true, RateLimit: int.MaxValue, "default", "default", "default",
            WellKnownKeypairs.DefaultGroupId);
        var local = await LocalBackend.StartAsync(new LocalBackendOptions
        {
            ExtraKeypairs = [keypair],
            CapacityCpu = 1_000_000,
            CapacityMemory = long.MaxValue / 4,
            LifecycleStepDelay = TimeSpan.FromMilliseconds(5),
            ExecuteFlushWindow = TimeSpan.FromMilliseconds(500),
            EventBufferSize = 65536,
        }, logging => logging.SetMinimumLevel(LogLevel.Error), cancellationToken).ConfigureAwait(false);
        var options = new BackendAIClientOptions
        {
            Endpoints = [local.Endpoint],
            AccessKey = keypair.AccessKey,
            SecretKey = keypair.SecretKey,
        };
        options.Validate();
        return new LoadTarget(options, local, $"embedded local server at {local.Endpoint} (BACKEND_ENDPOINT not set)");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_local is not null) await _local.DisposeAsync().ConfigureAwait(false);
    }
}

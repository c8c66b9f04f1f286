using BackendAI.Client.Config;
using BackendAI.Local;

namespace BackendAI.Examples.ReactiveQueries;

/// <summary>The embedded server the scenario expects: two CPU slots (one per session), fast lifecycle steps.</summary>
public static class ScenarioServer
{
    /// <summary>Options of the scenario's embedded server.</summary>
    public static LocalBackendOptions Options() => new()
    {
        CapacityCpu = 2,
        DefaultSessionCpu = 1,
        LifecycleStepDelay = TimeSpan.FromMilliseconds(10),
        ExecuteFlushWindow = TimeSpan.FromMilliseconds(300),
        SseKeepAliveInterval = TimeSpan.FromSeconds(2),
    };

    /// <summary>Client options for the server's user keypair.</summary>
    public static BackendAIClientOptions ClientOptions(LocalBackend local) => new()
    {
        Endpoints = [local.Endpoint],
        AccessKey = local.UserKeypair.AccessKey,
        SecretKey = local.UserKeypair.SecretKey,
    };
}

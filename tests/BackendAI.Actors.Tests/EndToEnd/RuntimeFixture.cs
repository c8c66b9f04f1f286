using Akka.Configuration;
using BackendAI.Client.Config;
using BackendAI.Local;
using BackendAI.Local.Hosting;
using BackendAI.Testing;

namespace BackendAI.Actors.Tests.EndToEnd;

/// <summary>A BackendAI.Local server roomy enough for hundreds of sim sessions.</summary>
public sealed class RoomyServerFixture : LocalServerFixture
{
    protected override void Configure(LocalBackendOptions options)
    {
        options.CapacityCpu = 100_000;
        options.CapacityMemory = 1L << 50;
    }

    public BackendAIClientOptions ClientOptions(LocalKeypair? keypair = null)
    {
        var k = keypair ?? WellKnownKeypairs.User;
        return new BackendAIClientOptions { Endpoints = [Endpoint], AccessKey = k.AccessKey, SecretKey = k.SecretKey };
    }

    /// <summary>Fast reconnects and reconciles, so fault tests finish quickly.</summary>
    public static Config FastRuntimeConfig { get; } = ConfigurationFactory.ParseString("""
        backendai.event-stream.reconnect { min-backoff = 50ms, max-backoff = 500ms, random-factor = 0.2 }
        backendai.session.reconcile-interval = 2s
        backendai.session.ask-timeout = 60s
        backendai.session.start-max-wait = 60s
        """);
}

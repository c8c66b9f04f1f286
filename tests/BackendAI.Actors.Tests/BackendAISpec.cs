using Akka.Configuration;
using Akka.TestKit.Xunit2;
using BackendAI.Actors.Hosting;
using Xunit.Abstractions;

namespace BackendAI.Actors.Tests;

/// <summary>Actor specs run on our reference.conf (plus per-spec overrides).</summary>
public abstract class BackendAISpec(ITestOutputHelper output, string? hocon = null)
    : TestKit(BackendAIConfig.WithFallback(ConfigurationFactory.ParseString(hocon ?? "")
        .WithFallback(ConfigurationFactory.ParseString("akka.loglevel = INFO"))), output: output)
{
    protected BackendAISettings Settings => BackendAISettings.Create(Sys.Settings.Config);
}

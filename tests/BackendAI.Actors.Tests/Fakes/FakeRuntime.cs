using Akka.Actor;
using BackendAI.Client;

namespace BackendAI.Actors.Tests.Fakes;

internal static class FakeRuntime
{
    /// <summary>A runtime on the spec's actor system, talking to the fake server.</summary>
    public static BackendAIRuntime Create(ActorSystem system, FakeSessionApi api) =>
        new(system, ownsSystem: false, api, new SessionEventFilter(), loggerFactory: null);
}

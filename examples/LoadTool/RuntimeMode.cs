using BackendAI.Actors;

namespace BackendAI.Examples.LoadTool;

/// <summary>Drives sessions through the actor runtime: <see cref="BackendAIRuntime.StartSessionAsync"/>,
/// <see cref="ComputeSession.ExecuteAsync"/> and <see cref="ComputeSession.DisposeAsync"/> (destroy).</summary>
public sealed class RuntimeMode(BackendAIRuntime runtime) : ILoadMode
{
    /// <inheritdoc />
    public string Name => "runtime";

    /// <inheritdoc />
    public async Task<ILoadSession> StartAsync(string name, string image, CancellationToken cancellationToken)
    {
        var session = await runtime.StartSessionAsync(image, new SessionStartOptions { Name = name }, cancellationToken).ConfigureAwait(false);
        return new Session(session);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => runtime.DisposeAsync();

    private sealed class Session(ComputeSession session) : ILoadSession
    {
        public async Task<string> ExecuteAsync(string code, CancellationToken cancellationToken) =>
            (await session.ExecuteAsync(code, null, cancellationToken).ConfigureAwait(false)).Stdout;

        public ValueTask DisposeAsync() => session.DisposeAsync();
    }
}

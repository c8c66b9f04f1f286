using Microsoft.Extensions.Hosting;

namespace BackendAI.Examples.HostedService;

/// <summary>
/// A host lifetime that ignores Ctrl+C. The embedded server would otherwise stop on the same signal as the worker,
/// while the worker still needs it to destroy its session; Program.cs disposes the server after the worker host ends.
/// </summary>
public sealed class ServerLifetime : IHostLifetime
{
    /// <inheritdoc />
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

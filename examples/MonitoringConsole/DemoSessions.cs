using BackendAI.Actors;

namespace BackendAI.Examples.MonitoringConsole;

/// <summary>
/// <c>--demo</c>: something to watch. Keeps one interactive session of <c>longImage</c> (python) alive and rolls
/// short-lived <c>rollingImage</c> (sim) sessions — start, run a line, keep the last few, destroy the oldest — until
/// cancelled; then destroys what is left.
/// </summary>
public static class DemoSessions
{
    /// <summary>Runs the demo until cancelled.</summary>
    public static async Task RunAsync(BackendAIRuntime runtime, string? longImage, string rollingImage, TimeSpan interval, Action<string>? onError,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        var alive = new Queue<ComputeSession>();
        ComputeSession? longLived = null;
        var n = 0;
        try
        {
            if (longImage is not null)
            {
                try
                {
                    longLived = await runtime.StartSessionAsync(longImage, new SessionStartOptions { Name = "demo-" + longImage.Replace(':', '-').Replace('/', '-') },
                        cancellationToken).ConfigureAwait(false);
                    await longLived.ExecuteAsync("print(sum(range(10)))", cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    onError?.Invoke($"demo {longImage}: {ex.Message}");
                }
            }
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    var s = await runtime.StartSessionAsync(rollingImage, new SessionStartOptions { Name = $"demo-{rollingImage}-{++n}" }, cancellationToken)
                        .ConfigureAwait(false);
                    alive.Enqueue(s);
                    await s.ExecuteAsync($"print('demo run {n}')", cancellationToken: cancellationToken).ConfigureAwait(false);
                    if (alive.Count > 4) await alive.Dequeue().DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    onError?.Invoke($"demo {rollingImage}: {ex.Message}");
                }
                await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
        finally
        {
            if (longLived is not null) alive.Enqueue(longLived);
            foreach (var s in alive)
            {
                try
                {
                    await s.DestroyAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // best effort on the way out
                }
            }
        }
    }
}

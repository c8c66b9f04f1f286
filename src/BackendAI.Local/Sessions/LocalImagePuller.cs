using System.Text.RegularExpressions;
using BackendAI.Local.Kernels;

namespace BackendAI.Local.Sessions;

/// <summary>
/// Simulates image pulls (sessions.md §13.2 PREPARING ⇄ PULLING): an image matching one of the configured
/// "not present locally" globs is pulled on its first use, taking <c>delay</c>; afterwards it is present.
/// Sessions that start while a pull of their image is in flight wait for the same pull. Thread-safe.
/// </summary>
internal sealed class LocalImagePuller
{
    private readonly Regex[] _patterns;
    private readonly TimeSpan _delay;
    private readonly TimeProvider _clock;
    private readonly CancellationToken _shutdown;
    private readonly object _gate = new();
    private readonly Dictionary<string, Task> _pulls = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="patterns">Globs of the images that are not present locally.</param>
    /// <param name="delay">How long a pull takes.</param>
    /// <param name="clock">Time source.</param>
    /// <param name="shutdown">Cancels every pull in flight (server shutdown).</param>
    public LocalImagePuller(IEnumerable<string> patterns, TimeSpan delay, TimeProvider clock, CancellationToken shutdown)
    {
        _shutdown = shutdown;
        _patterns = [.. patterns.Where(p => !string.IsNullOrWhiteSpace(p)).Select(LocalKernelFactory.GlobToRegex)];
        _delay = delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
        _clock = clock;
    }

    /// <summary>True when the image (requested or canonical reference) is configured as absent and not yet pulled to completion.</summary>
    public bool NeedsPull(string requested, string canonical)
    {
        if (!_patterns.Any(p => p.IsMatch(requested) || p.IsMatch(canonical))) return false;
        lock (_gate) return !_pulls.TryGetValue(canonical, out var t) || !t.IsCompletedSuccessfully;
    }

    /// <summary>Pulls the image (or joins the pull in flight); a cancelled waiter leaves the shared pull running.</summary>
    public Task PullAsync(string canonical, CancellationToken cancellationToken)
    {
        Task pull;
        lock (_gate)
        {
            if (!_pulls.TryGetValue(canonical, out pull!) || pull.IsFaulted || pull.IsCanceled)
            {
                pull = _delay > TimeSpan.Zero ? Task.Delay(_delay, _clock, _shutdown) : Task.CompletedTask;
                _pulls[canonical] = pull;
            }
        }
        return pull.WaitAsync(cancellationToken);
    }
}

using System.Diagnostics;
using BackendAI.Local;
using BackendAI.Local.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace BackendAI.Local.Tests.Sessions;

/// <summary>Waits on the server's own view of a session (no HTTP), for tests that need a status before they go on.</summary>
internal static class SessionStatusPolling
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    /// <summary>Polls until the session's status is one of <paramref name="statuses"/>; returns it, or throws after 20 s naming the last status.</summary>
    public static async Task<string> WaitForStatusAsync(this LocalBackend backend, Guid id, params string[] statuses)
    {
        var sw = Stopwatch.StartNew();
        var source = backend.Services.GetRequiredService<ISessionQuerySource>();
        while (sw.Elapsed < Budget)
        {
            var s = source.Find(id)!.Status;
            if (statuses.Contains(s)) return s;
            await Task.Delay(10);
        }
        throw new TimeoutException($"session {id} never reached {string.Join("/", statuses)}; now {source.Find(id)!.Status}");
    }
}

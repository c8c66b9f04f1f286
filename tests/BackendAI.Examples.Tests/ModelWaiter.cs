using BackendAI.Examples.MonitoringConsole;

namespace BackendAI.Examples.Tests;

/// <summary>Awaits a condition on a <see cref="DashboardModel"/>: checked on every change, no polling sleeps.</summary>
internal static class ModelWaiter
{
    public static async Task<DashboardSnapshot> WaitForAsync(this DashboardModel model, Func<DashboardSnapshot, bool> condition, string what,
        TimeSpan? timeout = null)
    {
        var tcs = new TaskCompletionSource<DashboardSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            var s = model.Snapshot();
            if (condition(s)) tcs.TrySetResult(s);
        }
        model.Changed += Check;
        try
        {
            Check();
            return await tcs.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException)
        {
            var s = model.Snapshot();
            throw new TimeoutException($"Timed out waiting for {what}. Stream {s.Stream}, sessions: "
                + string.Join(", ", s.Sessions.Select(r => $"{r.Name}={r.Status} ({r.Image})")) + $", last error: {s.LastError}, listed: {s.LastListing}, "
                + $"reconciled: {s.LastReconcile}, agents: {s.Agents.Count} {s.AgentsNote}");
        }
        finally
        {
            model.Changed -= Check;
        }
    }
}

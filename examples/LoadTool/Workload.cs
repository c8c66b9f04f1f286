using System.Diagnostics;

namespace BackendAI.Examples.LoadTool;

/// <summary>One way of driving sessions (the actor runtime, or the plain HttpClient baseline).</summary>
public interface ILoadMode : IAsyncDisposable
{
    /// <summary><c>runtime</c> or <c>baseline</c>.</summary>
    string Name { get; }

    /// <summary>Creates (and waits for) a session.</summary>
    Task<ILoadSession> StartAsync(string name, string image, CancellationToken cancellationToken);
}

/// <summary>A started session; disposing it destroys it.</summary>
public interface ILoadSession : IAsyncDisposable
{
    /// <summary>Runs <paramref name="code"/> to the end (query mode) and returns its stdout.</summary>
    Task<string> ExecuteAsync(string code, CancellationToken cancellationToken);
}

/// <summary>The workload both modes run: N sessions, at most C at once, each running M executions in turn and then destroyed.</summary>
public static class Workload
{
    /// <summary>Runs the workload; every failure is counted in <paramref name="recorder"/> by type, nothing is thrown but cancellation.</summary>
    public static async Task RunAsync(ILoadMode mode, string image, int sessions, int executions, int concurrency, string namePrefix,
        PhaseRecorder recorder, CancellationToken cancellationToken)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, sessions), parallel, async (s, ct) =>
        {
            var name = $"{namePrefix}-{s}";
            var started = Stopwatch.GetTimestamp();
            ILoadSession session;
            try
            {
                session = await mode.StartAsync(name, image, ct).ConfigureAwait(false);
                recorder.SessionStarted(Stopwatch.GetElapsedTime(started));
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                recorder.Error(ex);
                return;
            }
            try
            {
                for (var i = 0; i < executions; i++)
                {
                    var marker = $"{name}-{i}";
                    var t = Stopwatch.GetTimestamp();
                    try
                    {
                        var stdout = await session.ExecuteAsync($"print('{marker}')", ct).ConfigureAwait(false);
                        if (stdout.Contains(marker, StringComparison.Ordinal)) recorder.RoundTrip(Stopwatch.GetElapsedTime(t));
                        else recorder.Error("OutputMismatch");
                    }
                    catch (Exception ex) when (!ct.IsCancellationRequested)
                    {
                        recorder.Error(ex);
                    }
                }
            }
            finally
            {
                try
                {
                    await session.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    recorder.Error("Destroy" + ex.GetType().Name);
                }
            }
        }).ConfigureAwait(false);
    }
}

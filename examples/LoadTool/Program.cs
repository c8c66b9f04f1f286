// LoadTool: N sessions x M executions through the actor runtime (and, with --baseline, through a plain
// signed HttpClient loop), reporting throughput, latency percentiles, errors by type and peak memory.
using BackendAI.Examples.LoadTool;

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
return await LoadRunner.MainAsync(args, Console.Out, Console.Error, cts.Token);

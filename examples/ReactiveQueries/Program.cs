// ReactiveQueries: Rx queries over the runtime's session events (slow starts, a sliding failure count,
// a per-status tally), printed as they occur while a small scenario runs.
// Flags: --slow-start SECONDS (default 1), --window SECONDS (default 30).
using System.Globalization;
using BackendAI.Actors;
using BackendAI.Client.Config;
using BackendAI.Examples.ReactiveQueries;
using BackendAI.Local;

double Flag(string name, double fallback)
{
    var i = Array.IndexOf(args, name);
    if (i < 0) return fallback;
    return i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0
        ? v
        : throw new ArgumentException($"{name} needs a positive number of seconds.");
}

var options = new ScenarioOptions(TimeSpan.FromSeconds(Flag("--slow-start", 1)), TimeSpan.FromSeconds(Flag("--window", 30)));
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};

LocalBackend? local = null;
BackendAIClientOptions clientOptions;
if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("BACKEND_ENDPOINT")))
{
    // Room for exactly two sessions, so the third one waits.
    local = await LocalBackend.StartAsync(ScenarioServer.Options(), cts.Token);
    Console.WriteLine($"BACKEND_ENDPOINT not set: using an embedded local server at {local.Endpoint} (2 CPU slots)");
    clientOptions = ScenarioServer.ClientOptions(local);
}
else
{
    clientOptions = BackendAIClientOptions.FromEnvironment();
    options = options with { Image = "python", BatchImage = "python" };
}

try
{
    await using var runtime = BackendAIRuntime.Create(clientOptions);
    var report = await Scenario.RunAsync(runtime, options, Console.Out, cts.Token);
    Console.WriteLine($"slow starts: {report.SlowStarts.Count}, failure-window changes: {report.Failures.Count}, tallies: {report.Tallies.Count}");
}
finally
{
    if (local is not null) await local.DisposeAsync();
}

// MonitoringConsole: a live dashboard of a Backend.AI endpoint (sessions, counts, events, agent slots).
// Flags: --demo (start a few sessions to watch), --image IMAGE (the demo's long-lived image, default python).
using BackendAI.Actors;
using BackendAI.Examples.MonitoringConsole;
using Spectre.Console;

var demo = args.Contains("--demo");
var imageAt = Array.IndexOf(args, "--image");
var image = imageAt >= 0 && imageAt + 1 < args.Length ? args[imageAt + 1] : "python";
if (args.Except(["--demo", "--image", image]).FirstOrDefault() is { } unknown)
{
    Console.Error.WriteLine($"Unknown argument '{unknown}'. usage: MonitoringConsole [--demo] [--image IMAGE]");
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cts.Cancel();
};
await using var target = await MonitorTarget.CreateAsync(cancellationToken: cts.Token);
if (target.Local is not null) AnsiConsole.MarkupLine($"[grey]BACKEND_ENDPOINT not set: watching an embedded local server at {target.Local.Endpoint}[/]");
await using var runtime = BackendAIRuntime.Create(target.ClientOptions);
var monitor = new Dashboard(runtime, new DashboardModel(target.ClientOptions.Endpoints[0].ToString()), new MonitorOptions { ReadKeys = true });
var demoTask = demo
    ? DemoSessions.RunAsync(runtime, image, target.Local is not null ? "sim" : image, TimeSpan.FromSeconds(3), monitor.Model.ReportError, cts.Token)
    : Task.CompletedTask;
await monitor.RunAsync(AnsiConsole.Console, cts.Token);
await cts.CancelAsync();
await demoTask;
return 0;

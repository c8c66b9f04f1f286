// HostedService: a Generic Host worker using the runtime through DI (AddBackendAI), with Akka logs in
// Microsoft.Extensions.Logging, OpenTelemetry traces and metrics on the console, and a graceful shutdown that
// destroys (or, with Worker:KeepSessionOnShutdown=true, keeps) its session.
using BackendAI.Examples.HostedService;
using BackendAI.Local;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var probe = new ConfigurationBuilder().AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
    .AddEnvironmentVariables().AddCommandLine(args).Build();
LocalBackend? local = null;
Dictionary<string, string?>? overrides = null;
if (string.IsNullOrWhiteSpace(probe["BackendAI:Endpoint"]) && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("BACKEND_ENDPOINT")))
{
    // The embedded server's own logs stay off (it would read this app's appsettings.json and log every request), and it
    // ignores Ctrl+C, so it is still up while the worker destroys its session; it is disposed after the host ends.
    local = await LocalBackend.StartAsync(new LocalBackendOptions(), logging =>
    {
        logging.ClearProviders();
        logging.Services.AddSingleton<IHostLifetime, ServerLifetime>();
    });
    overrides = WorkerHost.LocalOverrides(local);
    Console.WriteLine($"No BackendAI:Endpoint or BACKEND_ENDPOINT: using an embedded local server at {local.Endpoint}");
}
try
{
    using var host = WorkerHost.CreateBuilder(args, overrides).Build();
    await host.RunAsync();
}
finally
{
    if (local is not null) await local.DisposeAsync();
}

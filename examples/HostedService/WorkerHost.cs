using BackendAI.Local;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using BackendAI.Actors.Diagnostics;
using BackendAI.Client.Diagnostics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace BackendAI.Examples.HostedService;

/// <summary>Builds the worker host (used by Program.cs and by the smoke test).</summary>
public static class WorkerHost
{
    /// <summary>
    /// A host with <c>AddBackendAI</c>, the <see cref="JobWorker"/>, logging (Akka's included) and OpenTelemetry traces and
    /// metrics (console exporter when <c>Telemetry:Console</c> is true). <paramref name="overrides"/> win over appsettings and args.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[] args, IDictionary<string, string?>? overrides = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.AddOptions<WorkerOptions>().Bind(builder.Configuration.GetSection("Worker"))
            .Validate(o => o.Interval > TimeSpan.Zero, "Worker:Interval must be positive.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Image), "Worker:Image is required.")
            .ValidateOnStart();
        builder.Services.AddSingleton<WorkerTelemetry>();
        builder.Services.AddSingleton<ILoggerProvider, TelemetryLogBridge>();
        builder.Logging.AddFilter<TelemetryLogBridge>("BackendAI.Client", LogLevel.Debug);
        builder.Services.AddBackendAI(builder.Configuration.GetSection("BackendAI"));
        builder.Services.AddSingleton<JobWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<JobWorker>());

        var console = builder.Configuration.GetValue("Telemetry:Console", true);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("backendai-hosted-worker"))
            .WithTracing(t =>
            {
                // The library's own spans (BackendAIClient.<Operation>, SessionActor.Reconcile) next to the worker's.
                t.AddSource(WorkerTelemetry.Name, ClientTelemetry.ActivitySourceName, ActorsTelemetry.ActivitySourceName, "System.Net.Http");
                if (console) t.AddConsoleExporter();
            })
            .WithMetrics(m =>
            {
                m.AddMeter(WorkerTelemetry.Name, ClientTelemetry.MeterName, ActorsTelemetry.MeterName);
                if (console) m.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 10_000);
            });
        return builder;
    }

    /// <summary>Configuration overrides pointing the worker at an embedded local server.</summary>
    public static Dictionary<string, string?> LocalOverrides(LocalBackend local) => new(StringComparer.Ordinal)
    {
        ["BackendAI:Endpoint"] = local.Endpoint.ToString(),
        ["BackendAI:AccessKey"] = local.UserKeypair.AccessKey,
        ["BackendAI:SecretKey"] = local.UserKeypair.SecretKey,
    };
}

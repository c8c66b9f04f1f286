using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using BackendAI.Client;
using BackendAI.Client.Config;
using BackendAI.Client.Errors;
using BackendAI.Examples.HostedService;
using BackendAI.Local;
using BackendAI.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BackendAI.Examples.Tests.HostedService;

public sealed class WorkerHostSmokeTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Worker_runs_a_job_then_on_shutdown_destroys_its_session_or_keeps_it_when_configured(bool keep)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var local = await LocalBackend.StartAsync(LocalServerFixture.FastOptions(), cts.Token);
        var name = "hw" + Guid.NewGuid().ToString("N")[..8];
        var overrides = WorkerHost.LocalOverrides(local);
        overrides["Worker:Image"] = "sim";
        overrides["Worker:SessionName"] = name;
        overrides["Worker:Code"] = "print('smoke job')";
        overrides["Worker:Interval"] = "00:00:00.200";
        overrides["Worker:KeepSessionOnShutdown"] = keep ? "true" : "false";
        overrides["Telemetry:Console"] = "false";

        var spans = new ConcurrentQueue<string>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == WorkerTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => spans.Enqueue(a.OperationName),
        };
        ActivitySource.AddActivityListener(activities);
        var measured = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var meters = new MeterListener
        {
            InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == WorkerTelemetry.Name) l.EnableMeasurementEvents(i);
            },
        };
        meters.SetMeasurementEventCallback<long>((i, v, _, _) => measured.AddOrUpdate(i.Name, v, (_, old) => old + v));
        meters.Start();

        using (var host = WorkerHost.CreateBuilder([], overrides).Build())
        {
            await host.StartAsync(cts.Token);
            var worker = host.Services.GetRequiredService<JobWorker>();
            var job = await worker.Completed.ReadAsync(cts.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(30), cts.Token);
            Assert.Equal("finished", job.Status);
            Assert.Contains("smoke job", job.Stdout, StringComparison.Ordinal);
            Assert.Equal(name, job.SessionName);
            await host.StopAsync(cts.Token);
        }

        Assert.Contains("Worker.StartSession", spans);
        Assert.Contains("Worker.RunJob", spans);
        Assert.True(measured.GetValueOrDefault("backendai.worker.jobs") >= 1, string.Join(", ", measured));
        Assert.True(measured.GetValueOrDefault("backendai.client.requests") >= 2, string.Join(", ", measured)); // create + execute at least
        Assert.True(measured.GetValueOrDefault("backendai.transfer.bytes") > 0, string.Join(", ", measured));

        await using var client = new BackendAIClient(new BackendAIClientOptions
        {
            Endpoints = [local.Endpoint],
            AccessKey = local.UserKeypair.AccessKey,
            SecretKey = local.UserKeypair.SecretKey,
        });
        if (keep)
        {
            var info = await client.Sessions.GetInfoAsync(name, cancellationToken: cts.Token);
            Assert.Equal(SessionStatus.Running, info.Status);
            await client.Sessions.DestroyAsync(name, cancellationToken: cts.Token);
        }
        else
        {
            try
            {
                var info = await client.Sessions.GetInfoAsync(name, cancellationToken: cts.Token);
                Assert.True(info.Status is SessionStatus.Terminating or SessionStatus.Terminated, $"status {info.Status}");
            }
            catch (SessionNotFoundException)
            {
                // destroyed and gone
            }
        }
    }
}

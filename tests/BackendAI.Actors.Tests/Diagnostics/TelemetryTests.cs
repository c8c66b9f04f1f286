using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using BackendAI.Actors.Diagnostics;
using BackendAI.Actors.Sessions;
using BackendAI.Actors.Tests.EndToEnd;
using BackendAI.Client.Diagnostics;
using BackendAI.Local.Hosting;

namespace BackendAI.Actors.Tests.Diagnostics;

/// <summary>Telemetry tests run alone: a meter listener sees every measurement of the process.</summary>
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryCollection;

/// <summary>Records the spans and measurements of the BackendAI sources and meters.</summary>
internal sealed class TelemetryRecorder : IDisposable
{
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters = new();

    public TelemetryRecorder()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name is ActorsTelemetry.ActivitySourceName or ClientTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => Spans.Enqueue(a),
        };
        ActivitySource.AddActivityListener(_activities);
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name is ActorsTelemetry.MeterName or ClientTelemetry.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _meters.SetMeasurementEventCallback<long>((i, v, tags, _) => Measurements.Enqueue((i.Name, v, tags.ToArray())));
        _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => Measurements.Enqueue((i.Name, v, tags.ToArray())));
        _meters.Start();
    }

    public ConcurrentQueue<Activity> Spans { get; } = new();
    public ConcurrentQueue<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Measurements { get; } = new();

    public IEnumerable<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Of(string instrument) =>
        Measurements.Where(m => m.Name == instrument);

    public static string? Tag(KeyValuePair<string, object?>[] tags, string key) => tags.FirstOrDefault(t => t.Key == key).Value?.ToString();

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
    }
}

/// <summary>The runtime's ActivitySource and Meter against a real local server (STYLE §9).</summary>
[Collection(nameof(TelemetryTests))]
public sealed class TelemetryTests(RoomyServerFixture server) : IClassFixture<RoomyServerFixture>
{
    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Runtime_emits_reconcile_spans_and_session_event_and_transfer_instruments_without_keys()
    {
        server.Backend.Faults.Set(new FaultSettings());
        using var recorder = new TelemetryRecorder();
        using var cts = new CancellationTokenSource(s_budget);
        var dir = Directory.CreateTempSubdirectory("tel-").FullName;
        var file = Path.Combine(dir, "payload.bin");
        await File.WriteAllBytesAsync(file, new byte[12_345], cts.Token);
        string id;
        await using (var runtime = BackendAIRuntime.Create(server.ClientOptions(), RoomyServerFixture.FastRuntimeConfig))
        {
            await using (var session = await runtime.StartSessionAsync("sim", new SessionStartOptions { Name = "tel-" + Guid.NewGuid().ToString("N")[..8], KeepOnDispose = true }, cts.Token))
            {
                id = session.Id;
                await session.WaitForStatusAsync(s => s == SessionStatus.Running, cts.Token);
                await session.ExecuteAsync("print(1)", cancellationToken: cts.Token);
                await session.UploadAsync([file], cancellationToken: cts.Token);
                var back = Path.Combine(dir, "back");
                Directory.CreateDirectory(back);
                await session.DownloadAsync(["payload.bin"], back, cancellationToken: cts.Token);
                await session.DestroyAsync(ct: cts.Token);
                Assert.Equal(SessionStatus.Terminated, await session.WaitForStatusAsync(SessionLifecycle.IsTerminal, cts.Token));
            }
        }
        Directory.Delete(dir, recursive: true);

        // SessionActor.Reconcile spans, tagged with the session id, parenting the client's GET.
        var reconcile = recorder.Spans.Where(a => a.OperationName == ActorsTelemetry.ReconcileSpan && Equals(a.GetTagItem("backendai.session.id"), id)).ToList();
        Assert.NotEmpty(reconcile);
        Assert.Contains(recorder.Spans, a => a.OperationName == "BackendAIClient.GetSessionInfo" && reconcile.Any(r => r.SpanId == a.ParentSpanId));
        Assert.Contains(recorder.Spans, a => a.OperationName == "BackendAIClient.StartSession");
        Assert.Contains(recorder.Spans, a => a.OperationName == "BackendAIClient.Execute" && Equals(a.GetTagItem("backendai.session.id"), id));

        // Transitions by status; the session was active once and is no longer.
        var statuses = recorder.Of(ActorsTelemetry.SessionTransitions).Select(m => TelemetryRecorder.Tag(m.Tags, "status")).ToList();
        Assert.Contains("RUNNING", statuses);
        Assert.Contains("TERMINATED", statuses);
        var active = recorder.Of(ActorsTelemetry.SessionsActive).Select(m => m.Value).ToList();
        Assert.Contains(1, active);
        Assert.Equal(0, active.Sum());

        // Events arrived over the runtime's stream; transfers were counted in bytes by direction.
        Assert.Contains(recorder.Of(ActorsTelemetry.EventsReceived), m => TelemetryRecorder.Tag(m.Tags, "event") == "session_started");
        Assert.Equal(12_345, recorder.Of(ActorsTelemetry.TransferBytes).Where(m => TelemetryRecorder.Tag(m.Tags, "direction") == "upload").Sum(m => m.Value));
        Assert.Equal(12_345, recorder.Of(ActorsTelemetry.TransferBytes).Where(m => TelemetryRecorder.Tag(m.Tags, "direction") == "download").Sum(m => m.Value));

        // Session ids on spans only; no key anywhere.
        Assert.DoesNotContain(recorder.Measurements, m => m.Tags.Any(t => t.Value?.ToString() == id));
        var keys = server.ClientOptions();
        var values = recorder.Spans.SelectMany(a => a.TagObjects.Select(t => t.Value?.ToString() ?? "").Append(a.DisplayName))
            .Concat(recorder.Measurements.SelectMany(m => m.Tags.Select(t => t.Value?.ToString() ?? ""))).ToList();
        Assert.DoesNotContain(values, v => v.Contains(keys.AccessKey, StringComparison.Ordinal));
        Assert.DoesNotContain(values, v => v.Contains(keys.SecretKey, StringComparison.Ordinal));
    }

    internal static async Task AwaitAsync(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
            await Task.Delay(20, ct);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using BackendAI.Client.Config;
using BackendAI.Client.Diagnostics;
using BackendAI.Client.Errors;
using BackendAI.Client.Models;
using BackendAI.Client.Tests.Infrastructure;
using BackendAI.Testing;

namespace BackendAI.Client.Tests.Diagnostics;

/// <summary>Telemetry runs alone: the meter listener sees every measurement of the process.</summary>
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryCollection;

/// <summary>The client's ActivitySource and Meter against the local server (STYLE §9).</summary>
[Collection(nameof(TelemetryTests))]
public sealed class TelemetryTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>
{
    private static readonly ActivitySource s_test = new("BackendAI.Client.Tests.Telemetry");

    private sealed class Recorder : IDisposable
    {
        private readonly ActivityListener _activities;
        private readonly MeterListener _meters = new();

        public Recorder()
        {
            _activities = new ActivityListener
            {
                ShouldListenTo = s => s.Name is ClientTelemetry.ActivitySourceName || s == s_test,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = a => Spans.Enqueue(a),
            };
            ActivitySource.AddActivityListener(_activities);
            _meters.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ClientTelemetry.MeterName) listener.EnableMeasurementEvents(instrument);
            };
            _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => Measurements.Enqueue((i.Name, v, tags.ToArray())));
            _meters.Start();
        }

        public ConcurrentQueue<Activity> Spans { get; } = new();
        public ConcurrentQueue<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> Measurements { get; } = new();

        public void Dispose()
        {
            _activities.Dispose();
            _meters.Dispose();
        }
    }

    private BackendAIClient NewClient() => new(new BackendAIClientOptions
    {
        Endpoints = [fx.Endpoint],
        AccessKey = LoopbackServer.AccessKey,
        SecretKey = LoopbackServer.SecretKey,
    });

    [Fact]
    public async Task Client_calls_emit_BackendAIClient_spans_with_route_templates_status_and_session_id()
    {
        using var recorder = new Recorder();
        await using var client = NewClient();
        var name = "tel-" + Guid.NewGuid().ToString("N")[..8];
        var dir = Directory.CreateTempSubdirectory("tel-").FullName;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        ActivityTraceId trace;
        using (var root = s_test.StartActivity("test"))
        {
            trace = root!.TraceId;
            await client.Sessions.CreateAsync(new SessionCreateRequest { Image = "sim", Name = name }, cts.Token);
            var result = await client.Sessions.ExecuteAsync(name, new ExecuteRequest(ExecuteMode.Query, "print(1)", null), cts.Token);
            while (!result.IsFinished)
                result = await client.Sessions.ExecuteAsync(name, new ExecuteRequest(ExecuteMode.Continue, "", result.RunId), cts.Token);
            await client.Sessions.UploadAsync(name, [new UploadFile("t.txt", () => new MemoryStream(Encoding.UTF8.GetBytes("hello")))], cts.Token);
            await client.Sessions.DownloadAsync(name, ["t.txt"], dir, cts.Token);
            await client.Sessions.DestroyAsync(name, cancellationToken: cts.Token);
            await Assert.ThrowsAsync<SessionNotFoundException>(() => client.Sessions.GetInfoAsync("no-such-" + name, cancellationToken: cts.Token));
        }
        Directory.Delete(dir, recursive: true);

        var spans = recorder.Spans.Where(a => a.TraceId == trace && a.Source.Name == ClientTelemetry.ActivitySourceName).ToList();
        Activity Span(string op) => Assert.Single(spans, a => a.OperationName == op);

        var start = Span("BackendAIClient.StartSession");
        Assert.Equal("POST", start.GetTagItem("http.request.method"));
        Assert.Equal("/session", start.GetTagItem("http.route"));
        Assert.Equal(201, start.GetTagItem("http.response.status_code"));
        Assert.Equal(ActivityKind.Client, start.Kind);

        var execute = spans.Where(a => a.OperationName == "BackendAIClient.Execute").ToList();
        Assert.NotEmpty(execute);
        Assert.All(execute, a =>
        {
            Assert.Equal("/session/{session}", a.GetTagItem("http.route"));
            Assert.Equal(name, a.GetTagItem("backendai.session.id"));
            Assert.Equal(200, a.GetTagItem("http.response.status_code"));
        });
        Assert.Equal("/session/{session}/upload", Span("BackendAIClient.Upload").GetTagItem("http.route"));
        Assert.Equal("/session/{session}/download", Span("BackendAIClient.Download").GetTagItem("http.route"));
        var destroy = Span("BackendAIClient.DestroySession");
        Assert.Equal("DELETE", destroy.GetTagItem("http.request.method"));
        Assert.Equal(name, destroy.GetTagItem("backendai.session.id"));

        var missing = Span("BackendAIClient.GetSessionInfo");
        Assert.Equal(404, missing.GetTagItem("http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Error, missing.Status);

        // No span carries a full URL, and the route never contains the session name.
        Assert.All(spans, a => Assert.DoesNotContain(name, (string)a.GetTagItem("http.route")!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Request_duration_is_recorded_in_seconds_by_method_status_class_and_host()
    {
        using var recorder = new Recorder();
        await using var client = NewClient();
        await client.Sessions.CreateAsync(new SessionCreateRequest { Image = "sim", Name = "dur-" + Guid.NewGuid().ToString("N")[..8] });
        await Assert.ThrowsAsync<SessionNotFoundException>(() => client.Sessions.GetInfoAsync("no-such-session"));

        var durations = recorder.Measurements.Where(m => m.Name == ClientTelemetry.RequestDuration).ToList();
        Assert.Contains(durations, m => Tag(m.Tags, "http.request.method") == "POST" && Tag(m.Tags, "http.response.status_class") == "2xx");
        Assert.Contains(durations, m => Tag(m.Tags, "http.request.method") == "GET" && Tag(m.Tags, "http.response.status_class") == "4xx");
        Assert.All(durations, m =>
        {
            Assert.Equal(fx.Endpoint.Host, Tag(m.Tags, "server.address"));
            Assert.InRange(m.Value, 0, 60);                      // seconds, not milliseconds
            Assert.DoesNotContain(m.Tags, t => t.Key.Contains("session", StringComparison.Ordinal));   // ids on spans only
        });
    }

    [Fact]
    public async Task No_span_or_metric_tag_contains_the_access_key_or_the_secret_key()
    {
        using var recorder = new Recorder();
        await using var client = NewClient();
        var name = "sec-" + Guid.NewGuid().ToString("N")[..8];
        await client.Sessions.CreateAsync(new SessionCreateRequest { Image = "sim", Name = name });
        await client.Sessions.GetInfoAsync(name);
        await using (var reader = await client.Events.OpenSessionEventsAsync(new Events.SessionEventFilter(SessionName: name)))
        {
        }
        await client.Sessions.DestroyAsync(name);

        Assert.NotEmpty(recorder.Spans);
        Assert.NotEmpty(recorder.Measurements);
        var values = recorder.Spans.SelectMany(a => a.TagObjects.Select(t => t.Value?.ToString() ?? "").Append(a.DisplayName))
            .Concat(recorder.Measurements.SelectMany(m => m.Tags.Select(t => t.Value?.ToString() ?? "")))
            .ToList();
        Assert.Contains(values, v => v == "/events/session");
        Assert.DoesNotContain(values, v => v.Contains(LoopbackServer.AccessKey, StringComparison.Ordinal));
        Assert.DoesNotContain(values, v => v.Contains(LoopbackServer.SecretKey, StringComparison.Ordinal));
        Assert.DoesNotContain(values, v => v.Contains("signature", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("POST", "/session", "BackendAIClient.StartSession", "/session", null)]
    [InlineData("POST", "/session/my%20s", "BackendAIClient.Execute", "/session/{session}", "my s")]
    [InlineData("DELETE", "/session/abc", "BackendAIClient.DestroySession", "/session/{session}", "abc")]
    [InlineData("GET", "/session/abc/download", "BackendAIClient.Download", "/session/{session}/download", "abc")]
    [InlineData("POST", "/session/_/create-from-template", "BackendAIClient.StartSessionFromTemplate", "/session/_/create-from-template", null)]
    [InlineData("POST", "/folders/secret-name/upload", "BackendAIClient.VFolders", "/folders/{name}/upload", null)]
    [InlineData("GET", "/events/session", "BackendAIClient.OpenSessionEvents", "/events/session", null)]
    [InlineData("POST", "/admin/graphql", "BackendAIClient.GraphQL", "/admin/graphql", null)]
    public void Route_templates_replace_session_and_folder_names(string method, string path, string span, string template, string? sessionRef)
    {
        var route = ClientTelemetry.Route.Of(new HttpMethod(method), path);
        Assert.Equal(span, route.SpanName);
        Assert.Equal(template, route.Template);
        Assert.Equal(sessionRef, route.SessionRef);
    }

    private static string? Tag(KeyValuePair<string, object?>[] tags, string key) =>
        tags.FirstOrDefault(t => t.Key == key).Value?.ToString();
}

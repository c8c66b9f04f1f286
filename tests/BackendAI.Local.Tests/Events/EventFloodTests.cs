using System.Net;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using BackendAI.Testing;

namespace BackendAI.Local.Tests.Events;

/// <summary>The test-only SSE flood behind the throughput measurement (docs/benchmarks.md): off by default, superadmin only.</summary>
public class EventFloodTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>
{
    private static CancellationToken Budget() => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    [Fact]
    public async Task Flood_can_be_armed_only_by_a_superadmin_and_with_a_positive_count()
    {
        var ct = Budget();
        using (var denied = await fx.User.PostAsync("/local/events/flood", new JsonObject { ["count"] = 10 }, ct))
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        using (var zero = await fx.Admin.PostAsync("/local/events/flood", new JsonObject { ["count"] = 0 }, ct))
            Assert.Equal(HttpStatusCode.BadRequest, zero.StatusCode);
        using (var missing = await fx.Admin.PostAsync("/local/events/flood", new JsonObject(), ct))
            Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
    }

    [Fact]
    public async Task Armed_flood_goes_to_the_next_session_event_connection_in_order_then_live_events_follow()
    {
        var ct = Budget();
        using (var armed = await fx.Admin.PostAsync("/local/events/flood", new JsonObject { ["count"] = 3000 }, ct))
            Assert.Equal(HttpStatusCode.NoContent, armed.StatusCode);

        using var response = await fx.User.Client.SendAsync(fx.User.Build(HttpMethod.Get, "/events/session"), HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var sse = new SseReader(await response.Content.ReadAsStreamAsync(ct));
        for (var i = 0; i < 3000; i++)
        {
            var e = (await sse.ReadAsync(ct))!;
            Assert.Equal("kernel_pulling", e.Event);
            var data = JsonNode.Parse(e.Data)!.AsObject();
            Assert.Equal($"flood-{i}", data["reason"]!.GetValue<string>());
            Assert.Equal("flood", data["sessionName"]!.GetValue<string>());
            Assert.Equal(WellKnownKeypairs.User.AccessKey, data["ownerAccessKey"]!.GetValue<string>());
        }
        Assert.True(sse.AllLinesCrLf);

        // The flood was taken: live events follow on this connection, and the next connection gets no flood.
        var name = "fl-" + Guid.NewGuid().ToString("N")[..10];
        await fx.CreateSessionAsync(fx.User, name: name, cancellationToken: ct);
        var live = (await sse.ReadAsync(ct))!;
        Assert.Equal("session_enqueued", live.Event);
        Assert.Equal(name, JsonNode.Parse(live.Data)!["sessionName"]!.GetValue<string>());
    }
}

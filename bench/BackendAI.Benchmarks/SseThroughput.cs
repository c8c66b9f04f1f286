using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Akka.Configuration;
using BackendAI.Actors;
using BackendAI.Client;
using BackendAI.Client.Config;
using BackendAI.Client.Events;
using BackendAI.Local;
using BackendAI.Testing;

namespace BackendAI.Benchmarks;

/// <summary>
/// SSE throughput on loopback (issues #3 and #4), run with <c>dotnet run -c Release --project bench/BackendAI.Benchmarks --
/// sse-throughput [events] [rounds]</c>. The local server's test-only flood (<c>POST /local/events/flood</c>, superadmin)
/// makes the next <c>GET /events/session</c> connection receive N synthetic events as fast as the socket takes them.
/// Three consumers, each over a fresh connection per round:
/// (a) raw: a signed HttpClient GET, counting <c>data:</c> lines in the bytes (the server alone);
/// (b) client: <see cref="Client.Sse.SseEventReader"/> plus <see cref="SessionEvent.Parse"/> (the client's parser);
/// (c) runtime: <see cref="BackendAIRuntime.Events"/> to an <see cref="IObserver{T}"/> (server → HTTP → parser →
///     event stream actor → Akka.Streams hub → subscriber bridge → observer).
/// </summary>
public static class SseThroughput
{
    public static async Task<int> RunAsync(string[] args)
    {
        var events = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        await using var server = await LocalBackend.StartAsync(new LocalBackendOptions(), logging: _ => { });
        using var admin = new SignedHttp(server.Endpoint, server.AdminKeypair);
        var options = new BackendAIClientOptions
        {
            Endpoints = [server.Endpoint], AccessKey = server.AdminKeypair.AccessKey, SecretKey = server.AdminKeypair.SecretKey,
        };
        Console.WriteLine($"SSE throughput: {events:N0} events per round, {rounds} rounds, {Environment.ProcessorCount} cores, server and client in one process");
        foreach (var (name, run) in new (string, Func<Task<double>>)[]
                 {
                     ("(a) server alone: raw HTTP, counting data: lines", () => RawAsync(server, admin, events)),
                     ("(b) client SseEventReader + SessionEvent.Parse", () => ClientAsync(admin, options, events)),
                     ("(c) runtime end to end to an IObservable subscriber", () => RuntimeAsync(admin, options, events)),
                 })
        {
            await run();   // warm-up round
            var rates = new List<double>();
            for (var i = 0; i < rounds; i++) rates.Add(await run());
            rates.Sort();
            Console.WriteLine($"{name}: median {rates[rates.Count / 2]:N0} events/s (min {rates[0]:N0}, max {rates[^1]:N0})");
        }
        return 0;
    }

    private static async Task ArmAsync(SignedHttp admin, int count)
    {
        using var response = await admin.PostAsync("/local/events/flood", new JsonObject { ["count"] = count });
        response.EnsureSuccessStatusCode();
    }

    private static async Task<double> RawAsync(LocalBackend server, SignedHttp admin, int count)
    {
        await ArmAsync(admin, count);
        using var request = admin.Build(HttpMethod.Get, "/events/session");
        var started = Stopwatch.GetTimestamp();
        using var response = await admin.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        var seen = 0L;
        var carry = 0;
        while (seen < count)
        {
            var n = await body.ReadAsync(buffer.AsMemory(carry));
            if (n == 0) throw new InvalidOperationException($"The stream ended after {seen} events.");
            seen += CountDataLines(buffer, carry + n, out carry);
        }
        return seen / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>Counts <c>\ndata: </c> in the first <paramref name="length"/> bytes and keeps the last few (a marker split
    /// across reads) at the start of the buffer.</summary>
    private static int CountDataLines(byte[] buffer, int length, out int carry)
    {
        ReadOnlySpan<byte> marker = "\ndata: "u8;
        var span = buffer.AsSpan(0, length);
        var seen = 0;
        var at = 0;
        int i;
        while ((i = span[at..].IndexOf(marker)) >= 0)
        {
            seen++;
            at += i + marker.Length;
        }
        carry = Math.Min(marker.Length - 1, length - at);
        span[^carry..].CopyTo(buffer);
        return seen;
    }

    private static async Task<double> ClientAsync(SignedHttp admin, BackendAIClientOptions options, int count)
    {
        await using var client = new BackendAIClient(options);
        await client.NegotiateVersionAsync();
        await ArmAsync(admin, count);
        var started = Stopwatch.GetTimestamp();
        await using var reader = await client.Events.OpenSessionEventsAsync(new SessionEventFilter());
        var seen = 0;
        while (seen < count)
        {
            var message = await reader.ReadAsync() ?? throw new InvalidOperationException($"The stream ended after {seen} events.");
            if (SessionEvent.Parse(message).SessionName == "flood") seen++;
        }
        return seen / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static readonly Config s_runtimeConfig = ConfigurationFactory.ParseString("""
        backendai.event-stream.subscriber-overflow = backpressure
        akka.loglevel = WARNING
        """);

    private static async Task<double> RuntimeAsync(SignedHttp admin, BackendAIClientOptions options, int count)
    {
        await ArmAsync(admin, count);
        var last = "flood-" + (count - 1).ToString(CultureInfo.InvariantCulture);
        var done = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        long first = 0;
        var seen = 0;
        await using var runtime = BackendAIRuntime.Create(options, s_runtimeConfig);
        // The stream is hot: events before the subscription attaches are not seen, so the rate is measured from the
        // first event this subscriber gets to the last flood event.
        using var subscription = runtime.Events.Subscribe(e =>
        {
            if (e.SessionName != "flood") return;
            if (seen++ == 0) first = Stopwatch.GetTimestamp();
            if (e.Reason == last) done.TrySetResult((seen - 1) / Stopwatch.GetElapsedTime(first).TotalSeconds);
        }, ex => done.TrySetException(ex));
        var rate = await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        if (seen < count / 2) Console.WriteLine($"    (the subscriber attached late: {seen:N0} of {count:N0} events seen)");
        return rate;
    }
}

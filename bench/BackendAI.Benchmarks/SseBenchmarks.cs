using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using BackendAI.Client.Sse;
using BenchmarkDotNet.Attributes;

namespace BackendAI.Benchmarks;

/// <summary>The <c>data</c> of a session or kernel lifecycle event (streaming.md A.2).</summary>
public sealed record SessionEventData(
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("sessionName")] string SessionName,
    [property: JsonPropertyName("ownerAccessKey")] string? OwnerAccessKey,
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("kernelId")] string? KernelId,
    [property: JsonPropertyName("clusterRole")] string? ClusterRole,
    [property: JsonPropertyName("clusterIdx")] int? ClusterIdx);

[JsonSerializable(typeof(SessionEventData))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;

/// <summary>
/// Target: ≥ 500,000 session events per second on one core, parsing and decoding.
/// Each invocation reads <see cref="Events"/> events (with a keep-alive ping every 50 events), so the
/// reported time per operation is per event.
/// </summary>
[MemoryDiagnoser]
public class SseBenchmarks
{
    private const int Events = 10_000;
    private static readonly string[] Names =
        ["session_enqueued", "session_scheduled", "kernel_preparing", "kernel_creating", "kernel_started", "session_started",
         "kernel_terminating", "kernel_terminated", "session_terminated"];

    private byte[] _stream = [];

    [GlobalSetup]
    public void Setup()
    {
        var text = new StringBuilder();
        for (var i = 0; i < Events; i++)
        {
            var name = Names[i % Names.Length];
            var id = $"5c3ad8c9-8f4e-4b57-9a2a-{i:x12}";
            var data = name.StartsWith("kernel_", StringComparison.Ordinal)
                ? $"{{\"reason\": \"user-requested\", \"sessionName\": \"mysess-{i % 100}\", \"ownerAccessKey\": \"AKIAIOSFODNN7EXAMPLE\", \"sessionId\": \"{id}\", \"kernelId\": \"{id}\", \"clusterRole\": \"main\", \"clusterIdx\": 1}}"
                : $"{{\"reason\": \"\", \"sessionName\": \"mysess-{i % 100}\", \"ownerAccessKey\": \"AKIAIOSFODNN7EXAMPLE\", \"sessionId\": \"{id}\", \"kernelId\": \"{id}\"}}";
            text.Append("event: ").Append(name).Append("\r\ndata: ").Append(data).Append("\r\n\r\n");
            if (i % 50 == 49)
            {
                text.Append(": ping\r\n\r\n");
            }
        }

        _stream = Encoding.UTF8.GetBytes(text.ToString());

        // Both decoders must agree with each other before anything is measured.
        var sample = $"{{\"reason\": \"x\", \"sessionName\": \"s\", \"ownerAccessKey\": \"AK\", \"sessionId\": \"id\", \"kernelId\": \"k\", \"clusterRole\": \"main\", \"clusterIdx\": 1}}";
        var a = SessionEventDecoder.Decode(sample);
        var b = JsonSerializer.Deserialize(sample, BenchJsonContext.Default.SessionEventData)!;
        if (a != new SessionEventPayload(b.Reason, b.SessionName, b.OwnerAccessKey, b.SessionId, b.KernelId, b.ClusterRole, b.ClusterIdx) || a.ClusterIdx != 1)
        {
            throw new InvalidOperationException("The session event decoders disagree.");
        }
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public async Task<int> ParseOnly()
    {
        await using var reader = new SseEventReader(new MemoryStream(_stream, writable: false));
        var count = 0;
        while (await reader.ReadAsync() is not null)
        {
            count++;
        }

        return count;
    }

    /// <summary>Parse plus the hand-written <see cref="Utf8JsonReader"/> decoder.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public async Task<int> ParseAndDecode_Utf8JsonReader()
    {
        await using var reader = new SseEventReader(new MemoryStream(_stream, writable: false));
        var clusterSum = 0;
        while (await reader.ReadAsync() is { } message)
        {
            clusterSum += SessionEventDecoder.Decode(message.Data).ClusterIdx ?? 0;
        }

        return clusterSum;
    }

    /// <summary>Parse plus <see cref="JsonSerializer"/> with source-generated metadata.</summary>
    [Benchmark(OperationsPerInvoke = Events)]
    public async Task<int> ParseAndDecode_JsonSerializer()
    {
        await using var reader = new SseEventReader(new MemoryStream(_stream, writable: false));
        var clusterSum = 0;
        while (await reader.ReadAsync() is { } message)
        {
            var data = JsonSerializer.Deserialize(message.Data, BenchJsonContext.Default.SessionEventData)!;
            clusterSum += data.ClusterIdx ?? 0;
        }

        return clusterSum;
    }
}

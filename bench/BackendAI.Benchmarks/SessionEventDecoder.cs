using System.Buffers;
using System.Text;
using System.Text.Json;

namespace BackendAI.Benchmarks;

/// <summary>A decoded session/kernel lifecycle event payload (streaming.md A.2).</summary>
public readonly record struct SessionEventPayload(
    string Reason, string SessionName, string? OwnerAccessKey, string SessionId, string? KernelId, string? ClusterRole, int? ClusterIdx);

/// <summary>
/// A small hand-written decoder of session event data with <see cref="Utf8JsonReader"/>: one UTF-8
/// transcode into a stack or pooled buffer, no DOM, strings only for the values.
/// </summary>
public static class SessionEventDecoder
{
    public static SessionEventPayload Decode(string data)
    {
        var max = Encoding.UTF8.GetMaxByteCount(data.Length);
        byte[]? rented = null;
        var buffer = max <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(data, buffer);
            return Decode(buffer[..length]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public static SessionEventPayload Decode(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Session event data is not a JSON object.");
        }

        string reason = "", sessionName = "", sessionId = "";
        string? owner = null, kernelId = null, clusterRole = null;
        int? clusterIdx = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("reason"u8)) { reader.Read(); reason = reader.GetString() ?? ""; }
            else if (reader.ValueTextEquals("sessionName"u8)) { reader.Read(); sessionName = reader.GetString() ?? ""; }
            else if (reader.ValueTextEquals("ownerAccessKey"u8)) { reader.Read(); owner = reader.GetString(); }
            else if (reader.ValueTextEquals("sessionId"u8)) { reader.Read(); sessionId = reader.GetString() ?? ""; }
            else if (reader.ValueTextEquals("kernelId"u8)) { reader.Read(); kernelId = reader.GetString(); }
            else if (reader.ValueTextEquals("clusterRole"u8)) { reader.Read(); clusterRole = reader.GetString(); }
            else if (reader.ValueTextEquals("clusterIdx"u8)) { reader.Read(); clusterIdx = reader.TokenType == JsonTokenType.Number ? reader.GetInt32() : null; }
            else { reader.Read(); reader.Skip(); }
        }

        return new SessionEventPayload(reason, sessionName, owner, sessionId, kernelId, clusterRole, clusterIdx);
    }
}

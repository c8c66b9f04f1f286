using System.Text;

namespace BackendAI.Testing;

/// <summary>One SSE message as received.</summary>
/// <param name="Event">Event name (<c>message</c> when absent).</param>
/// <param name="Data">Data lines joined with <c>\n</c>.</param>
/// <param name="Id">The <c>id:</c> field if any (the server never sends one).</param>
/// <param name="Retry">The <c>retry:</c> field if any.</param>
/// <param name="RawLines">The raw lines (without terminators) of the message.</param>
public sealed record SseMessage(string Event, string Data, string? Id, int? Retry, IReadOnlyList<string> RawLines);

/// <summary>
/// A minimal SSE reader for tests: reads one message at a time, records comments (<c>: ping</c>) and
/// whether every line ended with CRLF.
/// </summary>
public sealed class SseReader(Stream stream) : IDisposable
{
    private readonly Stream _stream = stream;
    private readonly byte[] _buffer = new byte[8192];
    private readonly StringBuilder _pending = new();
    private int _comments;

    /// <summary>Number of comment lines seen so far.</summary>
    public int Comments => _comments;

    /// <summary>False once a line ended with a bare LF.</summary>
    public bool AllLinesCrLf { get; private set; } = true;

    private async Task<string?> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            var text = _pending.ToString();
            var nl = text.IndexOf('\n', StringComparison.Ordinal);
            if (nl >= 0)
            {
                _pending.Remove(0, nl + 1);
                var line = text[..nl];
                if (line.EndsWith('\r')) line = line[..^1];
                else AllLinesCrLf = false;
                return line;
            }
            var n = await _stream.ReadAsync(_buffer, ct).ConfigureAwait(false);
            if (n == 0) return null;
            _pending.Append(Encoding.UTF8.GetString(_buffer, 0, n));
        }
    }

    /// <summary>The next message, or null at end of stream.</summary>
    public async Task<SseMessage?> ReadAsync(CancellationToken cancellationToken = default)
    {
        var lines = new List<string>();
        string? evt = null, id = null;
        int? retry = null;
        var data = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null) return null;
            if (line.Length == 0)
            {
                if (lines.Count == 0) continue;
                return new SseMessage(evt ?? "message", string.Join('\n', data), id, retry, lines);
            }
            if (line.StartsWith(':'))
            {
                _comments++;
                continue;
            }
            lines.Add(line);
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "event": evt = value; break;
                case "data": data.Add(value); break;
                case "id": id = value; break;
                case "retry": retry = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            }
        }
    }

    /// <summary>Reads until a message named <paramref name="eventName"/> arrives; returns everything read.</summary>
    public async Task<List<SseMessage>> ReadUntilAsync(string eventName, CancellationToken cancellationToken = default)
    {
        var list = new List<SseMessage>();
        while (await ReadAsync(cancellationToken).ConfigureAwait(false) is { } m)
        {
            list.Add(m);
            if (m.Event == eventName) return list;
        }
        throw new EndOfStreamException($"The stream ended before '{eventName}'. Got: {string.Join(", ", list.Select(x => x.Event))}");
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();
}

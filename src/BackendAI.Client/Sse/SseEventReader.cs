using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using BackendAI.Client.Errors;

namespace BackendAI.Client.Sse;

/// <summary>
/// Reads <c>text/event-stream</c> (server-sent events) from a stream, one event per
/// <see cref="ReadAsync"/> call, following the SSE standard and streaming.md A.1: fields
/// <c>event</c>, <c>data</c>, <c>id</c> and <c>retry</c>; data lines joined with <c>\n</c>; comment
/// lines (starting with <c>:</c>) ignored; CR, LF and CRLF line endings, even when a CRLF is split
/// between two reads; one UTF-8 byte order mark at the start ignored; a line without a colon is a
/// field name with an empty value. Memory is bounded by <see cref="SseParserOptions.MaxEventSize"/>.
/// </summary>
/// <remarks>
/// Not thread-safe: one <see cref="ReadAsync"/> at a time. Blocks without a <c>data</c> field are not
/// dispatched (as the standard says), but their <c>retry</c> and <c>id</c> values are remembered in
/// <see cref="ReconnectionTimeMs"/> and <see cref="LastEventId"/>. At the end of the stream an event
/// whose lines were all complete but which lacked the final blank line is still dispatched; an
/// unterminated last line (a connection cut mid-line) is discarded.
/// </remarks>
public sealed class SseEventReader : IAsyncDisposable
{
    private const int MaxCachedNames = 32;
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private readonly PipeReader _reader;
    private readonly bool _completeReader;
    private readonly int _maxEventSize;

    // Per-event state.
    private byte[] _data = [];
    private int _dataLength;
    private bool _hasData;
    private string? _eventName;
    private int? _retry;
    private long _eventSize;

    // Per-stream state.
    private bool _bomChecked;
    private bool _pendingCr;
    private bool _ended;
    private bool _disposed;
    private string? _failure;
    private byte[] _scratch = [];
    private readonly List<(byte[] Utf8, string Text)> _names = [];
    private byte[]? _lastIdUtf8;

    /// <summary>Creates a reader over a response stream. The reader owns the stream unless <see cref="SseParserOptions.LeaveOpen"/>.</summary>
    /// <param name="stream">The <c>text/event-stream</c> body.</param>
    /// <param name="options">Limits; defaults when null.</param>
    public SseEventReader(Stream stream, SseParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= new SseParserOptions();
        _maxEventSize = Validate(options);
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: options.LeaveOpen));
        _completeReader = true;
    }

    /// <summary>Creates a reader over a <see cref="PipeReader"/>, completed on dispose unless <see cref="SseParserOptions.LeaveOpen"/>.</summary>
    /// <param name="reader">The <c>text/event-stream</c> bytes.</param>
    /// <param name="options">Limits; defaults when null.</param>
    public SseEventReader(PipeReader reader, SseParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        options ??= new SseParserOptions();
        _maxEventSize = Validate(options);
        _reader = reader;
        _completeReader = !options.LeaveOpen;
    }

    /// <summary>The latest <c>retry:</c> value received on this stream, in milliseconds, or null.</summary>
    public int? ReconnectionTimeMs { get; private set; }

    /// <summary>The latest <c>id:</c> value received on this stream (the standard's last event ID), or null.</summary>
    public string? LastEventId { get; private set; }

    /// <summary>Reads the next event.</summary>
    /// <param name="cancellationToken">Cancels the wait for data.</param>
    /// <returns>The next event, or null when the stream has ended.</returns>
    /// <exception cref="BackendProtocolException">An event or line exceeds <see cref="SseParserOptions.MaxEventSize"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async ValueTask<SseMessage?> ReadAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is not null)
        {
            throw new BackendProtocolException(_failure);
        }

        while (!_ended)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                throw new OperationCanceledException("The SSE read was cancelled.", cancellationToken);
            }

            var buffer = result.Buffer;
            if (!_bomChecked)
            {
                if (buffer.Length < Bom.Length && !result.IsCompleted && StartsWithBomPrefix(buffer))
                {
                    _reader.AdvanceTo(buffer.Start, buffer.End); // need more bytes to decide
                    continue;
                }

                _bomChecked = true;
                if (buffer.Length >= Bom.Length && StartsWithBomPrefix(buffer))
                {
                    buffer = buffer.Slice(Bom.Length);
                }
            }

            SseMessage? message;
            try
            {
                message = Parse(ref buffer);

                // No complete event yet: what remains is an unterminated line, which is bounded too.
                if (message is null && _eventSize + buffer.Length > _maxEventSize)
                {
                    throw TooLarge();
                }
            }
            catch (BackendProtocolException e)
            {
                _failure = e.Message; // the stream cannot be resynchronised: later reads fail the same way
                _reader.AdvanceTo(result.Buffer.End);
                throw;
            }

            if (message is not null)
            {
                _reader.AdvanceTo(buffer.Start);
                return message;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                _ended = true;
                return _hasData ? Dispatch() : null;
            }
        }

        return null;
    }

    /// <summary>Completes the reader and, unless <see cref="SseParserOptions.LeaveOpen"/>, the underlying stream.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_completeReader)
        {
            await _reader.CompleteAsync().ConfigureAwait(false);
        }

        ReturnBuffer(ref _data);
        ReturnBuffer(ref _scratch);
    }

    private static int Validate(SseParserOptions options)
    {
        if (options.MaxEventSize <= 0)
        {
            throw new BackendClientException(
                $"SseParserOptions.MaxEventSize must be positive (got {options.MaxEventSize}).", "MaxEventSize");
        }

        return options.MaxEventSize;
    }

    private static bool StartsWithBomPrefix(in ReadOnlySequence<byte> buffer)
    {
        Span<byte> head = stackalloc byte[3];
        var n = (int)Math.Min(buffer.Length, 3);
        buffer.Slice(0, n).CopyTo(head);
        return head[..n].SequenceEqual(Bom.AsSpan(0, n));
    }

    /// <summary>Consumes complete lines from <paramref name="buffer"/>; returns an event when a blank line dispatches one.</summary>
    private SseMessage? Parse(ref ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        try
        {
            while (true)
            {
                if (_pendingCr)
                {
                    if (!reader.TryPeek(out var next))
                    {
                        return null;
                    }

                    _pendingCr = false;
                    if (next == (byte)'\n')
                    {
                        reader.Advance(1);
                    }
                }

                ReadOnlySpan<byte> line;
                var unread = reader.UnreadSpan;
                var idx = unread.IndexOfAny((byte)'\r', (byte)'\n');
                byte delimiter;
                if (idx >= 0)
                {
                    line = unread[..idx];
                    delimiter = unread[idx];
                    reader.Advance(idx + 1);
                }
                else
                {
                    if (!reader.TryReadToAny(out ReadOnlySequence<byte> lineSequence, "\r\n"u8, advancePastDelimiter: false))
                    {
                        return null;
                    }

                    line = Flatten(lineSequence);
                    reader.TryRead(out delimiter);
                }

                if (delimiter == (byte)'\r')
                {
                    if (!reader.TryPeek(out var next))
                    {
                        _pendingCr = true;
                    }
                    else if (next == (byte)'\n')
                    {
                        reader.Advance(1);
                    }
                }

                if (line.IsEmpty)
                {
                    if (_hasData)
                    {
                        return Dispatch();
                    }

                    ResetEvent();
                    continue;
                }

                ProcessLine(line);
            }
        }
        finally
        {
            buffer = buffer.Slice(reader.Position);
        }
    }

    private ReadOnlySpan<byte> Flatten(ReadOnlySequence<byte> sequence)
    {
        if (sequence.IsSingleSegment)
        {
            return sequence.FirstSpan;
        }

        if (sequence.Length > _maxEventSize)
        {
            throw TooLarge();
        }

        var length = (int)sequence.Length;
        if (_scratch.Length < length)
        {
            ReturnBuffer(ref _scratch);
            _scratch = ArrayPool<byte>.Shared.Rent(length);
        }

        sequence.CopyTo(_scratch);
        return _scratch.AsSpan(0, length);
    }

    private void ProcessLine(ReadOnlySpan<byte> line)
    {
        if (line[0] == (byte)':')
        {
            if (line.Length > _maxEventSize)
            {
                throw TooLarge();
            }

            return; // comment (keep-alive ping)
        }

        _eventSize += line.Length + 1;
        if (_eventSize > _maxEventSize)
        {
            throw TooLarge();
        }

        ReadOnlySpan<byte> field;
        ReadOnlySpan<byte> value;
        var colon = line.IndexOf((byte)':');
        if (colon < 0)
        {
            field = line;
            value = default;
        }
        else
        {
            field = line[..colon];
            value = line[(colon + 1)..];
            if (!value.IsEmpty && value[0] == (byte)' ')
            {
                value = value[1..];
            }
        }

        if (field.SequenceEqual("data"u8))
        {
            AppendData(value);
        }
        else if (field.SequenceEqual("event"u8))
        {
            _eventName = value.IsEmpty ? null : NameOf(value);
        }
        else if (field.SequenceEqual("id"u8))
        {
            if (value.IndexOf((byte)0) < 0 && (_lastIdUtf8 is null || !value.SequenceEqual(_lastIdUtf8)))
            {
                _lastIdUtf8 = value.ToArray();
                LastEventId = Encoding.UTF8.GetString(value);
            }
        }
        else if (field.SequenceEqual("retry"u8))
        {
            if (!value.IsEmpty && value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0 &&
                int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var retry))
            {
                _retry = retry;
                ReconnectionTimeMs = retry;
            }
        }

        // Any other field is ignored, as the standard says.
    }

    private void AppendData(ReadOnlySpan<byte> value)
    {
        var needed = _dataLength + value.Length + (_hasData ? 1 : 0);
        if (needed > _data.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Min(Math.Max(_data.Length * 2, 256), _maxEventSize)));
            _data.AsSpan(0, _dataLength).CopyTo(grown);
            ReturnBuffer(ref _data);
            _data = grown;
        }

        if (_hasData)
        {
            _data[_dataLength++] = (byte)'\n';
        }

        value.CopyTo(_data.AsSpan(_dataLength));
        _dataLength += value.Length;
        _hasData = true;
    }

    private string NameOf(ReadOnlySpan<byte> utf8)
    {
        foreach (var (bytes, text) in _names)
        {
            if (utf8.SequenceEqual(bytes))
            {
                return text;
            }
        }

        var name = Encoding.UTF8.GetString(utf8);
        if (_names.Count < MaxCachedNames)
        {
            _names.Add((utf8.ToArray(), name));
        }

        return name;
    }

    private SseMessage Dispatch()
    {
        var message = new SseMessage(
            _eventName ?? "message",
            _dataLength == 0 ? string.Empty : Encoding.UTF8.GetString(_data, 0, _dataLength),
            LastEventId,
            _retry);
        ResetEvent();
        return message;
    }

    private void ResetEvent()
    {
        _dataLength = 0;
        _hasData = false;
        _eventName = null;
        _retry = null;
        _eventSize = 0;
    }

    private BackendProtocolException TooLarge() => new(
        $"A server-sent event exceeds the limit of {_maxEventSize} bytes (SseParserOptions.MaxEventSize).");

    private static void ReturnBuffer(ref byte[] buffer)
    {
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        buffer = [];
    }
}

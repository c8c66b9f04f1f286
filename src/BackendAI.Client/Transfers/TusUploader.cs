using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using BackendAI.Client.Errors;

namespace BackendAI.Client.Transfers;

/// <summary>
/// Uploads a file to a storage-proxy upload session with tus 1.0 (vfolders.md §4.2): <c>PATCH</c>
/// requests carrying <c>upload-offset</c>, <c>Content-Type: application/offset+octet-stream</c> and
/// <c>Tus-Resumable: 1.0.0</c>, each answered by <c>204</c> with the new <c>Upload-Offset</c>. After a
/// failed chunk (dropped connection, 5xx, 409 offset mismatch) it asks the server's offset with
/// <c>HEAD</c> and resumes from there, with a bounded number of attempts and exponential backoff.
/// </summary>
/// <remarks>
/// The URL's <c>token</c> is the only credential: no <c>Authorization</c> header is added (use an
/// <see cref="HttpClient"/> without default authorization headers). One chunk at a time is buffered in
/// memory, so resuming inside the current chunk works for any stream; resuming further back needs a
/// seekable source stream.
/// </remarks>
public static class TusUploader
{
    /// <summary>The tus protocol version sent in <c>Tus-Resumable</c>.</summary>
    public const string TusVersion = "1.0.0";

    /// <summary>The default chunk size, as client-py: 16 MiB.</summary>
    public const int DefaultChunkSize = 16 * 1024 * 1024;

    private static readonly MediaTypeHeaderValue OffsetOctetStream = new("application/offset+octet-stream");

    /// <summary>Uploads <paramref name="size"/> bytes of <paramref name="source"/> to an upload session.</summary>
    /// <param name="http">The client to send with (no Backend.AI headers are added).</param>
    /// <param name="uploadUrlWithToken">The storage-proxy URL with <c>?token=…</c>.</param>
    /// <param name="source">The bytes, read from its current position.</param>
    /// <param name="size">The declared upload size (as given to request-upload).</param>
    /// <param name="progress">Receives the confirmed offset after each chunk.</param>
    /// <param name="chunkSize">Bytes per <c>PATCH</c> (default 16 MiB).</param>
    /// <param name="cancellationToken">Cancels the upload; the server keeps what it confirmed.</param>
    /// <returns>The final offset, equal to <paramref name="size"/>.</returns>
    /// <exception cref="BackendApiException">The server refused the upload (bad token, unknown session, …).</exception>
    /// <exception cref="BackendConnectionException">Too many consecutive failed attempts.</exception>
    /// <exception cref="BackendProtocolException">The server sent an impossible or missing offset.</exception>
    /// <exception cref="BackendClientException">Bad arguments, or the source ended early or cannot be rewound.</exception>
    public static Task<long> UploadAsync(HttpClient http, Uri uploadUrlWithToken, Stream source, long size,
        IProgress<long>? progress = null, int chunkSize = DefaultChunkSize, CancellationToken cancellationToken = default) =>
        UploadAsync(http, uploadUrlWithToken, source, size, progress, chunkSize, TransferRetry.Default, cancellationToken);

    // sending/total: finer progress (bytes written while a chunk is sent) and the announced length, for TransferProgressReporter.
    internal static async Task<long> UploadAsync(HttpClient http, Uri uploadUrlWithToken, Stream source, long size,
        IProgress<long>? progress, int chunkSize, TransferRetry retry, CancellationToken cancellationToken, IProgress<long>? sending = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(uploadUrlWithToken);
        ArgumentNullException.ThrowIfNull(source);
        if (size < 0) throw new BackendClientException($"The upload size must not be negative (got {size}).", nameof(size));
        if (chunkSize <= 0) throw new BackendClientException($"The chunk size must be positive (got {chunkSize}).", nameof(chunkSize));
        if (!source.CanRead) throw new BackendClientException("The upload source stream is not readable.", nameof(source));
        if (size == 0) return 0; // the upload session is complete already: no PATCH at all

        var window = new SourceWindow(source, (int)Math.Min(chunkSize, size), size);
        try
        {
            long offset = 0;
            var failures = 0;
            var resync = false;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    if (resync)
                    {
                        var serverOffset = await HeadOffsetAsync(http, uploadUrlWithToken, size, cancellationToken).ConfigureAwait(false);
                        resync = false;
                        if (serverOffset != offset)
                        {
                            offset = serverOffset;
                            progress?.Report(offset);
                        }
                    }

                    if (offset >= size)
                    {
                        return offset;
                    }

                    var chunk = await window.GetAsync(offset, cancellationToken).ConfigureAwait(false);
                    var next = await PatchAsync(http, uploadUrlWithToken, offset, chunk, size, sending, cancellationToken).ConfigureAwait(false);
                    if (next is null)
                    {
                        // 409: our offset is not the server's; ask it.
                        resync = true;
                        await FailAsync(++failures, retry, new BackendProtocolException($"The upload server rejected offset {offset} (409 Conflict)."), cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    if (next.Value <= offset)
                    {
                        resync = true;
                        await FailAsync(++failures, retry, new BackendProtocolException($"The upload server made no progress at offset {offset}."), cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    offset = next.Value;
                    failures = 0;
                    progress?.Report(offset);
                }
                catch (Exception e) when (TransferHttp.IsTransient(e, cancellationToken))
                {
                    resync = true;
                    await FailAsync(++failures, retry, e, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            window.Dispose();
        }
    }

    private static async Task FailAsync(int failures, TransferRetry retry, Exception cause, CancellationToken cancellationToken)
    {
        if (failures >= retry.MaxAttempts)
        {
            throw new BackendConnectionException($"The tus upload failed {failures} times in a row; last error: {cause.Message}", cause);
        }

        await Task.Delay(retry.Backoff(failures), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends one PATCH; returns the new offset, or null on 409.</summary>
    private static async Task<long?> PatchAsync(HttpClient http, Uri url, long offset, ReadOnlyMemory<byte> chunk, long size,
        IProgress<long>? sending, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, url);
        request.Headers.TryAddWithoutValidation("upload-offset", offset.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("Tus-Resumable", TusVersion);
        request.Content = sending is null ? new ReadOnlyMemoryContent(chunk) : new ChunkContent(chunk, offset, sending);
        request.Content.Headers.ContentType = OffsetOctetStream;
        request.Content.Headers.ContentLength = chunk.Length;
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            return null;
        }

        if (TransferHttp.IsTransientStatus(response.StatusCode))
        {
            throw new TransientStatusException(response.StatusCode, "The tus PATCH");
        }

        if (response.StatusCode != HttpStatusCode.NoContent && !response.IsSuccessStatusCode)
        {
            throw await TransferHttp.ErrorAsync(response, "The tus upload", cancellationToken).ConfigureAwait(false);
        }

        return ReadOffset(response, size, "PATCH");
    }

    private static async Task<long> HeadOffsetAsync(HttpClient http, Uri url, long size, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, url);
        request.Headers.TryAddWithoutValidation("Tus-Resumable", TusVersion);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (TransferHttp.IsTransientStatus(response.StatusCode))
        {
            throw new TransientStatusException(response.StatusCode, "The tus HEAD");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw await TransferHttp.ErrorAsync(response, "The tus upload", cancellationToken).ConfigureAwait(false);
        }

        return ReadOffset(response, size, "HEAD");
    }

    private static long ReadOffset(HttpResponseMessage response, long size, string method)
    {
        if (!response.Headers.TryGetValues("Upload-Offset", out var values) ||
            !long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            throw new BackendProtocolException($"The tus {method} response ({(int)response.StatusCode}) has no valid Upload-Offset header.");
        }

        if (offset > size)
        {
            throw new BackendProtocolException($"The tus {method} response reports offset {offset}, beyond the upload size {size}.");
        }

        return offset;
    }

    /// <summary>A chunk body written in 64 KiB slices, reporting <c>offset + written</c> after each.</summary>
    private sealed class ChunkContent(ReadOnlyMemory<byte> chunk, long offset, IProgress<long> sending) : HttpContent
    {
        private const int Slice = 64 * 1024;

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
        {
            for (var written = 0; written < chunk.Length;)
            {
                var n = Math.Min(Slice, chunk.Length - written);
                await stream.WriteAsync(chunk.Slice(written, n), cancellationToken).ConfigureAwait(false);
                written += n;
                sending.Report(offset + written);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = chunk.Length;
            return true;
        }
    }

    /// <summary>Holds the current chunk of the source in a pooled buffer; seeks only when resuming outside it.</summary>
    private sealed class SourceWindow(Stream source, int capacity, long size) : IDisposable
    {
        private readonly long _origin = source.CanSeek ? source.Position : 0;
        private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        private long _start;
        private int _length;
        private long _next; // the source offset the stream is positioned at

        public async ValueTask<ReadOnlyMemory<byte>> GetAsync(long offset, CancellationToken cancellationToken)
        {
            var buffer = _buffer ?? throw new ObjectDisposedException(nameof(SourceWindow));
            if (offset >= _start && offset < _start + _length)
            {
                return buffer.AsMemory((int)(offset - _start), (int)(_start + _length - offset));
            }

            if (offset != _next)
            {
                if (!source.CanSeek)
                {
                    throw new BackendClientException(
                        $"The upload must resume at byte {offset}, outside the buffered chunk, but the source stream cannot seek.", "source");
                }

                source.Position = _origin + offset;
                _next = offset;
            }

            var count = (int)Math.Min(capacity, size - offset);
            var read = await source.ReadAtLeastAsync(buffer.AsMemory(0, count), count, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read < count)
            {
                throw new BackendClientException(
                    $"The upload source ended at byte {offset + read}, before the declared size of {size} bytes.", "source");
            }

            _start = offset;
            _length = count;
            _next = offset + count;
            return buffer.AsMemory(0, count);
        }

        public void Dispose()
        {
            if (_buffer is { } buffer)
            {
                _buffer = null;
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}

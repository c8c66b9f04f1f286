using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using BackendAI.Client.Errors;

namespace BackendAI.Client.Transfers;

/// <summary>
/// Downloads a storage-proxy file (vfolders.md §5.2) to disk: the body streams into
/// <c>&lt;destination&gt;.partial</c>; a dropped connection resumes with <c>Range: bytes=&lt;have&gt;-</c>
/// (a <c>206</c> with a matching <c>Content-Range</c> continues, a <c>200</c> restarts from zero); the
/// final length is checked against <c>Content-Length</c> and the file is then renamed into place.
/// Cancellation or failure never leaves a file under the final name (an existing file there is only
/// replaced by a complete download).
/// </summary>
public static class RangeDownloader
{
    private const int BufferSize = 128 * 1024;

    /// <summary>Downloads <paramref name="url"/> to <paramref name="destinationPath"/>, replacing an existing file.</summary>
    /// <param name="http">The client to send with (no Backend.AI headers are added; the URL's token is the credential).</param>
    /// <param name="url">The download URL with <c>?token=…</c>.</param>
    /// <param name="destinationPath">The final file; its directory is created when missing.</param>
    /// <param name="progress">Receives the number of bytes on disk as they arrive.</param>
    /// <param name="cancellationToken">Cancels the download and removes the partial file.</param>
    /// <returns>The file length.</returns>
    /// <exception cref="BackendApiException">The server refused the download (not found, bad token, …).</exception>
    /// <exception cref="BackendConnectionException">Too many consecutive failed attempts.</exception>
    /// <exception cref="BackendProtocolException">No <c>Content-Length</c>, or a response that does not fit the file.</exception>
    public static Task<long> DownloadAsync(HttpClient http, Uri url, string destinationPath,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        DownloadAsync(http, url, destinationPath, progress, TransferRetry.Default, cancellationToken);

    // sending/total: finer progress (bytes written while a chunk is sent) and the announced length, for TransferProgressReporter.
    internal static async Task<long> DownloadAsync(HttpClient http, Uri url, string destinationPath,
        IProgress<long>? progress, TransferRetry retry, CancellationToken cancellationToken, IProgress<long>? total = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(url);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        var final = Path.GetFullPath(destinationPath);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        var partial = final + ".partial";
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var committed = false;
        var totalSink = total;
        try
        {
            long length;
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
            {
                length = await FetchAsync(http, url, file, buffer, progress, totalSink, retry, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            var onDisk = new FileInfo(partial).Length;
            if (onDisk != length)
            {
                throw new BackendProtocolException($"The download of {url.GetLeftPart(UriPartial.Path)} produced {onDisk} bytes, not the announced {length}.");
            }

            cancellationToken.ThrowIfCancellationRequested();
            File.Move(partial, final, overwrite: true);
            committed = true;
            return length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!committed)
            {
                AtomicFile.TryDelete(partial);
            }
        }
    }

    private static async Task<long> FetchAsync(HttpClient http, Uri url, FileStream file, byte[] buffer,
        IProgress<long>? progress, IProgress<long>? totalSink, TransferRetry retry, CancellationToken cancellationToken)
    {
        long have = 0;
        long? total = null;
        var failures = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (have > 0)
                {
                    request.Headers.Range = new RangeHeaderValue(have, null);
                }

                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if (TransferHttp.IsTransientStatus(response.StatusCode))
                {
                    throw new TransientStatusException(response.StatusCode, "The download");
                }

                if (have > 0 && response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have == total)
                {
                    return have; // we had it all; the cut came after the last byte
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw await TransferHttp.ErrorAsync(response, "The download", cancellationToken).ConfigureAwait(false);
                }

                if (response.StatusCode == HttpStatusCode.PartialContent && have > 0)
                {
                    var range = response.Content.Headers.ContentRange;
                    if (range is not { HasRange: true, From: { } from } || from != have || (range.Length is { } length && length != total))
                    {
                        throw new BackendProtocolException(
                            $"The download resumed at byte {have} but the server sent Content-Range '{range}' for a file of {total} bytes.");
                    }
                }
                else if (response.StatusCode == HttpStatusCode.OK)
                {
                    var length = response.Content.Headers.ContentLength
                        ?? throw new BackendProtocolException("The download response has no Content-Length header.");
                    if (have > 0 || file.Length > 0)
                    {
                        have = 0; // the server ignored our Range: start over
                        file.SetLength(0);
                        file.Position = 0;
                        progress?.Report(0);
                    }

                    total = length;
                    totalSink?.Report(length);
                }
                else
                {
                    throw new BackendProtocolException($"The download answered {(int)response.StatusCode} to a request {(have > 0 ? "with" : "without")} Range.");
                }

                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                int n;
                while ((n = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (have + n > total)
                    {
                        throw new BackendProtocolException($"The download sent more than the announced {total} bytes.");
                    }

                    await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    have += n;
                    failures = 0;
                    progress?.Report(have);
                }

                if (have == total)
                {
                    return have;
                }

                throw new IOException($"The download ended at byte {have} of {total}.");
            }
            catch (Exception e) when (TransferHttp.IsTransient(e, cancellationToken))
            {
                if (++failures >= retry.MaxAttempts)
                {
                    throw new BackendConnectionException($"The download failed {failures} times in a row at byte {have}; last error: {e.Message}", e);
                }

                await Task.Delay(retry.Backoff(failures), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}

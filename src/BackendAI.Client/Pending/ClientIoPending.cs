// Placeholders for the client-io pieces (Sse/, Transfers/) until that branch is merged. Each placeholder compiles
// only while the real file is absent (see the CLIENT_IO_* constants in the csproj) and throws NotSupportedException.
#pragma warning disable CS1591
#if !CLIENT_IO_SSE
namespace BackendAI.Client.Sse
{
    public sealed record SseMessage(string Event, string Data, string? Id, int? RetryMs);

    public sealed class SseParserOptions
    {
        public int MaxEventSize { get; init; } = 1024 * 1024;
    }

    public sealed class SseEventReader : IAsyncDisposable
    {
        private readonly Stream _stream;

        public SseEventReader(Stream stream, SseParserOptions? options = null) => _stream = stream;

        public ValueTask<SseMessage?> ReadAsync(CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The SSE parser (client-io branch) is not merged into this build yet.");

        public ValueTask DisposeAsync() => _stream.DisposeAsync();
    }
}
#endif
#if !CLIENT_IO_PROGRESS
namespace BackendAI.Client.Transfers
{
    public sealed record TransferProgress(string Name, long BytesTransferred, long? TotalBytes);
}
#endif
#if !CLIENT_IO_TUS
namespace BackendAI.Client.Transfers
{
    public static class TusUploader
    {
        public static Task UploadAsync(HttpClient http, Uri uploadUrlWithToken, Stream source, long size, IProgress<long>? progress, int chunkSize,
            CancellationToken cancellationToken) =>
            throw new NotSupportedException("The tus upload engine (client-io branch) is not merged into this build yet.");
    }
}
#endif
#if !CLIENT_IO_RANGE
namespace BackendAI.Client.Transfers
{
    public static class RangeDownloader
    {
        public static Task DownloadAsync(HttpClient http, Uri url, string destinationPath, IProgress<long>? progress, CancellationToken cancellationToken) =>
            throw new NotSupportedException("The Range download engine (client-io branch) is not merged into this build yet.");
    }
}
#endif
#if !CLIENT_IO_TAR
namespace BackendAI.Client.Transfers
{
    public static class SafeTarExtractor
    {
        public static Task<IReadOnlyList<string>> ExtractAsync(Stream tar, string destinationDirectory, CancellationToken cancellationToken) =>
            throw new NotSupportedException("The safe tar extractor (client-io branch) is not merged into this build yet.");
    }
}
#endif

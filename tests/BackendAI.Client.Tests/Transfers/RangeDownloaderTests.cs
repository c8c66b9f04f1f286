using System.Collections.Concurrent;
using System.Globalization;
using BackendAI.Client.Errors;
using BackendAI.Client.Transfers;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace BackendAI.Client.Tests.Transfers;

/// <summary>Checklist client #34: downloads stream to disk, resume with Range, and rename atomically.</summary>
public sealed class RangeDownloaderTests : IAsyncLifetime
{
    private static readonly TransferRetry FastRetry = new(4, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50));

    private readonly string _root = Directory.CreateTempSubdirectory("bai-dl-").FullName;
    private readonly DownloadEndpoint _endpoint = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private LoopbackHttpServer _server = null!;

    private Uri Url => new(_server.BaseAddress, "download?token=T");

    private string Destination => Path.Combine(_root, "out", "file.bin");

    public async Task InitializeAsync() => _server = await LoopbackHttpServer.StartAsync(_endpoint.HandleAsync);

    public async Task DisposeAsync()
    {
        _endpoint.Release.TrySetResult();
        _http.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    private List<string> FilesUnderRoot() =>
        [.. Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(_root, p)).Order()];

    [Fact]
    public async Task Client34_downloads_to_the_final_name_with_progress()
    {
        _endpoint.Content = RandomBytes(300_000);
        long last = -1;

        var length = await RangeDownloader.DownloadAsync(_http, Url, Destination, new SyncProgress(v => last = v));

        Assert.Equal(300_000, length);
        Assert.Equal(300_000, last);
        Assert.Equal(_endpoint.Content, await File.ReadAllBytesAsync(Destination));
        Assert.Equal([Path.Combine("out", "file.bin")], FilesUnderRoot());
        Assert.Equal(["GET"], _endpoint.Log);
    }

    [Fact]
    public async Task Client34_resumes_with_range_after_a_truncated_response()
    {
        _endpoint.Content = RandomBytes(500_000);
        _endpoint.TruncateFirstAt = 123_457;

        var length = await RangeDownloader.DownloadAsync(_http, Url, Destination, null, FastRetry, default);

        Assert.Equal(500_000, length);
        Assert.Equal(_endpoint.Content, await File.ReadAllBytesAsync(Destination));
        Assert.Equal(["GET (cut at 123457)", "GET bytes=123457- (206)"], _endpoint.Log);
    }

    [Fact]
    public async Task Client34_restarts_from_zero_when_the_server_answers_200_to_a_range()
    {
        _endpoint.Content = RandomBytes(200_000);
        _endpoint.TruncateFirstAt = 80_000;
        _endpoint.IgnoreRange = true;
        var reported = new ConcurrentQueue<long>();

        var length = await RangeDownloader.DownloadAsync(_http, Url, Destination, new SyncProgress(reported.Enqueue), FastRetry, default);

        Assert.Equal(200_000, length);
        Assert.Equal(_endpoint.Content, await File.ReadAllBytesAsync(Destination));
        Assert.Equal(["GET (cut at 80000)", "GET bytes=80000- (200)"], _endpoint.Log);
        Assert.Contains(0L, reported); // progress went back to zero on the restart
    }

    [Fact]
    public async Task Client34_cancellation_leaves_no_final_file_and_no_partial()
    {
        _endpoint.Content = RandomBytes(400_000);
        _endpoint.StallAt = 100_000; // sends 100 000 bytes, then waits
        Directory.CreateDirectory(Path.GetDirectoryName(Destination)!);
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(v =>
        {
            if (v >= 100_000) cts.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RangeDownloader.DownloadAsync(_http, Url, Destination, progress, cts.Token));

        Assert.Empty(FilesUnderRoot());
    }

    [Fact]
    public async Task Client34_a_failed_download_keeps_an_existing_file_untouched()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Destination)!);
        await File.WriteAllTextAsync(Destination, "previous version");
        _endpoint.Content = RandomBytes(10_000);
        _endpoint.TruncateFirstAt = 5_000;
        _endpoint.FailAfterFirstWith = 503;

        await Assert.ThrowsAsync<BackendConnectionException>(() => RangeDownloader.DownloadAsync(_http, Url, Destination, null, FastRetry with { MaxAttempts = 2 }, default));

        Assert.Equal("previous version", await File.ReadAllTextAsync(Destination));
        Assert.Equal(["GET (cut at 5000)", "GET (503)"], _endpoint.Log);
        Assert.Equal([Path.Combine("out", "file.bin")], FilesUnderRoot());
    }

    [Fact]
    public async Task Client34_requires_content_length()
    {
        _endpoint.Content = RandomBytes(1_000);
        _endpoint.Chunked = true;

        var error = await Assert.ThrowsAsync<BackendProtocolException>(() => RangeDownloader.DownloadAsync(_http, Url, Destination));

        Assert.Contains("Content-Length", error.Message, StringComparison.Ordinal);
        Assert.Empty(FilesUnderRoot());
    }

    [Fact]
    public async Task Client34_a_missing_file_is_a_typed_api_error()
    {
        _endpoint.Content = null;

        var error = await Assert.ThrowsAsync<BackendApiException>(() => RangeDownloader.DownloadAsync(_http, Url, Destination));

        Assert.Equal(404, error.Status);
        Assert.Equal("https://api.backend.ai/probs/storage/file-not-found", error.ErrorType);
        Assert.Empty(FilesUnderRoot());
    }

    [Fact]
    public async Task Client34_an_empty_file_downloads()
    {
        _endpoint.Content = [];
        Assert.Equal(0, await RangeDownloader.DownloadAsync(_http, Url, Destination));
        Assert.Empty(await File.ReadAllBytesAsync(Destination));
    }

    /// <summary>A storage-proxy download endpoint (vfolders.md §5.2) with fault injection.</summary>
    private sealed class DownloadEndpoint
    {
        private int _requests;

        public byte[]? Content { get; set; }
        public int? TruncateFirstAt { get; set; }
        public int? FailAfterFirstWith { get; set; }
        public int? StallAt { get; set; }
        public bool IgnoreRange { get; set; }
        public bool Chunked { get; set; }
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ConcurrentQueue<string> LogQueue { get; } = new();
        public List<string> Log => [.. LogQueue];

        public async Task HandleAsync(HttpContext context)
        {
            var index = Interlocked.Increment(ref _requests) - 1;
            var response = context.Response;
            if (Content is not { } content)
            {
                LogQueue.Enqueue("GET (404)");
                response.StatusCode = 404;
                response.ContentType = "application/problem+json";
                await response.WriteAsync("{\"type\": \"https://api.backend.ai/probs/storage/file-not-found\", \"title\": \"File not found\"}");
                return;
            }

            if (index > 0 && FailAfterFirstWith is { } status)
            {
                LogQueue.Enqueue($"GET ({status})");
                response.StatusCode = status;
                return;
            }

            var range = context.Request.Headers.Range.ToString();
            long from = 0;
            string entry;
            if (range.Length > 0 && !IgnoreRange)
            {
                from = long.Parse(range["bytes=".Length..].TrimEnd('-'), CultureInfo.InvariantCulture);
                response.StatusCode = 206;
                response.Headers.ContentRange = new ContentRangeHeaderValue(from, content.Length - 1, content.Length).ToString();
                entry = $"GET {range} (206)";
            }
            else
            {
                response.StatusCode = 200;
                entry = range.Length > 0 ? $"GET {range} (200)" : "GET";
            }

            response.ContentType = "application/octet-stream";
            response.Headers.AcceptRanges = "bytes";
            if (!Chunked)
            {
                response.ContentLength = content.Length - from;
            }

            if (index == 0 && TruncateFirstAt is { } at)
            {
                LogQueue.Enqueue($"{entry} (cut at {at})");
                await response.Body.WriteAsync(content.AsMemory((int)from, (int)(at - from)));
                await response.Body.FlushAsync();
                context.Abort();
                return;
            }

            if (StallAt is { } stall)
            {
                LogQueue.Enqueue($"{entry} (stalled at {stall})");
                await response.Body.WriteAsync(content.AsMemory(0, stall));
                await response.Body.FlushAsync();
                await Release.Task.WaitAsync(context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                context.Abort();
                return;
            }

            LogQueue.Enqueue(entry);
            await response.Body.WriteAsync(content.AsMemory((int)from));
        }
    }
}

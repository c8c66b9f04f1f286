using BackendAI.Client.Tests.Infrastructure;
using System.Collections.Concurrent;
using System.Globalization;
using BackendAI.Client.Errors;
using BackendAI.Client.Transfers;
using Microsoft.AspNetCore.Http;

namespace BackendAI.Client.Tests.Transfers;

/// <summary>Checklist client #32 and #33: tus uploads to a storage proxy, resumed with HEAD.</summary>
public sealed class TusUploaderTests : IAsyncLifetime
{
    private const string Token = "TOKEN123";
    private static readonly TransferRetry FastRetry = new(4, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50));

    private readonly TusEndpoint _tus = new();
    private LoopbackHttpServer _server = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private Uri UploadUrl => new(_server.BaseAddress, $"upload?token={Token}");

    public async Task InitializeAsync() => _server = await LoopbackHttpServer.StartAsync(_tus.HandleAsync);

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task Client32_sends_chunks_with_tus_headers_and_follows_upload_offset()
    {
        var data = RandomBytes(40);
        _tus.Reset(40);
        var reported = new List<long>();

        var final = await TusUploader.UploadAsync(_http, UploadUrl, new MemoryStream(data), 40, new SyncProgress(reported.Add), chunkSize: 16);

        Assert.Equal(40, final);
        Assert.Equal(data, _tus.Stored);
        Assert.Equal(["PATCH 0+16", "PATCH 16+16", "PATCH 32+8"], _tus.Log);
        Assert.Equal([16L, 32L, 40L], reported);
        foreach (var headers in _tus.PatchHeaders)
        {
            Assert.Equal("1.0.0", headers["Tus-Resumable"]);
            Assert.Equal("application/offset+octet-stream", headers["Content-Type"]);
            Assert.False(headers.ContainsKey("Authorization"));
        }
    }

    [Fact]
    public async Task Client32_a_zero_byte_upload_sends_no_patch()
    {
        _tus.Reset(0);
        Assert.Equal(0, await TusUploader.UploadAsync(_http, UploadUrl, new MemoryStream(), 0));
        Assert.Empty(_tus.Log);
    }

    [Fact]
    public async Task Client33_resumes_from_the_head_offset_after_the_server_drops_the_connection_mid_patch()
    {
        var data = RandomBytes(100_000);
        _tus.Reset(data.Length);
        _tus.DropAfter = (patchIndex: 1, bytes: 7_000); // the second PATCH stores 7000 bytes, then the connection dies

        var final = await TusUploader.UploadAsync(_http, UploadUrl, new MemoryStream(data), data.Length, null, 32_768, FastRetry, default);

        Assert.Equal(data.Length, final);
        Assert.Equal(data, _tus.Stored);
        Assert.Equal(
            ["PATCH 0+32768", "PATCH 32768+32768 (dropped after 7000)", "HEAD 39768", "PATCH 39768+25768", "PATCH 65536+32768", "PATCH 98304+1696"],
            _tus.Log);
    }

    [Fact]
    public async Task Client33_resumes_a_non_seekable_source_inside_the_buffered_chunk()
    {
        var data = RandomBytes(50_000);
        _tus.Reset(data.Length);
        _tus.DropAfter = (patchIndex: 0, bytes: 20_000);

        var final = await TusUploader.UploadAsync(_http, UploadUrl, new NonSeekableStream(data), data.Length, null, 65_536, FastRetry, default);

        Assert.Equal(data.Length, final);
        Assert.Equal(data, _tus.Stored);
        Assert.Contains("HEAD 20000", _tus.Log);
    }

    [Fact]
    public async Task Client33_a_409_offset_mismatch_resyncs_with_head()
    {
        var data = RandomBytes(64);
        _tus.Reset(64);
        _tus.Preload(data.AsSpan(0, 20)); // the server already has 20 bytes from an earlier attempt

        var final = await TusUploader.UploadAsync(_http, UploadUrl, new MemoryStream(data), 64, null, 32, FastRetry, default);

        Assert.Equal(64, final);
        Assert.Equal(data, _tus.Stored);
        Assert.Equal(["PATCH 0+32 (409, server has 20)", "HEAD 20", "PATCH 20+12", "PATCH 32+32"], _tus.Log);
    }

    [Fact]
    public async Task Client33_a_5xx_is_retried_after_head()
    {
        var data = RandomBytes(48);
        _tus.Reset(48);
        _tus.FailNextPatchWith = 503;

        Assert.Equal(48, await TusUploader.UploadAsync(_http, UploadUrl, new MemoryStream(data), 48, null, 16, FastRetry, default));

        Assert.Equal(data, _tus.Stored);
        Assert.Equal(["PATCH 0+16 (503)", "HEAD 0", "PATCH 0+16", "PATCH 16+16", "PATCH 32+16"], _tus.Log);
    }

    [Fact]
    public async Task Client33_gives_up_after_the_bounded_number_of_attempts()
    {
        _tus.Reset(16);
        _tus.AlwaysFailWith = 500;

        var error = await Assert.ThrowsAsync<BackendConnectionException>(
            () => TusUploader.UploadAsync(_http, UploadUrl, new MemoryStream(new byte[16]), 16, null, 16, FastRetry, default));

        Assert.Contains("4 times", error.Message, StringComparison.Ordinal);
        Assert.True(_tus.Log.Count <= 8, string.Join(", ", _tus.Log));
    }

    [Fact]
    public async Task Client32_a_bad_token_is_a_typed_api_error_without_retries()
    {
        _tus.Reset(16);
        var badUrl = new Uri(_server.BaseAddress, "upload?token=WRONG");

        var error = await Assert.ThrowsAsync<BackendApiException>(
            () => TusUploader.UploadAsync(_http, badUrl, new MemoryStream(new byte[16]), 16, null, 16, FastRetry, default));

        Assert.Equal(400, error.Status);
        Assert.Equal("https://api.backend.ai/probs/storage/invalid-api-params", error.ErrorType);
        Assert.Single(_tus.Log);
    }

    [Fact]
    public async Task Client32_a_source_shorter_than_the_declared_size_is_a_client_error()
    {
        _tus.Reset(100);
        var error = await Assert.ThrowsAsync<BackendClientException>(
            () => TusUploader.UploadAsync(_http, UploadUrl, new MemoryStream(new byte[60]), 100, null, 64, FastRetry, default));
        Assert.Contains("before the declared size of 100", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client32_upload_is_cancellable()
    {
        var data = RandomBytes(64);
        _tus.Reset(64);
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(offset =>
        {
            if (offset >= 16) cts.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => TusUploader.UploadAsync(_http, UploadUrl, new MemoryStream(data), 64, progress, 16, cts.Token));
        Assert.Equal(["PATCH 0+16"], _tus.Log);
    }

    /// <summary>A tus 1.0 endpoint as vfolders.md §4.2 describes, with fault injection.</summary>
    private sealed class TusEndpoint
    {
        private readonly Lock _gate = new();
        private MemoryStream _stored = new();
        private long _size;
        private int _patches;

        public ConcurrentQueue<string> LogQueue { get; private set; } = new();
        public List<string> Log => [.. LogQueue];
        public ConcurrentQueue<Dictionary<string, string>> PatchHeaders { get; } = new();
        public (int patchIndex, int bytes)? DropAfter { get; set; }
        public int? FailNextPatchWith { get; set; }
        public int? AlwaysFailWith { get; set; }

        public byte[] Stored
        {
            get
            {
                lock (_gate) return _stored.ToArray();
            }
        }

        public void Reset(long size)
        {
            _size = size;
            _stored = new MemoryStream();
            LogQueue = new ConcurrentQueue<string>();
        }

        public void Preload(ReadOnlySpan<byte> bytes)
        {
            lock (_gate) _stored.Write(bytes);
        }

        public async Task HandleAsync(HttpContext context)
        {
            var request = context.Request;
            var response = context.Response;
            if (request.Query["token"] != Token)
            {
                LogQueue.Enqueue($"{request.Method} bad token");
                response.StatusCode = 400;
                response.ContentType = "application/problem+json";
                await response.WriteAsync("{\"type\": \"https://api.backend.ai/probs/storage/invalid-api-params\", \"title\": \"Invalid API parameters\", \"data\": {\"token\": \"invalid\"}}");
                return;
            }

            response.Headers["Tus-Resumable"] = "1.0.0";
            long current;
            lock (_gate) current = _stored.Length;
            if (HttpMethods.IsHead(request.Method))
            {
                LogQueue.Enqueue($"HEAD {current}");
                response.StatusCode = 200;
                response.Headers["Upload-Offset"] = current.ToString(CultureInfo.InvariantCulture);
                response.Headers["Upload-Length"] = _size.ToString(CultureInfo.InvariantCulture);
                response.Headers.CacheControl = "no-store";
                return;
            }

            if (!HttpMethods.IsPatch(request.Method))
            {
                response.StatusCode = 405;
                return;
            }

            PatchHeaders.Enqueue(request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
            var index = _patches++;
            var offset = long.Parse(request.Headers["upload-offset"].ToString(), CultureInfo.InvariantCulture);
            var length = request.ContentLength ?? -1;
            var entry = $"PATCH {offset}+{length}";
            if (AlwaysFailWith is not null || FailNextPatchWith is not null)
            {
                var status = AlwaysFailWith ?? FailNextPatchWith!.Value;
                FailNextPatchWith = null;
                LogQueue.Enqueue($"{entry} ({status})");
                response.StatusCode = status;
                return;
            }

            if (offset != current)
            {
                LogQueue.Enqueue($"{entry} (409, server has {current})");
                response.StatusCode = 409;
                return;
            }

            var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            var bytes = body.ToArray();
            if (DropAfter is { } drop && drop.patchIndex == index)
            {
                lock (_gate) _stored.Write(bytes, 0, drop.bytes);
                LogQueue.Enqueue($"{entry} (dropped after {drop.bytes})");
                context.Abort();
                return;
            }

            lock (_gate)
            {
                _stored.Write(bytes);
                current = _stored.Length;
            }

            LogQueue.Enqueue(entry);
            response.StatusCode = 204;
            response.Headers["Upload-Offset"] = current.ToString(CultureInfo.InvariantCulture);
            response.Headers["Upload-Length"] = _size.ToString(CultureInfo.InvariantCulture);
        }
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports synchronously on the reporting thread.</summary>
internal sealed class SyncProgress(Action<long> report) : IProgress<long>
{
    public void Report(long value) => report(value);
}

/// <summary>A read-only stream over bytes that cannot seek.</summary>
internal sealed class NonSeekableStream(byte[] data) : ReadOnlyTestStream
{
    private readonly MemoryStream _inner = new(data);

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);
}

using BackendAI.Local.Hosting;
using BackendAI.Testing;
using static BackendAI.Actors.Tests.Transfers.TransferTestSupport;

namespace BackendAI.Actors.Tests.Transfers;

/// <summary>The transfer pool's bound and queue, seen from the local server, for vfolder and session transfers.</summary>
public sealed class TransferPoolTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>, IAsyncLifetime, IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("pool-xfer-");
    private BackendAIRuntime _runtime = null!;
    private string _folder = null!;

    public async Task InitializeAsync()
    {
        fx.Backend.Faults.Reset();
        _runtime = Runtime(fx.Endpoint, maxConcurrent: 2, chunk: "128KiB");
        _folder = UniqueName("pool");
        await _runtime.VFolders.Api.CreateAsync(_folder);
    }

    public async Task DisposeAsync()
    {
        fx.Backend.Faults.Reset();
        await _runtime.DisposeAsync();
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private void SlowPatches(int milliseconds) => fx.Backend.Faults.Set(new FaultSettings
    {
        Routes = [new RouteFault { PathPrefix = "/storage/upload", Method = "PATCH", Latency = TimeSpan.FromMilliseconds(milliseconds) }],
    });

    [Fact]
    public async Task At_most_max_concurrent_vfolder_uploads_are_open_on_the_storage_proxy_at_any_time()
    {
        using var cts = new CancellationTokenSource(Budget);
        SlowPatches(60);
        var peakOnServer = 0;
        var inFlight = 0;
        var peakInFlight = 0;
        var gate = new Lock();

        void Sample()
        {
            lock (gate) peakOnServer = Math.Max(peakOnServer, PendingUploads(fx).Length);
        }

        var uploads = Enumerable.Range(0, 6).Select(i =>
        {
            var path = WriteFile(_dir.FullName, $"f{i}.bin", RandomBytes(512 * 1024));
            var progress = new RecordingProgress(p =>
            {
                // Between its start report and its completion an upload holds a pool slot.
                lock (gate)
                {
                    if (p.BytesTransferred == 0) peakInFlight = Math.Max(peakInFlight, ++inFlight);
                    if (p.IsFileComplete) inFlight--;
                }
                Sample();
            });
            return _runtime.VFolders.UploadAsync(_folder, [path], progress: progress, cancellationToken: cts.Token);
        }).ToList();
        await Task.WhenAll(uploads);

        // One .part file per open tus upload session on the server: never more than the bound, and the bound is reached.
        Assert.Equal(2, peakOnServer);
        Assert.Equal(2, peakInFlight);
        Assert.Empty(PendingUploads(fx));
        Assert.Equal(6, (await _runtime.VFolders.ListFilesAsync(_folder, cancellationToken: cts.Token)).Count(e => e.Name.StartsWith('f')));
    }

    [Fact]
    public async Task A_transfer_cancelled_while_it_waits_for_a_slot_returns_at_once_and_never_reaches_the_server()
    {
        using var cts = new CancellationTokenSource(Budget);
        await using var runtime = Runtime(fx.Endpoint, maxConcurrent: 1, chunk: "128KiB");
        SlowPatches(150);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = runtime.VFolders.UploadAsync(_folder, [WriteFile(_dir.FullName, "first.bin", RandomBytes(1 << 20))],
            progress: new RecordingProgress(_ => started.TrySetResult()), cancellationToken: cts.Token);
        await started.Task.WaitAsync(cts.Token);

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var queued = runtime.VFolders.UploadAsync(_folder, [WriteFile(_dir.FullName, "queued.bin", RandomBytes(1024))], cancellationToken: cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        Assert.False(first.IsCompleted, "the queued transfer should not have waited for the running one");
        await first;
        Assert.Empty(PendingUploads(fx)); // the queued upload never asked for an upload session
        Assert.DoesNotContain(await runtime.VFolders.ListFilesAsync(_folder, cancellationToken: cts.Token), e => e.Name == "queued.bin");
    }

    [Fact]
    public async Task A_transfer_on_a_disposed_runtime_fails_instead_of_waiting_forever()
    {
        using var cts = new CancellationTokenSource(Budget);
        var runtime = Runtime(fx.Endpoint);
        await runtime.VFolders.UploadAsync(_folder, [WriteFile(_dir.FullName, "before.bin", RandomBytes(10))], cancellationToken: cts.Token);
        await runtime.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(
            () => runtime.VFolders.UploadAsync(_folder, [WriteFile(_dir.FullName, "after.bin", RandomBytes(10))], cancellationToken: cts.Token).WaitAsync(cts.Token));
    }

    [Fact]
    public async Task Session_upload_and_download_report_byte_progress_through_the_pool()
    {
        using var cts = new CancellationTokenSource(Budget);
        await using var session = await _runtime.StartSessionAsync("sim", new SessionStartOptions { Name = UniqueName("xfer") }, cts.Token);
        var a = RandomBytes(300 * 1024);
        var b = RandomBytes(70 * 1024);
        var up = new RecordingProgress();
        await session.UploadAsync([WriteFile(_dir.FullName, "up/a.bin", a), WriteFile(_dir.FullName, "up/b.bin", b)], up, cts.Token);
        AssertWellFormed(up.Reports, [("a.bin", a.Length), ("b.bin", b.Length)]);

        var down = new RecordingProgress();
        var target = Path.Combine(_dir.FullName, "down");
        var files = (await session.DownloadAsync(["a.bin", "b.bin"], target, down, cts.Token)).Select(f => Path.Combine(target, f)).ToList();

        Assert.Equal(a, await File.ReadAllBytesAsync(files.Single(f => f.EndsWith("a.bin", StringComparison.Ordinal)), cts.Token));
        Assert.Equal(b, await File.ReadAllBytesAsync(files.Single(f => f.EndsWith("b.bin", StringComparison.Ordinal)), cts.Token));
        var last = down.Reports[^1];
        Assert.Equal("2 files", last.Name);
        Assert.Equal(0, down.Reports[0].BytesTransferred);
        Assert.True(last.BytesTransferred > a.Length + b.Length, "the multipart tar body carries both files");
        Assert.True(last.TotalBytes is null || last.IsFileComplete);
        Assert.True(down.Reports.Zip(down.Reports.Skip(1)).All(p => p.Second.BytesTransferred >= p.First.BytesTransferred));
    }
}

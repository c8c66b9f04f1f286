using System.Text;
using BackendAI.Local.Hosting;
using BackendAI.Testing;
using static BackendAI.Actors.Tests.Transfers.TransferTestSupport;

namespace BackendAI.Actors.Tests.Transfers;

/// <summary>runtime.VFolders against a real BackendAI.Local server (tus uploads, Range downloads, fault injection).</summary>
public sealed class VFolderTransferTests(LocalServerFixture fx) : IClassFixture<LocalServerFixture>, IAsyncLifetime, IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("vf-xfer-");
    private BackendAIRuntime _runtime = null!;
    private string _folder = null!;

    public async Task InitializeAsync()
    {
        fx.Backend.Faults.Reset();
        _runtime = Runtime(fx.Endpoint);
        _folder = UniqueName("vf");
        await _runtime.VFolders.Api.CreateAsync(_folder);
    }

    public async Task DisposeAsync()
    {
        fx.Backend.Faults.Reset();
        await _runtime.DisposeAsync();
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private string Local(string relative) => Path.Combine(_dir.FullName, relative);

    [Fact]
    public async Task VFolder_upload_and_download_report_monotone_byte_progress_per_file_and_overall_and_round_trip_byte_identical()
    {
        using var cts = new CancellationTokenSource(Budget);
        var a = RandomBytes(1 << 20);
        var b = RandomBytes(300 * 1024);
        WriteFile(_dir.FullName, "src/data/a.bin", a);
        WriteFile(_dir.FullName, "src/data/sub/b.bin", b);
        // Slow PATCHes, so that the throttled reports (64 KiB and 100 ms apart) show progress inside a file.
        fx.Backend.Faults.Set(new FaultSettings { Routes = [new RouteFault { PathPrefix = "/storage/upload", Method = "PATCH", Latency = TimeSpan.FromMilliseconds(120) }] });

        var up = new RecordingProgress();
        var written = await _runtime.VFolders.UploadAsync(_folder, [Local("src/data")], "in", up, cts.Token);

        Assert.Equal(["in/data/a.bin", "in/data/sub/b.bin"], written);
        AssertWellFormed(up.Reports, [("in/data/a.bin", a.Length), ("in/data/sub/b.bin", b.Length)]);
        Assert.Contains(up.Reports, r => r.FileIndex == 0 && r.BytesTransferred is > 0 and < 1 << 20); // byte-level, not per file
        Assert.All(up.Reports, r => Assert.Equal(a.Length + b.Length, r.OverallTotalBytes)); // uploads know their size up front

        fx.Backend.Faults.Reset();
        var down = new RecordingProgress();
        var files = await _runtime.VFolders.DownloadAsync(_folder, written, Local("out"), down, cts.Token);

        Assert.Equal([Local("out/a.bin"), Local("out/b.bin")], files);
        Assert.Equal(a, await File.ReadAllBytesAsync(files[0], cts.Token));
        Assert.Equal(b, await File.ReadAllBytesAsync(files[1], cts.Token));
        AssertWellFormed(down.Reports, [("in/data/a.bin", a.Length), ("in/data/sub/b.bin", b.Length)]);
        Assert.Equal(["a.bin", "b.bin"], Directory.GetFiles(Local("out")).Select(Path.GetFileName).Order());
        Assert.Contains(await _runtime.VFolders.ListFilesAsync(_folder, "in/data", cts.Token), e => e.Name == "a.bin" && e.Size == a.Length);
    }

    [Fact]
    public async Task VFolder_download_cut_by_the_server_resumes_with_range_and_is_byte_identical()
    {
        using var cts = new CancellationTokenSource(Budget);
        var data = RandomBytes(1 << 20);
        await _runtime.VFolders.UploadAsync(_folder, [WriteFile(_dir.FullName, "big.bin", data)], cancellationToken: cts.Token);
        fx.Backend.Faults.Set(new FaultSettings { TruncateDownloadsAfterBytes = 300_000 }); // every response is cut: four connections

        var progress = new RecordingProgress();
        var files = await _runtime.VFolders.DownloadAsync(_folder, ["big.bin"], Local("out"), progress, cts.Token);

        Assert.Equal(data, await File.ReadAllBytesAsync(files.Single(), cts.Token));
        AssertWellFormed(progress.Reports, [("big.bin", data.Length)]);
        Assert.Equal([files.Single()], Directory.GetFiles(Local("out"))); // no .partial left
    }

    [Fact]
    public async Task VFolder_tus_upload_resumes_from_the_HEAD_offset_after_the_connection_drops_mid_chunk()
    {
        using var cts = new CancellationTokenSource(Budget);
        await using var proxy = TcpProxy.Start(fx.Endpoint);
        var (dropped, heads) = (0, 0);
        var patching = new HashSet<int>();
        long patchBytes = 0;
        proxy.ClientToServer = (connection, chunk) =>
        {
            var text = Encoding.Latin1.GetString(chunk.Span);
            if (text.Contains("HEAD /storage/upload", StringComparison.Ordinal)) Interlocked.Increment(ref heads);
            lock (patching)
            {
                if (text.Contains("PATCH /storage/upload", StringComparison.Ordinal)) patching.Add(connection);
                if (dropped == 0 && patching.Contains(connection) && (patchBytes += chunk.Length) > 400 * 1024)
                {
                    dropped = 1; // cut the connection once, in the middle of the second 256 KiB chunk
                    return false;
                }
            }
            return true;
        };
        await using var runtime = Runtime(proxy.Endpoint);
        var data = RandomBytes(1 << 20);

        var progress = new RecordingProgress();
        var written = await runtime.VFolders.UploadAsync(_folder, [WriteFile(_dir.FullName, "resumed.bin", data)], progress: progress, cancellationToken: cts.Token);

        Assert.Equal(1, dropped);
        Assert.True(Volatile.Read(ref heads) >= 1, "the upload did not ask the server's offset with HEAD");
        AssertWellFormed(progress.Reports, [("resumed.bin", data.Length)]);
        var back = await _runtime.VFolders.DownloadAsync(_folder, written, Local("back"), cancellationToken: cts.Token);
        Assert.Equal(data, await File.ReadAllBytesAsync(back.Single(), cts.Token));
    }

    [Fact]
    public async Task Cancelling_a_vfolder_download_midway_leaves_no_file_and_no_partial_file_and_keeps_an_older_copy_intact()
    {
        using var cts = new CancellationTokenSource(Budget);
        var data = RandomBytes(8 << 20);
        await _runtime.VFolders.UploadAsync(_folder, [WriteFile(_dir.FullName, "large.bin", data)], cancellationToken: cts.Token);
        Directory.CreateDirectory(Local("out"));
        WriteFile(_dir.FullName, "out/kept.bin", "old"u8.ToArray());
        await _runtime.VFolders.UploadAsync(_folder, [WriteFile(_dir.FullName, "kept.bin", data[..(2 << 20)])], cancellationToken: cts.Token);

        // Each response is cut after 2,000,000 bytes, so the download pauses and reconnects: a report past 1 MiB always
        // comes before the end, whatever the throttle lets through.
        fx.Backend.Faults.Set(new FaultSettings { TruncateDownloadsAfterBytes = 2_000_000 });
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var progress = new RecordingProgress(p =>
        {
            if (p.BytesTransferred >= 1 << 20 && !p.IsFileComplete) cancel.Cancel(); // mid-way
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => _runtime.VFolders.DownloadAsync(_folder, ["large.bin"], Local("out"), progress, cancel.Token));
        Assert.Contains(progress.Reports, r => r.BytesTransferred >= 1 << 20 && !r.IsFileComplete);
        Assert.Equal(["kept.bin"], Directory.GetFiles(Local("out")).Select(Path.GetFileName));

        using var cancel2 = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var progress2 = new RecordingProgress(p =>
        {
            if (p.BytesTransferred >= 1 << 20 && !p.IsFileComplete) cancel2.Cancel();
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => _runtime.VFolders.DownloadAsync(_folder, ["kept.bin"], Local("out"), progress2, cancel2.Token));
        Assert.Contains(progress2.Reports, r => r.BytesTransferred >= 1 << 20 && !r.IsFileComplete);
        Assert.Equal(["kept.bin"], Directory.GetFiles(Local("out")).Select(Path.GetFileName));
        Assert.Equal("old"u8.ToArray(), await File.ReadAllBytesAsync(Local("out/kept.bin"), cts.Token)); // only a complete download replaces it
    }

    [Fact]
    public async Task Cancelling_a_vfolder_upload_midway_never_shows_a_half_file_in_the_folder_and_keeps_the_confirmed_bytes_resumable()
    {
        using var cts = new CancellationTokenSource(Budget);
        var data = RandomBytes(2 << 20);
        var before = PendingUploads(fx);
        fx.Backend.Faults.Set(new FaultSettings { Routes = [new RouteFault { PathPrefix = "/storage/upload", Method = "PATCH", Latency = TimeSpan.FromMilliseconds(50) }] });
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var progress = new RecordingProgress(p =>
        {
            if (p.BytesTransferred >= 512 * 1024) cancel.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => _runtime.VFolders.UploadAsync(_folder, [WriteFile(_dir.FullName, "half.bin", data)], progress: progress, cancellationToken: cancel.Token));

        Assert.DoesNotContain(await _runtime.VFolders.ListFilesAsync(_folder, cancellationToken: cts.Token), e => e.Name == "half.bin");
        var pending = PendingUploads(fx).Except(before).Select(p => new FileInfo(p)).ToList();
        var part = Assert.Single(pending); // the storage proxy's upload session, outside the folder
        Assert.InRange(part.Length, 1, data.Length - 1);
    }

    [Fact]
    public async Task Upload_progress_is_also_a_stream_whose_last_item_is_the_final_state()
    {
        using var cts = new CancellationTokenSource(Budget);
        var data = RandomBytes(600 * 1024);
        var path = WriteFile(_dir.FullName, "streamed.bin", data);
        var items = new List<TransferProgress>();

        await foreach (var p in BackendAI.Actors.Transfers.TransferProgressStream.Observe(
                           (progress, ct) => _runtime.VFolders.UploadAsync(_folder, [path], progress: progress, cancellationToken: ct),
                           cancellationToken: cts.Token))
            items.Add(p);

        AssertWellFormed(items, [("streamed.bin", data.Length)]);
    }

    [Fact]
    public async Task Leaving_a_progress_stream_early_cancels_its_transfer()
    {
        using var cts = new CancellationTokenSource(Budget);
        var path = WriteFile(_dir.FullName, "abandoned.bin", RandomBytes(2 << 20));
        fx.Backend.Faults.Set(new FaultSettings { Routes = [new RouteFault { PathPrefix = "/storage/upload", Method = "PATCH", Latency = TimeSpan.FromMilliseconds(100) }] });

        await foreach (var p in BackendAI.Actors.Transfers.TransferProgressStream.Observe(
                           (progress, ct) => _runtime.VFolders.UploadAsync(_folder, [path], progress: progress, cancellationToken: ct),
                           cancellationToken: cts.Token))
        {
            Assert.Equal(0, p.BytesTransferred);
            break; // the transfer is cancelled and awaited before the loop ends
        }

        Assert.DoesNotContain(await _runtime.VFolders.ListFilesAsync(_folder, cancellationToken: cts.Token), e => e.Name == "abandoned.bin");
    }

    [Fact]
    public async Task Bad_arguments_fail_at_once_with_errors_that_name_them()
    {
        var missing = await Assert.ThrowsAsync<BackendAI.Client.Errors.BackendClientException>(
            () => _runtime.VFolders.UploadAsync(_folder, [Local("nope.bin")]));
        Assert.Contains("nope.bin", missing.Message);
        await Assert.ThrowsAsync<BackendAI.Client.Errors.BackendClientException>(() => _runtime.VFolders.DownloadAsync(" ", ["x"], Local("out")));
        await Assert.ThrowsAsync<BackendAI.Client.Errors.BackendClientException>(() => _runtime.VFolders.DownloadAsync(_folder, [], Local("out")));
    }
}

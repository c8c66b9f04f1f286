using BackendAI.Client.Transfers;

namespace BackendAI.Client.Tests.Transfers;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("bai-atomic-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task WriteAsync_replaces_the_file_with_the_complete_content()
    {
        var path = Path.Combine(_root, "sub", "out.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, "old");

        await AtomicFile.WriteAsync(path, (s, ct) => s.WriteAsync("new content"u8.ToArray(), ct).AsTask());

        Assert.Equal("new content", await File.ReadAllTextAsync(path));
        Assert.Equal(["out.txt"], Directory.EnumerateFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_failed_or_cancelled_write_leaves_the_old_file_and_no_partial()
    {
        var path = Path.Combine(_root, "out.txt");
        await File.WriteAllTextAsync(path, "old");
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAsync<InvalidOperationException>(() => AtomicFile.WriteAsync(path, async (s, ct) =>
        {
            await s.WriteAsync("half"u8.ToArray(), ct);
            throw new InvalidOperationException("boom");
        }));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => AtomicFile.WriteAsync(path, async (s, ct) =>
        {
            await s.WriteAsync("half"u8.ToArray(), ct);
            await cts.CancelAsync();
            ct.ThrowIfCancellationRequested();
        }, cts.Token));

        Assert.Equal("old", await File.ReadAllTextAsync(path));
        Assert.Equal(["out.txt"], Directory.EnumerateFiles(_root).Select(Path.GetFileName));
    }
}

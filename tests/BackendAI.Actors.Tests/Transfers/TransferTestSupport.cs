using Akka.Configuration;
using BackendAI.Client.Config;
using BackendAI.Local.Hosting;
using BackendAI.Testing;

namespace BackendAI.Actors.Tests.Transfers;

/// <summary>Helpers shared by the transfer tests: a runtime with small tus chunks, recorded progress, random files.</summary>
internal static class TransferTestSupport
{
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(45);

    public static BackendAIRuntime Runtime(Uri endpoint, int maxConcurrent = 2, string chunk = "256KiB") =>
        BackendAIRuntime.Create(new BackendAIClientOptions
        {
            Endpoints = [endpoint],
            AccessKey = WellKnownKeypairs.User.AccessKey,
            SecretKey = WellKnownKeypairs.User.SecretKey,
        }, ConfigurationFactory.ParseString($"backendai.transfer {{ max-concurrent = {maxConcurrent}, tus-chunk-size = {chunk} }}"));

    public static string UniqueName(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    public static byte[] RandomBytes(int length)
    {
        var data = new byte[length];
        Random.Shared.NextBytes(data);
        return data;
    }

    public static string WriteFile(string directory, string relative, byte[] data)
    {
        var path = Path.Combine(directory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
        return path;
    }

    /// <summary>The upload sessions the local storage proxy holds (one <c>.part</c> file per unfinished tus upload).</summary>
    public static string[] PendingUploads(LocalServerFixture fx)
    {
        var dir = Path.Combine(fx.Backend.Paths.UploadsDirectory, "tus");
        return Directory.Exists(dir) ? Directory.GetFiles(dir, "*.part") : [];
    }

    /// <summary>Checks what every progress stream must satisfy: per file 0 first and the size last, overall never decreasing and ending at the total.</summary>
    public static void AssertWellFormed(IReadOnlyList<TransferProgress> reports, IReadOnlyList<(string Name, long Size)> files)
    {
        Assert.NotEmpty(reports);
        for (var i = 1; i < reports.Count; i++)
        {
            Assert.True(reports[i].OverallBytesTransferred >= reports[i - 1].OverallBytesTransferred,
                $"overall progress went back from {reports[i - 1].OverallBytesTransferred} to {reports[i].OverallBytesTransferred}");
            Assert.True(reports[i].FileIndex >= reports[i - 1].FileIndex);
        }
        for (var f = 0; f < files.Count; f++)
        {
            var mine = reports.Where(r => r.FileIndex == f).ToList();
            Assert.NotEmpty(mine);
            Assert.All(mine, r => Assert.Equal(files[f].Name, r.Name));
            Assert.All(mine, r => Assert.Equal(files.Count, r.FileCount));
            Assert.Equal(0, mine[0].BytesTransferred);
            Assert.Equal(files[f].Size, mine[^1].BytesTransferred);
            Assert.Equal(files[f].Size, mine[^1].TotalBytes);
            Assert.True(mine[^1].IsFileComplete);
        }
        var total = files.Sum(f => f.Size);
        Assert.Equal(total, reports[^1].OverallBytesTransferred);
        Assert.Equal(total, reports[^1].OverallTotalBytes);
    }
}

/// <summary>Records progress synchronously, in order.</summary>
internal sealed class RecordingProgress(Action<TransferProgress>? onReport = null) : IProgress<TransferProgress>
{
    private readonly List<TransferProgress> _reports = [];

    public IReadOnlyList<TransferProgress> Reports
    {
        get
        {
            lock (_reports) return [.. _reports];
        }
    }

    public void Report(TransferProgress value)
    {
        lock (_reports) _reports.Add(value);
        onReport?.Invoke(value);
    }
}

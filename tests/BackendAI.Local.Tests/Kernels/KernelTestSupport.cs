using System.Text;
using BackendAI.Local.Kernels;

namespace BackendAI.Local.Tests.Kernels;

/// <summary>A kernel in a fresh temp work directory, disposed (process and directory) with the test.</summary>
internal sealed class KernelHarness : IAsyncDisposable
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    private KernelHarness(IKernel kernel, string workDirectory)
    {
        Kernel = kernel;
        WorkDirectory = workDirectory;
    }

    public IKernel Kernel { get; }

    public string WorkDirectory { get; }

    public static async Task<KernelHarness> StartAsync(string image, Action<LocalKernelOptions>? configure = null,
        string? bootstrap = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var options = new LocalKernelOptions();
        configure?.Invoke(options);
        var dir = Path.Combine(Path.GetTempPath(), "bai-kernel-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var info = new KernelStartInfo(Guid.NewGuid(), image, dir, environment ?? new Dictionary<string, string>(), bootstrap);
        var kernel = new LocalKernelFactory(options).Create(info);
        using var cts = new CancellationTokenSource(Generous);
        await kernel.StartAsync(cts.Token);
        return new KernelHarness(kernel, dir);
    }

    public static string NewRunId() => Guid.NewGuid().ToString("N");

    /// <summary>Runs until <c>finished</c>/<c>exec-timeout</c>, answering prompts from <paramref name="inputs"/>.</summary>
    public async Task<List<KernelResult>> RunToEndAsync(KernelExecuteRequest first, TimeSpan? flushWindow = null, Queue<string>? inputs = null)
    {
        using var cts = new CancellationTokenSource(Generous);
        var window = flushWindow ?? TimeSpan.FromMilliseconds(500);
        var results = new List<KernelResult>();
        var result = await Kernel.ExecuteAsync(first, window, cts.Token);
        while (true)
        {
            results.Add(result);
            if (result.Status is "finished" or "exec-timeout") return results;
            var next = result.Status == "waiting-input"
                ? new KernelExecuteRequest(KernelExecuteMode.Input, first.RunId, inputs?.Dequeue() ?? "")
                : new KernelExecuteRequest(KernelExecuteMode.Continue, first.RunId, "");
            result = await Kernel.ExecuteAsync(next, window, cts.Token);
        }
    }

    public Task<List<KernelResult>> QueryAsync(string code, TimeSpan? flushWindow = null, Queue<string>? inputs = null) =>
        RunToEndAsync(new KernelExecuteRequest(KernelExecuteMode.Query, NewRunId(), code), flushWindow, inputs);

    public async ValueTask DisposeAsync()
    {
        await Kernel.DisposeAsync();
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

internal static class ConsoleText
{
    /// <summary>Concatenated text of one stream over results.</summary>
    public static string Of(IEnumerable<KernelResult> results, string stream)
    {
        var sb = new StringBuilder();
        foreach (var r in results)
            foreach (var item in r.Console)
                if (item.Type == stream) sb.Append((string?)item.Data);
        return sb.ToString();
    }

    public static string Of(KernelResult result, string stream) => Of([result], stream);
}

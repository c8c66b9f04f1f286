using System.Collections.Concurrent;
using BackendAI.Client.Transfers;
using Spectre.Console;

namespace BackendAI.Cli.Commands;

/// <summary>
/// Progress bars for transfers on the error console when it is a terminal; nothing at all otherwise, so
/// redirected output stays clean. Reports arrive from any thread into a dictionary (one entry per file,
/// the latest report wins); a single loop owns the Spectre progress display and copies the numbers into it
/// every 100 ms (Spectre is not thread-safe).
/// </summary>
internal static class TransferProgressView
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Runs <paramref name="transfer"/>, handing it a progress sink; on a terminal (and when <paramref name="show"/>)
    /// one bar per file labelled "<paramref name="verb"/> name" is drawn on the error console, else nothing is printed.
    /// </summary>
    public static async Task<T> RunAsync<T>(CliContext context, string verb, bool show, Func<IProgress<TransferProgress>, Task<T>> transfer,
        CancellationToken cancellationToken)
    {
        var latest = new ConcurrentDictionary<string, TransferProgress>(StringComparer.Ordinal);
        var sink = new Sink(latest);
        if (!show || !context.IsTerminal)
            return await transfer(sink).ConfigureAwait(false);
        T result = default!;
        await context.ErrorConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .StartAsync(async display =>
            {
                var bars = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                var work = transfer(sink);
                while (true)
                {
                    foreach (var (name, p) in latest)
                    {
                        if (!bars.TryGetValue(name, out var bar))
                            bars[name] = bar = display.AddTask(Markup.Escape($"{verb} {name}"), maxValue: Math.Max(1, p.TotalBytes ?? p.BytesTransferred));
                        if (p.TotalBytes is { } total)
                            bar.MaxValue = Math.Max(1, total);
                        bar.Value = p.BytesTransferred;
                    }
                    if (work.IsCompleted)
                        break;
                    try
                    {
                        await Task.WhenAny(work, Task.Delay(Refresh, cancellationToken)).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        // the transfer sees the same token and ends; the loop then stops
                    }
                }
                result = await work.ConfigureAwait(false);
                foreach (var bar in bars.Values)
                    bar.Value = bar.MaxValue;
            }).ConfigureAwait(false);
        return result;
    }

    private sealed class Sink(ConcurrentDictionary<string, TransferProgress> latest) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => latest[value.Name] = value;
    }
}

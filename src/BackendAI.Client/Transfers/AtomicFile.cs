namespace BackendAI.Client.Transfers;

/// <summary>
/// Writes files so that readers see either the old content or the complete new content: the data goes
/// to <c>&lt;name&gt;.partial-&lt;random&gt;</c> in the same directory, which is then renamed over the final name.
/// </summary>
public static class AtomicFile
{
    /// <summary>A fresh temporary name next to <paramref name="path"/> (same directory, so the final rename is atomic).</summary>
    /// <param name="path">The final file name.</param>
    public static string PartialPathFor(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return $"{Path.GetFullPath(path)}.partial-{Guid.NewGuid():N}";
    }

    /// <summary>Writes a file atomically: <paramref name="write"/> fills a temporary file, which then replaces <paramref name="path"/>.</summary>
    /// <param name="path">The final file name; its directory is created when missing.</param>
    /// <param name="write">Writes the content; may be cancelled.</param>
    /// <param name="cancellationToken">Cancels the write; the final name is then left untouched.</param>
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        var final = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        var partial = PartialPathFor(final);
        try
        {
            await using (var stream = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            File.Move(partial, final, overwrite: true);
        }
        catch
        {
            TryDelete(partial);
            throw;
        }
    }

    /// <summary>Deletes a file, ignoring errors (for cleaning up temporary files).</summary>
    /// <param name="path">The file.</param>
    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

using System.Text.Json;
using Akka.Actor;
using BackendAI.Actors.Transfers;
using BackendAI.Client.Errors;
using BackendAI.Client.VFolders;

namespace BackendAI.Actors.VFolders;

/// <summary>
/// Virtual-folder transfers through the runtime's transfer pool: each <see cref="UploadAsync"/> or
/// <see cref="DownloadAsync"/> call takes one slot of <c>backendai.transfer.max-concurrent</c> (shared with
/// session uploads and downloads) and waits in <c>backendai.transfer.queue-size</c> when all are busy. Files of one
/// call go one after another: uploads with tus (<c>backendai.transfer.tus-chunk-size</c> per <c>PATCH</c>, resumed
/// from the server's <c>HEAD</c> offset after a failed chunk), downloads with <c>Range</c> resume into a
/// <c>.partial</c> file renamed into place when complete.
/// </summary>
/// <remarks>
/// Cancellation: a download in flight leaves neither its <c>.partial</c> file nor a file under the final name (files of
/// the same call completed before stay). An upload in flight never appears in the folder: the storage proxy moves a file
/// into place only when its last byte arrived; the confirmed bytes stay in the proxy's upload area (invisible,
/// resumable with the same token) until the token expires and the proxy discards them.
/// </remarks>
public class VFolderTransfers
{
    private readonly VFoldersApi _api;
    private readonly Func<CancellationToken, Task<IActorRef>> _pool;
    private readonly int _chunkSize;
    private readonly CancellationToken _stopping;

    /// <summary>For mocks.</summary>
    protected VFolderTransfers()
    {
        _api = null!;
        _pool = null!;
    }

    internal VFolderTransfers(VFoldersApi api, Func<CancellationToken, Task<IActorRef>> pool, int chunkSize, CancellationToken stopping)
    {
        _api = api;
        _pool = pool;
        _chunkSize = chunkSize;
        _stopping = stopping;
    }

    /// <summary>The wire API, for the folder operations this class does not wrap (create, delete, mkdir, …).</summary>
    public VFoldersApi Api => _api;

    /// <summary>Uploads local files and directories (recursively) into <paramref name="folder"/>.</summary>
    /// <param name="folder">The vfolder name.</param>
    /// <param name="localPaths">Files or directories; a directory is uploaded under its own name.</param>
    /// <param name="remoteDirectory">The directory inside the folder (null = its root).</param>
    /// <param name="progress">Byte progress per file and overall (throttled: at most every 64 KiB and 100 ms, plus each file's start and end).</param>
    /// <param name="cancellationToken">Cancels the upload (while queued: it never starts).</param>
    /// <returns>The remote paths written.</returns>
    public virtual Task<IReadOnlyList<string>> UploadAsync(string folder, IReadOnlyList<string> localPaths, string? remoteDirectory = null,
        IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        CheckFolder(folder);
        ArgumentNullException.ThrowIfNull(localPaths);
        if (localPaths.Count == 0) throw new BackendClientException("At least one local path is required.", nameof(localPaths));
        foreach (var p in localPaths)
            if (!File.Exists(p) && !Directory.Exists(p)) throw new BackendClientException($"'{p}' is neither a file nor a directory.", nameof(localPaths));
        return RunAsync($"upload to vfolder '{folder}'",
            ct => _api.UploadAsync(folder, localPaths, remoteDirectory, progress, _chunkSize, ct), cancellationToken);
    }

    /// <summary>Downloads files of <paramref name="folder"/> into <paramref name="localDirectory"/> (each under its file name).</summary>
    /// <param name="folder">The vfolder name.</param>
    /// <param name="remotePaths">Paths inside the folder.</param>
    /// <param name="localDirectory">The local directory (created when missing).</param>
    /// <param name="progress">Byte progress per file and overall (throttled like uploads; a file's total is known once its response arrived).</param>
    /// <param name="cancellationToken">Cancels the download (while queued: it never starts).</param>
    /// <returns>The local files written.</returns>
    public virtual Task<IReadOnlyList<string>> DownloadAsync(string folder, IReadOnlyList<string> remotePaths, string localDirectory,
        IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        CheckFolder(folder);
        ArgumentNullException.ThrowIfNull(remotePaths);
        if (remotePaths.Count == 0) throw new BackendClientException("At least one remote path is required.", nameof(remotePaths));
        if (string.IsNullOrWhiteSpace(localDirectory)) throw new BackendClientException("The local directory is required.", nameof(localDirectory));
        return RunAsync($"download from vfolder '{folder}'",
            ct => _api.DownloadAsync(folder, remotePaths, localDirectory, progress, ct), cancellationToken);
    }

    /// <summary>Lists a directory of <paramref name="folder"/> (not a transfer: no pool slot).</summary>
    /// <param name="folder">The vfolder name.</param>
    /// <param name="path">The directory inside the folder.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public virtual Task<IReadOnlyList<VFolderFileEntry>> ListFilesAsync(string folder, string path = ".", CancellationToken cancellationToken = default) =>
        _api.ListFilesAsync(folder, path, cancellationToken);

    /// <summary>The folder's info (<c>GET /folders/{name}</c>; not a transfer: no pool slot).</summary>
    /// <param name="folder">The vfolder name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public virtual Task<JsonElement> GetInfoAsync(string folder, CancellationToken cancellationToken = default) =>
        _api.GetInfoAsync(folder, cancellationToken);

    private static void CheckFolder(string folder)
    {
        if (string.IsNullOrWhiteSpace(folder)) throw new BackendClientException("The vfolder name must not be empty.", nameof(folder));
    }

    private async Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pool = await _pool(cancellationToken).ConfigureAwait(false);
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var state = NotStarted;
        T result = default!;
        // Cancelled while queued: answer at once (the pool skips it when its turn comes). Once started, the
        // caller waits for the transfer to end, so its clean-up (partial files) is done when the call returns.
        using var registration = cancellationToken.Register(() =>
        {
            if (Interlocked.CompareExchange(ref state, Abandoned, NotStarted) == NotStarted) completion.TrySetCanceled(cancellationToken);
        });
        // A runtime disposed before the transfer started: its pool is gone, so nobody would answer.
        using var stopped = _stopping.Register(() =>
        {
            if (Interlocked.CompareExchange(ref state, Abandoned, NotStarted) == NotStarted)
                completion.TrySetException(new ObjectDisposedException(nameof(BackendAIRuntime), "The runtime was disposed before the transfer started."));
        });
        pool.Tell(new RunTransfer(what, async ct =>
        {
            if (Interlocked.CompareExchange(ref state, Started, NotStarted) != NotStarted) throw new OperationCanceledException(ct);
            result = await work(ct).ConfigureAwait(false);
        }, completion, cancellationToken));
        await completion.Task.ConfigureAwait(false);
        return result;
    }

    private const int NotStarted = 0;
    private const int Started = 1;
    private const int Abandoned = 2;
}

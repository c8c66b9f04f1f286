using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using BackendAI.Client.Errors;
using BackendAI.Local.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace BackendAI.Local.VFolders;

/// <summary>
/// The storage-proxy side of vfolders on the same Kestrel host: tus uploads at <c>/storage/upload</c> and token
/// downloads at <c>/storage/download</c>. These requests carry no Backend.AI credentials; the token is the grant.
/// </summary>
internal sealed class StorageService
{
    /// <summary>Path of the tus endpoint.</summary>
    public const string UploadPath = "/storage/upload";
    /// <summary>Path of the download endpoint.</summary>
    public const string DownloadPath = "/storage/download";

    private const string TusVersion = "1.0.0";
    private readonly VFolderStore _store;
    private readonly TransferTokens _tokens;
    private readonly VFolderOptions _options;
    private readonly FaultInjection? _faults;
    private readonly string _partsDirectory;
    private readonly string _zipDirectory;
    private readonly Dictionary<string, SessionLock> _locks = new(StringComparer.Ordinal);

    /// <summary>Creates the service over the folder store.</summary>
    public StorageService(VFolderStore store, TransferTokens tokens, IOptions<VFolderOptions> options, FaultInjection? faults = null)
    {
        _faults = faults;
        _store = store;
        _tokens = tokens;
        _options = options.Value;
        _partsDirectory = Path.Combine(store.Paths.UploadsDirectory, "tus");
        _zipDirectory = Path.Combine(store.Paths.UploadsDirectory, "zip");
        Directory.CreateDirectory(_partsDirectory);
        Directory.CreateDirectory(_zipDirectory);
        foreach (var stale in Directory.EnumerateFiles(_zipDirectory)) TryDelete(stale);
        // Unfinished uploads whose tokens can no longer be valid are garbage.
        var cutoff = DateTime.UtcNow - _options.UploadTokenLifetime - TimeSpan.FromHours(1);
        foreach (var part in Directory.EnumerateFiles(_partsDirectory))
            if (File.GetLastWriteTimeUtc(part) < cutoff) TryDelete(part);
    }

    /// <summary>Options in effect.</summary>
    public VFolderOptions Options => _options;

    /// <summary>
    /// Starts an upload session for <paramref name="relPath"/> of <paramref name="size"/> bytes: an empty temporary
    /// file, or (for size 0) the empty target file itself. Returns the token.
    /// </summary>
    public string BeginUpload(VFolderRecord folder, string relPath, long size)
    {
        if (size > _options.MaxUploadBytes)
            throw ApiProblemException.InvalidParams($"The upload size exceeds the limit of {_options.MaxUploadBytes} bytes.");
        var root = _store.RootOf(folder);
        var target = VFolderFiles.Resolve(root, relPath);
        if (target == VFolderFiles.Resolve(root, null) || Directory.Exists(target))
            throw VFolderFiles.Failed($"Is a directory: {relPath}");
        var session = RandomNumberGenerator.GetHexString(32, lowercase: true);
        if (size == 0)
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.WriteAllBytes(target, []);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw VFolderFiles.Failed(e.Message);
            }
        }
        else
        {
            File.WriteAllBytes(PartPath(session), []);
        }
        return _tokens.Issue(new TransferGrant("upload", folder.HexId, relPath, size, session, false, 0), _options.UploadTokenLifetime);
    }

    /// <summary>Issues a download token.</summary>
    public string BeginDownload(VFolderRecord folder, string relPath, bool archive)
    {
        // Existence is checked by the download itself (404 storage/file-not-found), as upstream's storage proxy does.
        VFolderFiles.Resolve(_store.RootOf(folder), relPath);
        return _tokens.Issue(new TransferGrant("download", folder.HexId, relPath, 0, null, archive, 0), _options.DownloadTokenLifetime);
    }

    /// <summary>Maps the storage routes (anonymous: the token is the credential).</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapMethods(UploadPath, ["PATCH"], (HttpContext c, StorageService s) => s.PatchAsync(c)).AllowAnonymousAccess();
        app.MapMethods(UploadPath, ["HEAD"], (HttpContext c, StorageService s) => s.UploadHeadAsync(c)).AllowAnonymousAccess();
        app.MapMethods(UploadPath, ["OPTIONS"], (HttpContext c, StorageService s) => s.UploadOptionsAsync(c)).AllowAnonymousAccess();
        app.MapMethods(DownloadPath, ["GET", "HEAD"], (HttpContext c, StorageService s) => s.DownloadAsync(c)).AllowAnonymousAccess();
    }

    private Task UploadOptionsAsync(HttpContext context)
    {
        var h = context.Response.Headers;
        TusHeaders(context.Response);
        h["Tus-Version"] = TusVersion;
        h["Tus-Max-Size"] = _options.MaxUploadBytes.ToString(CultureInfo.InvariantCulture);
        h["Tus-Extension"] = "";
        h.AccessControlAllowMethods = "PATCH, HEAD, OPTIONS";
        h.AccessControlAllowHeaders = "*";
        context.Response.StatusCode = StatusCodes.Status200OK;
        return Task.CompletedTask;
    }

    private async Task UploadHeadAsync(HttpContext context)
    {
        var grant = _tokens.Verify(context.Request.Query["token"], "upload");
        if (grant is null)
        {
            await WriteProblemAsync(context, BadToken(context)).ConfigureAwait(false);
            return;
        }
        var part = new FileInfo(PartPath(grant.Session!));
        if (!part.Exists)
        {
            await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.StorageNoSuchUploadSession)).ConfigureAwait(false);
            return;
        }
        TusHeaders(context.Response);
        context.Response.Headers["Upload-Offset"] = part.Length.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers["Upload-Length"] = grant.Size.ToString(CultureInfo.InvariantCulture);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private async Task PatchAsync(HttpContext context)
    {
        var grant = _tokens.Verify(context.Request.Query["token"], "upload");
        if (grant is null)
        {
            await WriteProblemAsync(context, BadToken(context)).ConfigureAwait(false);
            return;
        }
        var session = grant.Session!;
        var gate = await AcquireAsync(session, context.RequestAborted).ConfigureAwait(false);
        if (gate is null)
        {
            await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.StorageInvalidApiParams,
                "Another request is writing to this upload session.", status: StatusCodes.Status409Conflict)).ConfigureAwait(false);
            return;
        }
        try
        {
            var partPath = PartPath(session);
            var part = new FileInfo(partPath);
            if (!part.Exists)
            {
                await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.StorageNoSuchUploadSession)).ConfigureAwait(false);
                return;
            }
            var current = part.Length;
            var offsetHeader = context.Request.Headers["Upload-Offset"].ToString();
            if (!long.TryParse(offsetHeader, NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            {
                await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.StorageInvalidApiParams,
                    "The Upload-Offset header is missing or not a number.")).ConfigureAwait(false);
                return;
            }
            if (offset != current)
            {
                context.Response.Headers["Upload-Offset"] = current.ToString(CultureInfo.InvariantCulture);
                await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.StorageInvalidApiParams,
                    $"Upload-Offset {offset} does not match the stored size {current}.", status: StatusCodes.Status409Conflict)).ConfigureAwait(false);
                return;
            }
            var remaining = grant.Size - current;
            if (context.Request.ContentLength > remaining)
            {
                await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.StorageInvalidApiParams,
                    $"The chunk exceeds the upload length {grant.Size}.", status: StatusCodes.Status413PayloadTooLarge)).ConfigureAwait(false);
                return;
            }
            bool withinSize;
            try
            {
                withinSize = await AppendAsync(context, partPath, remaining).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
            {
                // The client went away mid-chunk: the bytes received so far stay; HEAD reports them.
                return;
            }
            if (!withinSize)
            {
                await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.StorageInvalidApiParams,
                    $"The chunk exceeds the upload length {grant.Size}.", status: StatusCodes.Status413PayloadTooLarge)).ConfigureAwait(false);
                return;
            }
            var stored = new FileInfo(partPath).Length;
            if (stored == grant.Size)
            {
                var problem = Complete(grant, partPath);
                if (problem is not null)
                {
                    await WriteProblemAsync(context, problem).ConfigureAwait(false);
                    return;
                }
            }
            TusHeaders(context.Response);
            context.Response.Headers["Upload-Offset"] = stored.ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["Upload-Length"] = grant.Size.ToString(CultureInfo.InvariantCulture);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        }
        finally
        {
            Release(session, gate);
        }
    }

    /// <summary>
    /// Appends the request body, flushing as it goes so that a dropped connection keeps what arrived. A body that
    /// would go past the declared size is refused as a whole (the file is cut back) and false is returned.
    /// </summary>
    private static async Task<bool> AppendAsync(HttpContext context, string partPath, long remaining)
    {
        var buffer = new byte[81920];
        await using var file = new FileStream(partPath, FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 0, useAsync: true);
        var start = file.Seek(0, SeekOrigin.End);
        var body = context.Request.Body;
        long written = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (written + read > remaining)
            {
                file.SetLength(start);
                return false;
            }
            await file.WriteAsync(buffer.AsMemory(0, read), CancellationToken.None).ConfigureAwait(false);
            written += read;
        }
        return true;
    }

    private ApiProblemException? Complete(TransferGrant grant, string partPath)
    {
        var folder = Guid.TryParseExact(grant.FolderId, "N", out var id) ? _store.Find(id) : null;
        if (folder is null)
        {
            TryDelete(partPath);
            return new ApiProblemException(ProblemTypes.StorageNoSuchUploadSession, "The virtual folder no longer exists.");
        }
        try
        {
            var target = VFolderFiles.Resolve(_store.RootOf(folder), grant.RelPath);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(partPath, target, overwrite: true);
            return null;
        }
        catch (ApiProblemException e)
        {
            return new ApiProblemException(ProblemTypes.StorageInvalidApiParams, e.Msg);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ApiProblemException(ProblemTypes.StorageInvalidApiParams, e.Message, status: StatusCodes.Status500InternalServerError);
        }
    }

    private async Task DownloadAsync(HttpContext context)
    {
        var grant = _tokens.Verify(context.Request.Query["token"], "download");
        if (grant is null)
        {
            await WriteProblemAsync(context, BadToken(context)).ConfigureAwait(false);
            return;
        }
        var folder = Guid.TryParseExact(grant.FolderId, "N", out var id) ? _store.Find(id) : null;
        if (folder is null)
        {
            await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.StorageFileNotFound)).ConfigureAwait(false);
            return;
        }
        string full;
        try
        {
            full = VFolderFiles.Resolve(_store.RootOf(folder), grant.RelPath);
        }
        catch (ApiProblemException e)
        {
            await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.StorageInvalidApiParams, e.Msg)).ConfigureAwait(false);
            return;
        }
        var query = context.Request.Query;
        if (IsTrue(query["no_cache"])) context.Response.Headers.CacheControl = "no-store";
        if (Directory.Exists(full))
        {
            if (!grant.Archive && !IsTrue(query["archive"]))
            {
                await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.StorageInvalidApiParams,
                    "The path is a directory; use archive=true.")).ConfigureAwait(false);
                return;
            }
            await SendArchiveAsync(context, full).ConfigureAwait(false);
            return;
        }
        if (!File.Exists(full))
        {
            await WriteProblemAsync(context, new ApiProblemException(ProblemTypes.StorageFileNotFound)).ConfigureAwait(false);
            return;
        }
        await SendFileAsync(context, full, Path.GetFileName(full), "application/octet-stream", honourRange: true,
            _faults?.TruncateDownloadsAfterBytes).ConfigureAwait(false);
    }

    private async Task SendArchiveAsync(HttpContext context, string directory)
    {
        var zipPath = Path.Combine(_zipDirectory, RandomNumberGenerator.GetHexString(32, lowercase: true) + ".zip");
        try
        {
            await using (var output = new FileStream(zipPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            {
                var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
                foreach (var file in Directory.EnumerateFiles(directory, "*", options))
                {
                    var entry = zip.CreateEntry(Path.GetRelativePath(directory, file).Replace(Path.DirectorySeparatorChar, '/'), CompressionLevel.Fastest);
                    entry.LastWriteTime = File.GetLastWriteTimeUtc(file);
                    await using var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 81920, useAsync: true);
                    await using var target = entry.Open();
                    await source.CopyToAsync(target, context.RequestAborted).ConfigureAwait(false);
                }
            }
            var name = Path.GetFileName(directory.TrimEnd(Path.DirectorySeparatorChar));
            await SendFileAsync(context, zipPath, (name.Length == 0 ? "archive" : name) + ".zip", "application/zip", honourRange: false,
                _faults?.TruncateDownloadsAfterBytes).ConfigureAwait(false);
        }
        finally
        {
            TryDelete(zipPath);
        }
    }

    /// <summary>
    /// Streams a file (or one range of it). <paramref name="truncateAfter"/> (fault injection) aborts the connection after
    /// that many body bytes, as a dropped download would.
    /// </summary>
    private static async Task SendFileAsync(HttpContext context, string path, string downloadName, string contentType, bool honourRange,
        long? truncateAfter)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, useAsync: true);
        var length = file.Length;
        var response = context.Response;
        response.ContentType = contentType;
        response.Headers.ContentDisposition = ContentDisposition(downloadName);
        response.Headers.AcceptRanges = "bytes";
        long start = 0, count = length;
        if (honourRange && TryParseRange(context.Request.Headers.Range.ToString(), length, out var range))
        {
            if (range is null)
            {
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = $"bytes */{length}";
                response.ContentLength = 0;
                return;
            }
            (start, count) = range.Value;
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = $"bytes {start}-{start + count - 1}/{length}";
        }
        else
        {
            response.StatusCode = StatusCodes.Status200OK;
        }
        response.ContentLength = count;
        if (HttpMethods.IsHead(context.Request.Method)) return;
        file.Seek(start, SeekOrigin.Begin);
        var buffer = new byte[81920];
        var left = truncateAfter is { } cut && cut < count ? cut : count;
        while (left > 0)
        {
            var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), context.RequestAborted).ConfigureAwait(false);
            if (read == 0) break;
            await response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted).ConfigureAwait(false);
            left -= read;
        }
        if (truncateAfter < count)
        {
            // Let the bytes leave the socket before the abort (an abort discards unsent data).
            await response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromMilliseconds(200), context.RequestAborted).ConfigureAwait(false);
            context.Abort();
        }
    }

    /// <summary>
    /// Parses a single <c>bytes=</c> range. Returns false when there is no usable Range header (serve everything);
    /// true with null when it is unsatisfiable; true with (start, count) otherwise.
    /// </summary>
    internal static bool TryParseRange(string header, long length, out (long Start, long Count)? range)
    {
        range = null;
        if (string.IsNullOrWhiteSpace(header) || !header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase)) return false;
        var spec = header[6..].Trim();
        if (spec.Contains(',')) return false; // several ranges: answer with the whole file
        var dash = spec.IndexOf('-');
        if (dash < 0) return false;
        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        if (first.Length == 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix)) return false;
            if (suffix == 0 || length == 0) return true;
            var n = Math.Min(suffix, length);
            range = (length - n, n);
            return true;
        }
        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var start)) return false;
        long end = length - 1;
        if (last.Length > 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < start) return false;
            end = Math.Min(end, length - 1);
        }
        if (start >= length) return true;
        range = (start, end - start + 1);
        return true;
    }

    /// <summary><c>attachment;filename="ascii"; filename*=UTF-8''percent-encoded</c>.</summary>
    internal static string ContentDisposition(string name)
    {
        var ascii = new StringBuilder(name.Length);
        foreach (var ch in name) ascii.Append(ch is >= ' ' and < (char)127 and not '"' and not '\\' ? ch : '_');
        return $"attachment;filename=\"{ascii}\"; filename*=UTF-8''{Uri.EscapeDataString(name)}";
    }

    private static void TusHeaders(HttpResponse response)
    {
        response.Headers["Tus-Resumable"] = TusVersion;
        response.Headers.CacheControl = "no-store";
        response.Headers.AccessControlAllowOrigin = "*";
        response.Headers.AccessControlExposeHeaders = "Upload-Offset, Upload-Length, Tus-Resumable, Tus-Version, Tus-Max-Size, Tus-Extension";
    }

    private static ApiProblemException BadToken(HttpContext context) =>
        new(ProblemTypes.StorageInvalidApiParams, data: new System.Text.Json.Nodes.JsonObject
        {
            ["token"] = string.IsNullOrEmpty(context.Request.Query["token"]) ? "is required" : "invalid or expired token",
        });

    /// <summary>Writes a storage problem+json response directly (these routes bypass the manager's error middleware).</summary>
    internal static async Task WriteProblemAsync(HttpContext context, ApiProblemException problem)
    {
        var response = context.Response;
        response.StatusCode = problem.Status;
        response.ContentType = "application/problem+json; charset=utf-8";
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await response.WriteAsync(problem.ToJson().ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    private string PartPath(string session) => Path.Combine(_partsDirectory, session + ".part");

    private static bool IsTrue(string? value) =>
        value is not null && value.Trim().ToLowerInvariant() is "1" or "true" or "t" or "yes" or "y" or "on";

    private async Task<SessionLock?> AcquireAsync(string session, CancellationToken cancellationToken)
    {
        SessionLock gate;
        lock (_locks)
        {
            if (!_locks.TryGetValue(session, out gate!)) _locks[session] = gate = new SessionLock();
            gate.References++;
        }
        bool entered = false;
        try
        {
            entered = await gate.Semaphore.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        if (entered) return gate;
        Unreference(session, gate);
        return null;
    }

    private void Release(string session, SessionLock gate)
    {
        gate.Semaphore.Release();
        Unreference(session, gate);
    }

    private void Unreference(string session, SessionLock gate)
    {
        lock (_locks)
        {
            if (--gate.References == 0)
            {
                _locks.Remove(session);
                gate.Semaphore.Dispose();
            }
        }
    }

    private static void TryDelete(string path)
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

    private sealed class SessionLock
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);
        public int References { get; set; }
    }
}

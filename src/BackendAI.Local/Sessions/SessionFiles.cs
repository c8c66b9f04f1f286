using System.Formats.Tar;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace BackendAI.Local.Sessions;

/// <summary>Upload, download and listing of a session's work directory (sessions.md §11, §12).</summary>
internal static class SessionFiles
{
    public const int MaxUploadParts = 20;
    public const int MaxFileBytes = 1 << 20;
    public const int MaxDownloadFiles = 5;

    /// <summary>
    /// Maps a client path (relative to the work dir, or absolute under <c>/home/work</c>) to a full path
    /// inside <paramref name="workDir"/>; null when it would escape.
    /// </summary>
    public static string? Confine(string workDir, string path)
    {
        if (path.Contains('\0', StringComparison.Ordinal)) return null;
        var root = Path.GetFullPath(workDir).TrimEnd('/');
        var rel = path;
        if (rel == "/home/work") rel = ".";
        else if (rel.StartsWith("/home/work/", StringComparison.Ordinal)) rel = rel["/home/work/".Length..];
        else if (Path.IsPathRooted(rel)) return null;
        var full = Path.GetFullPath(Path.Combine(root, rel)).TrimEnd('/');
        return full == root || full.StartsWith(root + "/", StringComparison.Ordinal) ? full : null;
    }

    private static string WorkDir(LocalSession s)
    {
        Directory.CreateDirectory(s.WorkDirectory);
        return s.WorkDirectory;
    }

    public static async Task<IResult> Upload(HttpContext ctx, string id)
    {
        var s = SessionEndpoints.Resolve(ctx, id);
        var workDir = WorkDir(s);
        if (!MediaTypeHeaderValue.TryParse(ctx.Request.ContentType, out var mt)
            || !mt.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mt.Boundary).Value is not { Length: > 0 } boundary)
            throw ApiProblemException.InvalidParams("Expected a multipart/form-data body.");
        var reader = new MultipartReader(boundary, ctx.Request.Body);
        var files = new List<(string Path, byte[] Data)>();
        while (await reader.ReadNextSectionAsync(ctx.RequestAborted) is { } section)
        {
            if (files.Count >= MaxUploadParts) throw ApiProblemException.InvalidParams("Too many files");
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var cd))
                throw ApiProblemException.InvalidParams("A part has no valid Content-Disposition.");
            string? name = cd.FileNameStar.HasValue ? cd.FileNameStar.Value
                : cd.FileName.HasValue ? Uri.UnescapeDataString(HeaderUtilities.RemoveQuotes(cd.FileName).Value ?? "") : null;
            if (string.IsNullOrEmpty(name)) throw ApiProblemException.InvalidParams("A part has no filename.");
            var target = Confine(workDir, name);
            if (target is null || target == Path.GetFullPath(workDir).TrimEnd('/'))
                throw ApiProblemException.InvalidParams($"The file path '{name}' is outside the session's working directory.");
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int n;
            while ((n = await section.Body.ReadAsync(chunk, ctx.RequestAborted)) > 0)
            {
                if (buffer.Length + n >= MaxFileBytes) throw ApiProblemException.InvalidParams("Too large file");
                buffer.Write(chunk, 0, n);
            }
            files.Add((target, buffer.ToArray()));
        }
        foreach (var (path, data) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, data, ctx.RequestAborted);
        }
        return Results.NoContent();
    }

    private static List<string> FileList(JsonNode? node) => node switch
    {
        null => [],
        JsonArray a => [.. a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw ApiProblemException.InvalidParams("files must be a list of strings"))],
        JsonValue v when v.TryGetValue<string>(out var one) => [one],
        _ => throw ApiProblemException.InvalidParams("files must be a list of strings"),
    };

    private static async Task<byte[]> ArchiveAsync(string workDir, string requested, CancellationToken ct)
    {
        var full = Confine(workDir, requested);
        if (full is null || (!File.Exists(full) && !Directory.Exists(full)))
            throw ApiProblemException.InvalidParams("The file is not found.");
        using var ms = new MemoryStream();
        await using (var tar = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            var baseName = Path.GetFileName(full.TrimEnd('/'));
            if (File.Exists(full))
            {
                await tar.WriteEntryAsync(full, baseName, ct);
            }
            else
            {
                await tar.WriteEntryAsync(full, baseName, ct);
                foreach (var entry in Directory.EnumerateFileSystemEntries(full, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    await tar.WriteEntryAsync(entry, baseName + "/" + Path.GetRelativePath(full, entry), ct);
                    if (ms.Length > MaxFileBytes) throw ApiProblemException.InvalidParams("Too large file");
                }
            }
        }
        if (ms.Length > MaxFileBytes) throw ApiProblemException.InvalidParams("Too large file");
        return ms.ToArray();
    }

    private static async Task WriteLimitedAsync(HttpContext ctx, byte[] data, long? remaining)
    {
        if (remaining is { } r && r < data.Length)
        {
            await ctx.Response.Body.WriteAsync(data.AsMemory(0, (int)Math.Max(0, r)), ctx.RequestAborted);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            ctx.Abort();
            throw new OperationCanceledException("download truncated by fault injection", ctx.RequestAborted);
        }
        await ctx.Response.Body.WriteAsync(data, ctx.RequestAborted);
    }

    public static async Task Download(HttpContext ctx, string id)
    {
        var s = SessionEndpoints.Resolve(ctx, id);
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("files", "owner_access_key");
        var files = FileList(p.Node("files"));
        p.ThrowIfInvalid();
        if (files.Count == 0) throw ApiProblemException.InvalidParams("Input validation error", new JsonObject { ["files"] = "is required" });
        if (files.Count > MaxDownloadFiles) throw ApiProblemException.InvalidParams("Too many files");
        var workDir = WorkDir(s);
        var archives = new List<byte[]>();
        foreach (var f in files) archives.Add(await ArchiveAsync(workDir, f, ctx.RequestAborted));

        var boundary = Guid.NewGuid().ToString("N");
        var body = new MemoryStream();
        foreach (var a in archives)
        {
            var head = $"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Encoding: identity\r\nContent-Length: {a.Length.ToString(CultureInfo.InvariantCulture)}\r\n\r\n";
            body.Write(Encoding.ASCII.GetBytes(head));
            body.Write(a);
            body.Write("\r\n"u8);
        }
        body.Write(Encoding.ASCII.GetBytes($"--{boundary}--\r\n"));
        var bytes = body.ToArray();
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = $"multipart/mixed; boundary={boundary}";
        ctx.Response.ContentLength = bytes.Length;
        var faults = ctx.RequestServices.GetRequiredService<FaultInjection>();
        await WriteLimitedAsync(ctx, bytes, faults.TruncateDownloadsAfterBytes);
    }

    public static async Task DownloadSingle(HttpContext ctx, string id)
    {
        var s = SessionEndpoints.Resolve(ctx, id);
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("file", "owner_access_key");
        var file = p.RequiredString("file");
        p.ThrowIfInvalid();
        var bytes = await ArchiveAsync(WorkDir(s), file, ctx.RequestAborted);
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/octet-stream";
        ctx.Response.ContentLength = bytes.Length;
        var faults = ctx.RequestServices.GetRequiredService<FaultInjection>();
        await WriteLimitedAsync(ctx, bytes, faults.TruncateDownloadsAfterBytes);
    }

    public static async Task<IResult> ListFiles(HttpContext ctx, string id)
    {
        var s = SessionEndpoints.Resolve(ctx, id);
        var p = (await RequestParams.ReadAsync(ctx, ctx.RequestAborted)).Allow("path", "owner_access_key");
        var path = p.String("path") ?? ".";
        p.ThrowIfInvalid();
        var full = Confine(WorkDir(s), path)
            ?? throw ApiProblemException.InvalidParams($"The path '{path}' is outside the session's working directory.");
        string files = "[]", errors = "";
        if (!Directory.Exists(full))
        {
            errors = $"FileNotFoundError: [Errno 2] No such file or directory: '{path}'";
        }
        else
        {
            var sb = new StringBuilder("[");
            var first = true;
            foreach (var entry in new DirectoryInfo(full).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                if (!first) sb.Append(", ");
                first = false;
                var size = entry is FileInfo fi ? fi.Length : 4096;
                sb.Append("{\"mode\": ").Append(PyJsonString(ModeString(entry)))
                  .Append(", \"size\": ").Append(size.ToString(CultureInfo.InvariantCulture))
                  .Append(", \"ctime\": ").Append(Epoch(entry.CreationTimeUtc))
                  .Append(", \"mtime\": ").Append(Epoch(entry.LastWriteTimeUtc))
                  .Append(", \"atime\": ").Append(Epoch(entry.LastAccessTimeUtc))
                  .Append(", \"filename\": ").Append(PyJsonString(entry.Name)).Append('}');
            }
            files = sb.Append(']').ToString();
        }
        return HttpContextExtensions.Json(new JsonObject { ["files"] = files, ["errors"] = errors, ["abspath"] = path });
    }

    private static string PyJsonString(string s) => BackendAI.Local.Events.PyJson.Str(s);

    private static string Epoch(DateTime utc) =>
        ((utc - DateTime.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond).ToString("0.0#####", CultureInfo.InvariantCulture);

    private static string ModeString(FileSystemInfo e)
    {
        var m = OperatingSystem.IsWindows() ? (UnixFileMode)0x1ED : e.UnixFileMode;
        var sb = new StringBuilder(10);
        sb.Append(e.LinkTarget is not null ? 'l' : e is DirectoryInfo ? 'd' : '-');
        sb.Append(m.HasFlag(UnixFileMode.UserRead) ? 'r' : '-').Append(m.HasFlag(UnixFileMode.UserWrite) ? 'w' : '-').Append(m.HasFlag(UnixFileMode.UserExecute) ? 'x' : '-');
        sb.Append(m.HasFlag(UnixFileMode.GroupRead) ? 'r' : '-').Append(m.HasFlag(UnixFileMode.GroupWrite) ? 'w' : '-').Append(m.HasFlag(UnixFileMode.GroupExecute) ? 'x' : '-');
        sb.Append(m.HasFlag(UnixFileMode.OtherRead) ? 'r' : '-').Append(m.HasFlag(UnixFileMode.OtherWrite) ? 'w' : '-').Append(m.HasFlag(UnixFileMode.OtherExecute) ? 'x' : '-');
        return sb.ToString();
    }
}

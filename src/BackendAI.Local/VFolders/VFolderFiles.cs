using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Client.Errors;
using BackendAI.Local.Hosting;

namespace BackendAI.Local.VFolders;

/// <summary>One directory entry of a folder listing.</summary>
/// <param name="Name">Entry name.</param>
/// <param name="Kind"><c>FILE</c>, <c>DIRECTORY</c> or <c>SYMLINK</c>.</param>
/// <param name="Size">Size in bytes (directories report 4096 like a typical stat).</param>
/// <param name="Mode">Unix permission bits.</param>
/// <param name="Created">Creation (or change) time.</param>
/// <param name="Modified">Last write time.</param>
internal sealed record VFolderEntry(string Name, string Kind, long Size, UnixFileMode Mode, DateTimeOffset Created, DateTimeOffset Modified);

/// <summary>
/// File operations inside one folder root. Every relative path is checked to stay inside the root
/// (also through symbolic links); violations and storage failures raise 400 vfolder-operation-failed.
/// </summary>
internal static class VFolderFiles
{
    /// <summary>The 400 vfolder-operation-failed error with a storage message.</summary>
    public static ApiProblemException Failed(string msg) => new(ProblemTypes.VFolderOperationFailed, msg);

    /// <summary>Resolves <paramref name="relative"/> under <paramref name="root"/>, refusing anything that escapes it.</summary>
    public static string Resolve(string root, string? relative)
    {
        var rootFull = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        if (string.IsNullOrEmpty(relative) || relative == ".") return rootFull;
        if (relative.Contains('\0') || Path.IsPathRooted(relative) || relative.StartsWith('~'))
            throw Failed($"The path is not inside the folder: {relative}");
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(rootFull, relative)));
        if (full != rootFull && !full.StartsWith(rootFull + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw Failed($"The path is not inside the folder: {relative}");
        // Symbolic links inside the folder must not lead out of it.
        var current = rootFull;
        foreach (var part in full[rootFull.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = new FileInfo(current);
            if (!info.Exists)
            {
                info = new DirectoryInfo(current);
                if (!info.Exists && info.LinkTarget is null) break;
            }
            if (info.LinkTarget is null) continue;
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            var targetFull = target is null ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(target.FullName));
            if (targetFull is null || (targetFull != rootFull && !targetFull.StartsWith(rootFull + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
                throw Failed($"The path is not inside the folder: {relative}");
        }
        return full;
    }

    /// <summary>Creates a directory.</summary>
    public static void MakeDirectory(string root, string path, bool parents, bool existOk)
    {
        var full = Resolve(root, path);
        if (File.Exists(full)) throw Failed($"File exists: {path}");
        if (Directory.Exists(full))
        {
            if (existOk) return;
            throw Failed($"File exists: {path}");
        }
        var parent = Path.GetDirectoryName(full)!;
        if (!parents && !Directory.Exists(parent)) throw Failed($"No such file or directory: {path}");
        Guard(() => Directory.CreateDirectory(full));
    }

    /// <summary>Renames an entry within its directory.</summary>
    public static void Rename(string root, string targetPath, string newName)
    {
        if (string.IsNullOrEmpty(newName) || newName is "." or ".." || newName.Contains('/') || newName.Contains('\0'))
            throw Failed($"Invalid new name: {newName}");
        var src = Resolve(root, targetPath);
        if (src == Resolve(root, null)) throw Failed("Cannot rename the folder root.");
        var dst = Path.Combine(Path.GetDirectoryName(src)!, newName);
        Resolve(root, Path.GetRelativePath(root, dst));
        MoveEntry(src, dst, targetPath);
    }

    /// <summary>Moves an entry anywhere inside the folder; an existing directory as destination receives it.</summary>
    public static void Move(string root, string srcPath, string dstPath)
    {
        var src = Resolve(root, srcPath);
        var dst = Resolve(root, dstPath);
        var rootFull = Resolve(root, null);
        if (src == rootFull) throw Failed("Cannot move the folder root.");
        if (Directory.Exists(dst)) dst = Path.Combine(dst, Path.GetFileName(src));
        if (dst.StartsWith(src + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw Failed($"Cannot move a directory into itself: {srcPath}");
        MoveEntry(src, dst, srcPath);
    }

    private static void MoveEntry(string src, string dst, string shown)
    {
        if (!Exists(src)) throw Failed($"No such file or directory: {shown}");
        if (Exists(dst)) throw Failed($"File exists: {Path.GetFileName(dst)}");
        if (!Directory.Exists(Path.GetDirectoryName(dst))) throw Failed($"No such file or directory: {Path.GetDirectoryName(dst)}");
        Guard(() =>
        {
            if (Directory.Exists(src) && new DirectoryInfo(src).LinkTarget is null) Directory.Move(src, dst);
            else File.Move(src, dst);
        });
    }

    /// <summary>Deletes files, and directories when <paramref name="recursive"/>.</summary>
    public static void Delete(string root, IReadOnlyList<string> files, bool recursive)
    {
        var rootFull = Resolve(root, null);
        var resolved = files.Select(f => (Shown: f, Full: Resolve(root, f))).ToList();
        foreach (var (shown, full) in resolved)
        {
            if (full == rootFull) throw Failed("Cannot delete the folder root.");
            if (!Exists(full)) throw Failed($"No such file or directory: {shown}");
            if (IsRealDirectory(full) && !recursive) throw Failed($"Is a directory (set recursive to delete it): {shown}");
        }
        foreach (var (_, full) in resolved)
        {
            Guard(() =>
            {
                if (IsRealDirectory(full)) Directory.Delete(full, recursive: true);
                else if (Exists(full)) File.Delete(full);
            });
        }
    }

    /// <summary>Lists a directory's entries, sorted by name.</summary>
    public static IReadOnlyList<VFolderEntry> List(string root, string? path)
    {
        var full = Resolve(root, path);
        if (File.Exists(full)) throw Failed($"Not a directory: {path}");
        if (!Directory.Exists(full)) throw Failed($"No such file or directory: {path}");
        var result = new List<VFolderEntry>();
        foreach (var info in new DirectoryInfo(full).EnumerateFileSystemInfos().OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            var kind = info.LinkTarget is not null ? "SYMLINK" : info is DirectoryInfo ? "DIRECTORY" : "FILE";
            var size = info switch
            {
                _ when kind == "SYMLINK" => (long)Encoding.UTF8.GetByteCount(info.LinkTarget!),
                FileInfo file => file.Length,
                _ => 4096L,
            };
            UnixFileMode mode = OperatingSystem.IsWindows() ? default : info.UnixFileMode;
            result.Add(new VFolderEntry(info.Name, kind, size, mode,
                new DateTimeOffset(info.CreationTimeUtc, TimeSpan.Zero), new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero)));
        }
        return result;
    }

    /// <summary>Counts regular files and their bytes under the root.</summary>
    public static (int Files, long Bytes) Usage(string root)
    {
        if (!Directory.Exists(root)) return (0, 0);
        int files = 0;
        long bytes = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var f in new DirectoryInfo(root).EnumerateFiles("*", options))
        {
            files++;
            bytes += f.Length;
        }
        return (files, bytes);
    }

    /// <summary>The listing response: <c>items</c> and the legacy double-encoded <c>files</c>.</summary>
    public static JsonObject ListingJson(IReadOnlyList<VFolderEntry> entries)
    {
        var items = new JsonArray();
        var legacy = new StringBuilder("[");
        foreach (var e in entries)
        {
            items.Add(new JsonObject
            {
                ["name"] = e.Name,
                ["type"] = e.Kind,
                ["size"] = e.Size,
                ["mode"] = Convert.ToString((int)e.Mode & 0x1FF, 8).PadLeft(3, '0'),
                ["created"] = VFolderConstants.IsoDate(e.Created),
                ["modified"] = VFolderConstants.IsoDate(e.Modified),
            });
            if (legacy.Length > 1) legacy.Append(", ");
            legacy.Append("{\"filename\": ").Append(JsonSerializer.Serialize(e.Name))
                .Append(", \"size\": ").Append(e.Size.ToString(CultureInfo.InvariantCulture))
                .Append(", \"mode\": \"").Append(LsMode(e)).Append('"')
                .Append(", \"ctime\": ").Append(Epoch(e.Created))
                .Append(", \"atime\": 0")
                .Append(", \"mtime\": ").Append(Epoch(e.Modified)).Append('}');
        }
        legacy.Append(']');
        return new JsonObject { ["items"] = items, ["files"] = legacy.ToString() };
    }

    /// <summary>An <c>ls</c>-style mode string, e.g. <c>-rw-r--r--</c>.</summary>
    public static string LsMode(VFolderEntry e)
    {
        var sb = new StringBuilder(10);
        sb.Append(e.Kind switch { "DIRECTORY" => 'd', "SYMLINK" => 'l', _ => '-' });
        const string letters = "rwxrwxrwx";
        for (var i = 0; i < 9; i++)
            sb.Append(((int)e.Mode & (1 << (8 - i))) != 0 ? letters[i] : '-');
        return sb.ToString();
    }

    private static string Epoch(DateTimeOffset t) =>
        (t.ToUnixTimeMilliseconds() / 1000.0 + (t.Ticks % 10_000) / 10_000_000.0).ToString("0.0#####", CultureInfo.InvariantCulture);

    private static bool Exists(string full) => File.Exists(full) || Directory.Exists(full) || new FileInfo(full).LinkTarget is not null;

    private static bool IsRealDirectory(string full) => Directory.Exists(full) && new DirectoryInfo(full).LinkTarget is null;

    private static void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failed(e.Message);
        }
    }
}

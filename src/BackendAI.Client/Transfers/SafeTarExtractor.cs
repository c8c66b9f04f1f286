using System.Formats.Tar;
using BackendAI.Client.Errors;

namespace BackendAI.Client.Transfers;

/// <summary>
/// Extracts tar archives received from a server (session downloads, sessions.md §12.1) without
/// letting them write outside the destination directory.
/// </summary>
/// <remarks>
/// Rejected with <see cref="BackendProtocolException"/> naming the entry: absolute paths, <c>..</c>
/// segments that climb above the destination, symbolic links whose target (followed through the
/// archive's other links) leaves the destination, hard links to anything but an earlier regular file
/// of the same archive, entries written through a symbolic link, device files, FIFOs and other special
/// entries. Hard links are extracted as copies. Entries are first written to a temporary directory
/// next to the destination (inside it when its parent is not writable); only when the whole archive has been read and checked are they moved
/// into place, so a rejected or cancelled extraction leaves nothing under the final names.
/// </remarks>
public static class SafeTarExtractor
{
    private const int MaxLinkDepth = 40;
    private const UnixFileMode PermissionBits =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private enum Kind
    {
        File,
        Directory,
        SymbolicLink,
    }

    private sealed record Item(string Path, Kind Kind, string? LinkTarget);

    /// <summary>Extracts <paramref name="tar"/> into <paramref name="destinationDirectory"/> (created when missing).</summary>
    /// <param name="tar">The archive (uncompressed tar: ustar, pax, gnu or v7). Left open.</param>
    /// <param name="destinationDirectory">Where the entries go. Existing files with the same names are replaced.</param>
    /// <param name="cancellationToken">Cancels reading; once every entry is checked, the final moves are not interrupted.</param>
    /// <returns>The archive's member paths, normalised (<c>/</c>-separated, relative, no <c>.</c> segments), in archive order.</returns>
    /// <exception cref="BackendProtocolException">The archive is malformed or contains an unsafe entry.</exception>
    public static async Task<IReadOnlyList<string>> ExtractAsync(
        Stream tar, string destinationDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tar);
        ArgumentException.ThrowIfNullOrEmpty(destinationDirectory);
        var destination = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destinationDirectory));
        var staging = CreateStaging(destination);
        try
        {
            var items = await StageAsync(tar, staging, cancellationToken).ConfigureAwait(false);
            CheckLinks(items);
            cancellationToken.ThrowIfCancellationRequested();
            CheckDestination(destination, items.Values);
            Commit(staging, destination, items.Values);
            return [.. items.Keys];
        }
        finally
        {
            TryDelete(staging);
        }
    }

    /// <summary>
    /// A fresh staging directory on the same volume: next to the destination, or (when its parent is not
    /// writable, e.g. extracting into a home directory) a hidden directory inside the destination.
    /// </summary>
    private static string CreateStaging(string destination)
    {
        var name = $".{Path.GetFileName(destination)}.extract-{Guid.NewGuid():N}";
        var parent = Path.GetDirectoryName(destination);
        if (parent is not null)
        {
            try
            {
                Directory.CreateDirectory(parent);
                return Directory.CreateDirectory(Path.Combine(parent, name)).FullName;
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                // fall back to inside the destination
            }
        }

        Directory.CreateDirectory(destination);
        return Directory.CreateDirectory(Path.Combine(destination, name)).FullName;
    }

    /// <summary>Reads every entry, checking names and writing contents under <paramref name="staging"/>.</summary>
    private static async Task<OrderedDictionary<string, Item>> StageAsync(Stream tar, string staging, CancellationToken cancellationToken)
    {
        var items = new OrderedDictionary<string, Item>(StringComparer.Ordinal);
        await using var reader = new TarReader(tar, leaveOpen: true);
        while (true)
        {
            TarEntry? entry;
            try
            {
                entry = await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
            {
                throw new BackendProtocolException($"The tar archive is malformed: {e.Message}", e);
            }

            if (entry is null)
            {
                return items;
            }

            var path = NormalizeEntryPath(entry.Name, entry.Name);
            if (path.Length == 0)
            {
                if (entry.EntryType == TarEntryType.Directory)
                {
                    continue; // "./": the destination itself
                }

                throw Unsafe(entry.Name, "has an empty path");
            }

            CheckParents(items, path, entry.Name);
            var target = Path.Combine(staging, path);
            items.TryGetValue(path, out var existing);
            switch (entry.EntryType)
            {
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    if (existing is not null && existing.Kind != Kind.File)
                    {
                        throw Unsafe(entry.Name, $"replaces an earlier {Describe(existing.Kind)} of the same name");
                    }

                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    await WriteFileAsync(entry, target, cancellationToken).ConfigureAwait(false);
                    items[path] = new Item(path, Kind.File, null);
                    break;

                case TarEntryType.Directory:
                    if (existing is not null && existing.Kind != Kind.Directory)
                    {
                        throw Unsafe(entry.Name, $"replaces an earlier {Describe(existing.Kind)} of the same name");
                    }

                    Directory.CreateDirectory(target);
                    items[path] = new Item(path, Kind.Directory, null);
                    break;

                case TarEntryType.SymbolicLink:
                    var linkTarget = entry.LinkName;
                    if (string.IsNullOrEmpty(linkTarget) || linkTarget.Contains('\0', StringComparison.Ordinal))
                    {
                        throw Unsafe(entry.Name, "is a symbolic link without a valid target");
                    }

                    if (IsRooted(linkTarget))
                    {
                        throw Unsafe(entry.Name, $"is a symbolic link to the absolute path '{linkTarget}', outside the destination");
                    }

                    if (existing is not null)
                    {
                        throw Unsafe(entry.Name, $"replaces an earlier {Describe(existing.Kind)} of the same name");
                    }

                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.CreateSymbolicLink(target, linkTarget);
                    items[path] = new Item(path, Kind.SymbolicLink, linkTarget);
                    break;

                case TarEntryType.HardLink:
                    var source = NormalizeEntryPath(entry.LinkName, entry.Name);
                    if (!items.TryGetValue(source, out var linked) || linked.Kind != Kind.File)
                    {
                        throw Unsafe(entry.Name, $"is a hard link to '{entry.LinkName}', which is not an earlier regular file of the archive");
                    }

                    if (existing is not null && existing.Kind != Kind.File)
                    {
                        throw Unsafe(entry.Name, $"replaces an earlier {Describe(existing.Kind)} of the same name");
                    }

                    if (source != path)
                    {
                        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        File.Copy(Path.Combine(staging, source), target, overwrite: true);
                    }

                    items[path] = new Item(path, Kind.File, null);
                    break;

                case TarEntryType.CharacterDevice or TarEntryType.BlockDevice:
                    throw Unsafe(entry.Name, "is a device file");

                case TarEntryType.Fifo:
                    throw Unsafe(entry.Name, "is a FIFO");

                default:
                    throw Unsafe(entry.Name, $"has the unsupported entry type {entry.EntryType}");
            }
        }
    }

    private static async Task WriteFileAsync(TarEntry entry, string target, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            // Permission bits only: never setuid, setgid or sticky from a server; the owner can always read and write.
            options.UnixCreateMode = (entry.Mode & PermissionBits) | UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var output = new FileStream(target, options))
        {
            if (entry.DataStream is { } data)
            {
                await data.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            }
        }

        if (entry.ModificationTime > DateTimeOffset.UnixEpoch)
        {
            File.SetLastWriteTimeUtc(target, entry.ModificationTime.UtcDateTime);
        }
    }

    /// <summary>No entry may sit below a symbolic link or a file of the archive (that would write through it).</summary>
    private static void CheckParents(OrderedDictionary<string, Item> items, string path, string entryName)
    {
        for (var slash = path.IndexOf('/', StringComparison.Ordinal); slash >= 0; slash = path.IndexOf('/', slash + 1))
        {
            if (items.TryGetValue(path[..slash], out var parent) && parent.Kind != Kind.Directory)
            {
                throw Unsafe(entryName, $"would be written through the {Describe(parent.Kind)} '{parent.Path}'");
            }
        }
    }

    /// <summary>Every symbolic link, followed through the archive's other links, must stay inside the destination.</summary>
    private static void CheckLinks(OrderedDictionary<string, Item> items)
    {
        foreach (var item in items.Values)
        {
            if (item.Kind == Kind.SymbolicLink)
            {
                var directory = ParentSegments(item.Path);
                Resolve(items, directory, item.LinkTarget!, item.Path, 0);
            }
        }
    }

    /// <summary>Resolves <paramref name="target"/> relative to <paramref name="directory"/> the way the file system would.</summary>
    private static List<string> Resolve(OrderedDictionary<string, Item> items, List<string> directory, string target, string linkPath, int depth)
    {
        if (depth > MaxLinkDepth)
        {
            throw Unsafe(linkPath, "is part of a symbolic link loop");
        }

        if (IsRooted(target))
        {
            throw Unsafe(linkPath, $"is a symbolic link that leads to the absolute path '{target}'");
        }

        var current = new List<string>(directory);
        foreach (var segment in target.Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (current.Count == 0)
                {
                    throw Unsafe(linkPath, $"is a symbolic link to '{target}', which leaves the destination");
                }

                current.RemoveAt(current.Count - 1);
                continue;
            }

            current.Add(segment);
            if (items.TryGetValue(string.Join('/', current), out var inner) && inner.Kind == Kind.SymbolicLink)
            {
                current.RemoveAt(current.Count - 1);
                current = Resolve(items, current, inner.LinkTarget!, linkPath, depth + 1);
            }
        }

        return current;
    }

    /// <summary>Existing directories below the destination must not be symbolic links (entries would land outside).</summary>
    private static void CheckDestination(string destination, IEnumerable<Item> items)
    {
        var checkedDirectories = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var segments = item.Path.Split('/');
            var current = destination;
            for (var i = 0; i < segments.Length - 1; i++)
            {
                current = Path.Combine(current, segments[i]);
                if (checkedDirectories.Add(current) && IsLink(current))
                {
                    throw Unsafe(item.Path, $"would be written through the existing symbolic link '{current}'");
                }
            }

            var final = Path.Combine(destination, item.Path);
            if (item.Kind == Kind.Directory && File.Exists(final))
            {
                throw Unsafe(item.Path, $"is a directory but '{final}' is an existing file");
            }

            if (item.Kind != Kind.Directory && Directory.Exists(final) && !IsLink(final))
            {
                throw Unsafe(item.Path, $"would replace the existing directory '{final}'");
            }
        }
    }

    private static void Commit(string staging, string destination, IEnumerable<Item> items)
    {
        Directory.CreateDirectory(destination);
        foreach (var item in items)
        {
            var final = Path.Combine(destination, item.Path);
            if (item.Kind == Kind.Directory)
            {
                if (IsLink(final))
                {
                    File.Delete(final);
                }

                Directory.CreateDirectory(final);
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            if (IsLink(final))
            {
                File.Delete(final); // replace the link itself, never what it points to
            }

            File.Move(Path.Combine(staging, item.Path), final, overwrite: true);
        }
    }

    /// <summary>Normalises a tar path: <c>/</c>-separated, no <c>.</c> or empty segments, <c>..</c> resolved; rejects escapes.</summary>
    private static string NormalizeEntryPath(string name, string entryName)
    {
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw Unsafe(entryName, "contains a NUL character");
        }

        if (IsRooted(name))
        {
            throw Unsafe(entryName, "has an absolute path");
        }

        var segments = new List<string>();
        foreach (var segment in name.Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (segments.Count == 0)
                {
                    throw Unsafe(entryName, "has a '..' segment that leaves the destination");
                }

                segments.RemoveAt(segments.Count - 1);
                continue;
            }

            if (segment.Contains(':', StringComparison.Ordinal) && OperatingSystem.IsWindows())
            {
                throw Unsafe(entryName, "has a ':' in its path (a drive or stream name on Windows)");
            }

            segments.Add(segment);
        }

        return string.Join('/', segments);
    }

    private static bool IsRooted(string path) =>
        path.StartsWith('/') || path.StartsWith('\\') ||
        (path.Length >= 2 && path[1] == ':' && char.IsAsciiLetter(path[0])) ||
        Path.IsPathRooted(path);

    private static List<string> ParentSegments(string path)
    {
        var segments = path.Split('/').ToList();
        segments.RemoveAt(segments.Count - 1);
        return segments;
    }

    private static bool IsLink(string path)
    {
        var attributes = new FileInfo(path).Attributes; // lstat: does not follow the link
        return attributes != (FileAttributes)(-1) && attributes.HasFlag(FileAttributes.ReparsePoint);
    }

    private static string Describe(Kind kind) => kind switch
    {
        Kind.File => "file",
        Kind.Directory => "directory",
        _ => "symbolic link",
    };

    private static BackendProtocolException Unsafe(string entryName, string problem) =>
        new($"Refusing to extract tar entry '{entryName}': it {problem}.");

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

using BackendAI.Client.Tests.Infrastructure;
using System.Formats.Tar;
using BackendAI.Client.Errors;
using BackendAI.Client.Transfers;

namespace BackendAI.Client.Tests.Transfers;

/// <summary>Session downloads (sessions.md §12.1) extract tar archives safely.</summary>
public sealed class SafeTarExtractorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("bai-tar-").FullName;

    private string Destination => Path.Combine(_root, "dest");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static MemoryStream Archive(Action<TarWriter> write, TarEntryFormat format = TarEntryFormat.Pax)
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, format, leaveOpen: true))
        {
            write(writer);
        }

        stream.Position = 0;
        return stream;
    }

    private static void AddFile(TarWriter writer, string name, byte[] content, UnixFileMode? mode = null)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) };
        if (mode is { } m)
        {
            entry.Mode = m;
        }

        writer.WriteEntry(entry);
    }

    private static void AddLink(TarWriter writer, TarEntryType type, string name, string target) =>
        writer.WriteEntry(new PaxTarEntry(type, name) { LinkName = target });

    /// <summary>Everything under the test root except what existed before, as relative paths.</summary>
    private List<string> EverythingUnderRoot() =>
        [.. Directory.EnumerateFileSystemEntries(_root, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(_root, p)).Order()];

    public static TheoryData<string, string> HostileArchives() => new()
    {
        { "absolute", "/tmp/bai-evil.txt" },
        { "dotdot", "../escape.txt" },
        { "deep-dotdot", "a/../../x.txt" },
        { "symlink-absolute", "passwd" },
        { "symlink-relative", "up" },
        { "symlink-chain", "c" },
        { "hardlink-absolute", "hl" },
        { "hardlink-outside", "hl2" },
        { "write-through-symlink", "s/x.txt" },
        { "char-device", "tty" },
        { "block-device", "sda" },
        { "fifo", "pipe" },
    };

    private static MemoryStream Hostile(string kind) => Archive(w =>
    {
        AddFile(w, "good/first.txt", "harmless"u8.ToArray()); // staged before the bad entry, must not appear
        switch (kind)
        {
            case "absolute": AddFile(w, "/tmp/bai-evil.txt", "x"u8.ToArray()); break;
            case "dotdot": AddFile(w, "../escape.txt", "x"u8.ToArray()); break;
            case "deep-dotdot": AddFile(w, "a/../../x.txt", "x"u8.ToArray()); break;
            case "symlink-absolute": AddLink(w, TarEntryType.SymbolicLink, "passwd", "/etc/passwd"); break;
            case "symlink-relative": AddLink(w, TarEntryType.SymbolicLink, "up", "good/../../outside"); break;
            case "symlink-chain":
                // Lexically "d/.." is the destination, but d -> "." so it really is the destination's parent.
                AddLink(w, TarEntryType.SymbolicLink, "c", "d/..");
                AddLink(w, TarEntryType.SymbolicLink, "d", ".");
                break;
            case "hardlink-absolute": AddLink(w, TarEntryType.HardLink, "hl", "/etc/passwd"); break;
            case "hardlink-outside": AddLink(w, TarEntryType.HardLink, "hl2", "../outside.txt"); break;
            case "write-through-symlink":
                AddLink(w, TarEntryType.SymbolicLink, "s", "good");
                AddFile(w, "s/x.txt", "x"u8.ToArray());
                break;
            case "char-device": w.WriteEntry(new PaxTarEntry(TarEntryType.CharacterDevice, "tty") { DeviceMajor = 5, DeviceMinor = 0 }); break;
            case "block-device": w.WriteEntry(new PaxTarEntry(TarEntryType.BlockDevice, "sda") { DeviceMajor = 8, DeviceMinor = 0 }); break;
            case "fifo": w.WriteEntry(new PaxTarEntry(TarEntryType.Fifo, "pipe")); break;
        }

        AddFile(w, "good/last.txt", "after"u8.ToArray());
    });

    [Theory]
    [MemberData(nameof(HostileArchives))]
    public async Task Hostile_archives_are_rejected_naming_the_entry_and_nothing_is_written(string kind, string entryName)
    {
        File.WriteAllText(Path.Combine(_root, "outside.txt"), "secret");
        var before = EverythingUnderRoot();

        var error = await Assert.ThrowsAsync<BackendProtocolException>(() => SafeTarExtractor.ExtractAsync(Hostile(kind), Destination));

        Assert.Contains($"'{entryName}'", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, EverythingUnderRoot()); // no destination, no staging leftovers, nothing escaped
        Assert.False(File.Exists("/tmp/bai-evil.txt"));
    }

    [Fact]
    public async Task An_existing_symlink_in_the_destination_is_not_written_through()
    {
        var outside = Directory.CreateDirectory(Path.Combine(_root, "elsewhere")).FullName;
        Directory.CreateDirectory(Destination);
        Directory.CreateSymbolicLink(Path.Combine(Destination, "sub"), outside);
        var archive = Archive(w => AddFile(w, "sub/planted.txt", "x"u8.ToArray()));

        var error = await Assert.ThrowsAsync<BackendProtocolException>(() => SafeTarExtractor.ExtractAsync(archive, Destination));

        Assert.Contains("sub/planted.txt", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Theory]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Gnu)]
    [InlineData(TarEntryFormat.Ustar)]
    public async Task A_normal_archive_with_nested_directories_extracts_byte_identically(TarEntryFormat format)
    {
        var big = RandomBytes(1_500_000, 1);
        var small = RandomBytes(333, 2);
        var longName = "deep/" + new string('n', 90) + "/file-with-a-name-longer-than-one-hundred-bytes.bin";
        var archive = Archive(w =>
        {
            w.WriteEntry(format switch
            {
                TarEntryFormat.Gnu => new GnuTarEntry(TarEntryType.Directory, "./"),
                TarEntryFormat.Ustar => new UstarTarEntry(TarEntryType.Directory, "./"),
                _ => new PaxTarEntry(TarEntryType.Directory, "./"),
            });
            WriteEntry(w, format, TarEntryType.Directory, "results/", null, null);
            WriteEntry(w, format, TarEntryType.RegularFile, "results/big.bin", big, null);
            WriteEntry(w, format, TarEntryType.Directory, "results/sub/empty/", null, null);
            WriteEntry(w, format, TarEntryType.RegularFile, "results/sub/small.bin", small, null);
            WriteEntry(w, format, TarEntryType.RegularFile, "./results/sub/zero.txt", [], null);
            WriteEntry(w, format, TarEntryType.RegularFile, "run.sh", "#!/bin/sh\necho hi\n"u8.ToArray(), null,
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.SetUser);
            WriteEntry(w, format, TarEntryType.SymbolicLink, "results/latest", null, "sub/small.bin");
            WriteEntry(w, format, TarEntryType.SymbolicLink, "results/sub/up", null, "../big.bin");
            WriteEntry(w, format, TarEntryType.HardLink, "results/copy.bin", null, "results/sub/small.bin");
            if (format != TarEntryFormat.Ustar)
            {
                WriteEntry(w, format, TarEntryType.RegularFile, longName, small, null);
            }
        }, format);
        Directory.CreateDirectory(Destination);
        File.WriteAllText(Path.Combine(Destination, "run.sh"), "old contents");

        var names = await SafeTarExtractor.ExtractAsync(archive, Destination);

        var expected = new List<string>
        {
            "results", "results/big.bin", "results/sub/empty", "results/sub/small.bin", "results/sub/zero.txt", "run.sh",
            "results/latest", "results/sub/up", "results/copy.bin",
        };
        if (format != TarEntryFormat.Ustar)
        {
            expected.Add(longName);
            Assert.Equal(small, File.ReadAllBytes(Path.Combine(Destination, longName)));
        }

        Assert.Equal(expected, names);
        Assert.Equal(big, File.ReadAllBytes(Path.Combine(Destination, "results/big.bin")));
        Assert.Equal(small, File.ReadAllBytes(Path.Combine(Destination, "results/sub/small.bin")));
        Assert.Empty(File.ReadAllBytes(Path.Combine(Destination, "results/sub/zero.txt")));
        Assert.True(Directory.Exists(Path.Combine(Destination, "results/sub/empty")));
        Assert.Equal("#!/bin/sh\necho hi\n", File.ReadAllText(Path.Combine(Destination, "run.sh")));
        Assert.Equal(small, File.ReadAllBytes(Path.Combine(Destination, "results/copy.bin")));
        Assert.Equal("sub/small.bin", new FileInfo(Path.Combine(Destination, "results/latest")).LinkTarget);
        Assert.Equal(small, File.ReadAllBytes(Path.Combine(Destination, "results/latest")));
        Assert.Equal(big, File.ReadAllBytes(Path.Combine(Destination, "results/sub/up")));
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(Path.Combine(Destination, "run.sh"));
            Assert.True(mode.HasFlag(UnixFileMode.UserExecute));
            Assert.False(mode.HasFlag(UnixFileMode.SetUser)); // never setuid from a server
        }

        Assert.Equal(["dest"], Directory.EnumerateFileSystemEntries(_root).Select(Path.GetFileName)); // staging removed
    }

    private static void WriteEntry(TarWriter writer, TarEntryFormat format, TarEntryType type, string name, byte[]? content, string? link,
        UnixFileMode? mode = null)
    {
        TarEntry entry = format switch
        {
            TarEntryFormat.Gnu => new GnuTarEntry(type, name),
            TarEntryFormat.Ustar => new UstarTarEntry(type, name),
            _ => new PaxTarEntry(type, name),
        };
        if (content is not null)
        {
            entry.DataStream = new MemoryStream(content);
        }

        if (link is not null)
        {
            entry.LinkName = link;
        }

        if (mode is { } m)
        {
            entry.Mode = m;
        }

        writer.WriteEntry(entry);
    }

    [Fact]
    public async Task Cancellation_midway_leaves_nothing_under_final_names()
    {
        var archive = Archive(w =>
        {
            AddFile(w, "one.bin", RandomBytes(200_000, 3));
            AddFile(w, "two.bin", RandomBytes(200_000, 4));
            AddFile(w, "three.bin", RandomBytes(200_000, 5));
        });
        using var cts = new CancellationTokenSource();
        var tripwire = new CancelAfterStream(archive, 300_000, cts);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SafeTarExtractor.ExtractAsync(tripwire, Destination, cts.Token));

        Assert.True(tripwire.Tripped);
        Assert.Empty(EverythingUnderRoot());
    }

    [Fact]
    public async Task A_garbage_archive_is_a_protocol_error()
    {
        var garbage = new MemoryStream(RandomBytes(2048, 6));
        await Assert.ThrowsAsync<BackendProtocolException>(() => SafeTarExtractor.ExtractAsync(garbage, Destination));
        Assert.Empty(EverythingUnderRoot());
    }

    [Fact]
    public async Task An_empty_archive_extracts_nothing()
    {
        var names = await SafeTarExtractor.ExtractAsync(Archive(_ => { }), Destination);
        Assert.Empty(names);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Destination));
    }

    /// <summary>Passes reads through and cancels a token once a number of bytes has been read.</summary>
    private sealed class CancelAfterStream(Stream inner, long limit, CancellationTokenSource cts) : ReadOnlyTestStream
    {
        private long _read;

        public bool Tripped { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        private int Count(int n)
        {
            _read += n;
            if (_read >= limit && !Tripped)
            {
                Tripped = true;
                cts.Cancel();
            }

            return n;
        }
    }
}

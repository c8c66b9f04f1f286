using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Text;
using BackendAI.Client.Errors;
using BackendAI.Client.Tests.Infrastructure;
using BackendAI.Client.Transfers;
using Microsoft.AspNetCore.Http;

namespace BackendAI.Client.Tests.VFolders;

public sealed class VFolderTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("vf-tests-");

    public void Dispose() => _dir.Delete(true);

    /// <summary>A manager + storage proxy on one listener: request-upload/-download hand out tokens, /upload speaks tus,
    /// /download serves Range requests. The first PATCH and the first GET drop the connection half-way.</summary>
    private sealed class Storage
    {
        public ConcurrentDictionary<string, (string Path, long Size)> Tickets { get; } = new();
        public ConcurrentDictionary<string, MemoryStream> Files { get; } = new();
        public byte[] DownloadContent { get; set; } = [];
        public int Patches, Heads, Gets;
        public string? StorageBase { get; set; }

        public async Task Handle(HttpContext ctx, CapturedRequest req)
        {
            switch (req.Path)
            {
                case "/folders/v1/request-upload":
                {
                    var token = "T" + Tickets.Count;
                    Tickets[token] = (req.Json.GetProperty("path").GetString()!, req.Json.GetProperty("size").GetInt64());
                    Files[token] = new MemoryStream();
                    await LoopbackServer.WriteJson(ctx, 200, $"{{\"token\": \"{token}\", \"url\": \"{StorageBase}upload?stale=1\"}}");
                    return;
                }
                case "/folders/v1/request-download":
                    await LoopbackServer.WriteJson(ctx, 200, $"{{\"token\": \"D1\", \"url\": \"{StorageBase}download\"}}");
                    return;
                case "/upload":
                {
                    var token = ctx.Request.Query["token"].ToString();
                    var file = Files[token];
                    ctx.Response.Headers["Tus-Resumable"] = "1.0.0";
                    if (req.Method == "HEAD")
                    {
                        Interlocked.Increment(ref Heads);
                        ctx.Response.Headers["Upload-Offset"] = file.Length.ToString();
                        ctx.Response.Headers["Upload-Length"] = Tickets[token].Size.ToString();
                        return;
                    }
                    var offset = long.Parse(req.Header("Upload-Offset")!);
                    if (offset != file.Length)
                    {
                        ctx.Response.StatusCode = 409;
                        return;
                    }
                    if (Interlocked.Increment(ref Patches) == 1 && req.Body.Length > 1)
                    {
                        file.Write(req.Body, 0, req.Body.Length / 2); // keep half, then drop the connection
                        ctx.Abort();
                        return;
                    }
                    file.Write(req.Body);
                    ctx.Response.StatusCode = 204;
                    ctx.Response.Headers["Upload-Offset"] = file.Length.ToString();
                    return;
                }
                case "/download":
                {
                    var n = Interlocked.Increment(ref Gets);
                    var range = ctx.Request.Headers.Range.ToString();
                    var start = range.StartsWith("bytes=", StringComparison.Ordinal) ? long.Parse(range[6..].Split('-')[0]) : 0;
                    ctx.Response.StatusCode = start > 0 ? 206 : 200;
                    if (start > 0) ctx.Response.Headers.ContentRange = $"bytes {start}-{DownloadContent.Length - 1}/{DownloadContent.Length}";
                    ctx.Response.ContentLength = DownloadContent.Length - start;
                    ctx.Response.ContentType = "application/octet-stream";
                    if (n == 1)
                    {
                        await ctx.Response.Body.WriteAsync(DownloadContent.AsMemory(0, DownloadContent.Length / 2));
                        await ctx.Response.Body.FlushAsync();
                        ctx.Abort();
                        return;
                    }
                    await ctx.Response.Body.WriteAsync(DownloadContent.AsMemory((int)start));
                    return;
                }
                default:
                    await LoopbackServer.WriteJson(ctx, 200, "{}");
                    return;
            }
        }
    }

    private async Task<(LoopbackServer, Storage)> StartStorageAsync()
    {
        var storage = new Storage();
        var server = await LoopbackServer.StartAsync(storage.Handle);
        storage.StorageBase = server.BaseUri.ToString();
        return (server, storage);
    }

    [Fact]
    public async Task Client32_Client33_upload_sends_tus_chunks_and_resumes_from_the_head_offset_after_a_drop()
    {
        var (server, storage) = await StartStorageAsync();
        await using var _ = server;
        await using var client = server.Client();
        var local = Path.Combine(_dir.FullName, "data.bin");
        var content = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
        await File.WriteAllBytesAsync(local, content);
        var reports = new List<TransferProgress>();
        var written = await client.VFolders.UploadAsync("v1", [local], "inbox", new SyncProgress(reports));
        Assert.Equal(["inbox/data.bin"], written);
        Assert.Equal(content, storage.Files["T0"].ToArray());
        Assert.Equal(("inbox/data.bin", 100_000L), storage.Tickets["T0"]);
        Assert.True(storage.Heads >= 1, "resumed via HEAD");
        var patches = server.Requests.Where(r => r.Method == "PATCH").ToList();
        Assert.All(patches, p =>
        {
            Assert.Equal("/upload?token=T0", p.RawTarget);
            Assert.Equal("application/offset+octet-stream", p.Header("Content-Type"));
            Assert.Equal("1.0.0", p.Header("Tus-Resumable"));
            Assert.False(p.HasHeader("Authorization"));
            Assert.False(p.HasHeader("X-BackendAI-Version"));
        });
        Assert.Equal("50000", patches[^1].Header("Upload-Offset"));
        Assert.True(server.Requests.Single(r => r.Path == "/folders/v1/request-upload").SignatureValid);
        Assert.Contains(reports, p => p.BytesTransferred == 100_000 && p.TotalBytes == 100_000);
    }

    [Fact]
    public async Task Upload_of_a_directory_sends_every_file_with_its_relative_path()
    {
        var (server, storage) = await StartStorageAsync();
        await using var _ = server;
        await using var client = server.Client();
        var root = Directory.CreateDirectory(Path.Combine(_dir.FullName, "proj"));
        Directory.CreateDirectory(Path.Combine(root.FullName, "sub"));
        await File.WriteAllTextAsync(Path.Combine(root.FullName, "a.txt"), "A");
        await File.WriteAllTextAsync(Path.Combine(root.FullName, "sub", "b.txt"), "BB");
        await File.WriteAllTextAsync(Path.Combine(root.FullName, "empty.txt"), "");
        var written = await client.VFolders.UploadAsync("v1", [root.FullName]);
        Assert.Equal(["proj/a.txt", "proj/empty.txt", "proj/sub/b.txt"], written);
        Assert.Equal(3, storage.Tickets.Count);
        var byPath = storage.Tickets.ToDictionary(t => t.Value.Path, t => Encoding.UTF8.GetString(storage.Files[t.Key].ToArray()));
        Assert.Equal("A", byPath["proj/a.txt"]);
        Assert.Equal("BB", byPath["proj/sub/b.txt"]);
        Assert.Equal("", byPath["proj/empty.txt"]);
    }

    [Fact]
    public async Task Client34_download_resumes_with_range_and_renames_into_place()
    {
        var (server, storage) = await StartStorageAsync();
        await using var _ = server;
        await using var client = server.Client();
        storage.DownloadContent = Enumerable.Range(0, 200_000).Select(i => (byte)(i % 251)).ToArray();
        var target = await client.VFolders.DownloadAsync("v1", "results/out.bin", _dir.FullName);
        Assert.Equal(Path.Combine(_dir.FullName, "out.bin"), target);
        Assert.Equal(storage.DownloadContent, await File.ReadAllBytesAsync(target));
        Assert.False(File.Exists(target + ".partial"));
        var gets = server.Requests.Where(r => r.Path == "/download").ToList();
        Assert.True(gets.Count >= 2);
        Assert.All(gets, g => Assert.Equal("/download?token=D1", g.RawTarget));
        Assert.StartsWith("bytes=", gets[^1].Header("Range"));
        var ticket = server.Requests.Single(r => r.Path == "/folders/v1/request-download").Json;
        Assert.Equal("results/out.bin", ticket.GetProperty("path").GetString());
        Assert.False(ticket.GetProperty("archive").GetBoolean());
    }

    [Fact]
    public async Task Client35_storage_proxy_overrides_rewrite_the_url_and_unknown_urls_fail()
    {
        var (server, storage) = await StartStorageAsync();
        await using var _ = server;
        storage.StorageBase = "http://storage.internal:6021/";
        await using var client = server.Client(o => o.StorageProxyOverrides = new Dictionary<string, string>
        {
            ["http://storage.internal:6021/"] = server.BaseUri.ToString(),
        });
        var local = Path.Combine(_dir.FullName, "x.txt");
        await File.WriteAllTextAsync(local, "x");
        await client.VFolders.UploadAsync("v1", [local]);
        Assert.Equal("x", Encoding.UTF8.GetString(storage.Files["T0"].ToArray()));
        Assert.Contains(server.Requests, r => r.RawTarget == "/upload?token=T0");

        storage.StorageBase = "http://elsewhere:1/";
        await using var strict = server.Client(o => o.StorageProxyOverrides = new Dictionary<string, string> { ["http://storage.internal:6021/"] = "http://a/" });
        var ex = await Assert.ThrowsAsync<BackendClientException>(() => strict.VFolders.UploadAsync("v1", [local]));
        Assert.Equal("override-storage-proxy", ex.Setting);
    }

    [Fact]
    public async Task Folder_management_calls_have_the_documented_shape()
    {
        await using var server = await LoopbackServer.StartAsync((ctx, req) => req.Path switch
        {
            "/folders" when req.Method == "GET" => LoopbackServer.WriteJson(ctx, 200, "[{\"name\": \"data1\", \"id\": \"1c2b\"}]"),
            "/folders/data1/files" => LoopbackServer.WriteJson(ctx, 200,
                "{\"items\": [{\"name\": \"hello.txt\", \"type\": \"FILE\", \"size\": 6, \"mode\": \"644\", \"created\": \"c\", \"modified\": \"m\"}, {\"name\": \"sub\", \"type\": \"DIRECTORY\", \"size\": 4096, \"mode\": \"755\"}], \"files\": \"[]\"}"),
            "/folders/gone" => LoopbackServer.WriteProblem(ctx, 404, "object-not-found", "No such virtual folder.", "Your operation may be permission denied."),
            _ => LoopbackServer.WriteJson(ctx, req.Method == "DELETE" && req.Path == "/folders/data1" ? 204 : 200, req.Method == "DELETE" && req.Path == "/folders/data1" ? "" : "{}"),
        });
        await using var client = server.Client();
        await client.VFolders.CreateAsync("data1");
        Assert.Equal("data1", Assert.Single(await client.VFolders.ListAsync()).GetProperty("name").GetString());
        await client.VFolders.ListHostsAsync();
        await client.VFolders.GetInfoAsync("data1");
        await client.VFolders.RenameAsync("data1", "data2");
        await client.VFolders.MkdirAsync("data1", "a/b");
        await client.VFolders.RenameFileAsync("data1", "a/old.txt", "new.txt");
        await client.VFolders.DeleteFilesAsync("data1", ["a.txt", "dir"], recursive: true);
        var files = await client.VFolders.ListFilesAsync("data1");
        Assert.Equal(["hello.txt", "sub"], files.Select(f => f.Name));
        Assert.True(files[1].IsDirectory);
        await client.VFolders.DeleteAsync("data1");
        await Assert.ThrowsAsync<VFolderNotFoundException>(() => client.VFolders.GetInfoAsync("gone"));
        var api = server.Api;
        Assert.Equal(
        [
            ("POST", "/folders"), ("GET", "/folders"), ("GET", "/folders/_/hosts"), ("GET", "/folders/data1"), ("POST", "/folders/data1/rename"),
            ("POST", "/folders/data1/mkdir"), ("POST", "/folders/data1/rename-file"), ("DELETE", "/folders/data1/delete-files"),
            ("GET", "/folders/data1/files"), ("DELETE", "/folders/data1"), ("GET", "/folders/gone"),
        ], api.Select(r => (r.Method, r.RawTarget)));
        var create = api[0].Json;
        string[] keys = ["name", "host", "unmanaged_path", "group", "usage_mode", "permission", "quota", "cloneable"];
        Assert.Equal(keys.Order(), create.EnumerateObject().Select(p => p.Name).Order());
        Assert.False(api[1].Json.GetProperty("all").GetBoolean());
        Assert.Equal("data2", api[4].Json.GetProperty("new_name").GetString());
        Assert.True(api[5].Json.GetProperty("parents").GetBoolean());
        Assert.Equal("new.txt", api[6].Json.GetProperty("new_name").GetString());
        Assert.True(api[7].Json.GetProperty("recursive").GetBoolean());
        Assert.All(api, r => Assert.True(r.SignatureValid));
    }

    [Fact]
    public async Task Client31_session_download_extracts_each_tar_part_into_the_destination()
    {
        static byte[] Tar(string name, string content)
        {
            using var ms = new MemoryStream();
            using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
            {
                var e = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };
                w.WriteEntry(e);
            }
            return ms.ToArray();
        }
        var parts = new[] { Tar("out.txt", "hello"), Tar("results/r.txt", "world") };
        await using var server = await LoopbackServer.StartAsync(async (ctx, _) =>
        {
            ctx.Response.ContentType = "multipart/mixed; boundary=BND";
            foreach (var p in parts)
            {
                await ctx.Response.WriteAsync($"--BND\r\nContent-Type: application/octet-stream\r\nContent-Encoding: identity\r\nContent-Length: {p.Length}\r\n\r\n");
                await ctx.Response.Body.WriteAsync(p);
                await ctx.Response.WriteAsync("\r\n");
            }
            await ctx.Response.WriteAsync("--BND--\r\n");
        });
        await using var client = server.Client();
        var dest = Path.Combine(_dir.FullName, "dl");
        var names = await client.Sessions.DownloadAsync("s1", ["out.txt", "results"], dest);
        Assert.Equal(2, names.Count);
        Assert.Equal("hello", await File.ReadAllTextAsync(Path.Combine(dest, "out.txt")));
        Assert.Equal("world", await File.ReadAllTextAsync(Path.Combine(dest, "results", "r.txt")));
    }

    [Fact]
    public async Task Session_download_refuses_an_archive_that_escapes_the_destination()
    {
        byte[] evil;
        using (var ms = new MemoryStream())
        {
            using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
                w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "../escape.txt") { DataStream = new MemoryStream("x"u8.ToArray()) });
            evil = ms.ToArray();
        }
        await using var server = await LoopbackServer.StartAsync(async (ctx, _) =>
        {
            ctx.Response.ContentType = "multipart/mixed; boundary=BND";
            await ctx.Response.WriteAsync("--BND\r\nContent-Type: application/octet-stream\r\n\r\n");
            await ctx.Response.Body.WriteAsync(evil);
            await ctx.Response.WriteAsync("\r\n--BND--\r\n");
        });
        await using var client = server.Client();
        var dest = Path.Combine(_dir.FullName, "safe");
        await Assert.ThrowsAsync<BackendProtocolException>(() => client.Sessions.DownloadAsync("s1", ["x"], dest));
        Assert.False(File.Exists(Path.Combine(_dir.FullName, "escape.txt")));
    }

    private sealed class SyncProgress(List<TransferProgress> sink) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value)
        {
            lock (sink) sink.Add(value);
        }
    }
}

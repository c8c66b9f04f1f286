using System.IO.Compression;
using System.Net;
using System.Text.Json.Nodes;
using BackendAI.Local.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace BackendAI.Local.Tests.VFolders;

/// <summary>Resumable uploads, restarts, isolation and path safety, each on its own host.</summary>
public sealed class VFolderStorageTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(15);

    private static byte[] Bytes(int n) => Enumerable.Range(0, n).Select(i => (byte)(i * 13 + 1)).ToArray();

    private static JsonObject CreateBody(string name, string? group = null) => new()
    {
        ["name"] = name, ["host"] = null, ["unmanaged_path"] = null, ["group"] = group,
        ["usage_mode"] = "general", ["permission"] = "rw", ["quota"] = "0", ["cloneable"] = false,
    };

    private static async Task<string> CreateAsync(VFolderTestHost host, string name, LocalIdentity? caller = null, string? group = null)
    {
        var (status, body, _) = await host.CallAsync(HttpMethod.Post, "/folders", CreateBody(name, group), caller);
        Assert.True(status == 201, $"create failed: {status} {body}");
        return (string)body!["id"]!;
    }

    private static async Task<string> UploadUrlAsync(VFolderTestHost host, string folder, string path, long size, LocalIdentity? caller = null)
    {
        var (status, body, _) = await host.CallAsync(HttpMethod.Post, $"/folders/{folder}/request-upload", new { path, size }, caller);
        Assert.True(status == 200, $"request-upload failed: {status} {body}");
        return $"{body!["url"]}?token={Uri.EscapeDataString((string)body["token"]!)}";
    }

    private static async Task<byte[]> DownloadAsync(VFolderTestHost host, string folder, string path, LocalIdentity? caller = null)
    {
        var (status, body, _) = await host.CallAsync(HttpMethod.Post, $"/folders/{folder}/request-download", new { path }, caller);
        Assert.Equal(200, status);
        using var r = await host.StorageAsync(HttpMethod.Get, $"{body!["url"]}?token={Uri.EscapeDataString((string)body["token"]!)}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return await r.Content.ReadAsByteArrayAsync();
    }

    private static async Task<long> HeadOffsetAsync(VFolderTestHost host, string url)
    {
        using var head = await host.StorageAsync(HttpMethod.Head, url);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        return long.Parse(head.Headers.GetValues("Upload-Offset").Single());
    }

    private static async Task WaitForOffsetAsync(VFolderTestHost host, string url, long expected)
    {
        var deadline = DateTime.UtcNow + Budget;
        while (await HeadOffsetAsync(host, url) != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"upload offset never reached {expected}");
            await Task.Delay(20);
        }
    }

    /// <summary>Sends part of the body, waits until the server has stored it, then drops the connection.</summary>
    private sealed class DroppingContent(byte[] data, int sendBeforeDrop, Func<Task> whenSent) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(data.AsMemory(0, sendBeforeDrop));
            await stream.FlushAsync();
            await whenSent();
            throw new IOException("simulated connection drop");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = data.Length;
            return true;
        }
    }

    [Fact]
    public async Task Tus_upload_interrupted_mid_patch_keeps_received_bytes_and_resumes_from_head()
    {
        await using var host = await VFolderTestHost.StartAsync();
        await CreateAsync(host, "resume");
        var data = Bytes(300_000);
        var url = await UploadUrlAsync(host, "resume", "big/file.bin", data.Length);

        using (var request = new HttpRequestMessage(HttpMethod.Patch, url))
        {
            request.Headers.Add("upload-offset", "0");
            request.Headers.Add("Tus-Resumable", "1.0.0");
            request.Content = new DroppingContent(data, 100_000, () => WaitForOffsetAsync(host, url, 100_000));
            request.Content.Headers.ContentType = new("application/offset+octet-stream");
            await Assert.ThrowsAnyAsync<Exception>(() => host.Http.SendAsync(request));
        }

        var offset = await HeadOffsetAsync(host, url);
        Assert.Equal(100_000, offset);
        using (var r = await host.StorageAsync(HttpMethod.Patch, url, data[(int)offset..], offset))
        {
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
            Assert.Equal("300000", r.Headers.GetValues("Upload-Offset").Single());
        }
        Assert.Equal(data, await DownloadAsync(host, "resume", "big/file.bin"));

        using var afterwards = await host.StorageAsync(HttpMethod.Head, url);
        Assert.Equal(HttpStatusCode.NotFound, afterwards.StatusCode);
    }

    [Fact]
    public async Task Tus_chunk_past_the_declared_size_is_refused_and_stores_nothing()
    {
        await using var host = await VFolderTestHost.StartAsync();
        await CreateAsync(host, "over");
        var url = await UploadUrlAsync(host, "over", "x.bin", 10);
        using var r = await host.StorageAsync(HttpMethod.Patch, url, Bytes(11), 0);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        Assert.Equal(0, await HeadOffsetAsync(host, url));
    }

    [Fact]
    public async Task Files_metadata_and_unfinished_uploads_survive_a_restart_on_the_same_data_directory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "bai-vf-restart-" + Guid.NewGuid().ToString("N"));
        try
        {
            var data = Bytes(4096);
            string id, pendingUrl;
            await using (var first = await VFolderTestHost.StartAsync(dir))
            {
                first.OwnsDirectory = false;
                id = await CreateAsync(first, "keep");
                var url = await UploadUrlAsync(first, "keep", "d/data.bin", data.Length);
                (await first.StorageAsync(HttpMethod.Patch, url, data, 0)).Dispose();
                pendingUrl = await UploadUrlAsync(first, "keep", "later.bin", 40);
                (await first.StorageAsync(HttpMethod.Patch, pendingUrl, Bytes(16), 0)).Dispose();
            }

            await using var second = await VFolderTestHost.StartAsync(dir);
            var (status, list, _) = await second.CallAsync(HttpMethod.Get, "/folders", new { all = false });
            Assert.Equal(200, status);
            Assert.Equal(id, (string)list!.AsArray().Single(e => (string)e!["name"]! == "keep")!["id"]!);
            Assert.Equal(data, await DownloadAsync(second, "keep", "d/data.bin"));

            var moved = new UriBuilder(pendingUrl) { Port = second.Endpoint.Port }.Uri.ToString();
            Assert.Equal(16, await HeadOffsetAsync(second, moved));
            using var rest = await second.StorageAsync(HttpMethod.Patch, moved, Bytes(40)[16..], 16);
            Assert.Equal(HttpStatusCode.NoContent, rest.StatusCode);
            Assert.Equal(40, (await DownloadAsync(second, "keep", "later.bin")).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_user_sees_and_touches_only_its_own_folders()
    {
        await using var host = await VFolderTestHost.StartAsync();
        var user = VFolderTestHost.User;
        var other = VFolderTestHost.User2;
        await CreateAsync(host, "mine", user);
        var url = await UploadUrlAsync(host, "mine", "secret.txt", 3, user);
        (await host.StorageAsync(HttpMethod.Patch, url, "abc"u8.ToArray(), 0)).Dispose();

        var (_, list, _) = await host.CallAsync(HttpMethod.Get, "/folders", new { all = false }, other);
        Assert.DoesNotContain(list!.AsArray(), e => (string)e!["name"]! == "mine");
        foreach (var (method, path, body) in new (HttpMethod, string, object?)[]
        {
            (HttpMethod.Get, "/folders/mine", null),
            (HttpMethod.Get, "/folders/mine/files", new { path = "" }),
            (HttpMethod.Post, "/folders/mine/request-download", new { path = "secret.txt" }),
            (HttpMethod.Post, "/folders/mine/request-upload", new { path = "x", size = 1 }),
            (HttpMethod.Post, "/folders/mine/mkdir", new { path = "x" }),
        })
        {
            var (status, error, _) = await host.CallAsync(method, path, body, other);
            Assert.True(status == 404, $"{method} {path} gave {status}");
            Assert.Equal("No such virtual folder.", (string)error!["title"]!);
        }
        var (deleteStatus, deleteError, _) = await host.CallAsync(HttpMethod.Delete, "/folders/mine", null, other);
        Assert.Equal(400, deleteStatus);
        Assert.Equal("No such vfolder.", (string)deleteError!["msg"]!);
        Assert.Equal(404, (await host.CallAsync(HttpMethod.Get, "/folders/mine", null, VFolderTestHost.Admin)).Status);

        // The same name is free in another user's namespace, and the owner's folder is untouched.
        await CreateAsync(host, "mine", other);
        Assert.Equal("abc"u8.ToArray(), await DownloadAsync(host, "mine", "secret.txt", user));
        Assert.Null(host.Services.GetRequiredService<IVFolderMountResolver>().ResolveMount(VFolderTestHost.Admin, "mine"));
        var mounted = host.Services.GetRequiredService<IVFolderMountResolver>().ResolveMount(user, "mine");
        Assert.Equal("abc", File.ReadAllText(Path.Combine(mounted!, "secret.txt")));
    }

    [Fact]
    public async Task Group_folders_are_shared_with_group_members_only_and_created_by_admins_only()
    {
        await using var host = await VFolderTestHost.StartAsync();
        var (status, body, _) = await host.CallAsync(HttpMethod.Post, "/folders", CreateBody("team", "default"));
        Assert.Equal(201, status);
        Assert.Equal("group", (string)body!["ownership_type"]!);
        Assert.Equal(VFolderTestHost.User.GroupId.ToString(), (string)body["group"]!);
        Assert.Null(body["user"]);

        var (_, list, _) = await host.CallAsync(HttpMethod.Get, "/folders", new { all = false }, VFolderTestHost.User);
        var entry = list!.AsArray().Single(e => (string)e!["name"]! == "team")!;
        Assert.False((bool)entry["is_owner"]!);
        Assert.Equal("rw", (string)entry["permission"]!);
        Assert.Equal("default", (string)entry["group_name"]!);
        Assert.Equal(201, (await host.CallAsync(HttpMethod.Post, "/folders/team/mkdir", new { path = "shared" }, VFolderTestHost.User)).Status);
        Assert.Equal(400, (await host.CallAsync(HttpMethod.Delete, "/folders/team", null, VFolderTestHost.User)).Status);
        Assert.Equal(404, (await host.CallAsync(HttpMethod.Get, "/folders/team", null, VFolderTestHost.User2)).Status);

        (status, body, _) = await host.CallAsync(HttpMethod.Post, "/folders", CreateBody("team2", "default"), VFolderTestHost.User);
        Assert.Equal(403, status);
        (status, _, _) = await host.CallAsync(HttpMethod.Post, "/folders", CreateBody("team3", "no-such-group"));
        Assert.Equal(404, status);
        (status, _, _) = await host.CallAsync(HttpMethod.Post, "/folders", CreateBody(".dotteam", "default"));
        Assert.Equal(400, status);
    }

    [Fact]
    public async Task Directory_download_with_archive_true_is_a_zip_of_its_files()
    {
        await using var host = await VFolderTestHost.StartAsync();
        await CreateAsync(host, "zipme");
        foreach (var (path, size) in new[] { ("d/a.bin", 10), ("d/sub/b.bin", 20) })
        {
            var url = await UploadUrlAsync(host, "zipme", path, size);
            (await host.StorageAsync(HttpMethod.Patch, url, Bytes(size), 0)).Dispose();
        }
        var (_, body, _) = await host.CallAsync(HttpMethod.Post, "/folders/zipme/request-download", new { path = "d" });
        var downloadUrl = $"{body!["url"]}?token={Uri.EscapeDataString((string)body["token"]!)}";
        using (var plain = await host.StorageAsync(HttpMethod.Get, downloadUrl))
            Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
        using var r = await host.StorageAsync(HttpMethod.Get, downloadUrl + "&archive=true");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("application/zip", r.Content.Headers.ContentType!.MediaType);
        Assert.NotNull(r.Content.Headers.ContentLength);
        using var zip = new ZipArchive(new MemoryStream(await r.Content.ReadAsByteArrayAsync()));
        Assert.Equal(["a.bin", "sub/b.bin"], zip.Entries.Select(e => e.FullName).OrderBy(n => n).ToArray());
        using var entry = new MemoryStream();
        await using (var s = zip.GetEntry("sub/b.bin")!.Open()) await s.CopyToAsync(entry);
        Assert.Equal(Bytes(20), entry.ToArray());
    }

    [Fact]
    public async Task A_truncated_download_fault_cuts_the_body_and_a_range_request_resumes_it()
    {
        await using var host = await VFolderTestHost.StartAsync();
        await CreateAsync(host, "cut");
        var data = Bytes(200_000);
        var url = await UploadUrlAsync(host, "cut", "big.bin", data.Length);
        (await host.StorageAsync(HttpMethod.Patch, url, data, 0)).Dispose();
        var (_, body, _) = await host.CallAsync(HttpMethod.Post, "/folders/cut/request-download", new { path = "big.bin" });
        var downloadUrl = $"{body!["url"]}?token={Uri.EscapeDataString((string)body["token"]!)}";

        host.Backend.Faults.Set(new BackendAI.Local.Hosting.FaultSettings { TruncateDownloadsAfterBytes = 50_000 });
        var received = new MemoryStream();
        using (var response = await host.Http.GetAsync(downloadUrl, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(200_000, response.Content.Headers.ContentLength);
            await using var stream = await response.Content.ReadAsStreamAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => stream.CopyToAsync(received));
        }
        Assert.Equal(50_000, received.Length);

        host.Backend.Faults.Reset();
        using var rest = await host.StorageAsync(HttpMethod.Get, downloadUrl, range: $"bytes={received.Length}-");
        Assert.Equal(System.Net.HttpStatusCode.PartialContent, rest.StatusCode);
        received.Write(await rest.Content.ReadAsByteArrayAsync());
        Assert.Equal(data, received.ToArray());
    }

    [Fact]
    public async Task Creating_more_folders_than_the_policy_allows_is_refused()
    {
        await using var host = await VFolderTestHost.StartAsync(configure: o => o.MaxFoldersPerUser = 2);
        await CreateAsync(host, "one");
        await CreateAsync(host, "two");
        var (status, body, _) = await host.CallAsync(HttpMethod.Post, "/folders", CreateBody("three"));
        Assert.Equal(400, status);
        Assert.Equal("You cannot create more vfolders.", (string)body!["msg"]!);
    }
}

/// <summary>Every path that leaves the folder root (also via a symlink planted in the folder) is refused.</summary>
public sealed class VFolderPathSafetyTests(VFolderHostFixture fixture) : IClassFixture<VFolderHostFixture>
{
    [Theory]
    [InlineData("mkdir", "../escape")]
    [InlineData("mkdir", "/etc/escape")]
    [InlineData("mkdir", "a/../../escape")]
    [InlineData("request-upload", "../../evil.txt")]
    [InlineData("request-upload", "/tmp/evil.txt")]
    [InlineData("request-download", "../../../etc/passwd")]
    [InlineData("files", "..")]
    [InlineData("files", "link")]
    [InlineData("request-download", "link/hostname")]
    [InlineData("request-upload", "link/evil.txt")]
    public async Task Paths_escaping_the_folder_are_refused_with_vfolder_operation_failed(string op, string path)
    {
        var host = fixture.Host;
        var jail = "jail" + Guid.NewGuid().ToString("N")[..8];
        var (_, created, _) = await host.CallAsync(HttpMethod.Post, "/folders", new JsonObject { ["name"] = jail });
        var id = (string)created!["id"]!;
        var outside = Directory.CreateDirectory(Path.Combine(host.DataDirectory, "outside-" + jail)).FullName;
        File.WriteAllText(Path.Combine(outside, "hostname"), "secret");
        File.CreateSymbolicLink(Path.Combine(host.DataDirectory, "vfolders", id, "link"), outside);
        var (method, body) = op switch
        {
            "mkdir" => (HttpMethod.Post, (object)new { path }),
            "request-upload" => (HttpMethod.Post, new { path, size = 4 }),
            "request-download" => (HttpMethod.Post, new { path }),
            _ => (HttpMethod.Get, new { path }),
        };
        var (status, error, _) = await host.CallAsync(method, $"/folders/{jail}/{op}", body);
        Assert.Equal(400, status);
        Assert.Equal("https://api.backend.ai/probs/vfolder-operation-failed", (string)error!["type"]!);
        Assert.False(Directory.Exists(Path.Combine(host.DataDirectory, "vfolders", "escape")));
        Assert.False(File.Exists(Path.Combine(outside, "evil.txt")));
    }
}

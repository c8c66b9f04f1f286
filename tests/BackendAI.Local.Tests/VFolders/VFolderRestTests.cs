using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BackendAI.Local.Tests.VFolders;

public sealed class VFolderHostFixture : IAsyncLifetime
{
    public VFolderTestHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await VFolderTestHost.StartAsync(configure: o => o.MaxFoldersPerUser = 1000);

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

public sealed class VFolderRestTests(VFolderHostFixture fixture) : IClassFixture<VFolderHostFixture>
{
    private const string Probs = "https://api.backend.ai/probs/";
    private VFolderTestHost Host => fixture.Host;

    private static string NewName(string prefix = "vf") => prefix + Guid.NewGuid().ToString("N")[..10];

    private static JsonObject CreateBody(string name) => new()
    {
        ["name"] = name, ["host"] = null, ["unmanaged_path"] = null, ["group"] = null,
        ["usage_mode"] = "general", ["permission"] = "rw", ["quota"] = "0", ["cloneable"] = false,
    };

    private async Task<string> CreateAsync(string? name = null, VFolderTestHostCaller? caller = null)
    {
        name ??= NewName();
        var (status, body, _) = await Host.CallAsync(HttpMethod.Post, "/folders", CreateBody(name), caller?.Identity);
        Assert.True(status == 201, $"create failed: {status} {body}");
        return name;
    }

    private async Task<byte[]> UploadAsync(string folder, string path, byte[] data, int chunk = 16)
    {
        var (status, body, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{folder}/request-upload", new { path, size = data.Length });
        Assert.Equal(200, status);
        var url = $"{body!["url"]}?token={Uri.EscapeDataString((string)body["token"]!)}";
        for (var offset = 0; offset < data.Length; offset += chunk)
        {
            using var r = await Host.StorageAsync(HttpMethod.Patch, url, data[offset..Math.Min(data.Length, offset + chunk)], offset);
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        }
        return data;
    }

    private async Task<string> DownloadUrlAsync(string folder, string path, bool archive = false)
    {
        var (status, body, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{folder}/request-download", new { path, archive });
        Assert.Equal(200, status);
        return $"{body!["url"]}?token={Uri.EscapeDataString((string)body["token"]!)}";
    }

    private static byte[] Bytes(int n) => Enumerable.Range(0, n).Select(i => (byte)(i * 7 + 3)).ToArray();

    [Fact]
    public async Task Server114_create_returns_201_with_32_hex_id_and_the_folder_fields()
    {
        var name = NewName();
        var (status, body, _) = await Host.CallAsync(HttpMethod.Post, "/folders", CreateBody(name));
        Assert.Equal(201, status);
        var o = body!.AsObject();
        Assert.Matches("^[0-9a-f]{32}$", (string)o["id"]!);
        Assert.Equal(["id", "name", "host", "usage_mode", "permission", "max_size", "creator", "ownership_type", "user", "group", "cloneable"],
            o.Select(p => p.Key).ToArray());
        Assert.Equal(name, (string)o["name"]!);
        Assert.Equal("local:volume1", (string)o["host"]!);
        Assert.Equal("admin@lablup.com", (string)o["creator"]!);
        Assert.Equal("user", (string)o["ownership_type"]!);
        Assert.Equal(VFolderTestHost.Admin.UserId.ToString(), (string)o["user"]!);
        Assert.Null(o["group"]);
        Assert.Null(o["max_size"]);
        Assert.False((bool)o["cloneable"]!);
    }

    [Fact]
    public async Task Server115_creating_the_same_name_again_is_vfolder_already_exists()
    {
        var name = await CreateAsync();
        var (status, body, _) = await Host.CallAsync(HttpMethod.Post, "/folders", CreateBody(name));
        Assert.Equal(400, status);
        Assert.Equal(Probs + "vfolder-already-exists", (string)body!["type"]!);
    }

    [Theory]
    [InlineData(".bashrc")]
    [InlineData(".ssh")]
    [InlineData(".bash_profile")]
    [InlineData("tmp")]
    public async Task Server116_reserved_names_are_refused(string name)
    {
        var (status, body, _) = await Host.CallAsync(HttpMethod.Post, "/folders", CreateBody(name));
        Assert.Equal(400, status);
        Assert.Equal(Probs + "invalid-api-params", (string)body!["type"]!);
        Assert.Equal($"{name} is reserved for internal operations.", (string)body["msg"]!);
    }

    [Theory]
    [InlineData("bad/name")]
    [InlineData("-dash")]
    [InlineData("trailing-")]
    public async Task Create_refuses_names_that_are_not_slugs(string name)
    {
        var (status, body, _) = await Host.CallAsync(HttpMethod.Post, "/folders", CreateBody(name));
        Assert.Equal(400, status);
        Assert.NotNull(body!["data"]!["name"]);
    }

    [Fact]
    public async Task Create_refuses_unknown_keys_and_foreign_hosts()
    {
        var body = CreateBody(NewName());
        body["foo"] = 1;
        var (status, error, _) = await Host.CallAsync(HttpMethod.Post, "/folders", body);
        Assert.Equal(400, status);
        Assert.Equal("foo is not allowed key", (string)error!["data"]!["foo"]!);

        body = CreateBody(NewName());
        body["host"] = "other:volume9";
        (status, error, _) = await Host.CallAsync(HttpMethod.Post, "/folders", body);
        Assert.Equal(400, status);
        Assert.Equal("You are not allowed to use this vfolder host.", (string)error!["msg"]!);
    }

    [Fact]
    public async Task Server117_list_returns_an_array_with_the_owned_folder()
    {
        var name = await CreateAsync();
        var (status, body, _) = await Host.CallAsync(HttpMethod.Get, "/folders", new { all = false });
        Assert.Equal(200, status);
        var entry = body!.AsArray().Single(e => (string)e!["name"]! == name)!.AsObject();
        Assert.True((bool)entry["is_owner"]!);
        Assert.Equal("wd", (string)entry["permission"]!);
        Assert.Equal("user", (string)entry["ownership_type"]!);
        Assert.Equal("user", (string)entry["type"]!);
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$", (string)entry["created_at"]!);

        (status, body, _) = await Host.CallAsync(HttpMethod.Get, "/folders", new { all = true });
        Assert.Equal(400, status);
        Assert.Equal("Deprecated use of 'all' option", (string)body!["msg"]!);
    }

    [Fact]
    public async Task Superadmin_lists_another_users_folders_by_owner_email_and_users_may_not()
    {
        var name = await CreateAsync(caller: new VFolderTestHostCaller(VFolderTestHost.User));
        var (status, body, _) = await Host.CallAsync(HttpMethod.Get, "/folders", new { all = false, owner_user_email = "user@lablup.com" });
        Assert.Equal(200, status);
        Assert.Contains(body!.AsArray(), e => (string)e!["name"]! == name && (string)e["user_email"]! == "user@lablup.com");
        Assert.DoesNotContain(body.AsArray(), e => (string)e!["user_email"]! == "admin@lablup.com");
        (status, _, _) = await Host.CallAsync(HttpMethod.Get, "/folders", new { owner_user_email = "admin@lablup.com" }, VFolderTestHost.User);
        Assert.Equal(403, status);
    }

    [Fact]
    public async Task Server118_hosts_report_the_default_among_the_allowed_hosts()
    {
        var (status, body, _) = await Host.CallAsync(HttpMethod.Get, "/folders/_/hosts");
        Assert.Equal(200, status);
        var def = (string)body!["default"]!;
        Assert.Contains(def, body["allowed"]!.AsArray().Select(h => (string)h!));
        Assert.NotNull(body["volume_info"]![def]!["backend"]);

        (status, body, _) = await Host.CallAsync(HttpMethod.Get, "/folders/_/allowed-types");
        Assert.Equal(200, status);
        Assert.Equal(["user", "group"], body!.AsArray().Select(t => (string)t!).ToArray());
    }

    [Fact]
    public async Task Server119_info_reports_num_files_and_used_bytes()
    {
        var name = await CreateAsync();
        await UploadAsync(name, "a.bin", Bytes(40));
        await UploadAsync(name, "sub/b.bin", Bytes(10));
        var (status, body, _) = await Host.CallAsync(HttpMethod.Get, $"/folders/{name}");
        Assert.Equal(200, status);
        Assert.Equal(2, (int)body!["num_files"]!);
        Assert.Equal(2, (int)body["numFiles"]!);
        Assert.Equal(50, (long)body["used_bytes"]!);
        Assert.True(body.AsObject().ContainsKey("group"));
        Assert.Null(body["group"]);
        Assert.True((bool)body["is_owner"]!);
    }

    [Fact]
    public async Task Server120_mkdir_creates_then_refuses_an_existing_directory_unless_exist_ok()
    {
        var name = await CreateAsync();
        var (status, _, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/mkdir", new { path = "a/b" });
        Assert.Equal(201, status);
        (status, var body, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/mkdir", new { path = "a/b" });
        Assert.Equal(400, status);
        Assert.Equal(Probs + "vfolder-operation-failed", (string)body!["type"]!);
        (status, _, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/mkdir", new { path = "a/b", exist_ok = true });
        Assert.Equal(201, status);
        (status, _, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/mkdir", new { path = "x/y", parents = false });
        Assert.Equal(400, status);
    }

    [Fact]
    public async Task Server121_request_upload_returns_token_and_url()
    {
        var name = await CreateAsync();
        var (status, body, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/request-upload", new { path = "x.bin", size = "40" });
        Assert.Equal(200, status);
        Assert.Equal(["token", "url"], body!.AsObject().Select(p => p.Key).ToArray());
        Assert.False(string.IsNullOrEmpty((string)body["token"]!));
        Assert.StartsWith(Host.Endpoint.GetLeftPart(UriPartial.Authority), (string)body["url"]!);
    }

    [Fact]
    public async Task Server122_tus_patch_returns_204_with_upload_offset()
    {
        var name = await CreateAsync();
        var (_, body, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/request-upload", new { path = "x.bin", size = 40 });
        var url = $"{body!["url"]}?token={body["token"]}";
        using var r = await Host.StorageAsync(HttpMethod.Patch, url, Bytes(16), 0);
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        Assert.Equal("16", r.Headers.GetValues("Upload-Offset").Single());
        Assert.Equal("1.0.0", r.Headers.GetValues("Tus-Resumable").Single());
        Assert.Equal("40", r.Headers.GetValues("Upload-Length").Single());
    }

    [Fact]
    public async Task Server123_after_the_last_chunk_the_file_is_listed_with_identical_bytes()
    {
        var name = await CreateAsync();
        var data = await UploadAsync(name, "x.bin", Bytes(40));
        var (status, body, _) = await Host.CallAsync(HttpMethod.Get, $"/folders/{name}/files", new { path = "." });
        Assert.Equal(200, status);
        var item = body!["items"]!.AsArray().Single(i => (string)i!["name"]! == "x.bin")!;
        Assert.Equal(40, (long)item["size"]!);
        using var download = await Host.StorageAsync(HttpMethod.Get, await DownloadUrlAsync(name, "x.bin"));
        Assert.Equal(data, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Server124_patch_with_a_wrong_offset_is_409()
    {
        var name = await CreateAsync();
        var (_, body, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/request-upload", new { path = "x.bin", size = 40 });
        var url = $"{body!["url"]}?token={body["token"]}";
        using var wrong = await Host.StorageAsync(HttpMethod.Patch, url, Bytes(16), 8);
        Assert.Equal(HttpStatusCode.Conflict, wrong.StatusCode);
        using var head = await Host.StorageAsync(HttpMethod.Head, url);
        Assert.Equal("0", head.Headers.GetValues("Upload-Offset").Single());
    }

    [Fact]
    public async Task Server125_zero_byte_upload_leaves_an_empty_file()
    {
        var name = await CreateAsync();
        var (status, _, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/request-upload", new { path = "deep/empty.txt", size = 0 });
        Assert.Equal(200, status);
        var (_, body, _) = await Host.CallAsync(HttpMethod.Get, $"/folders/{name}/files", new { path = "deep" });
        var item = body!["items"]!.AsArray().Single()!;
        Assert.Equal("empty.txt", (string)item["name"]!);
        Assert.Equal(0, (long)item["size"]!);
    }

    [Fact]
    public async Task Server126_head_on_the_upload_url_reports_offset_and_length()
    {
        var name = await CreateAsync();
        var (_, body, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/request-upload", new { path = "x.bin", size = 40 });
        var url = $"{body!["url"]}?token={body["token"]}";
        (await Host.StorageAsync(HttpMethod.Patch, url, Bytes(16), 0)).Dispose();
        using var head = await Host.StorageAsync(HttpMethod.Head, url);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("16", head.Headers.GetValues("Upload-Offset").Single());
        Assert.Equal("40", head.Headers.GetValues("Upload-Length").Single());
        Assert.Equal("no-store", head.Headers.CacheControl!.ToString());

        using var options = await Host.StorageAsync(HttpMethod.Options, (string)body["url"]!);
        Assert.Equal(HttpStatusCode.OK, options.StatusCode);
        Assert.Equal("1.0.0", options.Headers.GetValues("Tus-Version").Single());
        Assert.True(long.Parse(options.Headers.GetValues("Tus-Max-Size").Single()) > 0);
    }

    [Fact]
    public async Task Server127_request_download_then_get_returns_the_bytes_with_content_length()
    {
        var name = await CreateAsync();
        var data = await UploadAsync(name, "x.bin", Bytes(40));
        var url = await DownloadUrlAsync(name, "x.bin");
        using var r = await Host.StorageAsync(HttpMethod.Get, url);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(40, r.Content.Headers.ContentLength);
        Assert.Equal("application/octet-stream", r.Content.Headers.ContentType!.MediaType);
        Assert.Contains("filename=\"x.bin\"", r.Content.Headers.ContentDisposition!.ToString());
        Assert.Equal(data, await r.Content.ReadAsByteArrayAsync());

        using var head = await Host.StorageAsync(HttpMethod.Head, url);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(40, head.Content.Headers.ContentLength);
        Assert.Equal("bytes", head.Headers.AcceptRanges.Single());
    }

    [Fact]
    public async Task Server128_range_download_returns_206_with_content_range()
    {
        var name = await CreateAsync();
        var data = await UploadAsync(name, "x.bin", Bytes(40));
        var url = await DownloadUrlAsync(name, "x.bin");
        using var r = await Host.StorageAsync(HttpMethod.Get, url, range: "bytes=10-19");
        Assert.Equal(HttpStatusCode.PartialContent, r.StatusCode);
        Assert.Equal("bytes 10-19/40", r.Content.Headers.ContentRange!.ToString());
        Assert.Equal(data[10..20], await r.Content.ReadAsByteArrayAsync());

        using var tail = await Host.StorageAsync(HttpMethod.Get, url, range: "bytes=30-");
        Assert.Equal(data[30..], await tail.Content.ReadAsByteArrayAsync());

        using var bad = await Host.StorageAsync(HttpMethod.Get, url, range: "bytes=40-50");
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, bad.StatusCode);
        Assert.Equal("bytes */40", bad.Content.Headers.ContentRange!.ToString());
    }

    [Fact]
    public async Task Server129_missing_path_is_storage_file_not_found_and_a_bad_token_is_400()
    {
        var name = await CreateAsync();
        using var missing = await Host.StorageAsync(HttpMethod.Get, await DownloadUrlAsync(name, "nope.bin"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var body = JsonNode.Parse(await missing.Content.ReadAsStringAsync())!;
        Assert.Equal(Probs + "storage/file-not-found", (string)body["type"]!);
        Assert.Equal("File not found", (string)body["title"]!);

        var good = await DownloadUrlAsync(name, "nope.bin");
        var tampered = Regex.Replace(good, "token=(.)", m => "token=" + (m.Groups[1].Value == "A" ? "B" : "A"));
        foreach (var url in new[] { tampered, Host.Endpoint + "storage/download?token=garbage", Host.Endpoint + "storage/download" })
        {
            using var bad = await Host.StorageAsync(HttpMethod.Get, url);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal(Probs + "storage/invalid-api-params", (string)JsonNode.Parse(await bad.Content.ReadAsStringAsync())!["type"]!);
        }
        using var badUpload = await Host.StorageAsync(HttpMethod.Patch, Host.Endpoint + "storage/upload?token=garbage", Bytes(4), 0);
        Assert.Equal(HttpStatusCode.BadRequest, badUpload.StatusCode);
    }

    [Fact]
    public async Task Server130_list_files_returns_items_and_the_legacy_files_string()
    {
        var name = await CreateAsync();
        await UploadAsync(name, "hello.txt", "hello\n"u8.ToArray());
        await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/mkdir", new { path = "sub" });
        var (status, body, _) = await Host.CallAsync(HttpMethod.Get, $"/folders/{name}/files", new { path = "" });
        Assert.Equal(200, status);
        var items = body!["items"]!.AsArray();
        Assert.Equal(["hello.txt", "sub"], items.Select(i => (string)i!["name"]!).ToArray());
        Assert.Equal(["FILE", "DIRECTORY"], items.Select(i => (string)i!["type"]!).ToArray());
        Assert.Equal(6, (long)items[0]!["size"]!);
        Assert.Matches("^[0-7]{3}$", (string)items[0]!["mode"]!);
        Assert.Matches(@"T\d\d:\d\d:\d\d\.\d{6}\+00:00$", (string)items[0]!["modified"]!);
        var legacy = JsonNode.Parse((string)body["files"]!)!.AsArray();
        Assert.Equal(["hello.txt", "sub"], legacy.Select(i => (string)i!["filename"]!).ToArray());
        Assert.StartsWith("-", (string)legacy[0]!["mode"]!);
        Assert.StartsWith("d", (string)legacy[1]!["mode"]!);
        Assert.Equal(0, (int)legacy[0]!["atime"]!);
        Assert.True((double)legacy[0]!["mtime"]! > 1_600_000_000);
        Assert.Equal(["filename", "size", "mode", "ctime", "atime", "mtime"], legacy[0]!.AsObject().Select(p => p.Key).ToArray());
    }

    [Fact]
    public async Task Server131_rename_file_returns_200_with_an_empty_object()
    {
        var name = await CreateAsync();
        await UploadAsync(name, "x.bin", Bytes(8));
        var (status, body, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/rename-file", new { target_path = "x.bin", new_name = "y.bin", is_dir = false });
        Assert.Equal(200, status);
        Assert.Equal("{}", body!.ToJsonString());
        (_, body, _) = await Host.CallAsync(HttpMethod.Get, $"/folders/{name}/files", new { path = "" });
        Assert.Equal(["y.bin"], body!["items"]!.AsArray().Select(i => (string)i!["name"]!).ToArray());
        (status, _, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/rename-file", new { target_path = "y.bin", new_name = "../z.bin" });
        Assert.Equal(400, status);
    }

    [Fact]
    public async Task Move_file_moves_within_the_folder()
    {
        var name = await CreateAsync();
        var data = await UploadAsync(name, "a/x.bin", Bytes(12));
        await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/mkdir", new { path = "b" });
        var (status, body, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/move-file", new { src = "a/x.bin", dst = "b/y.bin" });
        Assert.Equal(200, status);
        Assert.Equal("{}", body!.ToJsonString());
        using var r = await Host.StorageAsync(HttpMethod.Get, await DownloadUrlAsync(name, "b/y.bin"));
        Assert.Equal(data, await r.Content.ReadAsByteArrayAsync());
        (status, body, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/move-file", new { src = "b/y.bin", dst = "../../y.bin" });
        Assert.Equal(400, status);
        Assert.Equal(Probs + "vfolder-operation-failed", (string)body!["type"]!);
    }

    [Fact]
    public async Task Server132_delete_files_needs_recursive_for_a_directory()
    {
        var name = await CreateAsync();
        await UploadAsync(name, "a/inner.bin", Bytes(5));
        var (status, body, _) = await Host.CallAsync(HttpMethod.Delete, $"/folders/{name}/delete-files", new { files = new[] { "a" }, recursive = false });
        Assert.Equal(400, status);
        Assert.Equal(Probs + "vfolder-operation-failed", (string)body!["type"]!);
        (status, body, _) = await Host.CallAsync(HttpMethod.Delete, $"/folders/{name}/delete-files", new { files = new[] { "a" }, recursive = true });
        Assert.Equal(200, status);
        Assert.Equal("{}", body!.ToJsonString());
        (_, body, _) = await Host.CallAsync(HttpMethod.Get, $"/folders/{name}/files", new { path = "" });
        Assert.Empty(body!["items"]!.AsArray());
    }

    [Fact]
    public async Task Server133_rename_folder_returns_201_and_the_new_name_resolves()
    {
        var name = await CreateAsync();
        var newName = NewName("n2");
        var (status, body, response) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/rename", new { new_name = newName });
        Assert.Equal(201, status);
        Assert.Null(body);
        Assert.Equal(200, (await Host.CallAsync(HttpMethod.Get, $"/folders/{newName}")).Status);
        Assert.Equal(404, (await Host.CallAsync(HttpMethod.Get, $"/folders/{name}")).Status);
        var other = await CreateAsync();
        (status, body, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{other}/rename", new { new_name = newName });
        Assert.Equal(400, status);
    }

    [Fact]
    public async Task Update_options_changes_permission_and_cloneable()
    {
        var name = await CreateAsync();
        var (status, _, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/update-options", new { cloneable = true, permission = "ro" });
        Assert.Equal(201, status);
        var (_, body, _) = await Host.CallAsync(HttpMethod.Get, "/folders", new { all = false });
        var entry = body!.AsArray().Single(e => (string)e!["name"]! == name)!;
        Assert.True((bool)entry["cloneable"]!);
        (status, _, _) = await Host.CallAsync(HttpMethod.Post, $"/folders/{name}/update-options", new { permission = "xx" });
        Assert.Equal(400, status);
    }

    [Fact]
    public async Task Server134_delete_folder_returns_204_then_400_no_such_vfolder()
    {
        var name = await CreateAsync();
        await UploadAsync(name, "x.bin", Bytes(3));
        var (status, _, _) = await Host.CallAsync(HttpMethod.Delete, $"/folders/{name}");
        Assert.Equal(204, status);
        (status, var body, _) = await Host.CallAsync(HttpMethod.Delete, $"/folders/{name}");
        Assert.Equal(400, status);
        Assert.Equal(Probs + "invalid-api-params", (string)body!["type"]!);
        Assert.Equal("No such vfolder.", (string)body["msg"]!);
    }

    [Fact]
    public async Task Server135_a_session_with_config_mounts_sees_the_folder_files_under_its_work_directory()
    {
        var name = await CreateAsync();
        var data = await UploadAsync(name, "data/input.txt", "mounted!"u8.ToArray());
        var (status, created, _) = await Host.CallAsync(HttpMethod.Post, "/session", new JsonObject
        {
            ["name"] = "mnt-" + Guid.NewGuid().ToString("N")[..8], ["image"] = "sim",
            ["config"] = new JsonObject { ["mounts"] = new JsonArray(name) },
        });
        Assert.True(status == 201, created?.ToJsonString());
        var sessionId = (string)created!["sessionId"]!;
        try
        {
            var (filesStatus, listing, _) = await Host.CallAsync(HttpMethod.Get, $"/session/{sessionId}/files", new { path = $"{name}/data" });
            Assert.True(filesStatus == 200, listing?.ToJsonString());
            var files = JsonNode.Parse((string)listing!["files"]!)!.AsArray();
            var file = files.Single(f => (string)f!["filename"]! == "input.txt")!;
            Assert.Equal(data.Length, (long)file["size"]!);

            // A folder the owner cannot access is refused at creation.
            var (refused, _, _) = await Host.CallAsync(HttpMethod.Post, "/session", new JsonObject
            {
                ["name"] = "mnt-" + Guid.NewGuid().ToString("N")[..8], ["image"] = "sim",
                ["config"] = new JsonObject { ["mounts"] = new JsonArray(name) },
            }, VFolderTestHost.User);
            Assert.Equal(400, refused / 100 * 100);
        }
        finally
        {
            await Host.CallAsync(HttpMethod.Delete, $"/session/{sessionId}?forced=true");
        }
    }

    [Fact]
    public async Task Unknown_folder_is_404_object_not_found_with_the_permission_hint()
    {
        var (status, body, _) = await Host.CallAsync(HttpMethod.Get, "/folders/does-not-exist-here");
        Assert.Equal(404, status);
        Assert.Equal(Probs + "object-not-found", (string)body!["type"]!);
        Assert.Equal("No such virtual folder.", (string)body["title"]!);
        Assert.Equal("Your operation may be permission denied.", (string)body["msg"]!);
    }
}

/// <summary>Wraps an identity for readability at call sites.</summary>
public sealed record VFolderTestHostCaller(BackendAI.Local.Hosting.LocalIdentity Identity);

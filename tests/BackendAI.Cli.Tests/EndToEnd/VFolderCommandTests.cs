using System.Text.Json;

namespace BackendAI.Cli.Tests.EndToEnd;

public class VFolderCommandTests(CliServerFixture server) : IClassFixture<CliServerFixture>
{
    [Fact]
    public async Task Vfolder_create_upload_ls_mkdir_mv_download_rm_delete()
    {
        var name = "vf" + Guid.NewGuid().ToString("N")[..8];
        var dir = Directory.CreateTempSubdirectory("cli-vf-").FullName;
        var payload = new byte[300_000];
        Random.Shared.NextBytes(payload);
        await File.WriteAllBytesAsync(Path.Combine(dir, "blob.bin"), payload);

        var hosts = await server.RunAsync("vfolder", "list-hosts", "--output", "json");
        Assert.True(hosts.ExitCode == 0, hosts.ToString());
        var host = JsonDocument.Parse(hosts.Stdout).RootElement.GetProperty("allowed")[0].GetString()!;

        var created = await server.RunAsync("vfolder", "create", name, host);
        Assert.True(created.ExitCode == 0, created.ToString());
        try
        {
            var list = await server.RunAsync("vfolder", "list");
            Assert.Contains(name, list.Stdout, StringComparison.Ordinal);
            var info = await server.RunAsync("vfolder", "info", name, "--output", "json");
            Assert.Equal(name, JsonDocument.Parse(info.Stdout).RootElement.GetProperty("name").GetString());

            var up = await server.RunInAsync("", dir, "vfolder", "upload", name, "blob.bin");
            Assert.True(up.ExitCode == 0, up.ToString());
            Assert.Equal(0, (await server.RunAsync("vfolder", "mkdir", name, "sub")).ExitCode);
            var mv = await server.RunAsync("vfolder", "mv", name, "blob.bin", "renamed.bin");
            Assert.True(mv.ExitCode == 0, mv.ToString());

            var ls = await server.RunAsync("vfolder", "ls", name, "--output", "json");
            var entries = JsonDocument.Parse(ls.Stdout).RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, e => e);
            Assert.Equal(300_000, entries["renamed.bin"].GetProperty("size").GetInt64());
            Assert.Equal("DIRECTORY", entries["sub"].GetProperty("type").GetString());
            Assert.False(entries.ContainsKey("blob.bin"));

            var dest = Path.Combine(dir, "down");
            var down = await server.RunAsync("vfolder", "download", name, "renamed.bin", "-b", dest);
            Assert.True(down.ExitCode == 0, down.ToString());
            Assert.Equal(payload, await File.ReadAllBytesAsync(Path.Combine(dest, "renamed.bin")));

            Assert.Equal(0, (await server.RunAsync("vfolder", "rm", name, "renamed.bin")).ExitCode);
            var after = await server.RunAsync("vfolder", "ls", name);
            Assert.DoesNotContain("renamed.bin", after.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            var deleted = await server.RunAsync("vfolder", "delete", name);
            Assert.True(deleted.ExitCode == 0, deleted.ToString());
        }
        var gone = await server.RunAsync("vfolder", "info", name);
        Assert.NotEqual(0, gone.ExitCode);
    }
}

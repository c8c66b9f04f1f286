using System.Text.Json;

namespace BackendAI.Cli.Tests.EndToEnd;

public class VFolderMoveCommandTests(CliServerFixture server) : IClassFixture<CliServerFixture>
{
    private async Task<Dictionary<string, JsonElement>> LsAsync(string folder, string path)
    {
        var ls = await server.RunAsync("vfolder", "ls", folder, path, "--output", "json");
        Assert.True(ls.ExitCode == 0, ls.ToString());
        return JsonDocument.Parse(ls.Stdout).RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, e => e.Clone());
    }

    [Fact]
    public async Task Vfolder_mv_moves_files_between_directories_and_renames_in_place()
    {
        var folder = "mv" + Guid.NewGuid().ToString("N")[..8];
        var dir = Directory.CreateTempSubdirectory("cli-mv-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "a.txt"), "alpha");
        var host = JsonDocument.Parse((await server.RunAsync("vfolder", "list-hosts", "--output", "json")).Stdout).RootElement.GetProperty("allowed")[0].GetString()!;
        Assert.Equal(0, (await server.RunAsync("vfolder", "create", folder, host)).ExitCode);
        try
        {
            Assert.Equal(0, (await server.RunInAsync("", dir, "vfolder", "upload", folder, "a.txt")).ExitCode);
            Assert.Equal(0, (await server.RunAsync("vfolder", "mkdir", folder, "sub")).ExitCode);

            // Into a directory, keeping the name.
            var into = await server.RunAsync("vfolder", "mv", folder, "a.txt", "sub/");
            Assert.True(into.ExitCode == 0, into.ToString());
            Assert.True((await LsAsync(folder, "sub")).ContainsKey("a.txt"));
            Assert.False((await LsAsync(folder, ".")).ContainsKey("a.txt"));

            // Rename inside the directory.
            Assert.Equal(0, (await server.RunAsync("vfolder", "mv", folder, "sub/a.txt", "sub/b.txt")).ExitCode);
            Assert.Equal(["b.txt"], (await LsAsync(folder, "sub")).Keys);

            // Back to the root under a new name.
            var back = await server.RunAsync("vfolder", "mv", folder, "sub/b.txt", "c.txt");
            Assert.True(back.ExitCode == 0, back.ToString());
            var root = await LsAsync(folder, ".");
            Assert.Equal(5, root["c.txt"].GetProperty("size").GetInt64());
            Assert.Empty(await LsAsync(folder, "sub"));

            var missing = await server.RunAsync("vfolder", "mv", folder, "nope.txt", "sub/");
            Assert.NotEqual(0, missing.ExitCode);
            Assert.StartsWith("backend.ai: ", missing.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            await server.RunAsync("vfolder", "delete", folder);
        }
    }
}

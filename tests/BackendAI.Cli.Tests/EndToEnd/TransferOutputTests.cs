using System.Text.Json;

namespace BackendAI.Cli.Tests.EndToEnd;

/// <summary>Transfers show progress bars only on a terminal; redirected output stays clean, stats are tables.</summary>
public class TransferOutputTests(CliServerFixture server) : IClassFixture<CliServerFixture>
{
    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    [Fact]
    public async Task Session_and_vfolder_transfers_print_no_progress_when_not_a_terminal()
    {
        var session = NewName("tp");
        await server.CreateSessionAsync(server.Admin, "python:3.9-ubuntu20.04", session);
        var folder = "tp" + Guid.NewGuid().ToString("N")[..8];
        var dir = Directory.CreateTempSubdirectory("cli-tp-").FullName;
        await File.WriteAllBytesAsync(Path.Combine(dir, "blob.bin"), new byte[200_000]);
        try
        {
            var host = JsonDocument.Parse((await server.RunAsync("vfolder", "list-hosts", "--output", "json")).Stdout).RootElement.GetProperty("allowed")[0].GetString()!;
            Assert.Equal(0, (await server.RunAsync("vfolder", "create", folder, host)).ExitCode);
            var runs = new[]
            {
                await server.RunInAsync("", dir, "upload", session, "blob.bin"),
                await server.RunInAsync("", dir, "download", session, "blob.bin", "--dest", "s-out"),
                await server.RunInAsync("", dir, "vfolder", "upload", folder, "blob.bin"),
                await server.RunInAsync("", dir, "vfolder", "download", folder, "blob.bin", "-b", "v-out"),
            };
            foreach (var r in runs)
            {
                Assert.True(r.ExitCode == 0, r.ToString());
                var all = r.Stdout + r.Stderr;
                Assert.DoesNotContain("\u001b", all, StringComparison.Ordinal);
                Assert.DoesNotContain("%", all, StringComparison.Ordinal);
                Assert.DoesNotContain("Uploading blob.bin", all, StringComparison.Ordinal);
                Assert.DoesNotContain("Downloading blob.bin", all, StringComparison.Ordinal);
                Assert.All(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.StartsWith("✓", l, StringComparison.Ordinal));
            }
            Assert.Equal(200_000, new FileInfo(Path.Combine(dir, "s-out", "blob.bin")).Length);
            Assert.Equal(200_000, new FileInfo(Path.Combine(dir, "v-out", "blob.bin")).Length);
        }
        finally
        {
            await server.RunAsync("rm", session);
            await server.RunAsync("vfolder", "delete", folder);
        }
    }

    [Fact]
    public async Task On_a_terminal_a_vfolder_upload_draws_a_progress_bar_per_file()
    {
        var folder = "tb" + Guid.NewGuid().ToString("N")[..8];
        var dir = Directory.CreateTempSubdirectory("cli-tb-").FullName;
        await File.WriteAllBytesAsync(Path.Combine(dir, "big.bin"), new byte[300_000]);
        var host = JsonDocument.Parse((await server.RunAsync("vfolder", "list-hosts", "--output", "json")).Stdout).RootElement.GetProperty("allowed")[0].GetString()!;
        Assert.Equal(0, (await server.RunAsync("vfolder", "create", folder, host)).ExitCode);
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var context = new CliContext(stdout, stderr, server.Environment(), isTerminal: true, workingDirectory: dir);
            using var cts = new CancellationTokenSource(Cli.Timeout);
            var exit = await CliApp.RunAsync(["vfolder", "upload", folder, "big.bin"], context, cts.Token);
            Assert.True(exit == 0, stderr.ToString());
            Assert.Contains("Uploading big.bin", stderr.ToString(), StringComparison.Ordinal);
            Assert.Contains("100%", stderr.ToString(), StringComparison.Ordinal);
            Assert.Equal("", stdout.ToString());
        }
        finally
        {
            await server.RunAsync("vfolder", "delete", folder);
        }
    }

    [Fact]
    public async Task Rm_stats_prints_a_table_and_json_output_keeps_the_stats_as_json()
    {
        var a = NewName("sa");
        var b = NewName("sb");
        await server.CreateSessionAsync(server.Admin, "sim", a);
        await server.CreateSessionAsync(server.Admin, "sim", b);

        var table = await server.RunAsync("rm", "--stats", a);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches(@"status\s+terminated", table.Stdout);
        Assert.DoesNotContain("{", table.Stdout, StringComparison.Ordinal);

        var json = await server.RunAsync("rm", "--stats", "--output", "json", b);
        Assert.True(json.ExitCode == 0, json.ToString());
        var root = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal("terminated", root[0].GetProperty("stats").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Run_rm_stats_prints_the_statistics_table_after_cleanup()
    {
        var r = await server.RunAsync("run", "sim", "--rm", "--stats", "-t", NewName("rs"), "-c", "x");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Cleaned up the session.", r.Stderr, StringComparison.Ordinal);
        Assert.Matches(@"status\s+terminated", r.Stderr);
        Assert.DoesNotContain("{\"status\"", r.Stderr, StringComparison.Ordinal);
    }
}

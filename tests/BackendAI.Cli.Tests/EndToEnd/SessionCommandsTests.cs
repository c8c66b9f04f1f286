using System.Text.Json;

namespace BackendAI.Cli.Tests.EndToEnd;

public class SessionCommandsTests(CliServerFixture server) : IClassFixture<CliServerFixture>
{
    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    [Fact]
    public async Task Start_creates_a_session_and_rm_destroys_several()
    {
        var a = NewName("st-a");
        var b = NewName("st-b");
        var ra = await server.RunAsync("start", "sim", "-t", a);
        Assert.True(ra.ExitCode == 0, ra.ToString());
        Assert.Contains($"Session {a}", ra.Stderr, StringComparison.Ordinal);
        Assert.Contains("is created and ready", ra.Stderr, StringComparison.Ordinal);
        var rb = await server.RunAsync("start", "sim", "-t", b, "--output", "json");
        Assert.Equal("RUNNING", JsonDocument.Parse(rb.Stdout).RootElement.GetProperty("status").GetString());

        var rm = await server.RunAsync("rm", a, b);
        Assert.True(rm.ExitCode == 0, rm.ToString());
        Assert.Contains($"Session {a} is being terminated", rm.Stderr, StringComparison.Ordinal);
        Assert.Contains($"Session {b} is being terminated", rm.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rm_of_an_unknown_session_exits_1_naming_it()
    {
        var r = await server.RunAsync("rm", "no-such-session-xyz");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no-such-session-xyz", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("Not found", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ps_lists_beyond_the_first_page_and_honours_limit_and_offset()
    {
        var tag = NewName("ps");
        var names = Enumerable.Range(0, 12).Select(i => $"{tag}-{i:D2}").ToList();
        foreach (var n in names)
            await server.CreateSessionAsync(server.Admin, "sim", n);
        try
        {
            var all = await server.RunAsync("ps", "--name-only", "--filter", $"name ilike \"{tag}%\"");
            Assert.True(all.ExitCode == 0, all.ToString());
            Assert.Equal(names.Order(), all.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());

            var json = await server.RunAsync("ps", "--output", "json", "--filter", $"name ilike \"{tag}%\"", "--order", "name", "--offset", "10", "--limit", "5");
            var root = JsonDocument.Parse(json.Stdout).RootElement;
            Assert.Equal(12, root.GetProperty("total_count").GetInt32());
            Assert.Equal([names[10], names[11]], root.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()));

            var table = await server.RunAsync("ps", "--filter", $"name ilike \"{tag}%\"");
            Assert.Contains("Session ID", table.Stdout, StringComparison.Ordinal);
            Assert.Contains("RUNNING", table.Stdout, StringComparison.Ordinal);
            Assert.Contains("Showing 12 of 12", table.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            await server.RunAsync(["rm", .. names]);
        }
    }

    [Fact]
    public async Task Ps_dead_shows_terminated_sessions_and_admin_sessions_shows_the_owner()
    {
        var name = NewName("ps-dead");
        await server.CreateSessionAsync(server.User, "sim", name);
        var userEnv = server.Environment(asUser: true);
        Assert.Equal(0, (await Cli.RunAsync(userEnv, ["rm", name])).ExitCode);

        var dead = await RetryUntilAsync(() => Cli.RunAsync(userEnv, ["ps", "--dead", "--name-only"]), r => r.Stdout.Contains(name, StringComparison.Ordinal));
        Assert.Contains(name, dead.Stdout, StringComparison.Ordinal);
        var running = await Cli.RunAsync(userEnv, ["ps", "--name-only"]);
        Assert.DoesNotContain(name, running.Stdout, StringComparison.Ordinal);

        var admin = await server.RunAsync("admin", "sessions", "--dead", "--format", "name,access_key,status");
        Assert.True(admin.ExitCode == 0, admin.ToString());
        var line = Assert.Single(admin.Stdout.Split('\n'), l => l.Contains(name, StringComparison.Ordinal));
        Assert.Contains(server.Backend.UserKeypair.AccessKey, line, StringComparison.Ordinal);
        Assert.Contains("Owner", admin.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_ls_download_round_trip_a_file()
    {
        var name = NewName("files");
        await server.CreateSessionAsync(server.Admin, "python:3.9-ubuntu20.04", name);
        try
        {
            var dir = Directory.CreateTempSubdirectory("cli-files-").FullName;
            await File.WriteAllTextAsync(Path.Combine(dir, "data.txt"), "payload-123\n");
            var up = await server.RunInAsync("", dir, "upload", name, "data.txt");
            Assert.True(up.ExitCode == 0, up.ToString());

            var ls = await server.RunAsync("ls", name);
            Assert.True(ls.ExitCode == 0, ls.ToString());
            Assert.Contains("data.txt", ls.Stdout, StringComparison.Ordinal);
            var lsJson = await server.RunAsync("ls", name, "--output", "json");
            var entry = JsonDocument.Parse(lsJson.Stdout).RootElement.EnumerateArray().Single(e => e.GetProperty("filename").GetString() == "data.txt");
            Assert.Equal(12, entry.GetProperty("size").GetInt64());

            var dest = Path.Combine(dir, "out");
            var down = await server.RunAsync("download", name, "data.txt", "--dest", dest);
            Assert.True(down.ExitCode == 0, down.ToString());
            Assert.Equal("payload-123\n", await File.ReadAllTextAsync(Path.Combine(dest, "data.txt")));
        }
        finally
        {
            await server.RunAsync("rm", name);
        }
    }

    [Fact]
    public async Task Logs_prints_the_session_log()
    {
        var name = NewName("logs");
        await server.CreateSessionAsync(server.Admin, "sim", name);
        try
        {
            var r = await server.RunAsync("logs", name);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("sim kernel", r.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await server.RunAsync("rm", name);
        }
    }

    [Fact]
    public async Task Events_prints_lifecycle_events_until_the_session_terminates()
    {
        var name = NewName("ev");
        await server.CreateSessionAsync(server.Admin, "sim", name);
        var stderr = new WatchedWriter();
        var events = Cli.RunAsync(server.Environment(), ["events", name, "--output", "json"], stderr: stderr);
        await stderr.WaitForAsync("Listening for events", TimeSpan.FromSeconds(30));
        Assert.Equal(0, (await server.RunAsync("rm", name)).ExitCode);
        var r = await events.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(r.ExitCode == 0, r.ToString());
        var names = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(names, e => Assert.Equal(name, e.GetProperty("sessionName").GetString()));
        Assert.Equal("session_terminated", names[^1].GetProperty("event").GetString());
    }

    [Fact]
    public async Task Events_of_an_unknown_session_exits_1_naming_it()
    {
        var r = await server.RunAsync("events", "no-such-session-ev");
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("backend.ai: ", line, StringComparison.Ordinal);
        Assert.Contains("no-such-session-ev", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Listening", r.Stderr, StringComparison.Ordinal);
    }

    private static async Task<CliResult> RetryUntilAsync(Func<Task<CliResult>> run, Func<CliResult, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var r = await run();
            if (done(r) || r.ExitCode != 0 || DateTime.UtcNow > deadline)
                return r;
            await Task.Delay(50);
        }
    }
}

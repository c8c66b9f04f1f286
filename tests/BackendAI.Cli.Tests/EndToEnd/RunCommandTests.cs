using System.Text.Json;

namespace BackendAI.Cli.Tests.EndToEnd;

public class RunCommandTests(CliServerFixture server) : IClassFixture<CliServerFixture>
{
    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    [Fact]
    public async Task Run_prints_the_code_output_and_exits_0()
    {
        var r = await server.RunAsync("run", "python:3.9-ubuntu20.04", "--rm", "-t", NewName("run-ok"), "-c", "print('hello from python')");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("hello from python\n", r.Stdout);
        Assert.Contains("Execution finished. (exit code = 0)", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("Cleaned up the session.", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_exits_with_the_code_exit_code()
    {
        var r = await server.RunAsync("run", "python:3.9-ubuntu20.04", "--rm", "-t", NewName("run-exit"), "-c", "import sys; sys.exit(3)");
        Assert.True(r.ExitCode == 3, r.ToString());
    }

    [Fact]
    public async Task Run_answers_input_prompts_from_stdin()
    {
        var r = await server.RunInAsync("Lablup\n", Path.GetTempPath(), "run", "python:3.9-ubuntu20.04", "--rm", "-q", "-t", NewName("run-input"),
            "-c", "name = input('who? ')\nprint('hi', name)");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("who? hi Lablup\n", r.Stdout);
    }

    [Fact]
    public async Task Run_with_files_uploads_them_and_runs_batch_mode()
    {
        var dir = Directory.CreateTempSubdirectory("cli-run-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "main.py"), "import sys\nprint('args', sys.argv[1:])\n");
        var r = await server.RunInAsync("", dir, "run", "python:3.9-ubuntu20.04", "--rm", "-t", NewName("run-batch"),
            "--exec", "python3 main.py one two", "main.py");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("args ['one', 'two']", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("Uploading done.", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_enqueue_only_returns_without_running()
    {
        var name = NewName("run-enq");
        var r = await server.RunAsync("run", "sim", "--enqueue-only", "-t", name, "-c", "x");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("enqueued", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("", r.Stdout);
        await server.RunAsync("rm", name);
    }

    [Fact]
    public async Task Run_json_output_reports_each_case()
    {
        var r = await server.RunAsync("run", "sim", "--rm", "-q", "--output", "json", "-t", NewName("run-json"), "-c", "x");
        Assert.True(r.ExitCode == 0, r.ToString());
        var json = JsonDocument.Parse(r.Stdout[r.Stdout.IndexOf('[', StringComparison.Ordinal)..]).RootElement;
        Assert.Equal("succeeded", json[0].GetProperty("status").GetString());
        Assert.Equal(0, json[0].GetProperty("exit_code").GetInt32());
    }
}

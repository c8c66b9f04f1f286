namespace BackendAI.Cli.Tests.EndToEnd;

/// <summary>Parsing, configuration and errors: no server needed.</summary>
public class CliBasicsTests
{
    private static readonly Dictionary<string, string?> Env = new()
    {
        ["BACKEND_ENDPOINT"] = "http://127.0.0.1:9",
        ["BACKEND_ACCESS_KEY"] = "AKIAIOSFODNN7EXAMPLE",
        ["BACKEND_SECRET_KEY"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ["BACKEND_DOMAIN"] = "research",
    };

    [Fact]
    public async Task Config_prints_the_effective_settings_with_the_secret_redacted()
    {
        var r = await Cli.RunAsync(Env, ["config"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("http://127.0.0.1:9", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("AKIAIOSFODNN7EXAMPLE", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("research", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("(set, redacted)", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("EXAMPLEKEY", r.Stdout + r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_as_json_is_machine_readable_and_still_redacted()
    {
        var r = await Cli.RunAsync(Env, ["config", "--output", "json"]);
        Assert.Equal(0, r.ExitCode);
        var json = System.Text.Json.JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal("AKIAIOSFODNN7EXAMPLE", json.GetProperty("access_key").GetString());
        Assert.Equal("research", json.GetProperty("domain").GetString());
        Assert.Equal("(set, redacted)", json.GetProperty("secret_key").GetString());
    }

    [Fact]
    public async Task An_unknown_option_is_one_line_and_exit_code_2()
    {
        var r = await Cli.RunAsync(Env, ["ps", "--no-such-option"]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("backend.ai: ", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("--no-such-option", r.Stderr.Split('\n')[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "run", "python" }, "-c")]
    [InlineData(new[] { "run", "python", "-c", "x", "a.py" }, "either")]
    [InlineData(new[] { "run", "sim", "-c", "x", "-r", "cpu=lots" }, "-r/--resources")]
    [InlineData(new[] { "run", "sim", "-c", "x", "--env-range", "X=list:1" }, "--env-range")]
    [InlineData(new[] { "run", "sim", "-c", "x", "--cluster-size", "9" }, "--cluster-size")]
    [InlineData(new[] { "ps", "-s", "ZOMBIE" }, "-s/--status")]
    [InlineData(new[] { "app", "s", "jupyter", "-b", "http" }, "-b/--bind")]
    public async Task Bad_arguments_fail_before_any_request_with_a_clear_line(string[] args, string named)
    {
        var r = await Cli.RunAsync(Env, args);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("backend.ai: ", StringComparison.Ordinal));
        Assert.Contains(named, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_is_one_line_and_a_non_zero_exit()
    {
        var r = await Cli.RunAsync(Env, ["logs", "nosuchsession"]);
        Assert.NotEqual(0, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("backend.ai: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Debug_adds_the_error_details()
    {
        var r = await Cli.RunAsync(Env, ["logs", "nosuchsession", "--debug"]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.True(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length > 1, r.ToString());
    }

    [Fact]
    public async Task Help_lists_the_verbs()
    {
        var r = await Cli.RunAsync(Env, ["--help"]);
        Assert.Equal(0, r.ExitCode);
        foreach (var verb in new[] { "run", "ps", "start", "rm", "events", "logs", "upload", "download", "ls", "app", "vfolder", "local", "config", "login", "logout", "admin" })
            Assert.Contains(verb, r.Stdout, StringComparison.Ordinal);
    }
}

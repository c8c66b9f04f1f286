using System.Net;
using BackendAI.Cli.Parsing;

namespace BackendAI.Cli.Tests.Parsing;

public class SmallParsersTests
{
    [Theory]
    [InlineData(null, false, false, StatusGroups.Default)]
    [InlineData(null, true, false, "PREPARING,PULLING,RUNNING")]
    [InlineData(null, false, true, "CANCELLED,TERMINATED")]
    [InlineData("running", false, false, "RUNNING")]
    [InlineData("BUILDING", false, false, "BUILDING")]
    [InlineData("ALL", false, false, StatusGroups.Default + ",CANCELLED,TERMINATED")]
    [InlineData("ERROR", true, false, "PREPARING,PULLING,RUNNING")]
    public void Ps_status_groups_follow_sessions_md_13_5(string? status, bool running, bool dead, string expected)
    {
        Assert.Equal(expected, StatusGroups.Resolve(status, running, dead));
    }

    [Fact]
    public void Ps_rejects_unknown_statuses_and_both_groups()
    {
        Assert.Throws<CliUsageException>(() => StatusGroups.Resolve("ZOMBIE", false, false));
        Assert.Throws<CliUsageException>(() => StatusGroups.Resolve(null, true, true));
    }

    [Theory]
    [InlineData("8080", "127.0.0.1", 8080)]
    [InlineData("0.0.0.0:9000", "0.0.0.0", 9000)]
    [InlineData("localhost:0", "localhost", 0)]
    [InlineData("[::1]:8888", "::1", 8888)]
    public void Bind_addresses_default_to_loopback(string text, string host, int port)
    {
        Assert.Equal(new BindAddress(host, port), BindAddress.Parse(text));
    }

    [Theory]
    [InlineData("http")]
    [InlineData("1:70000")]
    [InlineData(":80")]
    public void Bad_bind_addresses_fail(string text)
    {
        Assert.Throws<CliUsageException>(() => BindAddress.Parse(text));
    }

    [Fact]
    public void Bind_any_resolves_to_any_address()
    {
        Assert.Equal(IPAddress.Any, BindAddress.Parse("0.0.0.0:1").ResolveAddress());
        Assert.Equal(IPAddress.Loopback, BindAddress.Parse("localhost:1").ResolveAddress());
    }

    [Fact]
    public void App_arguments_map_flags_to_null_values_to_strings_and_lists()
    {
        var args = AppArguments.ParseArguments(["--flag", "--port 12345", "--multi a 'b c'"]);
        Assert.NotNull(args);
        Assert.Equal("""{"--flag":null,"--port":"12345","--multi":["a","b c"]}""", args.ToJsonString());
        Assert.Null(AppArguments.ParseArguments([]));
    }

    [Fact]
    public void App_environment_builds_the_envs_object()
    {
        Assert.Equal("""{"PASSWORD":"12345"}""", AppArguments.ParseEnvironment(["PASSWORD=12345"])!.ToJsonString());
    }

    [Theory]
    [InlineData("a b  c", new[] { "a", "b", "c" })]
    [InlineData("'a b' \"c d\" e\\ f", new[] { "a b", "c d", "e f" })]
    [InlineData("x''y", new[] { "xy" })]
    public void Shell_split_groups_quotes(string text, string[] expected)
    {
        Assert.Equal(expected, AppArguments.ShellSplit(text));
    }
}

using BackendAI.Cli.Parsing;

namespace BackendAI.Cli.Tests.Parsing;

public class KeyValueOptionsTests
{
    [Fact]
    public void Resources_accept_slots_with_numbers_and_size_suffixes()
    {
        var r = KeyValueOptions.ParseResources(["cpu=4", "mem=8g", "cuda.shares=0.5", "gpu=1,mem=4GiB"]);
        Assert.Equal("4", r["cpu"]);
        Assert.Equal("4GiB", r["mem"]);
        Assert.Equal("0.5", r["cuda.shares"]);
        Assert.Equal("1", r["gpu"]);
        Assert.Equal(4, r.Count);
    }

    [Theory]
    [InlineData("cpu", "SLOT=VALUE")]
    [InlineData("=4", "SLOT=VALUE")]
    [InlineData("cpu=lots", "is not a number")]
    [InlineData("mem=8q", "is not a number")]
    [InlineData("c pu=1", "is not a resource slot name")]
    public void Bad_resources_fail_naming_the_item(string item, string problem)
    {
        var e = Assert.Throws<CliUsageException>(() => KeyValueOptions.ParseResources([item]));
        Assert.Contains("-r/--resources", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Environment_keeps_values_raw_and_order_and_a_later_duplicate_wins()
    {
        var env = KeyValueOptions.ParseEnvironment(["A=$X", "B=x=y", "A=2", "C="]);
        Assert.Equal(["A=2", "B=x=y", "C="], env.Select(p => $"{p.Key}={p.Value}"));
    }

    [Theory]
    [InlineData("NOVALUE")]
    [InlineData("1A=b")]
    public void Bad_environment_items_fail(string item)
    {
        var e = Assert.Throws<CliUsageException>(() => KeyValueOptions.ParseEnvironment([item]));
        Assert.Contains("-e/--env", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mounts_accept_names_and_name_path_pairs_and_mount_map()
    {
        var m = KeyValueOptions.ParseMounts(["data", "models=/mnt/models", "cache:rel/cache", "data"], ["extra=/opt/extra"]);
        Assert.Equal(["data", "models", "cache", "extra"], m.Mounts);
        Assert.Equal("/mnt/models", m.MountMap["models"]);
        Assert.Equal("rel/cache", m.MountMap["cache"]);
        Assert.Equal("/opt/extra", m.MountMap["extra"]);
        Assert.False(m.MountMap.ContainsKey("data"));
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("name=")]
    public void Bad_mounts_fail(string item)
    {
        Assert.Throws<CliUsageException>(() => KeyValueOptions.ParseMounts([item]));
    }

    [Fact]
    public void Mount_map_requires_a_path()
    {
        var e = Assert.Throws<CliUsageException>(() => KeyValueOptions.ParseMounts([], ["data"]));
        Assert.Contains("--mount-map", e.Message, StringComparison.Ordinal);
    }
}

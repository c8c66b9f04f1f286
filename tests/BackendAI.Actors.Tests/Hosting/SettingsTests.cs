using Akka.Configuration;
using Akka.Streams;
using BackendAI.Actors.Hosting;
using Akka.Configuration.Hocon;

namespace BackendAI.Actors.Tests.Hosting;

public sealed class SettingsTests
{
    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException(relative);
    }

    private static SortedSet<string> Keys(Config config)
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        void Walk(HoconValue value, string path)
        {
            if (value.IsObject())
                foreach (var (k, v) in value.GetObject().Items) Walk(v, path.Length == 0 ? k : path + "." + k);
            else
                keys.Add(path);
        }
        Walk(config.Root, "");
        return keys;
    }

    [Fact]
    public void Operator_copy_hocon_backendai_conf_parses_with_exactly_the_reference_keys()
    {
        var reference = BackendAIConfig.Reference;
        var operatorCopy = ConfigurationFactory.ParseString(File.ReadAllText(RepoFile("hocon/backendai.conf")));
        Assert.Equal(Keys(reference), Keys(operatorCopy));
        Assert.Equal(BackendAISettings.Create(reference), BackendAISettings.Create(operatorCopy));
    }

    [Fact]
    public void Reference_conf_is_embedded_and_yields_the_documented_defaults()
    {
        var s = BackendAISettings.Create(ConfigurationFactory.Empty);
        Assert.Equal(TimeSpan.FromMinutes(5), s.Session.StartMaxWait);
        Assert.Equal(TimeSpan.FromSeconds(30), s.Session.ReconcileInterval);
        Assert.Equal(1024, s.EventStream.BufferSize);
        Assert.Equal(OverflowStrategy.Backpressure, s.EventStream.Overflow);
        Assert.Equal(OverflowStrategy.DropHead, s.EventStream.SubscriberOverflow);
        Assert.Equal(new BackoffSettings(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2), s.EventStream.Reconnect);
        Assert.Equal(4, s.Transfer.MaxConcurrent);
        Assert.Equal(256, s.RunLoop.BufferSize);
    }

    [Fact]
    public void User_hocon_overrides_a_key_and_keeps_the_other_defaults()
    {
        var s = BackendAISettings.Create(ConfigurationFactory.ParseString("backendai.event-stream.overflow = drop-tail\nbackendai.transfer.max-concurrent = 9"));
        Assert.Equal(OverflowStrategy.DropTail, s.EventStream.Overflow);
        Assert.Equal(9, s.Transfer.MaxConcurrent);
        Assert.Equal(256, s.Transfer.QueueSize);
    }

    [Fact]
    public void Unknown_overflow_strategy_is_a_clear_configuration_error_naming_the_key()
    {
        var ex = Assert.Throws<ConfigurationException>(() =>
            BackendAISettings.Create(ConfigurationFactory.ParseString("backendai.event-stream.overflow = explode")));
        Assert.Contains("backendai.event-stream.overflow", ex.Message);
        Assert.Contains("explode", ex.Message);
    }

    [Theory]
    [InlineData(0, 1000)]
    [InlineData(1, 2000)]
    [InlineData(10, 30000)]
    public void Backoff_grows_exponentially_with_bounded_jitter(int attempt, int baseMs)
    {
        var b = new BackoffSettings(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2);
        for (var i = 0; i < 50; i++)
        {
            var d = b.Delay(attempt).TotalMilliseconds;
            Assert.InRange(d, Math.Min(baseMs, 30000), Math.Min(baseMs * 1.2, 30000) + 0.001);
        }
    }
}

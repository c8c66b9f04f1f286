using BackendAI.Client.Config;
using BackendAI.Client.Errors;

namespace BackendAI.Client.Tests.Config;

public class OptionsTests
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    private static Dictionary<string, string?> Env(params (string Key, string? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);

    [Fact]
    public void Defaults_match_client_py()
    {
        var o = BackendAIClientOptions.FromEnvironment(Env());
        Assert.Equal([new Uri("https://api.backend.ai")], o.Endpoints);
        Assert.Equal(EndpointType.Api, o.EndpointType);
        Assert.Equal("default", o.Domain);
        Assert.Equal("default", o.Group);
        Assert.Equal("sha256", o.HashType);
        Assert.Equal(TimeSpan.FromSeconds(10), o.ConnectionTimeout);
        Assert.Equal(TimeSpan.Zero, o.ReadTimeout);
        Assert.Null(o.ApiVersion);
        Assert.Equal(string.Empty, o.AccessKey);
        Assert.False(o.SkipSslVerification);
        o.Validate();
    }

    [Fact]
    public void Client10_environment_reads_every_setting_and_comma_separated_endpoints()
    {
        var o = BackendAIClientOptions.FromEnvironment(Env(
            ("BACKEND_ENDPOINT", "http://a:8081, http://b:8081/api/"),
            ("BACKEND_ENDPOINT_TYPE", "session"),
            ("BACKEND_DOMAIN", "d1"), ("BACKEND_GROUP", "g1"),
            ("BACKEND_ACCESS_KEY", "AKIATEST"), ("BACKEND_SECRET_KEY", "s3cr3t"),
            ("BACKEND_VFOLDER_MOUNTS", "data1, data2"),
            ("BACKEND_SKIP_SSLCERT_VALIDATION", "yes"),
            ("BACKEND_CONNECTION_TIMEOUT", "2.5"), ("BACKEND_READ_TIMEOUT", "30"),
            ("BACKEND_OVERRIDE_STORAGE_PROXY", "http://in:6021=https://out/storage")));
        Assert.Equal([new Uri("http://a:8081"), new Uri("http://b:8081/api/")], o.Endpoints);
        Assert.Equal(EndpointType.Session, o.EndpointType);
        Assert.Equal(("d1", "g1"), (o.Domain, o.Group));
        Assert.Equal(("AKIATEST", "s3cr3t"), (o.AccessKey, o.SecretKey));
        Assert.Equal(["data1", "data2"], o.VFolderMounts);
        Assert.True(o.SkipSslVerification);
        Assert.Equal(TimeSpan.FromSeconds(2.5), o.ConnectionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), o.ReadTimeout);
        Assert.Equal("https://out/storage", o.StorageProxyOverrides["http://in:6021"]);
    }

    [Fact]
    public void Backend_variables_win_over_sorna_fallbacks()
    {
        var o = BackendAIClientOptions.FromEnvironment(Env(
            ("SORNA_ENDPOINT", "http://sorna:1"), ("SORNA_DOMAIN", "sd"),
            ("BACKEND_DOMAIN", "bd")));
        Assert.Equal(new Uri("http://sorna:1"), o.Endpoints[0]);
        Assert.Equal("bd", o.Domain);
    }

    [Fact]
    public void Hocon_reads_the_backendai_client_block_including_lists_durations_and_retry()
    {
        var o = BackendAIClientOptions.FromHocon("""
            backendai.client {
              endpoint = ["http://h1:8081", "http://h2:8081"]
              endpoint-type = api
              access-key = AKIAHOCON
              secret-key = "hocon-secret"
              api-version = v5.20191215
              hash-type = sha512
              vfolder-mounts = [a, b]
              connection-timeout = 3s
              read-timeout = 1500ms
              skip-ssl-verification = true
              override-storage-proxy { "http://x:1" = "http://y:2" }
              retry { max-attempts = 5, initial-backoff = 50ms, max-backoff = 2s, backoff-multiplier = 3 }
            }
            """);
        Assert.Equal(2, o.Endpoints.Count);
        Assert.Equal("AKIAHOCON", o.AccessKey);
        Assert.Equal(new ApiVersion(5, "20191215"), o.ApiVersion);
        Assert.Equal("sha512", o.HashType);
        Assert.Equal(["a", "b"], o.VFolderMounts);
        Assert.Equal(TimeSpan.FromSeconds(3), o.ConnectionTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), o.ReadTimeout);
        Assert.True(o.SkipSslVerification);
        Assert.Equal("http://y:2", o.StorageProxyOverrides["http://x:1"]);
        Assert.Equal(5, o.Retry.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(50), o.Retry.InitialBackoff);
        Assert.Equal(TimeSpan.FromSeconds(2), o.Retry.MaxBackoff);
        Assert.Equal(3.0, o.Retry.BackoffMultiplier);
        o.Validate();
    }

    [Fact]
    public void Precedence_is_code_over_environment_over_hocon_over_defaults()
    {
        const string hocon = "backendai.client { domain = from-hocon, group = from-hocon, access-key = AKIAHOCON, secret-key = x }";
        var o = BackendAIClientOptions.Load(hocon, Env(("BACKEND_GROUP", "from-env"), ("BACKEND_ACCESS_KEY", "AKIAENV")));
        Assert.Equal("from-hocon", o.Domain);   // only HOCON sets it
        Assert.Equal("from-env", o.Group);      // env beats HOCON
        Assert.Equal("AKIAENV", o.AccessKey);
        Assert.Equal("default", BackendAIClientOptions.Load(null, Env()).Group); // defaults when nothing is set
        o.AccessKey = "AKIACODE";               // code beats both
        Assert.Equal("AKIACODE", o.AccessKey);
    }

    [Fact]
    public void The_shipped_hocon_file_parses_and_validates()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "hocon", "client.conf"))) dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        var o = BackendAIClientOptions.FromHocon(File.ReadAllText(Path.Combine(dir, "hocon", "client.conf")));
        o.Validate();
        Assert.Equal(new Uri("https://api.backend.ai"), o.Endpoints[0]);
        Assert.Null(o.ApiVersion);
    }

    public static TheoryData<string, string, string> BadEnvironment() => new()
    {
        { "BACKEND_ENDPOINT", "not a url", "BACKEND_ENDPOINT" },
        { "BACKEND_ENDPOINT", "/relative/path", "BACKEND_ENDPOINT" },
        { "BACKEND_ENDPOINT", "ftp://host", "BACKEND_ENDPOINT" },
        { "BACKEND_ENDPOINT", "http://h?x=1", "BACKEND_ENDPOINT" },
        { "BACKEND_ENDPOINT", " , ", "BACKEND_ENDPOINT" },
        { "BACKEND_ENDPOINT_TYPE", "webserver", "BACKEND_ENDPOINT_TYPE" },
        { "BACKEND_SKIP_SSLCERT_VALIDATION", "maybe", "BACKEND_SKIP_SSLCERT_VALIDATION" },
        { "BACKEND_CONNECTION_TIMEOUT", "-1", "BACKEND_CONNECTION_TIMEOUT" },
        { "BACKEND_CONNECTION_TIMEOUT", "0", "BACKEND_CONNECTION_TIMEOUT" },
        { "BACKEND_READ_TIMEOUT", "-0.5", "BACKEND_READ_TIMEOUT" },
        { "BACKEND_READ_TIMEOUT", "soon", "BACKEND_READ_TIMEOUT" },
        { "BACKEND_OVERRIDE_STORAGE_PROXY", "nonsense", "BACKEND_OVERRIDE_STORAGE_PROXY" },
        { "SORNA_ENDPOINT", "::bad::", "SORNA_ENDPOINT" },
    };

    [Theory]
    [MemberData(nameof(BadEnvironment))]
    public void Invalid_environment_values_fail_naming_the_variable(string key, string value, string expectedSetting)
    {
        var ex = Assert.Throws<BackendClientException>(() => BackendAIClientOptions.FromEnvironment(Env((key, value))));
        Assert.Equal(expectedSetting, ex.Setting);
        Assert.Contains(expectedSetting, ex.Message);
    }

    public static TheoryData<string, string> BadHocon() => new()
    {
        { "endpoint = \"relative\"", "backendai.client.endpoint" },
        { "endpoint-type = foo", "backendai.client.endpoint-type" },
        { "skip-ssl-verification = perhaps", "backendai.client.skip-ssl-verification" },
        { "connection-timeout = -3s", "backendai.client.connection-timeout" },
        { "read-timeout = 5 fortnights", "backendai.client.read-timeout" },
        { "api-version = six", "backendai.client.api-version" },
        { "retry.max-attempts = 0", "backendai.client.retry.max-attempts" },
        { "retry.backoff-multiplier = 0.5", "backendai.client.retry.backoff-multiplier" },
    };

    [Theory]
    [MemberData(nameof(BadHocon))]
    public void Invalid_hocon_values_fail_naming_the_key(string line, string expectedSetting)
    {
        var ex = Assert.Throws<BackendClientException>(() => BackendAIClientOptions.FromHocon("backendai.client { " + line + " }"));
        Assert.Equal(expectedSetting, ex.Setting);
    }

    [Fact]
    public void Unparseable_hocon_is_a_client_error()
    {
        var ex = Assert.Throws<BackendClientException>(() => BackendAIClientOptions.FromHocon("backendai.client { endpoint = ${nowhere.defined} }"));
        Assert.StartsWith("backendai.client", ex.Setting);
        var empty = Assert.Throws<BackendClientException>(() => BackendAIClientOptions.FromHocon("backendai.client { endpoint = "));
        Assert.StartsWith("backendai.client", empty.Setting);
    }

    [Theory]
    [InlineData("backendai.client { endpoint = [1, 2 }", "does not match")]
    [InlineData("backendai.client { endpoint = [\"http://a\"", "never closed")]
    [InlineData("backendai.client { access-key = \"AKIA }", "never closed")]
    [InlineData("backendai.client } {", "closes nothing")]
    public async Task Malformed_hocon_fails_fast_with_a_client_error_instead_of_hanging_the_parser(string hocon, string problem)
    {
        // Akka's parser loops forever on an unclosed list; the structural check must answer first.
        var attempt = Task.Run(() => BackendAIClientOptions.FromHocon(hocon));
        var ex = await Assert.ThrowsAsync<BackendClientException>(() => attempt.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("backendai.client", ex.Setting);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void Hocon_structure_check_ignores_brackets_in_strings_and_comments()
    {
        var o = BackendAIClientOptions.FromHocon(""""
            # a comment with [ and {
            backendai.client {
              endpoint = "http://127.0.0.1:8081/a{b}"   // trailing ] comment
              domain = """multi { [ line"""
            }
            """");
        Assert.Equal("http://127.0.0.1:8081/a{b}", o.Endpoints[0].OriginalString);
    }

    public static TheoryData<string, Action<BackendAIClientOptions>> BadCode() => new()
    {
        { "endpoint", o => o.Endpoints = [] },
        { "endpoint", o => o.Endpoints = [new Uri("/rel", UriKind.Relative)] },
        { "hash-type", o => o.HashType = "crc32" },
        { "connection-timeout", o => o.ConnectionTimeout = TimeSpan.FromSeconds(-1) },
        { "read-timeout", o => o.ReadTimeout = TimeSpan.FromSeconds(-1) },
        { "secret-key", o => { o.AccessKey = "AKIA"; o.SecretKey = ""; } },
        { "domain", o => o.Domain = " " },
        { "retry.max-attempts", o => o.Retry.MaxAttempts = 0 },
        { "retry.max-backoff", o => { o.Retry.InitialBackoff = TimeSpan.FromSeconds(5); o.Retry.MaxBackoff = TimeSpan.FromSeconds(1); } },
        { "endpoint-type", o => o.EndpointType = (EndpointType)7 },
        { "override-storage-proxy", o => o.StorageProxyOverrides = new Dictionary<string, string> { ["http://a"] = "relative" } },
    };

    [Theory]
    [MemberData(nameof(BadCode))]
    public void Validate_names_the_invalid_setting(string setting, Action<BackendAIClientOptions> breakIt)
    {
        var o = new BackendAIClientOptions { AccessKey = "AKIAIOSFODNN7EXAMPLE", SecretKey = Secret };
        breakIt(o);
        var ex = Assert.Throws<BackendClientException>(o.Validate);
        Assert.Equal(setting, ex.Setting);
        Assert.DoesNotContain(Secret, ex.Message);
    }

    [Fact]
    public void Client_constructor_validates()
    {
        var ex = Assert.Throws<BackendClientException>(() => new BackendAIClient(new BackendAIClientOptions { HashType = "nope" }));
        Assert.Equal("hash-type", ex.Setting);
    }

    [Fact]
    public void Secret_key_never_appears_in_ToString_or_errors()
    {
        var o = BackendAIClientOptions.FromEnvironment(Env(("BACKEND_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE"), ("BACKEND_SECRET_KEY", Secret)));
        var text = o.ToString();
        Assert.DoesNotContain(Secret, text);
        Assert.Contains("AKIAIOSFODNN7EXAMPLE", text);
        Assert.Contains("***", text);
        var ex = Assert.Throws<BackendClientException>(() =>
            BackendAIClientOptions.FromEnvironment(Env(("BACKEND_SECRET_KEY", Secret), ("BACKEND_READ_TIMEOUT", "x"))));
        Assert.DoesNotContain(Secret, ex.ToString());
        Assert.DoesNotContain(Secret, new Client.Auth.RequestSigner("AKIA", Secret).ToString());
    }
}

namespace BackendAI.Cli.Tests.EndToEnd;

/// <summary>
/// The <c>session</c> endpoint type (auth-and-transport.md §12): a login in one CLI process is used by the
/// next process through the cookie jar in the config directory, and logout removes it.
/// </summary>
public class LoginCookieTests(CliServerFixture server) : IClassFixture<CliServerFixture>
{
    private const string UserEmail = "user@lablup.com";
    private const string UserPassword = "C8qnIo29";

    private Dictionary<string, string?> SessionModeEnvironment(string home) => new()
    {
        ["BACKEND_ENDPOINT"] = server.Endpoint.ToString(),
        ["BACKEND_ENDPOINT_TYPE"] = "session",
        ["HOME"] = home,
    };

    [Fact]
    public async Task Login_cookie_is_kept_for_later_processes_and_logout_removes_it()
    {
        var home = Directory.CreateTempSubdirectory("cli-login-").FullName;
        var env = SessionModeEnvironment(home);
        var jar = Path.Combine(home, ".cache", "backend.ai", CookieJar.FileName);

        var before = await Cli.RunAsync(env, ["ps", "--name-only"]);
        Assert.True(before.ExitCode != 0, before.ToString());

        var login = await Cli.RunAsync(env, ["login", "-u", UserEmail], stdin: UserPassword + "\n");
        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.True(File.Exists(jar), "the login cookie is saved");
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(jar));
        Assert.DoesNotContain(UserPassword, await File.ReadAllTextAsync(jar), StringComparison.Ordinal);

        // A new process (a new context, client and runtime) is logged in through the saved cookie.
        var name = "ck-" + Guid.NewGuid().ToString("N")[..8];
        var start = await Cli.RunAsync(env, ["start", "sim", "-t", name]);
        Assert.True(start.ExitCode == 0, start.ToString());
        var ps = await Cli.RunAsync(env, ["ps", "--name-only"]);
        Assert.True(ps.ExitCode == 0, ps.ToString());
        Assert.Contains(name, ps.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await Cli.RunAsync(env, ["rm", name])).ExitCode);

        var logout = await Cli.RunAsync(env, ["logout"]);
        Assert.True(logout.ExitCode == 0, logout.ToString());
        Assert.False(File.Exists(jar), "logout deletes the saved cookie");
        var after = await Cli.RunAsync(env, ["ps", "--name-only"]);
        Assert.True(after.ExitCode != 0, after.ToString());
    }

    [Fact]
    public async Task A_failed_login_saves_no_cookie()
    {
        var home = Directory.CreateTempSubdirectory("cli-login-").FullName;
        var r = await Cli.RunAsync(SessionModeEnvironment(home), ["login", "-u", UserEmail], stdin: "wrong-password\n");
        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.False(File.Exists(Path.Combine(home, ".cache", "backend.ai", CookieJar.FileName)));
        Assert.DoesNotContain("wrong-password", r.Stdout + r.Stderr, StringComparison.Ordinal);
    }
}

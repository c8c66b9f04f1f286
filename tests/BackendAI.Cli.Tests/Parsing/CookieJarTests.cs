using System.Net;

namespace BackendAI.Cli.Tests.Parsing;

public class CookieJarTests
{
    [Fact]
    public void Cookies_round_trip_through_the_file_and_expired_ones_are_dropped()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("cli-jar-").FullName, "nested", CookieJar.FileName);
        var jar = new CookieContainer();
        jar.Add(new Cookie("AIOHTTP_SESSION", "token-1", "/", "127.0.0.1") { HttpOnly = true });
        jar.Add(new Cookie("old", "x", "/", "127.0.0.1") { Expires = DateTime.UtcNow.AddSeconds(2) });
        CookieJar.Save(jar, path);

        var loaded = CookieJar.Load(path).GetCookies(new Uri("http://127.0.0.1/func/session"));
        Assert.Equal("token-1", loaded["AIOHTTP_SESSION"]?.Value);
        Assert.True(loaded["AIOHTTP_SESSION"]!.HttpOnly);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_missing_or_corrupt_file_gives_an_empty_jar()
    {
        var dir = Directory.CreateTempSubdirectory("cli-jar-").FullName;
        Assert.Equal(0, CookieJar.Load(Path.Combine(dir, "absent.json")).Count);
        var corrupt = Path.Combine(dir, "corrupt.json");
        File.WriteAllText(corrupt, "{not json");
        Assert.Equal(0, CookieJar.Load(corrupt).Count);
        Assert.True(CookieJar.Delete(corrupt));
        Assert.False(CookieJar.Delete(corrupt));
    }
}

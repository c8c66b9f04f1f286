using BackendAI.Cli.Parsing;

namespace BackendAI.Cli.Tests.Parsing;

public class VFolderMoveTests
{
    [Theory]
    [InlineData("a.txt", "b.txt", "a.txt", "b.txt", true)]
    [InlineData("/d/a.txt", "d/b.txt", "d/a.txt", "d/b.txt", true)]
    [InlineData("a.txt", "sub/", "a.txt", "sub/a.txt", false)]
    [InlineData("a.txt", "sub/b.txt", "a.txt", "sub/b.txt", false)]
    [InlineData("sub/a.txt", ".", "sub/a.txt", "a.txt", false)]
    [InlineData("sub/a.txt", "/", "sub/a.txt", "a.txt", false)]
    [InlineData("x\\y.txt", "z\\", "x/y.txt", "z/y.txt", false)]
    public void Paths_are_normalised_and_a_trailing_slash_moves_into_the_directory(string src, string dst, string expectedSrc, string expectedDst, bool rename)
    {
        var (s, d) = VFolderMove.Resolve(src, dst);
        Assert.Equal(expectedSrc, s);
        Assert.Equal(expectedDst, d);
        Assert.Equal(rename, VFolderMove.IsRename(s, d));
    }

    [Theory]
    [InlineData("/", "a")]
    [InlineData(".", "a")]
    [InlineData("a", "")]
    public void Empty_paths_are_refused(string src, string dst) =>
        Assert.Throws<BackendAI.Cli.Parsing.CliUsageException>(() => VFolderMove.Resolve(src, dst));
}

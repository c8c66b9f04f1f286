using BackendAI.Local.VFolders;

namespace BackendAI.Local.Tests.VFolders;

public sealed class StorageUnitTests
{
    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Theory]
    [InlineData("bytes=10-19", 40, 10L, 10L)]
    [InlineData("bytes=30-", 40, 30L, 10L)]
    [InlineData("bytes=-5", 40, 35L, 5L)]
    [InlineData("bytes=0-100", 40, 0L, 40L)]
    public void Single_ranges_are_parsed_and_clamped(string header, long length, long start, long count)
    {
        Assert.True(StorageService.TryParseRange(header, length, out var range));
        Assert.Equal((start, count), range);
    }

    [Theory]
    [InlineData("bytes=40-50")]
    [InlineData("bytes=100-")]
    public void Ranges_past_the_end_are_unsatisfiable(string header)
    {
        Assert.True(StorageService.TryParseRange(header, 40, out var range));
        Assert.Null(range);
    }

    [Theory]
    [InlineData("")]
    [InlineData("items=0-1")]
    [InlineData("bytes=0-1,5-6")]
    [InlineData("bytes=5-2")]
    public void Absent_multiple_or_malformed_ranges_serve_the_whole_file(string header) =>
        Assert.False(StorageService.TryParseRange(header, 40, out _));

    [Fact]
    public void Content_disposition_has_an_ascii_name_and_an_encoded_utf8_name() =>
        Assert.Equal("attachment;filename=\"r_sum_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt", StorageService.ContentDisposition("résumé.txt"));

    [Fact]
    public void Tokens_verify_for_their_operation_until_they_expire_and_survive_a_new_instance()
    {
        var dir = Directory.CreateTempSubdirectory("bai-tok-").FullName;
        try
        {
            var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
            var tokens = new TransferTokens(dir, time);
            var token = tokens.Issue(new TransferGrant("upload", "ab", "x.bin", 40, "s1", false, 0), TimeSpan.FromMinutes(10));
            Assert.Equal("x.bin", tokens.Verify(token, "upload")!.RelPath);
            Assert.Null(tokens.Verify(token, "download"));
            Assert.Equal(40, new TransferTokens(dir, time).Verify(token, "upload")!.Size);
            Assert.Null(tokens.Verify(token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1], "upload"));
            time.Now = time.Now.AddMinutes(11);
            Assert.Null(tokens.Verify(token, "upload"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("a/../b", "b")]
    [InlineData("./a/b", "a/b")]
    [InlineData("", "")]
    public void Relative_paths_inside_the_root_resolve(string relative, string expected)
    {
        var root = Directory.CreateTempSubdirectory("bai-root-").FullName;
        try
        {
            Assert.Equal(Path.TrimEndingDirectorySeparator(Path.Combine(root, expected)), VFolderFiles.Resolve(root, relative));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}

using BackendAI.Cli.Parsing;

namespace BackendAI.Cli.Tests.Parsing;

public class DollarTemplateTests
{
    private static readonly Dictionary<string, string> Vars = new() { ["X"] = "1", ["name_2"] = "ab" };

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("$X", "1")]
    [InlineData("a${X}b", "a1b")]
    [InlineData("$name_2-$X", "ab-1")]
    [InlineData("cost $$5 $X", "cost $5 1")]
    [InlineData("$X.5", "1.5")]
    public void Substitutes_like_python_string_template(string template, string expected)
    {
        Assert.Equal(expected, DollarTemplate.Substitute(template, Vars, "t"));
    }

    [Theory]
    [InlineData("$ alone")]
    [InlineData("${X")]
    [InlineData("${1}")]
    [InlineData("end$")]
    public void Invalid_placeholders_fail(string template)
    {
        var e = Assert.Throws<CliUsageException>(() => DollarTemplate.Substitute(template, Vars, "--exec"));
        Assert.Contains("Invalid placeholder in --exec", e.Message, StringComparison.Ordinal);
    }
}

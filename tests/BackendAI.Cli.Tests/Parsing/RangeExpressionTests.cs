using BackendAI.Cli.Parsing;

namespace BackendAI.Cli.Tests.Parsing;

public class RangeExpressionTests
{
    [Fact]
    public void Case_splits_on_commas_keeping_strings_as_given()
    {
        var r = RangeExpression.Parse("X=case:1,b, c");
        Assert.Equal("X", r.Key);
        Assert.Equal(["1", "b", " c"], r.Values);
    }

    [Fact]
    public void Linspace_yields_num_values_from_start_to_stop_inclusive_with_decimal_scale()
    {
        Assert.Equal(["1.0", "1.5", "2.0"], RangeExpression.Parse("lr=linspace:1,2,3").Values);
        Assert.Equal(["0.00", "0.25", "0.50", "0.75", "1.00"], RangeExpression.Parse("p=linspace:0,1,5").Values);
    }

    [Fact]
    public void Linspace_with_one_value_is_the_start()
    {
        Assert.Equal(["3"], RangeExpression.Parse("p=linspace:3,9,1").Values);
    }

    [Theory]
    [InlineData("n=range:4", new[] { "0", "1", "2", "3" })]
    [InlineData("n=range:1,4", new[] { "1", "2", "3" })]
    [InlineData("n=range:0,10,3", new[] { "0", "3", "6", "9" })]
    [InlineData("n=range:5,0,-2", new[] { "5", "3", "1" })]
    [InlineData("n=range:3,3", new string[0])]
    public void Range_follows_python_range(string text, string[] expected)
    {
        Assert.Equal(expected, RangeExpression.Parse(text).Values);
    }

    [Theory]
    [InlineData("noequals", "KEY=EXPR")]
    [InlineData("1X=case:a", "key")]
    [InlineData("my-var=case:a", "key")]
    [InlineData("X=list:a,b", "unrecognized range expression type")]
    [InlineData("X=range:1,a", "not an integer")]
    [InlineData("X=range:1,5,0", "step must not be zero")]
    [InlineData("X=range:1,2,3,4", "range takes")]
    [InlineData("X=linspace:1,2", "linspace takes")]
    [InlineData("X=linspace:1,2,0", "positive integer")]
    [InlineData("X=linspace:a,2,3", "not a number")]
    public void Bad_expressions_fail_naming_the_option_and_the_problem(string text, string problem)
    {
        var e = Assert.Throws<CliUsageException>(() => RangeExpression.Parse(text, "--exec-range"));
        Assert.Contains("--exec-range", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }
}

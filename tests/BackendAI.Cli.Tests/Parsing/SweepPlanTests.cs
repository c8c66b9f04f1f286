using BackendAI.Cli.Parsing;

namespace BackendAI.Cli.Tests.Parsing;

public class SweepPlanTests
{
    private static List<KeyValuePair<string, string>> Env(params string[] items) => KeyValueOptions.ParseEnvironment(items).ToList();

    [Fact]
    public void Without_ranges_there_is_one_case_with_default_batch_commands()
    {
        var cases = SweepPlan.Expand(Env("A=1"), null, null, null, [], [], []);
        var c = Assert.Single(cases);
        Assert.Equal(0, c.Index);
        Assert.Equal("*", c.Clean);
        Assert.Equal("*", c.Build);
        Assert.Equal("*", c.Exec);
        Assert.Equal("1", c.EnvironmentMap["A"]);
    }

    [Fact]
    public void Env_and_exec_ranges_expand_to_the_cartesian_product_env_outermost()
    {
        var cases = SweepPlan.Expand(Env("X=$X"), null, null, "python main.py $Y",
            [RangeExpression.Parse("X=case:1,2")], [], [RangeExpression.Parse("Y=case:a,b,c", "--exec-range")]);
        Assert.Equal(6, cases.Count);
        Assert.Equal(
            ["1|python main.py a", "1|python main.py b", "1|python main.py c", "2|python main.py a", "2|python main.py b", "2|python main.py c"],
            cases.Select(c => c.EnvironmentMap["X"] + "|" + c.Exec));
        Assert.Equal([0, 1, 2, 3, 4, 5], cases.Select(c => c.Index));
    }

    [Fact]
    public void Several_keys_of_one_kind_vary_the_last_key_fastest()
    {
        var maps = SweepPlan.Product([RangeExpression.Parse("A=case:1,2"), RangeExpression.Parse("B=range:0,2")]);
        Assert.Equal(["1,0", "1,1", "2,0", "2,1"], maps.Select(m => m["A"] + "," + m["B"]));
    }

    [Fact]
    public void A_key_given_twice_keeps_its_position_and_its_last_values()
    {
        var maps = SweepPlan.Product([RangeExpression.Parse("A=case:1,2"), RangeExpression.Parse("B=case:x"), RangeExpression.Parse("A=case:9")]);
        Assert.Equal(["9,x"], maps.Select(m => m["A"] + "," + m["B"]));
    }

    [Fact]
    public void Combinations_that_interpolate_to_the_same_case_are_run_once()
    {
        // The exec template does not use Z, so the three Z values give the same case.
        var cases = SweepPlan.Expand(Env(), null, null, "run $Y",
            [], [], [RangeExpression.Parse("Y=case:1,2"), RangeExpression.Parse("Z=case:a,b,c")]);
        Assert.Equal(["run 1", "run 2"], cases.Select(c => c.Exec));
        Assert.Equal([0, 1], cases.Select(c => c.Index));
    }

    [Fact]
    public void Ranges_without_templates_using_them_collapse_to_one_case()
    {
        var cases = SweepPlan.Expand(Env("A=fixed"), null, null, null, [RangeExpression.Parse("X=case:1,2,3")], [], []);
        Assert.Single(cases);
    }

    [Fact]
    public void Build_ranges_fill_the_build_template_and_clean_is_passed_through()
    {
        var cases = SweepPlan.Expand(Env(), "rm -rf out", "make OPT=${O}", null, [], [RangeExpression.Parse("O=range:1,3", "--build-range")], []);
        Assert.Equal(["make OPT=1", "make OPT=2"], cases.Select(c => c.Build));
        Assert.All(cases, c => Assert.Equal("rm -rf out", c.Clean));
        Assert.All(cases, c => Assert.Equal("*", c.Exec));
    }

    [Fact]
    public void A_template_variable_that_no_range_defines_is_a_clear_error()
    {
        var e = Assert.Throws<CliUsageException>(() => SweepPlan.Expand(Env(), null, null, "run $NOPE", [], [], []));
        Assert.Contains("$NOPE", e.Message, StringComparison.Ordinal);
        Assert.Contains("--exec", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_prints_env_build_and_exec()
    {
        var c = SweepPlan.Expand(Env("X=$X", "Y=k"), null, null, "go $X", [RangeExpression.Parse("X=case:7")], [], [RangeExpression.Parse("X=case:8")])[0];
        Assert.Equal("env = 'X=7 Y=k', build = '*', exec = 'go 8'", c.Describe());
    }
}

using BackendAI.Local.Kernels;

namespace BackendAI.Local.Tests.Kernels;

public sealed class KernelRunTests
{
    [Fact]
    public async Task Output_before_a_milestone_belongs_to_it_and_later_output_to_the_next_call()
    {
        var run = new KernelRun("r", 1000);
        run.Append("stdout", "build ");
        run.Append("stdout", "log\n");
        run.Post("build-finished", 0);
        run.Append("stdout", "exec\n");
        run.Post("finished", 0);

        var build = await run.NextAsync(TimeSpan.Zero, CancellationToken.None);
        var exec = await run.NextAsync(TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(("build-finished", 0, "build log\n"), (build.Status, build.ExitCode.GetValueOrDefault(), ConsoleText.Of(build, "stdout")));
        Assert.Equal(("finished", "exec\n"), (exec.Status, ConsoleText.Of(exec, "stdout")));
        Assert.True(run.IsDrained);
    }

    [Fact]
    public async Task Without_a_milestone_the_flush_window_returns_continued_with_the_output_so_far()
    {
        var run = new KernelRun("r", 1000);
        run.Append("stdout", "a");
        run.Append("stderr", "b");
        run.Append("stdout", "c");

        var result = await run.NextAsync(TimeSpan.FromMilliseconds(20), CancellationToken.None);

        Assert.Equal("continued", result.Status);
        Assert.Equal([("stdout", "a"), ("stderr", "b"), ("stdout", "c")], result.Console.Select(i => (i.Type, (string?)i.Data)));
        Assert.Empty((await run.NextAsync(TimeSpan.Zero, CancellationToken.None)).Console);
    }

    [Fact]
    public async Task A_milestone_posted_during_the_wait_returns_before_the_window_ends()
    {
        var run = new KernelRun("r", 1000);
        var pending = run.NextAsync(TimeSpan.FromSeconds(30), CancellationToken.None);

        run.Append("stdout", "x");
        run.Post("finished", 0);

        var result = await pending.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("finished", result.Status);
    }

    [Fact]
    public async Task Output_over_the_per_call_cap_is_truncated_with_a_note_per_stream()
    {
        var run = new KernelRun("r", 5);
        run.Append("stdout", "123");
        run.Append("stdout", "4567");
        run.Post("finished", 0);

        var result = await run.NextAsync(TimeSpan.Zero, CancellationToken.None);

        Assert.Equal("12345", ConsoleText.Of(result, "stdout"));
        Assert.Contains("truncated", ConsoleText.Of(result, "stderr"));
    }

    [Fact]
    public async Task Input_request_posts_the_prompt_and_waiting_input_then_completes_with_the_line()
    {
        var run = new KernelRun("r", 1000);
        var line = run.RequestInputAsync("pw: ", isPassword: true);

        var result = await run.NextAsync(TimeSpan.Zero, CancellationToken.None);
        Assert.Equal(("waiting-input", true, "pw: "), (result.Status, result.IsPassword, ConsoleText.Of(result, "stdout")));
        Assert.True(run.ProvideInput("secret"));
        Assert.Equal("secret", await line);
        Assert.False(run.ProvideInput("again"));
    }
}

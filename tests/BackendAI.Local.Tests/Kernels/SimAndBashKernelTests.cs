using System.Diagnostics;
using BackendAI.Local.Kernels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BackendAI.Local.Tests.Kernels;

public sealed class SimKernelTests
{
    [Fact]
    public async Task Sim_query_echoes_the_code_as_stdout_with_exit_code_0()
    {
        await using var h = await KernelHarness.StartAsync("sim:latest");
        Assert.Equal("sim", h.Kernel.RunnerName);

        var results = await h.QueryAsync("print('hi')");

        Assert.Single(results);
        Assert.Equal("finished", results[0].Status);
        Assert.Equal(0, results[0].ExitCode);
        Assert.Equal("print('hi')", ConsoleText.Of(results, "stdout"));
    }

    [Fact]
    public async Task Sim_output_size_repeats_the_code_to_exactly_n_characters()
    {
        await using var h = await KernelHarness.StartAsync("sim", o => o.SimOutputSize = 10);

        var results = await h.QueryAsync("abc");

        Assert.Equal("abcabcabca", ConsoleText.Of(results, "stdout"));
    }

    [Fact]
    public async Task Sim_delay_is_applied()
    {
        await using var h = await KernelHarness.StartAsync("sim", o =>
        {
            o.SimMinDelay = TimeSpan.FromMilliseconds(200);
            o.SimMaxDelay = TimeSpan.FromMilliseconds(200);
        });
        var sw = Stopwatch.StartNew();

        await h.QueryAsync("x");

        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(190), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task Sim_batch_reports_each_requested_step_over_continue_calls()
    {
        await using var h = await KernelHarness.StartAsync("sim");

        var results = await h.RunToEndAsync(new KernelExecuteRequest(KernelExecuteMode.Batch, KernelHarness.NewRunId(), "", Clean: null, Build: "make", Exec: "./run"));

        Assert.Equal(["build-finished", "finished"], results.Select(r => r.Status));
        Assert.Equal("./run", ConsoleText.Of(results[^1], "stdout"));
    }

    [Fact]
    public async Task Sim_kernels_serve_many_concurrent_executions_without_processes()
    {
        var options = new LocalKernelOptions();
        var factory = new LocalKernelFactory(options);
        var kernels = Enumerable.Range(0, 500)
            .Select(_ => factory.Create(new KernelStartInfo(Guid.NewGuid(), "sim", Path.GetTempPath(), new Dictionary<string, string>(), null)))
            .ToList();
        foreach (var k in kernels) await k.StartAsync(CancellationToken.None);

        var runs = kernels.SelectMany(k => Enumerable.Range(0, 10).Select(i =>
            k.ExecuteAsync(new KernelExecuteRequest(KernelExecuteMode.Query, Guid.NewGuid().ToString("N"), $"n{i}"), TimeSpan.FromSeconds(2), CancellationToken.None)));
        var results = await Task.WhenAll(runs).WaitAsync(KernelHarness.Generous);

        Assert.Equal(5000, results.Length);
        Assert.All(results, r => Assert.Equal("finished", r.Status));
        Assert.Equal(5000, kernels.Cast<SimKernel>().Sum(k => k.Executions));
        foreach (var k in kernels) await k.DisposeAsync();
    }
}

public sealed class BashKernelTests
{
    [Fact]
    public async Task Bash_query_echo_streams_stdout_and_stderr_in_the_work_directory()
    {
        await using var h = await KernelHarness.StartAsync("ubuntu:20.04");
        Assert.Equal("bash", h.Kernel.RunnerName);

        var results = await h.QueryAsync("echo hello; echo oops 1>&2; pwd");

        Assert.Equal("finished", results[^1].Status);
        Assert.Equal(0, results[^1].ExitCode);
        Assert.Equal($"hello\n{h.WorkDirectory}\n", ConsoleText.Of(results, "stdout"));
        Assert.Equal("oops\n", ConsoleText.Of(results, "stderr"));
    }

    [Fact]
    public async Task Bash_query_reports_the_exit_code_and_files_persist_between_runs()
    {
        await using var h = await KernelHarness.StartAsync("bash");

        var first = await h.QueryAsync("echo kept > f.txt; exit 4");
        var second = await h.QueryAsync("cat f.txt");

        Assert.Equal(4, first[^1].ExitCode);
        Assert.Equal("kept\n", ConsoleText.Of(second, "stdout"));
    }

    [Fact]
    public async Task Bash_interrupt_stops_the_running_process_group()
    {
        await using var h = await KernelHarness.StartAsync("bash");
        using var cts = new CancellationTokenSource(KernelHarness.Generous);
        var runId = KernelHarness.NewRunId();
        var sw = Stopwatch.StartNew();

        var first = await h.Kernel.ExecuteAsync(new KernelExecuteRequest(KernelExecuteMode.Query, runId, "echo start; sleep 60; echo never"),
            TimeSpan.FromMilliseconds(300), cts.Token);
        Assert.Equal("continued", first.Status);
        await h.Kernel.InterruptAsync(cts.Token);
        var rest = await h.RunToEndAsync(new KernelExecuteRequest(KernelExecuteMode.Continue, runId, ""));

        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30));
        Assert.Equal("finished", rest[^1].Status);
        Assert.NotEqual(0, rest[^1].ExitCode);
        Assert.DoesNotContain("never", ConsoleText.Of(rest, "stdout"));
    }

    [Fact]
    public async Task Bash_read_sees_end_of_input_because_input_mode_is_unsupported()
    {
        await using var h = await KernelHarness.StartAsync("bash");

        var results = await h.QueryAsync("read x || echo no-input");

        Assert.Equal("no-input\n", ConsoleText.Of(results, "stdout"));
    }

    [Fact]
    public async Task Execution_timeout_ends_the_run_with_exec_timeout()
    {
        await using var h = await KernelHarness.StartAsync("bash", o => o.ExecutionTimeout = TimeSpan.FromMilliseconds(300));

        var results = await h.QueryAsync("sleep 30");

        Assert.Equal("exec-timeout", results[^1].Status);
        Assert.Null(results[^1].ExitCode);
        var after = await h.QueryAsync("echo next");
        Assert.Equal("next\n", ConsoleText.Of(after, "stdout"));
    }
}

public sealed class KernelFactoryTests
{
    [Theory]
    [InlineData("python:3.11", "python")]
    [InlineData("cr.backend.ai/stable/python:3.9-ubuntu20.04", "python")]
    [InlineData("cr.backend.ai/multiarch/python:3.10", "python")]
    [InlineData("bash", "bash")]
    [InlineData("shell:latest", "bash")]
    [InlineData("cr.backend.ai/stable/ubuntu:20.04", "bash")]
    [InlineData("sim", "sim")]
    [InlineData("SIM:fast", "sim")]
    [InlineData("cr.backend.ai/testing/sim:1", "sim")]
    [InlineData("lua:5.3", null)]
    public void Images_map_to_runners_by_the_default_patterns(string image, string? runner)
    {
        var factory = new LocalKernelFactory(new LocalKernelOptions());

        Assert.Equal(runner, factory.RunnerFor(image));
        Assert.Equal(runner is not null, factory.Supports(image));
    }

    [Fact]
    public void Configured_rules_come_first_and_unknown_runners_are_rejected()
    {
        var options = new LocalKernelOptions();
        options.Images.Insert(0, new KernelImageRule("lua*", "sim"));
        Assert.Equal("sim", new LocalKernelFactory(options).RunnerFor("lua:5.3"));

        options.Images.Add(new KernelImageRule("r*", "rlang"));
        var ex = Assert.Throws<ArgumentException>(() => new LocalKernelFactory(options));
        Assert.Contains("rlang", ex.Message);
    }

    [Fact]
    public void Unsupported_image_is_a_clear_error()
    {
        var factory = new LocalKernelFactory(new LocalKernelOptions());
        var ex = Assert.Throws<ArgumentException>(() =>
            factory.Create(new KernelStartInfo(Guid.NewGuid(), "lua:5.3", Path.GetTempPath(), new Dictionary<string, string>(), null)));
        Assert.Contains("lua:5.3", ex.Message);
    }

    [Fact]
    public void AddLocalKernels_registers_a_factory_with_configured_options()
    {
        var services = new ServiceCollection();
        services.AddLocalKernels(o => o.SimOutputSize = 7);
        using var sp = services.BuildServiceProvider();

        Assert.IsType<LocalKernelFactory>(sp.GetRequiredService<IKernelFactory>());
        Assert.Equal(7, sp.GetRequiredService<IOptions<LocalKernelOptions>>().Value.SimOutputSize);

        var plain = new ServiceCollection().AddLocalKernels();
        using var sp2 = plain.BuildServiceProvider();
        Assert.True(sp2.GetRequiredService<IKernelFactory>().Supports("python:3.11"));
    }
}

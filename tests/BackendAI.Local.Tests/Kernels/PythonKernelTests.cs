using System.Diagnostics;
using BackendAI.Local.Kernels;

namespace BackendAI.Local.Tests.Kernels;

public sealed class PythonKernelTests
{
    [Fact]
    public async Task Server65_python_query_prints_hello_world_and_finishes_with_exit_code_0()
    {
        await using var h = await KernelHarness.StartAsync("cr.backend.ai/stable/python:3.9-ubuntu20.04");
        Assert.Equal("python", h.Kernel.RunnerName);

        var results = await h.QueryAsync("print('hello world')");

        var last = results[^1];
        Assert.Equal("finished", last.Status);
        Assert.Equal(0, last.ExitCode);
        Assert.Equal("hello world\n", ConsoleText.Of(results, "stdout"));
    }

    [Fact]
    public async Task Python_variables_and_imports_survive_between_runs()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");

        await h.QueryAsync("import math\nx = 41");
        var results = await h.QueryAsync("print(x + 1, math.floor(2.5))");

        Assert.Equal("42 2\n", ConsoleText.Of(results, "stdout"));
    }

    [Fact]
    public async Task Python_exception_goes_to_stderr_as_traceback_with_exit_code_0()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");

        var results = await h.QueryAsync("print('before')\n1/0");

        Assert.Equal(0, results[^1].ExitCode);
        Assert.Equal("before\n", ConsoleText.Of(results, "stdout"));
        var stderr = ConsoleText.Of(results, "stderr");
        Assert.Contains("Traceback", stderr);
        Assert.Contains("ZeroDivisionError", stderr);
        Assert.DoesNotContain("python_driver", stderr);
    }

    [Fact]
    public async Task Python_last_expression_value_is_printed_like_a_cell()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");

        var results = await h.QueryAsync("a = 6\na * 7");

        Assert.Equal("42\n", ConsoleText.Of(results, "stdout"));
    }

    [Fact]
    public async Task Python_output_of_child_processes_is_captured_and_cannot_corrupt_the_protocol()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");

        var results = await h.QueryAsync("import os, sys\nsys.stdout.buffer.write('bytes-ok\\n'.encode())\nos.system('echo from-child; echo child-err 1>&2')\nos.write(1, b'{\"t\": \"done\", \"exit\": 5}\\n')\nprint('after')");

        Assert.Equal("finished", results[^1].Status);
        Assert.Equal(0, results[^1].ExitCode);
        var stdout = ConsoleText.Of(results, "stdout");
        Assert.Contains("from-child\n", stdout);
        Assert.Contains("bytes-ok\n", stdout);
        Assert.Contains("{\"t\": \"done\", \"exit\": 5}\n", stdout);
        Assert.Contains("after\n", stdout);
        Assert.Contains("child-err\n", ConsoleText.Of(results, "stderr"));
    }

    [Fact]
    public async Task Server69_long_output_returns_continued_then_finished_and_the_concatenation_is_the_full_output()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");
        var code = "import time\nfor i in range(12):\n    print('line', i, flush=True)\n    time.sleep(0.1)";

        var results = await h.QueryAsync(code, flushWindow: TimeSpan.FromMilliseconds(250));

        Assert.Equal("continued", results[0].Status);
        Assert.Null(results[0].ExitCode);
        Assert.True(results.Count >= 3, $"expected several calls, got {results.Count}");
        Assert.Equal("finished", results[^1].Status);
        var expected = string.Concat(Enumerable.Range(0, 12).Select(i => $"line {i}\n"));
        Assert.Equal(expected, ConsoleText.Of(results, "stdout"));
    }

    [Fact]
    public async Task Server70_interleaved_stdout_and_stderr_keep_their_order_and_adjacent_chunks_merge()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");

        var results = await h.QueryAsync("import sys\nprint('a')\nprint('b')\nprint('err', file=sys.stderr)\nprint('c')");

        var console = results.SelectMany(r => r.Console).Select(i => (i.Type, (string?)i.Data)).ToList();
        Assert.Equal([("stdout", "a\nb\n"), ("stderr", "err\n"), ("stdout", "c\n")], console);
    }

    [Fact]
    public async Task Server71_input_returns_waiting_input_with_the_prompt_and_resumes_with_the_text()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");
        var runId = KernelHarness.NewRunId();
        using var cts = new CancellationTokenSource(KernelHarness.Generous);

        var first = await h.Kernel.ExecuteAsync(new KernelExecuteRequest(KernelExecuteMode.Query, runId, "n = input('name? ')\nprint('hi', n)"),
            TimeSpan.FromSeconds(5), cts.Token);
        Assert.Equal("waiting-input", first.Status);
        Assert.False(first.IsPassword);
        Assert.Equal("name? ", ConsoleText.Of(first, "stdout"));

        var second = await h.Kernel.ExecuteAsync(new KernelExecuteRequest(KernelExecuteMode.Input, runId, "Lablup"), TimeSpan.FromSeconds(5), cts.Token);
        Assert.Equal("finished", second.Status);
        Assert.Equal("hi Lablup\n", ConsoleText.Of(second, "stdout"));
    }

    [Fact]
    public async Task Server71_getpass_prompt_is_flagged_as_password()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");

        var results = await h.QueryAsync("import getpass\np = getpass.getpass('pw: ')\nprint(len(p))", inputs: new Queue<string>(["secret"]));

        Assert.Equal("waiting-input", results[0].Status);
        Assert.True(results[0].IsPassword);
        Assert.Equal("pw: 6\n", ConsoleText.Of(results, "stdout"));
    }

    [Fact]
    public async Task Server72_batch_build_failure_reports_build_finished_then_finished_127_without_exec()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");

        var results = await h.RunToEndAsync(new KernelExecuteRequest(KernelExecuteMode.Batch, KernelHarness.NewRunId(), "", Clean: "*", Build: "exit 1", Exec: "echo x"));

        Assert.Equal(["clean-finished", "build-finished", "finished"], results.Where(r => r.Status != "continued").Select(r => r.Status));
        Assert.Equal(1, results.Single(r => r.Status == "build-finished").ExitCode);
        Assert.Equal(127, results[^1].ExitCode);
        Assert.DoesNotContain("x", ConsoleText.Of(results, "stdout"));
    }

    [Fact]
    public async Task Server73_batch_with_null_clean_reports_no_clean_finished_and_runs_main_py_by_default()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");
        await File.WriteAllTextAsync(Path.Combine(h.WorkDirectory, "main.py"), "print('main ran')\n");

        var results = await h.RunToEndAsync(new KernelExecuteRequest(KernelExecuteMode.Batch, KernelHarness.NewRunId(), "", Clean: null, Build: "*", Exec: "*"));

        var statuses = results.Where(r => r.Status != "continued").Select(r => r.Status).ToList();
        Assert.Equal(["build-finished", "finished"], statuses);
        Assert.Equal(0, results[^1].ExitCode);
        Assert.Equal("main ran\n", ConsoleText.Of(results, "stdout"));
    }

    [Fact]
    public async Task Batch_build_output_belongs_to_build_finished_and_make_runs_when_a_makefile_exists()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");
        await File.WriteAllTextAsync(Path.Combine(h.WorkDirectory, "Makefile"), "all:\n\t@echo building\n");

        var results = await h.RunToEndAsync(new KernelExecuteRequest(KernelExecuteMode.Batch, KernelHarness.NewRunId(), "", Build: "*", Exec: "echo running"),
            flushWindow: TimeSpan.FromSeconds(10));

        var build = results.Single(r => r.Status == "build-finished");
        Assert.Equal(0, build.ExitCode);
        Assert.Equal("building\n", ConsoleText.Of(build, "stdout"));
        Assert.Equal("running\n", ConsoleText.Of(results[^1], "stdout"));
    }

    [Fact]
    public async Task Server74_a_second_run_waits_for_the_first_in_fifo_order()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");
        var path = Path.Combine(h.WorkDirectory, "order.txt");

        var first = h.QueryAsync("import time\ntime.sleep(0.5)\nopen('order.txt', 'a').write('first\\n')", flushWindow: TimeSpan.FromMilliseconds(100));
        await Task.Delay(50);
        var second = h.QueryAsync("open('order.txt', 'a').write('second\\n')\nprint('second done')", flushWindow: TimeSpan.FromMilliseconds(100));
        var results = await Task.WhenAll(first, second);

        Assert.All(results, r => Assert.Equal("finished", r[^1].Status));
        Assert.Equal("first\nsecond\n", await File.ReadAllTextAsync(path));
        Assert.Equal("second done\n", ConsoleText.Of(results[1], "stdout"));
    }

    [Fact]
    public async Task Server64_interrupt_ends_a_long_sleep_early_with_a_keyboard_interrupt_traceback()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");
        using var cts = new CancellationTokenSource(KernelHarness.Generous);
        var runId = KernelHarness.NewRunId();
        var sw = Stopwatch.StartNew();

        var first = await h.Kernel.ExecuteAsync(new KernelExecuteRequest(KernelExecuteMode.Query, runId, "import time\nprint('sleeping', flush=True)\ntime.sleep(60)"),
            TimeSpan.FromMilliseconds(300), cts.Token);
        Assert.Equal("continued", first.Status);
        await h.Kernel.InterruptAsync(cts.Token);
        var rest = await h.RunToEndAsync(new KernelExecuteRequest(KernelExecuteMode.Continue, runId, ""));

        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
        Assert.Equal("finished", rest[^1].Status);
        Assert.Contains("KeyboardInterrupt", ConsoleText.Of(rest, "stderr"));
        var after = await h.QueryAsync("print('still alive')");
        Assert.Equal("still alive\n", ConsoleText.Of(after, "stdout"));
    }

    [Fact]
    public async Task Server63_restart_loses_variables_but_keeps_files()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");
        await h.QueryAsync("x = 1\nopen('kept.txt', 'w').write('data')");
        using var cts = new CancellationTokenSource(KernelHarness.Generous);

        await h.Kernel.RestartAsync(cts.Token);

        var results = await h.QueryAsync("print(open('kept.txt').read())\nprint(x)");
        Assert.Equal("data\n", ConsoleText.Of(results, "stdout"));
        Assert.Contains("NameError", ConsoleText.Of(results, "stderr"));
    }

    [Fact]
    public async Task Python_completion_uses_the_interpreter_namespace()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");
        await h.QueryAsync("my_long_variable = 1");
        using var cts = new CancellationTokenSource(KernelHarness.Generous);

        var completions = await h.Kernel.CompleteAsync("print(my_lo", cts.Token);

        Assert.Contains("my_long_variable", completions);
    }

    [Fact]
    public async Task Python_environment_home_and_bootstrap_are_applied_before_ready()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11", bootstrap: "echo boot > booted.txt; echo bootstrap-log",
            environment: new Dictionary<string, string> { ["GREETING"] = "salut" });

        var results = await h.QueryAsync("import os\nprint(os.environ['GREETING'], os.environ['HOME'] == os.getcwd(), open('booted.txt').read().strip())");

        Assert.Equal("salut True boot\n", ConsoleText.Of(results, "stdout"));
        Assert.Contains("bootstrap-log", h.Kernel.GetLogs());
    }

    [Fact]
    public async Task Python_media_helper_emits_a_media_record()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");

        var results = await h.QueryAsync("display_media('image/png', b'\\x89PNG')");

        var media = results.SelectMany(r => r.Console).Single(i => i.Type == "media");
        Assert.Equal("image/png", (string?)media.Data[0]);
        Assert.Equal("data:image/png;base64,iVBORw==", (string?)media.Data[1]);
    }

    [Fact]
    public async Task Python_exited_completes_when_the_interpreter_dies_by_itself()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");

        var results = await h.QueryAsync("import os\nos._exit(3)");

        Assert.Equal(130, results[^1].ExitCode);
        Assert.Equal(3, await h.Kernel.Exited.WaitAsync(KernelHarness.Generous));
    }

    [Fact]
    public async Task Continue_for_an_unknown_run_is_a_typed_error()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");

        await Assert.ThrowsAsync<KernelRunNotFoundException>(() =>
            h.Kernel.ExecuteAsync(new KernelExecuteRequest(KernelExecuteMode.Continue, "nope", ""), TimeSpan.FromSeconds(1), CancellationToken.None));
    }

    [Fact]
    public async Task Python_http_service_starts_on_demand_once_and_restart_stops_it()
    {
        await using var h = await KernelHarness.StartAsync("python:3.11");
        var services = Assert.IsAssignableFrom<IKernelAppServices>(h.Kernel);
        using var cts = new CancellationTokenSource(KernelHarness.Generous);

        var first = await services.StartServiceAsync("http", PythonKernel.HttpServicePort, cts.Token);
        var again = await services.StartServiceAsync("http", PythonKernel.HttpServicePort, cts.Token);
        Assert.Equal(first, again);
        await Assert.ThrowsAsync<InvalidOperationException>(() => services.StartServiceAsync("jupyter", 8888, cts.Token));

        await h.Kernel.RestartAsync(cts.Token);

        var refused = false;
        while (!refused && !cts.IsCancellationRequested)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(first, cts.Token);
                await Task.Delay(50, cts.Token);
            }
            catch (System.Net.Sockets.SocketException)
            {
                refused = true;
            }
        }
        Assert.True(refused, "the http service survived the restart");
        var restarted = await services.StartServiceAsync("http", PythonKernel.HttpServicePort, cts.Token);
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(restarted, cts.Token);
    }
}

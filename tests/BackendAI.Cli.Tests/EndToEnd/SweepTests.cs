using System.Collections.Concurrent;
using BackendAI.Client;
using BackendAI.Client.Config;
using BackendAI.Client.Events;

namespace BackendAI.Cli.Tests.EndToEnd;

public class SweepTests(CliServerFixture server) : IClassFixture<CliServerFixture>
{
    [Fact]
    public async Task Sweep_runs_every_combination_once_and_reports_each_result()
    {
        var dir = Directory.CreateTempSubdirectory("cli-sweep-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "job.sh"), "echo job\n");
        var logs = Path.Combine(dir, "logs");
        var prefix = "sw" + Guid.NewGuid().ToString("N")[..6];
        var r = await server.RunInAsync("", dir, "run", "sim", "--rm", "-t", prefix, "--log-dir", logs, "--max-parallel", "3",
            "-e", "X=$X", "--env-range=X=case:1,2,3,4", "--exec", "run $Y", "--exec-range", "Y=case:a,b", "job.sh");
        Assert.True(r.ExitCode == 0, r.ToString());

        // 4 × 2 combinations, each in session <prefix>-<idx>, its exec output labelled [idx].
        var expected = new List<(int Index, string X, string Y)>();
        foreach (var x in new[] { "1", "2", "3", "4" })
            foreach (var y in new[] { "a", "b" })
                expected.Add((expected.Count, x, y));
        foreach (var (index, x, y) in expected)
        {
            Assert.Contains($"[{index}] env = 'X={x}', build = '*', exec = 'run {y}'", r.Stderr, StringComparison.Ordinal);
            Assert.Contains($"[{index}] run {y}", r.Stdout.Split('\n'));
            var log = await File.ReadAllTextAsync(Path.Combine(logs, $"{prefix}-{index}.stdout.log"));
            Assert.Contains($"run {y}", log, StringComparison.Ordinal);
            Assert.Matches($@"(?m)^\s*{index}\s+{prefix}-{index}\s+Succeeded\s+0\b", r.Stderr);
        }
        Assert.DoesNotContain("[8]", r.Stdout + r.Stderr, StringComparison.Ordinal);
        Assert.Contains(logs, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Max_parallel_2_never_has_more_than_2_live_sessions()
    {
        var prefix = "mp" + Guid.NewGuid().ToString("N")[..6];
        var options = server.Backend.AdminKeypair;
        await using var client = new BackendAIClient(new BackendAIClientOptions
        {
            Endpoints = [server.Endpoint], AccessKey = options.AccessKey, SecretKey = options.SecretKey,
        });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var live = new HashSet<string>();
        var peak = 0;
        var started = new ConcurrentBag<string>();
        var gone = 0;
        var reader = await client.Events.OpenSessionEventsAsync(new SessionEventFilter(SessionName: "*"), cts.Token);
        var watcher = Task.Run(async () =>
        {
            while (await reader.ReadAsync(cts.Token) is { } message)
            {
                if (message.Event is not ("session_started" or "session_terminated" or "session_cancelled"))
                    continue;
                var e = SessionEvent.Parse(message);
                if (!e.SessionName.StartsWith(prefix, StringComparison.Ordinal))
                    continue;
                if (e.Name == "session_started")
                {
                    started.Add(e.SessionName);
                    live.Add(e.SessionName);
                    peak = Math.Max(peak, live.Count);
                }
                else if (live.Remove(e.SessionName) && Interlocked.Increment(ref gone) == 6)
                {
                    return;
                }
            }
        }, cts.Token);

        var r = await server.RunAsync("run", "sim", "--rm", "-q", "-t", prefix, "--max-parallel", "2",
            "-c", "x", "--log-dir", Path.Combine(server.Home, "mp-logs"), "-e", "I=$I", "--env-range", "I=range:6");
        Assert.True(r.ExitCode == 0, r.ToString());
        await watcher.WaitAsync(cts.Token);
        Assert.Equal(6, started.Distinct().Count());
        Assert.Equal(2, peak);
    }

    [Fact]
    public async Task A_sweep_with_a_failing_case_exits_non_zero_and_marks_it()
    {
        var prefix = "fl" + Guid.NewGuid().ToString("N")[..6];
        var r = await server.RunAsync("run", "python:3.9-ubuntu20.04", "--rm", "-t", prefix, "--max-parallel", "2",
            "--log-dir", Path.Combine(server.Home, "fl-logs"),
            "-e", "CODE=$C", "--env-range", "C=case:0,5", "-c", "import os, sys; sys.exit(int(os.environ['CODE']))");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Matches($@"(?m)^\s*0\s+{prefix}-0\s+Succeeded\s+0\b", r.Stderr);
        Assert.Matches($@"(?m)^\s*1\s+{prefix}-1\s+Failed\s+5\b", r.Stderr);
        Assert.Contains("There were failed cases", r.Stderr, StringComparison.Ordinal);
    }
}

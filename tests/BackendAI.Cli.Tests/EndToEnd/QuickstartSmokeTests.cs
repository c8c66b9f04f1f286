using System.Diagnostics;

namespace BackendAI.Cli.Tests.EndToEnd;

/// <summary>Runs the built quickstart (<c>dotnet Quickstart.dll</c>) as a user would, with no BACKEND_* variables.</summary>
public class QuickstartSmokeTests
{
    [Fact]
    public async Task Quickstart_runs_end_to_end_on_the_embedded_local_server()
    {
        var dll = FindQuickstart();
        var psi = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("BACKEND_", StringComparison.Ordinal) || k.StartsWith("SORNA_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        using var process = Process.Start(psi)!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        var output = await stdout;
        var errors = await stderr;
        var report = $"exit {process.ExitCode}\n{output}\n--- stderr ---\n{errors}";
        Assert.True(process.ExitCode == 0, report);
        Assert.Contains("started the embedded local server at http://127.0.0.1:", output, StringComparison.Ordinal);
        Assert.Contains("[event] session_started", output, StringComparison.Ordinal);
        Assert.Contains("step 0\nstep 1\nstep 2\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("What is your name? ", output, StringComparison.Ordinal);
        Assert.Contains("Hello, Lablup!", output, StringComparison.Ordinal);
        Assert.Contains("result.txt: 3 rows, mean score 82.3", output, StringComparison.Ordinal);
        Assert.Contains("[event] session_terminated", output, StringComparison.Ordinal);
        Assert.EndsWith("Done.", output.TrimEnd(), StringComparison.Ordinal);
    }

    private static string FindQuickstart()
    {
        // tests/BackendAI.Cli.Tests/bin/<Configuration>/net10.0/ → examples/Quickstart/bin/<Configuration>/net10.0/Quickstart.dll
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var tfm = baseDir.Name;
        var configuration = baseDir.Parent!.Name;
        var root = baseDir;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "BackendAI.Actors.sln")))
            root = root.Parent;
        Assert.NotNull(root);
        var dll = Path.Combine(root.FullName, "examples", "Quickstart", "bin", configuration, tfm, "Quickstart.dll");
        Assert.True(File.Exists(dll), $"Build the quickstart first: {dll} is missing.");
        return dll;
    }
}

using BackendAI.Local;
using BackendAI.Testing;

namespace BackendAI.Cli.Tests.EndToEnd;

/// <summary>What one in-process CLI invocation printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// The local server for CLI tests (sim runs take 50 ms so concurrent cases overlap) and a way to run
/// <c>backend.ai</c> in-process against it with captured output, a given stdin and a private HOME.
/// </summary>
public class CliServerFixture : LocalServerFixture
{
    public string Home { get; } = Directory.CreateTempSubdirectory("cli-home-").FullName;

    protected override void Configure(LocalBackendOptions options)
    {
        options.SimDelay = TimeSpan.FromMilliseconds(50);
    }

    /// <summary>The environment of a CLI run as the superadmin (or the plain user).</summary>
    public Dictionary<string, string?> Environment(bool asUser = false)
    {
        var keypair = asUser ? Backend.UserKeypair : Backend.AdminKeypair;
        return new Dictionary<string, string?>
        {
            ["BACKEND_ENDPOINT"] = Endpoint.ToString(),
            ["BACKEND_ACCESS_KEY"] = keypair.AccessKey,
            ["BACKEND_SECRET_KEY"] = keypair.SecretKey,
            ["HOME"] = Home,
        };
    }

    public Task<CliResult> RunAsync(params string[] args) => Cli.RunAsync(Environment(), args);

    public Task<CliResult> RunInAsync(string stdin, string workingDirectory, params string[] args) =>
        Cli.RunAsync(Environment(), args, stdin, workingDirectory);
}

public static class Cli
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string?> environment, string[] args,
        string? stdin = null, string? workingDirectory = null, CancellationToken cancellationToken = default,
        WatchedWriter? stdout = null, WatchedWriter? stderr = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Timeout);
        stdout ??= new WatchedWriter();
        stderr ??= new WatchedWriter();
        var context = new CliContext(stdout, stderr, environment, new StringReader(stdin ?? ""), isTerminal: false, workingDirectory);
        var exit = await CliApp.RunAsync(args, context, cts.Token);
        return new CliResult(exit, stdout.ToString().ReplaceLineEndings("\n"), stderr.ToString().ReplaceLineEndings("\n"));
    }
}

/// <summary>A thread-safe in-memory writer that tells when some text has appeared.</summary>
public sealed class WatchedWriter : TextWriter
{
    private readonly System.Text.StringBuilder _text = new();
    private readonly List<(string Needle, TaskCompletionSource Seen)> _waiters = [];

    public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

    public override void Write(char value) => Append(value.ToString());

    public override void Write(string? value) => Append(value ?? "");

    public override void Write(char[] buffer, int index, int count) => Append(new string(buffer, index, count));

    public override string ToString()
    {
        lock (_text)
            return _text.ToString();
    }

    /// <summary>Completes when <paramref name="needle"/> has been written (or already was).</summary>
    public Task WaitForAsync(string needle, TimeSpan timeout)
    {
        lock (_text)
        {
            if (_text.ToString().Contains(needle, StringComparison.Ordinal))
                return Task.CompletedTask;
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((needle, tcs));
            return tcs.Task.WaitAsync(timeout);
        }
    }

    private void Append(string s)
    {
        lock (_text)
        {
            _text.Append(s);
            var text = _text.ToString();
            foreach (var w in _waiters.Where(w => text.Contains(w.Needle, StringComparison.Ordinal)).ToList())
            {
                w.Seen.TrySetResult();
                _waiters.Remove(w);
            }
        }
    }
}

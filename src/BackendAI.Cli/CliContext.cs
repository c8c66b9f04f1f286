using System.Text;
using BackendAI.Client;
using Spectre.Console;

namespace BackendAI.Cli;

/// <summary>
/// Everything a command touches outside itself: its output and error writers (and Spectre consoles on
/// them), the input, the environment it reads <c>BACKEND_*</c> settings from, and the working directory.
/// Tests build one over <see cref="StringWriter"/>s and a dictionary; <see cref="FromProcess"/> uses the real ones.
/// </summary>
public sealed class CliContext
{
    private readonly Func<string, bool, CancellationToken, ValueTask<string?>> _readInput;
    private readonly object _runtimeGate = new();
    private CliRuntime? _runtime;
    private BackendAIClient? _client;

    /// <summary>Creates a context.</summary>
    /// <param name="output">Standard output (command results, the code's stdout).</param>
    /// <param name="error">Standard error (progress, status lines, errors, the code's stderr).</param>
    /// <param name="environment">The environment variables (<c>BACKEND_*</c>, <c>HOME</c>).</param>
    /// <param name="input">Standard input for <c>input()</c> prompts; defaults to an empty reader.</param>
    /// <param name="isTerminal">Whether the output is an interactive terminal (colours, live progress, hidden password echo).</param>
    /// <param name="workingDirectory">Relative paths are resolved against it; the current directory by default.</param>
    /// <param name="readInput">Answers prompts (prompt, is-password); reads a line of <paramref name="input"/> by default.</param>
    public CliContext(
        TextWriter output,
        TextWriter error,
        IReadOnlyDictionary<string, string?> environment,
        TextReader? input = null,
        bool isTerminal = false,
        string? workingDirectory = null,
        Func<string, bool, CancellationToken, ValueTask<string?>>? readInput = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        // Concurrent cases of a sweep write status lines from several tasks.
        Out = TextWriter.Synchronized(output);
        Error = TextWriter.Synchronized(error);
        Environment = environment ?? throw new ArgumentNullException(nameof(environment));
        In = input ?? TextReader.Null;
        IsTerminal = isTerminal;
        WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory();
        Console = CreateConsole(Out, isTerminal);
        ErrorConsole = CreateConsole(Error, isTerminal);
        _readInput = readInput ?? ReadLineFromInputAsync;
    }

    /// <summary>Standard output.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; }

    /// <summary>Standard input.</summary>
    public TextReader In { get; }

    /// <summary>A Spectre console writing to <see cref="Out"/> (tables, results).</summary>
    public IAnsiConsole Console { get; }

    /// <summary>A Spectre console writing to <see cref="Error"/> (status lines, progress bars).</summary>
    public IAnsiConsole ErrorConsole { get; }

    /// <summary>Whether the output is an interactive terminal.</summary>
    public bool IsTerminal { get; }

    /// <summary>The environment variables.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; }

    /// <summary>The directory relative paths are resolved against.</summary>
    public string WorkingDirectory { get; }

    /// <summary>The home directory (<c>HOME</c>, else <c>USERPROFILE</c>, else the working directory).</summary>
    public string HomeDirectory =>
        Get("HOME") ?? Get("USERPROFILE") ?? WorkingDirectory;

    /// <summary>A context on the process's console and environment.</summary>
    public static CliContext FromProcess()
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
            env[(string)e.Key] = e.Value as string;
        var utf8 = new UTF8Encoding(false);
        var stdout = new StreamWriter(System.Console.OpenStandardOutput(), utf8) { AutoFlush = true };
        var stderr = new StreamWriter(System.Console.OpenStandardError(), utf8) { AutoFlush = true };
        var terminal = !System.Console.IsOutputRedirected;
        Func<string, bool, CancellationToken, ValueTask<string?>>? reader = null;
        if (!System.Console.IsInputRedirected)
            reader = ReadFromTerminalAsync;
        return new CliContext(stdout, stderr, env, System.Console.In, terminal, null, reader) { ProcessExitsAfterCommand = true };
    }

    /// <summary>An environment variable, or null when unset or empty.</summary>
    public string? Get(string name) =>
        Environment.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v : null;

    /// <summary>True for the context of the <c>backend.ai</c> process itself, which exits when the command ends.</summary>
    internal bool ProcessExitsAfterCommand { get; init; }

    /// <summary>The CLI's cache directory (<c>$HOME/.cache/backend.ai</c>): sweep logs, login cookies.</summary>
    public string CacheDirectory => Path.Combine(HomeDirectory, ".cache", "backend.ai");

    /// <summary>
    /// The client settings from the <c>BACKEND_*</c> (then <c>SORNA_*</c>) variables of this context; for the
    /// <c>session</c> endpoint type, with the login cookies saved by an earlier <c>login</c> (<see cref="CookieJar"/>).
    /// </summary>
    public BackendAIClientOptions CreateClientOptions()
    {
        var options = BackendAIClientOptions.FromEnvironment(new Dictionary<string, string?>(Environment, StringComparer.Ordinal));
        if (options.EndpointType == EndpointType.Session)
            options.Cookies = CookieJar.Load(CookieJar.PathOf(this));
        return options;
    }

    /// <summary>A validated client for the configured endpoint, without a runtime; dispose it when done.</summary>
    public BackendAIClient CreateClient()
    {
        var options = CreateClientOptions();
        options.Validate();
        return new BackendAIClient(options);
    }

    /// <summary>
    /// The process's one actor runtime, started on first use from <see cref="CreateClientOptions"/> (validated)
    /// and stopped by <see cref="DisposeRuntimeAsync"/> when the command ends.
    /// </summary>
    internal CliRuntime Runtime
    {
        get
        {
            lock (_runtimeGate)
            {
                if (_runtime is null)
                {
                    var options = CreateClientOptions();
                    options.Validate();
                    _runtime = CliRuntime.Create(options);
                }
                return _runtime;
            }
        }
    }

    /// <summary>
    /// The wire client for calls the runtime adds nothing to (listings, vfolders, admin, logs, app proxies):
    /// the runtime's client when this process started the runtime, else one plain client created on first
    /// use, so that those commands do not pay for an actor system (about 1 s per process, docs/cli.md).
    /// Not to be disposed by callers.
    /// </summary>
    public BackendAIClient Client
    {
        get
        {
            lock (_runtimeGate)
            {
                if (_runtime is not null)
                    return _runtime.Client;
                return _client ??= CreateClient();
            }
        }
    }

    /// <summary>Stops the runtime and disposes the plain client, if started (the next use starts new ones).</summary>
    public async ValueTask DisposeRuntimeAsync()
    {
        CliRuntime? runtime;
        BackendAIClient? client;
        lock (_runtimeGate)
        {
            runtime = _runtime;
            client = _client;
            _runtime = null;
            _client = null;
        }
        // A CLI process that exits right after the command skips the actor system's coordinated shutdown
        // (about 0.3 s): the commands have awaited everything they started, and sessions are never
        // destroyed on dispose. In-process hosts (tests) stop the runtime.
        if (runtime is not null && !ProcessExitsAfterCommand)
            await runtime.DisposeAsync().ConfigureAwait(false);
        if (client is not null)
            await client.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Resolves a path given on the command line against <see cref="WorkingDirectory"/>.</summary>
    public string ResolvePath(string path) => Path.GetFullPath(path, WorkingDirectory);

    /// <summary>Answers an input prompt: shows it on the error stream and reads a line (echo hidden for passwords on a terminal).</summary>
    public ValueTask<string?> ReadInputAsync(string prompt, bool isPassword, CancellationToken cancellationToken) =>
        _readInput(prompt, isPassword, cancellationToken);

    private async ValueTask<string?> ReadLineFromInputAsync(string prompt, bool isPassword, CancellationToken cancellationToken)
    {
        if (prompt.Length > 0)
        {
            await Error.WriteAsync(prompt).ConfigureAwait(false);
            await Error.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        return await In.ReadLineAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask<string?> ReadFromTerminalAsync(string prompt, bool isPassword, CancellationToken cancellationToken)
    {
        System.Console.Error.Write(prompt);
        if (!isPassword)
            return await System.Console.In.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        // Hidden echo: read keys without printing them, off the caller's thread.
        return await Task.Run(() =>
        {
            var sb = new StringBuilder();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var key = System.Console.ReadKey(intercept: true);
                if (key.Key == ConsoleKey.Enter)
                    break;
                if (key.Key == ConsoleKey.Backspace)
                {
                    if (sb.Length > 0) sb.Length--;
                }
                else if (!char.IsControl(key.KeyChar))
                {
                    sb.Append(key.KeyChar);
                }
            }
            System.Console.Error.WriteLine();
            return sb.ToString();
        }, cancellationToken).ConfigureAwait(false);
    }

    private static IAnsiConsole CreateConsole(TextWriter writer, bool isTerminal)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = isTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = isTerminal ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        if (!isTerminal)
            console.Profile.Width = 240;
        return console;
    }
}

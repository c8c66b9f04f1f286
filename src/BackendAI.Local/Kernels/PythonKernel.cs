using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BackendAI.Local.Kernels;

/// <summary>
/// A python kernel: one persistent <c>python3</c> process per session running the embedded
/// <c>python_driver.py</c>, which speaks newline-delimited JSON over private copies of its
/// stdin/stdout (user code and child processes cannot corrupt the protocol). Variables survive
/// between runs; interrupt = SIGINT to the interpreter; restart = a new interpreter in the same
/// work directory. Offers an <c>http</c> app service (<c>python3 -m http.server</c>) on demand.
/// </summary>
public sealed class PythonKernel : ProcessKernel, IKernelAppServices
{
    /// <summary>The container port the <c>http</c> service is announced with.</summary>
    public const int HttpServicePort = 8080;

    private static readonly Lazy<string> DriverPath = new(ExtractDriver, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly object _lock = new();
    private readonly SemaphoreSlim _stdinLock = new(1, 1);
    private readonly SemaphoreSlim _serviceLock = new(1, 1);
    private readonly TaskCompletionSource<int?> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<int, TaskCompletionSource<IReadOnlyList<string>>> _completions = new();
    private Process? _process;
    private StreamWriter? _stdin;
    private int _generation;
    private TaskCompletionSource? _ready;
    private KernelRun? _queryRun;
    private TaskCompletionSource<int>? _queryDone;
    private int _completionIds;
    private Process? _httpService;
    private IPEndPoint? _httpEndpoint;

    /// <summary>Creates the kernel (see <see cref="LocalKernelFactory"/>).</summary>
    public PythonKernel(KernelStartInfo info, LocalKernelOptions options) : base(info, options) { }

    /// <inheritdoc />
    public override string RunnerName => "python";

    /// <inheritdoc />
    public override Task<int?> Exited => _exited.Task;

    /// <summary>The interpreter's process id (for diagnostics and tests), or 0 when not running.</summary>
    public int ProcessId
    {
        get
        {
            lock (_lock) return _process is { } p ? p.Id : 0;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<KernelServicePort> ServicePorts =>
        Options.PythonHttpService ? [new KernelServicePort("http", "http", [HttpServicePort], "{protocol}://{host}:{port}/")] : [];

    /// <inheritdoc />
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Info.WorkDirectory);
        await RunBootstrapAsync(cancellationToken).ConfigureAwait(false);
        await StartInterpreterAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task StartInterpreterAsync(CancellationToken cancellationToken)
    {
        var psi = KernelProcesses.StartInfo(Info, Options.PythonExecutable, ["-u", DriverPath.Value], redirectInput: true);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new KernelStartException("python did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new KernelStartException($"Cannot start '{Options.PythonExecutable}': {ex.Message}", ex);
        }
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int generation;
        lock (_lock)
        {
            generation = ++_generation;
            _process = process;
            _stdin = process.StandardInput;
            _ready = ready;
        }
        Logs.Append($"[python kernel started, pid {process.Id}]\n");
        _ = ReadProtocolAsync(process, generation);
        _ = KernelProcesses.PumpAsync(process.StandardError.BaseStream, Logs.Append, CancellationToken.None);
        _ = WatchExitAsync(process, generation);
        try
        {
            await ready.Task.WaitAsync(Options.StartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or KernelStartException)
        {
            KernelProcesses.KillGroup(process);
            throw new KernelStartException($"The python kernel did not become ready: {ex.Message}\n{Tail(Logs.ToString())}", ex);
        }
    }

    private static string Tail(string s) => s.Length <= 2000 ? s : s[^2000..];

    private async Task ReadProtocolAsync(Process process, int generation)
    {
        var reader = process.StandardOutput;
        try
        {
            while (await reader.ReadLineAsync(CancellationToken.None).ConfigureAwait(false) is { } line)
                Dispatch(line, generation);
        }
        catch (IOException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Dispatch(string line, int generation)
    {
        JsonNode? msg;
        try
        {
            msg = JsonNode.Parse(line);
        }
        catch (JsonException)
        {
            Logs.Append($"[driver sent an unreadable line: {line[..Math.Min(200, line.Length)]}]\n");
            return;
        }
        if (msg is not JsonObject o) return;
        KernelRun? run;
        TaskCompletionSource<int>? done;
        TaskCompletionSource? ready;
        lock (_lock)
        {
            if (generation != _generation) return;
            run = _queryRun;
            done = _queryDone;
            ready = _ready;
        }
        switch ((string?)o["t"])
        {
            case "ready":
                ready?.TrySetResult();
                break;
            case "out":
                run?.Append("stdout", (string?)o["d"] ?? "");
                break;
            case "err":
                run?.Append("stderr", (string?)o["d"] ?? "");
                break;
            case "media":
                run?.AppendItem("media", new JsonArray((string?)o["mime"] ?? "application/octet-stream", (string?)o["d"] ?? ""));
                break;
            case "input":
                if (run is not null) _ = ForwardInputAsync(run, (string?)o["prompt"] ?? "", (bool?)o["pw"] ?? false);
                break;
            case "done":
                done?.TrySetResult((int?)o["exit"] ?? 0);
                break;
            case "completions":
                if ((int?)o["id"] is { } id && _completions.TryRemove(id, out var tcs))
                {
                    var items = o["items"] is JsonArray a ? a.Select(i => (string?)i ?? "").ToArray() : [];
                    tcs.TrySetResult(items);
                }
                break;
        }
    }

    private async Task ForwardInputAsync(KernelRun run, string prompt, bool isPassword)
    {
        try
        {
            var text = await run.RequestInputAsync(prompt, isPassword).ConfigureAwait(false);
            await SendAsync(new JsonObject { ["t"] = "input", ["text"] = text }, Lifetime).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
    }

    private async Task WatchExitAsync(Process process, int generation)
    {
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        TaskCompletionSource<int>? done;
        TaskCompletionSource? ready;
        lock (_lock)
        {
            if (generation != _generation) return; // replaced by a restart or disposed
            done = _queryDone;
            ready = _ready;
        }
        var code = process.ExitCode;
        Logs.Append($"[python kernel exited with code {code}]\n");
        ready?.TrySetException(new KernelStartException($"python exited with code {code} during start-up."));
        done?.TrySetResult(130);
        _exited.TrySetResult(code);
    }

    private async Task SendAsync(JsonObject message, CancellationToken cancellationToken)
    {
        StreamWriter? stdin;
        lock (_lock) stdin = _stdin;
        if (stdin is null) throw new IOException("The python kernel is not running.");
        var line = message.ToJsonString() + "\n";
        await _stdinLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await stdin.WriteAsync(line.AsMemory(), cancellationToken).ConfigureAwait(false);
            await stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _stdinLock.Release();
        }
    }

    private protected override async Task<int> ExecuteQueryAsync(KernelRun run, string code, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool alive;
        lock (_lock)
        {
            _queryRun = run;
            _queryDone = done;
            alive = _process is { HasExited: false };
        }
        try
        {
            if (!alive) return 130;
            try
            {
                await SendAsync(new JsonObject { ["t"] = "exec", ["code"] = code }, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                return 130;
            }
            return await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                if (ReferenceEquals(_queryRun, run))
                {
                    _queryRun = null;
                    _queryDone = null;
                }
            }
        }
    }

    private protected override void InterruptQuery()
    {
        Process? p;
        lock (_lock) p = _process;
        if (p is null) return;
        try
        {
            if (!p.HasExited) Posix.Signal(p.Id, Posix.SIGINT);
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <inheritdoc />
    protected override string? DefaultExecCommand() =>
        File.Exists(Path.Combine(Info.WorkDirectory, "main.py")) ? $"{Options.PythonExecutable} main.py" : null;

    /// <inheritdoc />
    public override async Task RestartAsync(CancellationToken cancellationToken)
    {
        var old = StopInterpreter();
        if (old is not null)
        {
            try
            {
                await old.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                old.Dispose();
            }
        }
        Logs.Append("[python kernel restarting]\n");
        await StartInterpreterAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Kills the interpreter's process group; a running query finishes with 130.</summary>
    private Process? StopInterpreter()
    {
        Process? old;
        Process? http;
        TaskCompletionSource<int>? done;
        StreamWriter? stdin;
        lock (_lock)
        {
            _generation++;
            old = _process;
            stdin = _stdin;
            done = _queryDone;
            http = _httpService;
            _process = null;
            _stdin = null;
            _httpService = null;
            _httpEndpoint = null;
        }
        KillActiveShell();
        if (http is not null)
        {
            KernelProcesses.KillGroup(http);
            http.Dispose();
        }
        if (old is not null) KernelProcesses.KillGroup(old);
        try
        {
            stdin?.Dispose();
        }
        catch (IOException)
        {
        }
        done?.TrySetResult(130);
        foreach (var id in _completions.Keys)
            if (_completions.TryRemove(id, out var tcs)) tcs.TrySetResult([]);
        return old;
    }

    /// <inheritdoc />
    public override async Task<IReadOnlyList<string>> CompleteAsync(string code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(code);
        var id = Interlocked.Increment(ref _completionIds);
        var tcs = new TaskCompletionSource<IReadOnlyList<string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        _completions[id] = tcs;
        try
        {
            await SendAsync(new JsonObject { ["t"] = "complete", ["id"] = id, ["code"] = code }, cancellationToken).ConfigureAwait(false);
            return await tcs.Task.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException)
        {
            return [];
        }
        finally
        {
            _completions.TryRemove(id, out _);
        }
    }

    /// <inheritdoc />
    public async Task<IPEndPoint> StartServiceAsync(string name, int containerPort, CancellationToken cancellationToken)
    {
        if (!Options.PythonHttpService || name != "http" || containerPort != HttpServicePort)
            throw new InvalidOperationException($"The python kernel has no service '{name}' on port {containerPort}.");
        await _serviceLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_lock)
            {
                if (_httpService is { HasExited: false } && _httpEndpoint is { } running) return running;
            }
            var port = FreeLoopbackPort();
            var psi = KernelProcesses.StartInfo(Info, Options.PythonExecutable,
                ["-m", "http.server", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1"], redirectInput: true);
            var process = Process.Start(psi) ?? throw new InvalidOperationException("python -m http.server did not start.");
            process.StandardInput.Close();
            _ = KernelProcesses.PumpAsync(process.StandardOutput.BaseStream, Logs.Append, CancellationToken.None);
            _ = KernelProcesses.PumpAsync(process.StandardError.BaseStream, Logs.Append, CancellationToken.None);
            var endpoint = new IPEndPoint(IPAddress.Loopback, port);
            var deadline = DateTime.UtcNow + Options.StartTimeout;
            while (true)
            {
                if (process.HasExited)
                    throw new InvalidOperationException($"The http service exited with code {process.ExitCode} while starting.");
                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50, cancellationToken).ConfigureAwait(false);
                }
            }
            lock (_lock)
            {
                _httpService = process;
                _httpEndpoint = endpoint;
            }
            Logs.Append($"[http service listening on {endpoint}]\n");
            return endpoint;
        }
        finally
        {
            _serviceLock.Release();
        }
    }

    private static int FreeLoopbackPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <inheritdoc />
    protected override ValueTask DisposeCoreAsync()
    {
        StopInterpreter()?.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string ExtractDriver()
    {
        var asm = typeof(PythonKernel).Assembly;
        var name = asm.GetManifestResourceNames().Single(n => n.EndsWith("python_driver.py", StringComparison.Ordinal));
        using var stream = asm.GetManifestResourceStream(name)!;
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        var bytes = ms.ToArray();
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
        var dir = Path.Combine(Path.GetTempPath(), $"backendai-local-{Environment.UserName}");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, $"python_driver-{hash}.py");
        if (!File.Exists(path))
        {
            var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, path, overwrite: true);
        }
        return path;
    }
}

using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace BackendAI.Local.Streams;

/// <summary>
/// A real pseudo-terminal (libc <c>openpty</c>) running an interactive bash in a work directory.
/// The shell is started as a new session leader (<c>setsid</c>) that opens the pty's slave side,
/// which makes the pty its controlling terminal (job control, <c>stty</c>, Ctrl-C all work).
/// </summary>
internal sealed class PseudoTerminal : IAsyncDisposable
{
    private const int FD_CLOEXEC = 1;
    private const int F_SETFD = 2;
    private const ulong TIOCSWINSZ = 0x5414;

    private readonly int _master;
    private int _slave;
    private readonly Process _process;
    private readonly Channel<byte[]> _output = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(64)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TaskCompletionSource _readerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;
    private int _closed;

    private PseudoTerminal(int master, int slave, Process process)
    {
        _master = master;
        _slave = slave;
        _process = process;
        var reader = new Thread(ReadLoop) { IsBackground = true, Name = "pty-reader" };
        reader.Start();
        _ = CloseSlaveOnExitAsync();
    }

    // The server keeps the slave side open while the shell runs: otherwise the master reads EIO
    // if it looks before the shell has opened the slave. Once the shell is gone, the slave is
    // closed so the reader drains the rest and then sees EIO.
    private async Task CloseSlaveOnExitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        CloseSlave();
    }

    private void CloseSlave()
    {
        var fd = Interlocked.Exchange(ref _slave, -1);
        if (fd >= 0) close(fd);
    }

    /// <summary>Terminal output chunks; completes when the terminal ends.</summary>
    public ChannelReader<byte[]> Output => _output.Reader;

    private void ReadLoop()
    {
        var buffer = new byte[16384];
        try
        {
            while (Volatile.Read(ref _closed) == 0)
            {
                var n = read(_master, buffer, buffer.Length);
                if (n < 0 && Marshal.GetLastPInvokeError() == 4) continue; // EINTR
                if (n <= 0) break; // EIO once every holder of the slave side is gone
                var chunk = buffer.AsSpan(0, (int)n).ToArray();
                // dedicated thread: block for backpressure when the websocket is slow
                while (!_output.Writer.TryWrite(chunk))
                    if (!_output.Writer.WaitToWriteAsync().AsTask().GetAwaiter().GetResult()) return;
            }
        }
        finally
        {
            _output.Writer.TryComplete();
            _readerDone.TrySetResult();
        }
    }

    /// <summary>Completes when the shell exits.</summary>
    public Task Exited => _process.WaitForExitAsync();

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Cols;
        public ushort XPixel;
        public ushort YPixel;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int openpty(out int master, out int slave, IntPtr name, IntPtr termios, ref WinSize winsize);

    [DllImport("libc", SetLastError = true)]
    private static extern int ioctl(int fd, ulong request, ref WinSize winsize);

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int cmd, int arg);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr ttyname(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern nint read(int fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern nint write(int fd, byte[] buffer, nint count);

    /// <summary>Opens a pty of the given size and starts <c>bash -i</c> on it.</summary>
    public static PseudoTerminal Start(string workDirectory, IReadOnlyDictionary<string, string> environment, string bash = "bash",
        int rows = 24, int cols = 80)
    {
        var size = new WinSize { Rows = (ushort)rows, Cols = (ushort)cols };
        if (openpty(out var master, out var slave, IntPtr.Zero, IntPtr.Zero, ref size) != 0)
            throw new IOException($"openpty failed (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            // never leak the pty into other children of this server
            fcntl(master, F_SETFD, FD_CLOEXEC);
            fcntl(slave, F_SETFD, FD_CLOEXEC);
            var namePtr = ttyname(slave);
            var slaveName = namePtr == IntPtr.Zero ? null : Marshal.PtrToStringAnsi(namePtr);
            if (slaveName is null) throw new IOException($"ttyname failed (errno {Marshal.GetLastPInvokeError()}).");

            var psi = new ProcessStartInfo("setsid")
            {
                WorkingDirectory = workDirectory,
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            // the session leader opens the slave (acquiring it as controlling terminal), then becomes the interactive shell
            psi.ArgumentList.Add(bash);
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("exec \"$0\" -i <>\"$BACKENDAI_PTY\" >&0 2>&0");
            psi.ArgumentList.Add(bash);
            psi.Environment["BACKENDAI_PTY"] = slaveName;
            psi.Environment["TERM"] = "xterm-256color";
            psi.Environment["HOME"] = workDirectory;
            psi.Environment.Remove("PROMPT_COMMAND");
            foreach (var (k, v) in environment) psi.Environment[k] = v;
            var process = Process.Start(psi) ?? throw new IOException("bash did not start.");
            return new PseudoTerminal(master, slave, process);
        }
        catch
        {
            close(master);
            close(slave);
            throw;
        }
    }

    /// <summary>Writes keystrokes/bytes to the terminal.</summary>
    public async Task WriteAsync(byte[] data, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var offset = 0;
            while (offset < data.Length)
            {
                if (Volatile.Read(ref _closed) != 0) throw new IOException("The terminal is closed.");
                var chunk = offset == 0 ? data : data[offset..];
                var n = write(_master, chunk, chunk.Length);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == 4) continue;
                    throw new IOException($"write to the terminal failed (errno {errno}).");
                }
                offset += (int)n;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sets the terminal size (TIOCSWINSZ); the shell gets SIGWINCH.</summary>
    public void Resize(int rows, int cols)
    {
        var size = new WinSize { Rows = (ushort)rows, Cols = (ushort)cols };
        if (rows is < 1 or > ushort.MaxValue || cols is < 1 or > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(rows), $"Terminal size {rows}x{cols} is out of range.");
        if (ioctl(_master, TIOCSWINSZ, ref size) != 0)
            throw new IOException($"TIOCSWINSZ failed (errno {Marshal.GetLastPInvokeError()}).");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            // SIGHUP first: an interactive bash passes it on to its jobs (other process groups)
            Kernels.Posix.Signal(_process.Id, 1);
            Kernels.Posix.SignalGroup(_process.Id, Kernels.Posix.SIGKILL);
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
        }
        CloseSlave();
        _output.Writer.TryComplete();
        // the reader sees EIO once every holder of the slave side is gone; only then is closing the master safe
        await _readerDone.Task.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Volatile.Write(ref _closed, 1);
        await _writeLock.WaitAsync().ConfigureAwait(false);
        close(_master);
        _process.Dispose();
    }
}

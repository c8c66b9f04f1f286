using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace BackendAI.Local.Kernels;

/// <summary>POSIX signals and process-group helpers (libc P/Invoke).</summary>
internal static class Posix
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int sig);

    /// <summary>Sends a signal to one process; false when it is gone.</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && SysKill(pid, signal) == 0;

    /// <summary>Sends a signal to a whole process group (the group id is the leader's pid).</summary>
    public static bool SignalGroup(int pgid, int signal) => pgid > 0 && SysKill(-pgid, signal) == 0;
}

/// <summary>A bounded, thread-safe text log that keeps the newest characters.</summary>
internal sealed class LogBuffer(int maxChars)
{
    private readonly object _lock = new();
    private readonly StringBuilder _text = new();

    public void Append(string text)
    {
        if (text.Length == 0) return;
        lock (_lock)
        {
            _text.Append(text);
            if (_text.Length > maxChars) _text.Remove(0, _text.Length - maxChars);
        }
    }

    public override string ToString()
    {
        lock (_lock) return _text.ToString();
    }
}

/// <summary>Starting processes for kernels: own process group (via <c>setsid</c>), work dir, environment.</summary>
internal static class KernelProcesses
{
    /// <summary>Builds a start info that runs <paramref name="arguments"/> in a new session/process group.</summary>
    public static ProcessStartInfo StartInfo(KernelStartInfo info, string executable, IEnumerable<string> arguments, bool redirectInput)
    {
        var psi = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = info.WorkDirectory,
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Utf8,
            StandardErrorEncoding = Utf8,
        };
        if (redirectInput) psi.StandardInputEncoding = Utf8;
        psi.ArgumentList.Add(executable);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = info.WorkDirectory;
        psi.Environment["PYTHONUNBUFFERED"] = "1";
        psi.Environment["PYTHONIOENCODING"] = "utf-8";
        psi.Environment["BACKENDAI_SESSION_ID"] = info.SessionId.ToString();
        psi.Environment.Remove("PYTHONSTARTUP");
        foreach (var (k, v) in info.Environment) psi.Environment[k] = v;
        return psi;
    }

    public static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Reads a pipe until EOF, handing decoded text chunks to <paramref name="sink"/>.</summary>
    public static async Task PumpAsync(Stream stream, Action<string> sink, CancellationToken cancellationToken)
    {
        var decoder = Utf8.GetDecoder();
        var bytes = new byte[16384];
        var chars = new char[Utf8.GetMaxCharCount(bytes.Length)];
        try
        {
            while (true)
            {
                var n = await stream.ReadAsync(bytes, cancellationToken).ConfigureAwait(false);
                if (n == 0) break;
                var c = decoder.GetChars(bytes, 0, n, chars, 0, flush: false);
                if (c > 0) sink(new string(chars, 0, c));
            }
            var tail = decoder.GetChars([], 0, 0, chars, 0, flush: true);
            if (tail > 0) sink(new string(chars, 0, tail));
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Kills a process group started by <see cref="StartInfo"/> and reaps the leader.</summary>
    public static void KillGroup(Process process)
    {
        try
        {
            // the group may outlive its leader (children started by user code)
            Posix.SignalGroup(process.Id, Posix.SIGKILL);
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }
}

using System.Text;
using System.Text.Json.Nodes;

namespace BackendAI.Local.Kernels;

/// <summary>
/// The output and status milestones of one run. Producers append console output and post
/// milestones (<c>clean-finished</c>, <c>build-finished</c>, <c>waiting-input</c>, <c>finished</c>, ...);
/// each consumer call takes the next milestone with the output that preceded it, or — when the
/// flush window passes first — the output so far as <c>continued</c>.
/// </summary>
internal sealed class KernelRun
{
    private readonly object _lock = new();
    private readonly int _maxCharsPerStream;
    private List<Segment> _buffer = [];
    private readonly Queue<Milestone> _milestones = new();
    private TaskCompletionSource _signal = NewSignal();
    private TaskCompletionSource<string>? _input;
    private int _stdoutChars;
    private int _stderrChars;
    private bool _truncated;
    private bool _finalPosted;
    private bool _finalTaken;

    public KernelRun(string runId, int maxCharsPerStream)
    {
        RunId = runId;
        _maxCharsPerStream = maxCharsPerStream;
    }

    public string RunId { get; }

    /// <summary>True once the final milestone (finished/exec-timeout) has been posted.</summary>
    public bool IsDone { get { lock (_lock) return _finalPosted; } }

    /// <summary>True once a consumer has taken the final milestone.</summary>
    public bool IsDrained { get { lock (_lock) return _finalTaken; } }

    /// <summary>True while the run waits for an input line.</summary>
    public bool IsWaitingForInput { get { lock (_lock) return _input is not null; } }

    public void Append(string stream, string text)
    {
        if (text.Length == 0) return;
        lock (_lock)
        {
            if (_finalPosted) return;
            ref var used = ref stream == "stderr" ? ref _stderrChars : ref _stdoutChars;
            var room = _maxCharsPerStream - used;
            if (room <= 0)
            {
                _truncated = true;
                return;
            }
            if (text.Length > room)
            {
                text = text[..room];
                _truncated = true;
            }
            used += text.Length;
            if (_buffer.Count > 0 && _buffer[^1] is { Text: { } sb } last && last.Type == stream)
                sb.Append(text);
            else
                _buffer.Add(new Segment(stream, new StringBuilder(text), null));
        }
    }

    public void AppendItem(string type, JsonNode data)
    {
        lock (_lock)
        {
            if (_finalPosted) return;
            _buffer.Add(new Segment(type, null, data));
        }
    }

    /// <summary>Posts a milestone; the output so far belongs to it.</summary>
    public void Post(string status, int? exitCode, bool isPassword = false)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            if (_finalPosted) return;
            if (status is "finished" or "exec-timeout") _finalPosted = true;
            _milestones.Enqueue(new Milestone(status, exitCode, isPassword, TakeBuffer()));
            signal = _signal;
            _signal = NewSignal();
        }
        signal.TrySetResult();
    }

    /// <summary>Posts <c>waiting-input</c> (after the prompt as stdout) and completes with the line the client sends.</summary>
    public Task<string> RequestInputAsync(string prompt, bool isPassword)
    {
        var tcs = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock) _input = tcs;
        Append("stdout", prompt);
        Post("waiting-input", null, isPassword);
        return tcs.Task;
    }

    /// <summary>Hands an input line to a waiting run; false when it is not waiting.</summary>
    public bool ProvideInput(string text)
    {
        TaskCompletionSource<string>? tcs;
        lock (_lock)
        {
            tcs = _input;
            _input = null;
        }
        return tcs?.TrySetResult(text) ?? false;
    }

    /// <summary>Cancels a pending input request (the run is ending).</summary>
    public void AbandonInput()
    {
        TaskCompletionSource<string>? tcs;
        lock (_lock)
        {
            tcs = _input;
            _input = null;
        }
        tcs?.TrySetCanceled();
    }

    /// <summary>The next milestone, or the output so far as <c>continued</c> once <paramref name="flushWindow"/> passes.</summary>
    public async Task<KernelResult> NextAsync(TimeSpan flushWindow, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + flushWindow;
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_milestones.TryDequeue(out var m))
                {
                    if (m.Status is "finished" or "exec-timeout") _finalTaken = true;
                    return new KernelResult(m.Status, m.ExitCode, m.Console, m.IsPassword);
                }
                if (_finalTaken) return new KernelResult("finished", 130, []);
                var remaining = deadline - DateTime.UtcNow;
                if (remaining <= TimeSpan.Zero) return new KernelResult("continued", null, TakeBuffer());
                wait = _signal.Task;
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(deadline - DateTime.UtcNow is var r && r > TimeSpan.Zero ? r : TimeSpan.Zero);
            try
            {
                await wait.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // flush window passed: loop once more to take what is there
            }
        }
    }

    private List<KernelConsoleItem> TakeBuffer()
    {
        var items = new List<KernelConsoleItem>(_buffer.Count + 1);
        foreach (var s in _buffer)
            items.Add(new KernelConsoleItem(s.Type, s.Text is { } sb ? JsonValue.Create(sb.ToString()) : s.Data!));
        if (_truncated)
        {
            var note = $"[output truncated: more than {_maxCharsPerStream} characters per stream in one call]\n";
            if (items.Count > 0 && items[^1].Type == "stderr" && items[^1].Data is JsonValue v && v.TryGetValue<string>(out var text))
                items[^1] = new KernelConsoleItem("stderr", JsonValue.Create(text + note));
            else
                items.Add(new KernelConsoleItem("stderr", JsonValue.Create(note)));
            _truncated = false;
        }
        _buffer = [];
        _stdoutChars = 0;
        _stderrChars = 0;
        return items;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record Segment(string Type, StringBuilder? Text, JsonNode? Data);

    private sealed record Milestone(string Status, int? ExitCode, bool IsPassword, List<KernelConsoleItem> Console);
}

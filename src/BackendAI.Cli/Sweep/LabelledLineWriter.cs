using System.Text;

namespace BackendAI.Cli.Sweep;

/// <summary>
/// A writer for one case of a concurrent run: it collects text into whole lines and writes each
/// completed line to the shared output as <c>[idx] line</c> under a lock shared by all cases, so
/// the output of concurrent cases never interleaves inside a line. The pending partial line is
/// bounded: a line longer than <see cref="MaxLineLength"/> is emitted in pieces.
/// </summary>
public sealed class LabelledLineWriter : TextWriter
{
    /// <summary>The longest partial line held before it is written out anyway.</summary>
    public const int MaxLineLength = 64 * 1024;

    private readonly TextWriter _sink;
    private readonly object _sinkLock;
    private readonly string _label;
    private readonly StringBuilder _line = new();

    /// <summary>Creates the writer.</summary>
    /// <param name="sink">The shared output.</param>
    /// <param name="sinkLock">The lock every writer of <paramref name="sink"/> takes.</param>
    /// <param name="label">The prefix, e.g. <c>[3] </c>.</param>
    public LabelledLineWriter(TextWriter sink, object sinkLock, string label)
    {
        _sink = sink;
        _sinkLock = sinkLock;
        _label = label;
    }

    /// <inheritdoc />
    public override Encoding Encoding => Encoding.UTF8;

    /// <inheritdoc />
    public override void Write(char value)
    {
        if (value == '\n')
        {
            EmitLine();
            return;
        }
        if (value != '\r')
            _line.Append(value);
        if (_line.Length >= MaxLineLength)
            EmitLine();
    }

    /// <inheritdoc />
    public override void Write(string? value)
    {
        if (value is null)
            return;
        foreach (var c in value)
            Write(c);
    }

    /// <inheritdoc />
    public override void Flush()
    {
        if (_line.Length > 0)
            EmitLine();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
            Flush();
        base.Dispose(disposing);
    }

    private void EmitLine()
    {
        var text = _line.ToString();
        _line.Clear();
        lock (_sinkLock)
        {
            _sink.Write(_label);
            _sink.WriteLine(text);
            _sink.Flush();
        }
    }
}

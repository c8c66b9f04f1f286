namespace BackendAI.Client.Transfers;

/// <summary>
/// Turns the raw byte counts of a transfer (one file after another) into throttled, monotone
/// <see cref="TransferProgress"/> reports: each file reports its start (0 bytes) and its completion; in between a
/// report is sent only when at least <see cref="MinBytes"/> bytes moved <em>and</em> <see cref="MinInterval"/>
/// passed since the previous one (so at most ten reports a second by default). Byte counts that go backwards
/// (a tus upload resumed from the server's offset, a download restarted without <c>Range</c>) are held at the
/// high-water mark until the transfer passes it again. Thread-safe; reports are sent synchronously.
/// </summary>
/// <remarks>Every byte of every transfer is counted here once (<see cref="BytesCounted"/>), with or without a progress sink.</remarks>
public sealed class TransferProgressReporter
{
    /// <summary>The default <see cref="MinBytes"/>: 64 KiB.</summary>
    public const long DefaultMinBytes = 64 * 1024;

    /// <summary>The default <see cref="MinInterval"/>: 100 ms.</summary>
    public static readonly TimeSpan DefaultMinInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock _gate = new();
    private readonly IProgress<TransferProgress>? _sink;
    private readonly TimeProvider _time;
    private readonly long? _overallTotal;
    private int _index = -1;
    private string _name = string.Empty;
    private long _fileBytes;
    private long? _fileTotal;
    private long _completedBytes;
    private long _knownTotals;
    private long _reportedOverall;
    private (int Index, long Bytes, long? Total) _reported = (-1, 0, null);
    private long _reportedAt;
    private long _counted;

    /// <summary>Creates a reporter for a transfer of <paramref name="fileCount"/> files.</summary>
    /// <param name="sink">Receives the reports (null: bytes are only counted).</param>
    /// <param name="fileCount">Files in the transfer.</param>
    /// <param name="overallTotalBytes">The transfer's size when known up front (uploads); otherwise it becomes known at the last file.</param>
    /// <param name="minBytes">Bytes that must move between two reports of a file (0 = any).</param>
    /// <param name="minInterval">Time that must pass between two reports of a file (default 100 ms).</param>
    /// <param name="timeProvider">The clock (tests).</param>
    public TransferProgressReporter(IProgress<TransferProgress>? sink, int fileCount, long? overallTotalBytes = null,
        long minBytes = DefaultMinBytes, TimeSpan? minInterval = null, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fileCount);
        ArgumentOutOfRangeException.ThrowIfNegative(minBytes);
        _sink = sink;
        FileCount = fileCount;
        _overallTotal = overallTotalBytes;
        MinBytes = minBytes;
        MinInterval = minInterval ?? DefaultMinInterval;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Files in the transfer.</summary>
    public int FileCount { get; }

    /// <summary>Bytes that must move between two intermediate reports.</summary>
    public long MinBytes { get; }

    /// <summary>Time that must pass between two intermediate reports.</summary>
    public TimeSpan MinInterval { get; }

    /// <summary>Every byte transferred so far, counted once (re-sent or re-fetched bytes after a resume are not counted twice).</summary>
    public long BytesCounted => Volatile.Read(ref _counted);

    /// <summary>Starts the next file and reports it at 0 bytes; returns the sink for its byte counts.</summary>
    /// <param name="name">The file's remote or relative name.</param>
    /// <param name="totalBytes">Its size when known.</param>
    public IProgress<long> BeginFile(string name, long? totalBytes)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_gate)
        {
            if (_index >= 0) _completedBytes += _fileBytes;
            _index++;
            _name = name;
            _fileBytes = 0;
            _fileTotal = null;
            if (totalBytes is { } t) SetTotalLocked(t);
            Emit();
        }
        return new FileBytes(this);
    }

    /// <summary>Sets the current file's size once it becomes known (a download's <c>Content-Length</c>).</summary>
    /// <param name="totalBytes">The size.</param>
    public void SetFileTotal(long totalBytes)
    {
        lock (_gate)
        {
            if (_fileTotal is null) SetTotalLocked(totalBytes);
        }
    }

    /// <summary>Reports the current file's bytes so far (absolute, not a delta).</summary>
    /// <param name="bytes">Bytes of the current file transferred so far.</param>
    public void ReportFileBytes(long bytes)
    {
        lock (_gate)
        {
            if (_index < 0 || bytes <= _fileBytes) return; // nothing new, or behind the high-water mark after a resume
            Count(bytes - _fileBytes);
            _fileBytes = bytes;
            var overall = _completedBytes + _fileBytes;
            var complete = _fileTotal is { } t && _fileBytes >= t;
            if (complete || (overall - _reportedOverall >= MinBytes && _time.GetElapsedTime(_reportedAt) >= MinInterval)) Emit();
        }
    }

    /// <summary>Marks the current file complete at <paramref name="bytes"/> and reports it (if not reported already).</summary>
    /// <param name="bytes">The file's final size.</param>
    public void CompleteFile(long bytes)
    {
        lock (_gate)
        {
            if (_index < 0) return;
            if (_fileTotal is null) SetTotalLocked(bytes);
            if (bytes > _fileBytes)
            {
                Count(bytes - _fileBytes);
                _fileBytes = bytes;
            }
            if (_reported != (_index, _fileBytes, _fileTotal)) Emit();
        }
    }

    // The one place where transferred bytes are counted (a backendai.transfer.bytes counter hooks here).
    private void Count(long delta) => Interlocked.Add(ref _counted, delta);

    private void SetTotalLocked(long total)
    {
        _fileTotal = total;
        _knownTotals += total;
    }

    private void Emit()
    {
        var overall = _completedBytes + _fileBytes;
        _reportedOverall = overall;
        _reportedAt = _time.GetTimestamp();
        _reported = (_index, _fileBytes, _fileTotal);
        if (_sink is null) return;
        long? overallTotal = _overallTotal ?? (_index == FileCount - 1 && _fileTotal is not null ? _knownTotals : null);
        _sink.Report(new TransferProgress(_name, _fileBytes, _fileTotal)
        {
            FileIndex = _index,
            FileCount = FileCount,
            OverallBytesTransferred = overall,
            OverallTotalBytes = overallTotal,
        });
    }

    private sealed class FileBytes(TransferProgressReporter owner) : IProgress<long>
    {
        public void Report(long value) => owner.ReportFileBytes(value);
    }
}

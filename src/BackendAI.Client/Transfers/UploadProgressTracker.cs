using BackendAI.Client.Models;

namespace BackendAI.Client.Transfers;

/// <summary>
/// Byte progress for a multipart upload of several <see cref="UploadFile"/>s: wraps each file so that reading its
/// content (as the request body is written) reports to a <see cref="TransferProgressReporter"/>, file by file in order.
/// A retried request re-reads the files from the start; the reporter holds the high-water mark meanwhile.
/// </summary>
public sealed class UploadProgressTracker
{
    private readonly Lock _gate = new();
    private readonly IReadOnlyList<UploadFile> _files;
    private readonly IReadOnlyList<long?> _sizes;
    private readonly TransferProgressReporter _reporter;
    private int _current = -1;

    /// <summary>Tracks <paramref name="files"/> of the given sizes.</summary>
    /// <param name="files">The files, in the order the body sends them.</param>
    /// <param name="sizes">Their sizes when known (same order).</param>
    /// <param name="progress">Receives the reports (null: bytes are only counted).</param>
    public UploadProgressTracker(IReadOnlyList<UploadFile> files, IReadOnlyList<long?> sizes, IProgress<TransferProgress>? progress)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(sizes);
        if (files.Count != sizes.Count) throw new ArgumentException($"{files.Count} files but {sizes.Count} sizes.", nameof(sizes));
        _files = files;
        _sizes = sizes;
        long? overall = sizes.All(s => s is not null) ? sizes.Sum(s => s!.Value) : null;
        _reporter = new TransferProgressReporter(progress, files.Count, overall);
        Files = files.Select((f, i) => f with { Open = () => new CountingReadStream(f.Open(), read => OnRead(i, read)) }).ToArray();
    }

    /// <summary>The files to send instead of the originals.</summary>
    public IReadOnlyList<UploadFile> Files { get; }

    /// <summary>The reporter (its <see cref="TransferProgressReporter.BytesCounted"/>).</summary>
    public TransferProgressReporter Reporter => _reporter;

    /// <summary>Call after the upload succeeded: reports every remaining file complete.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            AdvanceTo(_files.Count - 1);
            _reporter.CompleteFile(_sizes[_current] ?? 0);
        }
    }

    private void OnRead(int index, long read)
    {
        lock (_gate)
        {
            if (index < _current) return; // a retried request re-reading an earlier file
            AdvanceTo(index);
            _reporter.ReportFileBytes(read);
        }
    }

    private void AdvanceTo(int index)
    {
        while (_current < index)
        {
            if (_current >= 0) _reporter.CompleteFile(_sizes[_current] ?? 0);
            _current++;
            _reporter.BeginFile(_files[_current].RelativePath, _sizes[_current]);
        }
    }

    /// <summary>A read-only pass-through that reports the bytes read so far.</summary>
    private sealed class CountingReadStream(Stream inner, Action<long> onRead) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }

        private int Counted(int n)
        {
            _read += n;
            onRead(_read);
            return n;
        }
    }
}

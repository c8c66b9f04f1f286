namespace BackendAI.Client.Transfers;

/// <summary>Progress of a transfer: the current file, and (for transfers of several files) the whole call.</summary>
/// <param name="Name">The file being transferred (its remote or local relative path).</param>
/// <param name="BytesTransferred">Bytes of this file transferred so far (never decreases within one transfer).</param>
/// <param name="TotalBytes">The file's size when known.</param>
public sealed record TransferProgress(string Name, long BytesTransferred, long? TotalBytes)
{
    private readonly long? _overallBytes;
    private readonly long? _overallTotal;
    private readonly bool _overallTotalSet;

    /// <summary>0-based position of this file in the transfer.</summary>
    public int FileIndex { get; init; }

    /// <summary>Files in the transfer (1 for a single file).</summary>
    public int FileCount { get; init; } = 1;

    /// <summary>Bytes of the whole transfer so far (defaults to <see cref="BytesTransferred"/>); never decreases.</summary>
    public long OverallBytesTransferred
    {
        get => _overallBytes ?? BytesTransferred;
        init => _overallBytes = value;
    }

    /// <summary>Bytes of the whole transfer when known (defaults to <see cref="TotalBytes"/>).</summary>
    public long? OverallTotalBytes
    {
        get => _overallTotalSet ? _overallTotal : TotalBytes;
        init
        {
            _overallTotal = value;
            _overallTotalSet = true;
        }
    }

    /// <summary>True when this file's size is known and reached.</summary>
    public bool IsFileComplete => TotalBytes is { } total && BytesTransferred >= total;
}

namespace BackendAI.Client.Transfers;

/// <summary>Progress of one file transfer.</summary>
/// <param name="Name">The file being transferred (its remote or local relative path).</param>
/// <param name="BytesTransferred">Bytes confirmed so far (for uploads: the server's offset).</param>
/// <param name="TotalBytes">The total size when known.</param>
public sealed record TransferProgress(string Name, long BytesTransferred, long? TotalBytes);

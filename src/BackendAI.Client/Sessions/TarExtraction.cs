using BackendAI.Client.Transfers;

namespace BackendAI.Client.Sessions;

/// <summary>Bridge to the safe tar extractor of <c>BackendAI.Client.Transfers</c>.</summary>
internal static class TarExtraction
{
    public static Task<IReadOnlyList<string>> ExtractAsync(Stream tar, string destinationDirectory, CancellationToken ct) =>
        SafeTarExtractor.ExtractAsync(tar, destinationDirectory, ct);
}

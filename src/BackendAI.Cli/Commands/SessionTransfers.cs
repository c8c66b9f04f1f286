using BackendAI.Actors;
using BackendAI.Client;
using BackendAI.Client.Transfers;

namespace BackendAI.Cli.Commands;

/// <summary>Uploads into a session through the runtime's transfer pool, keeping paths relative to a base directory.</summary>
internal static class SessionTransfers
{
    /// <summary>
    /// Uploads <paramref name="files"/> (full paths inside <paramref name="baseDirectory"/>). Files directly in
    /// the base directory go through <see cref="ComputeSession.UploadAsync"/> (the runtime's bounded transfer
    /// pool); the runtime stores files under their file name only, so a set with nested relative paths is
    /// sent by the wire client with those paths instead.
    /// </summary>
    public static Task UploadAsync(CliContext context, ComputeSession session, IReadOnlyList<string> files, string baseDirectory,
        bool showProgress, CancellationToken ct)
    {
        var relative = files.Select(f => Path.GetRelativePath(baseDirectory, f).Replace('\\', '/')).ToList();
        var flat = relative.Zip(files).All(p => p.First == Path.GetFileName(p.Second));
        return TransferProgressView.RunAsync<bool>(context, "Uploading", showProgress, async progress =>
        {
            if (flat)
            {
                await session.UploadAsync(files, progress, ct).ConfigureAwait(false);
            }
            else
            {
                var uploads = files.Zip(relative).Select(p => UploadFile.FromPath(p.First, p.Second)).ToList();
                await context.Client.Sessions.UploadAsync(session.Id, uploads, ct).ConfigureAwait(false);
                foreach (var (file, name) in files.Zip(relative))
                {
                    var size = new FileInfo(file).Length;
                    progress.Report(new TransferProgress(name, size, size));
                }
            }
            return true;
        }, ct);
    }
}

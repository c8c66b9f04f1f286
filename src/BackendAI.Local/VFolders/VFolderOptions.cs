namespace BackendAI.Local.VFolders;

/// <summary>Settings of the local vfolder area (bind or configure with <c>services.Configure&lt;VFolderOptions&gt;</c>).</summary>
public sealed class VFolderOptions
{
    /// <summary>How long an upload token (tus session) stays valid. Default 1 day.</summary>
    public TimeSpan UploadTokenLifetime { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long a download token stays valid. Default 1 hour.</summary>
    public TimeSpan DownloadTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Largest accepted upload (<c>Tus-Max-Size</c>). Default 100 GiB as upstream.</summary>
    public long MaxUploadBytes { get; set; } = 100L << 30;

    /// <summary>How many user folders one user may own (the fixtures' resource policy allows 10).</summary>
    public int MaxFoldersPerUser { get; set; } = 10;
}

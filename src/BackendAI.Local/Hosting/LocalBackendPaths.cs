namespace BackendAI.Local;

/// <summary>Where the server keeps its state, all under one data directory.</summary>
/// <param name="DataDirectory">The root (<c>--data-dir</c>).</param>
public sealed record LocalBackendPaths(string DataDirectory)
{
    /// <summary>Per-session work directories (the <c>/home/work</c> of upstream).</summary>
    public string SessionsDirectory => Path.Combine(DataDirectory, "sessions");

    /// <summary>Virtual folder contents.</summary>
    public string VFoldersDirectory => Path.Combine(DataDirectory, "vfolders");

    /// <summary>In-progress tus uploads.</summary>
    public string UploadsDirectory => Path.Combine(DataDirectory, "uploads");

    /// <summary>The SQLite metadata database.</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "local.db");
}

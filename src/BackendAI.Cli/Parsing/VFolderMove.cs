namespace BackendAI.Cli.Parsing;

/// <summary>The paths of <c>vfolder mv SRC DST</c>, relative to the folder root.</summary>
internal static class VFolderMove
{
    /// <summary>
    /// Normalises both paths (no leading or trailing <c>/</c>); a DST ending with <c>/</c> (or <c>.</c> for the
    /// root) names a directory, and the entry keeps its name inside it. Empty or root-only paths are refused.
    /// </summary>
    public static (string Source, string Destination) Resolve(string source, string destination)
    {
        var src = source.Replace('\\', '/').Trim('/');
        if (src.Length == 0 || src == ".")
            throw new CliUsageException("vfolder mv: SRC must name a file or directory inside the folder.");
        var dstText = destination.Replace('\\', '/');
        var intoDirectory = dstText.EndsWith('/') || dstText is "." or "./";
        var dst = dstText.Trim('/');
        if (dst == ".")
            dst = "";
        if (intoDirectory)
            dst = dst.Length == 0 ? NameOf(src) : $"{dst}/{NameOf(src)}";
        if (dst.Length == 0)
            throw new CliUsageException("vfolder mv: DST must be a path inside the folder.");
        return (src, dst);
    }

    /// <summary>True when both paths share their parent directory (a rename).</summary>
    public static bool IsRename(string source, string destination) => ParentOf(source) == ParentOf(destination);

    /// <summary>The last segment of a normalised path.</summary>
    public static string NameOf(string path) => path[(path.LastIndexOf('/') + 1)..];

    private static string ParentOf(string path) => path.LastIndexOf('/') is var i and >= 0 ? path[..i] : "";
}

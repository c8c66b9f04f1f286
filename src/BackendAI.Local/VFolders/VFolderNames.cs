using System.Text.RegularExpressions;

namespace BackendAI.Local.VFolders;

/// <summary>Validation of vfolder names (vfolders.md §1).</summary>
internal static partial class VFolderNames
{
    private static readonly HashSet<string> s_reserved = new(StringComparer.Ordinal)
    {
        ".terminfo", ".jupyter", ".tmux.conf", ".ssh",
        "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/media", "/mnt", "/opt", "/proc", "/root",
        "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/home",
    };

    [GeneratedRegex("^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$")]
    private static partial Regex Slug();

    [GeneratedRegex(@"^\.[a-z0-9]+rc$")]
    private static partial Regex RcFile();

    [GeneratedRegex(@"^\.[a-z0-9]+_profile$")]
    private static partial Regex ProfileFile();

    /// <summary>True for names reserved for internal operations.</summary>
    public static bool IsReserved(string name) =>
        s_reserved.Contains(name) || s_reserved.Contains("/" + name) || RcFile().IsMatch(name) || ProfileFile().IsMatch(name);

    /// <summary>
    /// Checks <paramref name="name"/> (from parameter <paramref name="key"/>) and throws the protocol's 400 when it is
    /// reserved or not a slug.
    /// </summary>
    public static void Validate(string name, string key)
    {
        if (IsReserved(name))
            throw Hosting.ApiProblemException.InvalidParams($"{name} is reserved for internal operations.");
        var body = name.StartsWith('.') ? name[1..] : name;
        if (name.Length > 64 || body.Length == 0 || !Slug().IsMatch(body))
            throw Hosting.ApiProblemException.InvalidParams("Input validation error",
                new System.Text.Json.Nodes.JsonObject { [key] = $"does not match pattern {Slug()}" });
    }
}

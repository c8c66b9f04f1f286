using System.Text.RegularExpressions;

namespace BackendAI.Cli.Parsing;

/// <summary>Parsers for the repeated <c>KEY=VALUE</c> options of <c>run</c> and <c>start</c>.</summary>
public static partial class KeyValueOptions
{
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_.\-]*$")]
    private static partial Regex SlotName();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvName();

    // A number, optionally with a binary size suffix: 4, 0.5, 512m, 8g, 4GiB, 1t.
    [GeneratedRegex(@"^\d+(\.\d+)?([kmgtpe](i?b)?|b)?$", RegexOptions.IgnoreCase)]
    private static partial Regex SlotValue();

    [GeneratedRegex(@"^(?=.{1,64}$)[A-Za-z0-9_.\-]+$")]
    private static partial Regex VFolderName();

    /// <summary>
    /// <c>-r cpu=4 -r mem=8g -r cuda.shares=2</c> (each item may also hold several comma-separated pairs)
    /// into the <c>resources</c> map; values are numbers with an optional size suffix.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ParseResources(IEnumerable<string>? items, string option = "-r/--resources")
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items ?? [])
        {
            foreach (var pair in item.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var (key, raw) = Split(pair, option, "SLOT=VALUE, e.g. cpu=2 or mem=4g");
                var value = raw.Trim();
                if (!SlotName().IsMatch(key))
                    throw new CliUsageException($"Invalid {option} \"{pair}\": \"{key}\" is not a resource slot name.");
                if (!SlotValue().IsMatch(value))
                    throw new CliUsageException($"Invalid {option} \"{pair}\": \"{value}\" is not a number (size suffixes k/m/g/t are allowed).");
                result[key] = value;
            }
        }
        return result;
    }

    /// <summary><c>--resource-opts shmem=64m</c> into the <c>resource_opts</c> map (values as given).</summary>
    public static IReadOnlyDictionary<string, string> ParseResourceOptions(IEnumerable<string>? items, string option = "--resource-opts")
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items ?? [])
        {
            var (key, value) = Split(item, option, "KEY=VALUE, e.g. shmem=64m");
            result[key] = value;
        }
        return result;
    }

    /// <summary>
    /// <c>-e KEY=VAL</c> into an ordered list of pairs; a later duplicate replaces the value of the earlier one.
    /// Values are kept raw: they may be <c>$VAR</c> templates filled by <c>--env-range</c>.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseEnvironment(IEnumerable<string>? items, string option = "-e/--env")
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var item in items ?? [])
        {
            var (key, value) = Split(item, option, "KEY=VALUE");
            if (!EnvName().IsMatch(key))
                throw new CliUsageException($"Invalid {option} \"{item}\": \"{key}\" is not a valid environment variable name.");
            var existing = result.FindIndex(p => p.Key == key);
            if (existing >= 0)
                result[existing] = new(key, value);
            else
                result.Add(new(key, value));
        }
        return result;
    }

    /// <summary>
    /// <c>-m NAME</c>, <c>-m NAME=PATH</c> (or <c>NAME:PATH</c>) and <c>--mount-map NAME=PATH</c> into the
    /// <c>mounts</c> list (in first-seen order, without duplicates) and the <c>mount_map</c>.
    /// </summary>
    public static MountSpec ParseMounts(IEnumerable<string>? mounts, IEnumerable<string>? mountMap = null)
    {
        var names = new List<string>();
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string raw, string option, bool requirePath)
        {
            var sep = raw.IndexOfAny(['=', ':']);
            var name = (sep < 0 ? raw : raw[..sep]).Trim();
            var path = sep < 0 ? null : raw[(sep + 1)..].Trim();
            if (!VFolderName().IsMatch(name))
                throw new CliUsageException($"Invalid {option} \"{raw}\": \"{name}\" is not a vfolder name.");
            if (requirePath && path is null)
                throw new CliUsageException($"Invalid {option} \"{raw}\": expected NAME=PATH.");
            if (path is not null && path.Length == 0)
                throw new CliUsageException($"Invalid {option} \"{raw}\": the mount path is empty.");
            if (!names.Contains(name))
                names.Add(name);
            if (path is not null)
                map[name] = path;
        }
        foreach (var m in mounts ?? [])
            Add(m, "-m/--mount", requirePath: false);
        foreach (var m in mountMap ?? [])
            Add(m, "--mount-map", requirePath: true);
        return new MountSpec(names, map);
    }

    private static (string Key, string Value) Split(string item, string option, string expected)
    {
        var eq = item.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
            throw new CliUsageException($"Invalid {option} \"{item}\": expected {expected}.");
        return (item[..eq].Trim(), item[(eq + 1)..]);
    }
}

/// <summary>The vfolders to mount and their optional mount paths.</summary>
/// <param name="Mounts">vfolder names, first-seen order, no duplicates.</param>
/// <param name="MountMap">name → path for the vfolders given a path.</param>
public sealed record MountSpec(IReadOnlyList<string> Mounts, IReadOnlyDictionary<string, string> MountMap);

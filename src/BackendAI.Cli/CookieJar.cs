using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BackendAI.Cli;

/// <summary>
/// The login cookies of the <c>session</c> endpoint type, kept between CLI processes in
/// <c>~/.cache/backend.ai/cookies.json</c> (readable by the owner only, like client-py's <c>cookie.dat</c>).
/// <c>login</c> saves the jar, <c>logout</c> deletes the file, every other command loads it.
/// </summary>
internal static class CookieJar
{
    /// <summary>The file name inside the CLI's cache directory.</summary>
    public const string FileName = "cookies.json";

    /// <summary>The jar file of a context: <c>$HOME/.cache/backend.ai/cookies.json</c>.</summary>
    public static string PathOf(CliContext context) => Path.Combine(context.CacheDirectory, FileName);

    /// <summary>Reads the jar; an absent or unreadable file gives an empty jar (the user logs in again).</summary>
    public static CookieContainer Load(string path)
    {
        var jar = new CookieContainer();
        if (!File.Exists(path))
            return jar;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonArray ?? [];
            foreach (var node in root.OfType<JsonObject>())
            {
                var cookie = new Cookie(
                    (string?)node["name"] ?? "", (string?)node["value"] ?? "", (string?)node["path"] ?? "/", (string?)node["domain"] ?? "")
                {
                    Secure = (bool?)node["secure"] ?? false,
                    HttpOnly = (bool?)node["http_only"] ?? false,
                };
                if ((string?)node["expires"] is { } expires && DateTime.TryParse(expires, null, System.Globalization.DateTimeStyles.RoundtripKind, out var at))
                {
                    if (at <= DateTime.UtcNow)
                        continue;
                    cookie.Expires = at;
                }
                jar.Add(cookie);
            }
        }
        catch (Exception e) when (e is JsonException or CookieException or IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return new CookieContainer();
        }
        return jar;
    }

    /// <summary>Writes the jar (0600 on Unix, in a 0700 directory when it creates one).</summary>
    public static void Save(CookieContainer jar, string path)
    {
        ArgumentNullException.ThrowIfNull(jar);
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
                Directory.CreateDirectory(directory);
            else
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var cookies = new JsonArray();
        foreach (Cookie c in jar.GetAllCookies())
        {
            cookies.Add(new JsonObject
            {
                ["name"] = c.Name,
                ["value"] = c.Value,
                ["domain"] = c.Domain,
                ["path"] = c.Path,
                ["secure"] = c.Secure,
                ["http_only"] = c.HttpOnly,
                ["expires"] = c.Expires == DateTime.MinValue ? null : c.Expires.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            });
        }
        // A fresh file each time, so the mode is the one given here even when an older file was wider.
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(cookies.ToJsonString());
    }

    /// <summary>Deletes the jar file; true when there was one.</summary>
    public static bool Delete(string path)
    {
        if (!File.Exists(path))
            return false;
        File.Delete(path);
        return true;
    }
}

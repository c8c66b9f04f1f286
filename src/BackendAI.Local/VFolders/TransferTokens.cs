using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace BackendAI.Local.VFolders;

/// <summary>What an upload or download token grants.</summary>
/// <param name="Op"><c>upload</c> or <c>download</c>.</param>
/// <param name="FolderId">Folder id (32 hex digits).</param>
/// <param name="RelPath">Path inside the folder.</param>
/// <param name="Size">Upload: total bytes.</param>
/// <param name="Session">Upload: session id (names the temporary file).</param>
/// <param name="Archive">Download: zip a directory.</param>
/// <param name="Expires">Expiry, Unix seconds.</param>
internal sealed record TransferGrant(
    [property: JsonPropertyName("op")] string Op,
    [property: JsonPropertyName("vfid")] string FolderId,
    [property: JsonPropertyName("relpath")] string RelPath,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("session")] string? Session,
    [property: JsonPropertyName("archive")] bool Archive,
    [property: JsonPropertyName("exp")] long Expires);

/// <summary>
/// Opaque, self-contained storage tokens: a base64url JSON grant plus an HMAC-SHA256 over it with a server secret kept
/// in the data directory, so tokens (and unfinished uploads) stay valid across a server restart until they expire.
/// </summary>
internal sealed class TransferTokens
{
    private readonly byte[] _secret;
    private readonly TimeProvider _time;

    /// <summary>Loads or creates the secret in <paramref name="dataDirectory"/>.</summary>
    public TransferTokens(string dataDirectory, TimeProvider time)
    {
        _time = time;
        var path = Path.Combine(dataDirectory, "storage-token.key");
        if (File.Exists(path) && new FileInfo(path).Length == 32)
        {
            _secret = File.ReadAllBytes(path);
        }
        else
        {
            _secret = RandomNumberGenerator.GetBytes(32);
            File.WriteAllBytes(path, _secret);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>Issues a token for <paramref name="grant"/> (its <c>Expires</c> is set from <paramref name="lifetime"/>).</summary>
    public string Issue(TransferGrant grant, TimeSpan lifetime)
    {
        var g = grant with { Expires = _time.GetUtcNow().Add(lifetime).ToUnixTimeSeconds() };
        var payload = JsonSerializer.SerializeToUtf8Bytes(g);
        return Base64Url(payload) + "." + Base64Url(HMACSHA256.HashData(_secret, payload));
    }

    /// <summary>The grant of a valid, unexpired token for <paramref name="op"/>, or null.</summary>
    public TransferGrant? Verify(string? token, string op)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 8192) return null;
        var dot = token.IndexOf('.');
        if (dot <= 0) return null;
        try
        {
            var payload = FromBase64Url(token[..dot]);
            var mac = FromBase64Url(token[(dot + 1)..]);
            if (!CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(_secret, payload))) return null;
            var grant = JsonSerializer.Deserialize<TransferGrant>(payload);
            if (grant is null || grant.Op != op) return null;
            if (grant.Expires < _time.GetUtcNow().ToUnixTimeSeconds()) return null;
            return grant;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }
}

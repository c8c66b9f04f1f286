using System.Security.Cryptography;

namespace BackendAI.Client.Auth;

/// <summary>
/// A hash function usable for Backend.AI request signing (<c>signMethod=HMAC-&lt;NAME&gt;</c>).
/// </summary>
public sealed class SignatureHash
{
    private readonly Func<byte[], byte[], byte[]> _hmac;

    private SignatureHash(string name, Func<byte[], byte[], byte[]> hmac, Func<byte[], byte[]> hash)
    {
        Name = name;
        _hmac = hmac;
        EmptyBodyHash = Convert.ToHexStringLower(hash([]));
    }

    /// <summary>The protocol name in lower case, e.g. <c>sha256</c>.</summary>
    public string Name { get; }

    /// <summary>The <c>signMethod</c> value, e.g. <c>HMAC-SHA256</c>.</summary>
    public string SignMethod => "HMAC-" + Name.ToUpperInvariant();

    /// <summary>Lower-case hex digest of empty input (the body hash line of every signature since v4.20181215).</summary>
    public string EmptyBodyHash { get; }

    /// <summary>HMAC over <paramref name="message"/> with <paramref name="key"/>.</summary>
    public byte[] Hmac(byte[] key, byte[] message) => _hmac(key, message);

    /// <summary>SHA-256, the default.</summary>
    public static SignatureHash Sha256 { get; } = new("sha256", HMACSHA256.HashData, SHA256.HashData);

    /// <summary>SHA-1.</summary>
    public static SignatureHash Sha1 { get; } = new("sha1", HMACSHA1.HashData, SHA1.HashData);

    /// <summary>MD5.</summary>
    public static SignatureHash Md5 { get; } = new("md5", HMACMD5.HashData, MD5.HashData);

    /// <summary>SHA-384.</summary>
    public static SignatureHash Sha384 { get; } = new("sha384", HMACSHA384.HashData, SHA384.HashData);

    /// <summary>SHA-512.</summary>
    public static SignatureHash Sha512 { get; } = new("sha512", HMACSHA512.HashData, SHA512.HashData);

    /// <summary>
    /// Looks up a hash by protocol name (<c>sha256</c>, <c>sha1</c>, <c>md5</c>, <c>sha384</c>, <c>sha512</c>,
    /// and <c>sha3_256</c>/<c>sha3_384</c>/<c>sha3_512</c> where the platform supports SHA-3). Case-insensitive.
    /// </summary>
    public static bool TryGet(string? name, out SignatureHash hash)
    {
        hash = (name ?? string.Empty).Trim().ToLowerInvariant() switch
        {
            "sha256" => Sha256,
            "sha1" => Sha1,
            "md5" => Md5,
            "sha384" => Sha384,
            "sha512" => Sha512,
            "sha3_256" when HMACSHA3_256.IsSupported => Sha3_256.Value,
            "sha3_384" when HMACSHA3_384.IsSupported => Sha3_384.Value,
            "sha3_512" when HMACSHA3_512.IsSupported => Sha3_512.Value,
            _ => null!,
        };
        return hash is not null;
    }

    /// <summary>Looks up a hash by name or throws <see cref="ArgumentException"/> naming the value.</summary>
    public static SignatureHash Get(string name) =>
        TryGet(name, out var h) ? h : throw new ArgumentException(
            $"Unsupported signature hash '{name}'. Supported: sha256, sha1, md5, sha384, sha512 (and sha3_* where available).",
            nameof(name));

    private static readonly Lazy<SignatureHash> Sha3_256 = new(() => new("sha3_256", HMACSHA3_256.HashData, SHA3_256.HashData));
    private static readonly Lazy<SignatureHash> Sha3_384 = new(() => new("sha3_384", HMACSHA3_384.HashData, SHA3_384.HashData));
    private static readonly Lazy<SignatureHash> Sha3_512 = new(() => new("sha3_512", HMACSHA3_512.HashData, SHA3_512.HashData));

    /// <inheritdoc />
    public override string ToString() => SignMethod;
}

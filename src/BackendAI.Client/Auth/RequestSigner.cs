using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace BackendAI.Client.Auth;

/// <summary>
/// The inputs of one Backend.AI request signature (auth-and-transport.md §3).
/// </summary>
/// <param name="Method">HTTP method; upper-cased when signing.</param>
/// <param name="PathAndQuery">The raw request target exactly as sent on the request line.</param>
/// <param name="Date">The <c>Date</c> (or <c>X-BackendAI-Date</c>) header value, byte for byte.</param>
/// <param name="Host">The <c>Host</c> header value as sent.</param>
/// <param name="ContentType">The signed media type without parameters (<c>application/octet-stream</c> when none is sent).</param>
/// <param name="ApiVersion">The <c>X-BackendAI-Version</c> header value.</param>
public readonly record struct SignatureInput(
    string Method, string PathAndQuery, string Date, string Host, string ContentType, string ApiVersion);

/// <summary>
/// Computes Backend.AI HMAC request signatures. Thread-safe. Derived keys (which depend only on
/// the secret key, the signing day and the host) are cached, so steady-state signing costs one HMAC.
/// </summary>
public sealed class RequestSigner
{
    private const int MaxCachedKeys = 64;
    private const int StackMessageBytes = 1024;

    private readonly byte[] _secret;
    private readonly ConcurrentDictionary<(string Day, string Host), DerivedKey> _keys = new();
    private readonly HashAlgorithmName? _algorithm;
    private readonly byte[] _emptyBodyHash;
    private DayKeyMemo? _lastDay;

    /// <summary>Creates a signer for one keypair.</summary>
    /// <param name="accessKey">The access key (public part).</param>
    /// <param name="secretKey">The secret key. Never logged or echoed.</param>
    /// <param name="hash">The hash function; <see cref="SignatureHash.Sha256"/> when null.</param>
    public RequestSigner(string accessKey, string secretKey, SignatureHash? hash = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(accessKey);
        ArgumentNullException.ThrowIfNull(secretKey);
        AccessKey = accessKey;
        _secret = Encoding.UTF8.GetBytes(secretKey);
        Hash = hash ?? SignatureHash.Sha256;
        _algorithm = AlgorithmOf(Hash);
        _emptyBodyHash = Encoding.ASCII.GetBytes(Hash.EmptyBodyHash);
    }

    /// <summary>The access key this signer signs for.</summary>
    public string AccessKey { get; }

    /// <summary>The hash function in use.</summary>
    public SignatureHash Hash { get; }

    /// <summary>Builds the exact string to sign (lines joined by <c>\n</c>, no trailing newline).</summary>
    public string StringToSign(in SignatureInput input) =>
        string.Concat(
            input.Method.ToUpperInvariant(), "\n",
            input.PathAndQuery, "\n",
            input.Date, "\n",
            "host:", input.Host, "\n",
            "content-type:", input.ContentType.ToLowerInvariant(), "\n",
            "x-backendai-version:", input.ApiVersion, "\n",
            Hash.EmptyBodyHash);

    /// <summary>Computes the lower-case hex signature for <paramref name="input"/>.</summary>
    /// <param name="input">What is signed.</param>
    /// <param name="dayKey">The signing day as <c>yyyymmdd</c> (the calendar date of the Date value in its own zone);
    /// derived from <see cref="SignatureInput.Date"/> when null.</param>
    public string Sign(in SignatureInput input, string? dayKey = null)
    {
        dayKey ??= CachedDayKeyOf(input.Date);
        var key = KeyFor(dayKey, input.Host);

        // The string to sign, built directly as UTF-8 (same bytes as Encoding.UTF8.GetBytes(StringToSign(input))).
        var maxBytes = Encoding.UTF8.GetMaxByteCount(
            input.Method.Length + input.PathAndQuery.Length + input.Date.Length + input.Host.Length +
            input.ContentType.Length + input.ApiVersion.Length) + 64 + _emptyBodyHash.Length;
        byte[]? rented = null;
        var buffer = maxBytes <= StackMessageBytes
            ? stackalloc byte[StackMessageBytes]
            : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            var n = 0;
            n += WriteCased(input.Method, buffer[n..], upper: true);
            buffer[n++] = (byte)'\n';
            n += Encoding.UTF8.GetBytes(input.PathAndQuery, buffer[n..]);
            buffer[n++] = (byte)'\n';
            n += Encoding.UTF8.GetBytes(input.Date, buffer[n..]);
            n += Append(buffer[n..], "\nhost:"u8);
            n += Encoding.UTF8.GetBytes(input.Host, buffer[n..]);
            n += Append(buffer[n..], "\ncontent-type:"u8);
            n += WriteCased(input.ContentType, buffer[n..], upper: false);
            n += Append(buffer[n..], "\nx-backendai-version:"u8);
            n += Encoding.UTF8.GetBytes(input.ApiVersion, buffer[n..]);
            buffer[n++] = (byte)'\n';
            n += Append(buffer[n..], _emptyBodyHash);

            Span<byte> mac = stackalloc byte[64];
            var macLength = key.Hmac(Hash, buffer[..n], mac);
            return Convert.ToHexStringLower(mac[..macLength]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private DerivedKey KeyFor(string dayKey, string host)
    {
        if (_keys.TryGetValue((dayKey, host), out var key))
        {
            return key;
        }

        if (_keys.Count >= MaxCachedKeys)
        {
            _keys.Clear(); // bounded: days and hosts change rarely
        }

        return _keys.GetOrAdd((dayKey, host), static (k, self) =>
        {
            var k1 = self.Hash.Hmac(self._secret, Encoding.ASCII.GetBytes(k.Day));
            return new DerivedKey(self.Hash.Hmac(k1, Encoding.UTF8.GetBytes(k.Host)), self._algorithm);
        }, this);
    }

    private string CachedDayKeyOf(string date)
    {
        var memo = Volatile.Read(ref _lastDay);
        if (memo is not null && string.Equals(memo.Date, date, StringComparison.Ordinal))
        {
            return memo.DayKey;
        }

        var dayKey = DayKeyOf(date);
        Volatile.Write(ref _lastDay, new DayKeyMemo(date, dayKey));
        return dayKey;
    }

    private static int Append(Span<byte> destination, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination);
        return bytes.Length;
    }

    /// <summary>Writes <paramref name="value"/> upper- or lower-cased (invariant culture) as UTF-8.</summary>
    private static int WriteCased(string value, Span<byte> destination, bool upper)
    {
        if (Ascii.IsValid(value))
        {
            // For ASCII the invariant culture's case mapping is exactly the ASCII one.
            var status = upper
                ? Ascii.ToUpper(value, destination, out var written)
                : Ascii.ToLower(value, destination, out written);
            if (status == OperationStatus.Done)
            {
                return written;
            }
        }

        return Encoding.UTF8.GetBytes(upper ? value.ToUpperInvariant() : value.ToLowerInvariant(), destination);
    }

    private static HashAlgorithmName? AlgorithmOf(SignatureHash hash) => hash.Name switch
    {
        "sha256" => HashAlgorithmName.SHA256,
        "sha1" => HashAlgorithmName.SHA1,
        "md5" => HashAlgorithmName.MD5,
        "sha384" => HashAlgorithmName.SHA384,
        "sha512" => HashAlgorithmName.SHA512,
        "sha3_256" => HashAlgorithmName.SHA3_256,
        "sha3_384" => HashAlgorithmName.SHA3_384,
        "sha3_512" => HashAlgorithmName.SHA3_512,
        _ => null,
    };

    private sealed record DayKeyMemo(string Date, string DayKey);

    /// <summary>A derived signing key with a reusable HMAC instance (its key schedule computed once).</summary>
    private sealed class DerivedKey(byte[] key, HashAlgorithmName? algorithm)
    {
        private IncrementalHash? _hmac = algorithm is { } a ? IncrementalHash.CreateHMAC(a, key) : null;
        private int _busy;

        public int Hmac(SignatureHash hash, ReadOnlySpan<byte> message, Span<byte> destination)
        {
            var hmac = _hmac;
            if (hmac is not null && Interlocked.CompareExchange(ref _busy, 1, 0) == 0)
            {
                try
                {
                    hmac.AppendData(message);
                    return hmac.GetHashAndReset(destination);
                }
                catch
                {
                    _hmac = null; // state unknown: use the one-shot path from now on
                    throw;
                }
                finally
                {
                    Volatile.Write(ref _busy, 0);
                }
            }

            // Another thread holds the reusable instance (or none exists): one-shot HMAC.
            var result = hash.Hmac(key, message.ToArray());
            result.CopyTo(destination);
            return result.Length;
        }
    }

    /// <summary>Builds the full <c>Authorization</c> header value.</summary>
    public string Authorization(in SignatureInput input, string? dayKey = null) =>
        $"BackendAI signMethod={Hash.SignMethod}, credential={AccessKey}:{Sign(input, dayKey)}";

    /// <summary>Formats a timestamp as client-py does: ISO 8601 UTC with microseconds, <c>+00:00</c> offset.</summary>
    public static string FormatDate(DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        var micro = (utc.Ticks % TimeSpan.TicksPerSecond) / 10;
        return micro == 0
            ? utc.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'+00:00'", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss", CultureInfo.InvariantCulture)
              + "." + micro.ToString("D6", CultureInfo.InvariantCulture) + "+00:00";
    }

    /// <summary>
    /// The signing day key (<c>yyyymmdd</c>) of a Date header value: the calendar date in the
    /// time zone written in the value (UTC when none is written).
    /// </summary>
    /// <exception cref="FormatException">The value is not a recognised date.</exception>
    public static string DayKeyOf(string date) =>
        SignatureDates.TryParse(date, out var parsed)
            ? parsed.ToString("yyyyMMdd", CultureInfo.InvariantCulture)
            : throw new FormatException($"Unrecognised Date header value '{date}'.");

    /// <inheritdoc />
    public override string ToString() => $"RequestSigner({AccessKey}, {Hash.SignMethod})";
}

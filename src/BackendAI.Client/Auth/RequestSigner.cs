using System.Collections.Concurrent;
using System.Globalization;
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
    private readonly byte[] _secret;
    private readonly ConcurrentDictionary<(string Day, string Host), byte[]> _keys = new();

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
        dayKey ??= DayKeyOf(input.Date);
        var key = _keys.GetOrAdd((dayKey, input.Host), static (k, self) =>
        {
            var k1 = self.Hash.Hmac(self._secret, Encoding.ASCII.GetBytes(k.Day));
            return self.Hash.Hmac(k1, Encoding.UTF8.GetBytes(k.Host));
        }, this);
        if (_keys.Count > 64) _keys.Clear(); // bounded: days and hosts change rarely
        return Convert.ToHexStringLower(Hash.Hmac(key, Encoding.UTF8.GetBytes(StringToSign(input))));
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

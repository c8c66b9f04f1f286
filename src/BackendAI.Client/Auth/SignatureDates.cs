using System.Globalization;

namespace BackendAI.Client.Auth;

/// <summary>
/// Lenient parsing of the Date header values Backend.AI accepts: ISO 8601 with or without offset,
/// compact ISO (<c>20220315T10:20:30</c>), RFC 1123, and common zone abbreviations.
/// </summary>
public static class SignatureDates
{
    private static readonly string[] IsoFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFzzz", "yyyy-MM-dd HH:mm:ssK",
        "yyyyMMdd'T'HH:mm:ss", "yyyyMMdd'T'HH:mm:ssK", "yyyyMMdd'T'HHmmss", "yyyyMMdd'T'HHmmssK",
        "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
    ];

    private static readonly Dictionary<string, TimeSpan> Zones = new(StringComparer.OrdinalIgnoreCase)
    {
        ["GMT"] = TimeSpan.Zero, ["UTC"] = TimeSpan.Zero, ["UT"] = TimeSpan.Zero, ["Z"] = TimeSpan.Zero,
        ["KST"] = TimeSpan.FromHours(9), ["JST"] = TimeSpan.FromHours(9),
        ["EST"] = TimeSpan.FromHours(-5), ["EDT"] = TimeSpan.FromHours(-4),
        ["CST"] = TimeSpan.FromHours(-6), ["CDT"] = TimeSpan.FromHours(-5),
        ["MST"] = TimeSpan.FromHours(-7), ["MDT"] = TimeSpan.FromHours(-6),
        ["PST"] = TimeSpan.FromHours(-8), ["PDT"] = TimeSpan.FromHours(-7),
        ["CET"] = TimeSpan.FromHours(1), ["CEST"] = TimeSpan.FromHours(2),
    };

    /// <summary>Parses a Date value keeping the offset written in it (UTC when none is written).</summary>
    public static bool TryParse(string? value, out DateTimeOffset result)
    {
        result = default;
        if (string.IsNullOrWhiteSpace(value)) return false;
        var s = value.Trim();
        if (DateTimeOffset.TryParseExact(s, IsoFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out result))
            return true;
        if (DateTimeOffset.TryParseExact(s, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out result))
            return true;
        // "Tue, 15 Mar 2022 10:20:30 KST" and similar: strip a trailing zone abbreviation.
        var space = s.LastIndexOf(' ');
        if (space > 0 && Zones.TryGetValue(s[(space + 1)..], out var offset)
            && DateTime.TryParse(s[..space], CultureInfo.InvariantCulture,
                DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var local))
        {
            result = new DateTimeOffset(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), offset);
            return true;
        }
        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out result);
    }
}

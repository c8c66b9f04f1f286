using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace BackendAI.Client;

/// <summary>
/// A Backend.AI API version such as <c>v6.20220315</c>: a major number and a revision date.
/// Ordered as the tuple (major, date).
/// </summary>
public readonly partial record struct ApiVersion(int Major, string Revision) : IComparable<ApiVersion>
{
    /// <summary>The version this client implements: <c>v6.20220315</c>.</summary>
    public static ApiVersion Current { get; } = new(6, "20220315");

    /// <summary>The oldest server version known to work (<c>v5.20191215</c>).</summary>
    public static ApiVersion OldestSupported { get; } = new(5, "20191215");

    /// <summary>Every version string the 22.03 manager accepts in <c>X-BackendAI-Version</c>.</summary>
    public static IReadOnlyList<ApiVersion> Known { get; } =
    [
        new(4, "20181215"), new(4, "20190115"), new(4, "20190315"), new(4, "20190615"),
        new(5, "20191215"), new(6, "20200815"), new(6, "20210815"), new(6, "20220315"),
    ];

    /// <summary>True when sessions use the legacy <c>/kernel</c> naming (major ≤ 4).</summary>
    public bool UsesLegacyNaming => Major <= 4;

    /// <summary>True when GraphQL goes to <c>/admin/gql</c> with the standard envelope (≥ v6.20210815).</summary>
    public bool UsesGqlEnvelope => CompareTo(new ApiVersion(6, "20210815")) >= 0;

    /// <summary>Parses <c>v&lt;major&gt;.&lt;yyyymmdd&gt;</c>.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out ApiVersion? version)
    {
        version = null;
        if (text is null) return false;
        var m = Pattern().Match(text.Trim());
        if (!m.Success) return false;
        version = new ApiVersion(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value);
        return true;
    }

    /// <summary>Parses or throws <see cref="FormatException"/>.</summary>
    public static ApiVersion Parse(string text) =>
        TryParse(text, out var v) ? v.Value : throw new FormatException($"'{text}' is not an API version like v6.20220315.");

    /// <inheritdoc />
    public int CompareTo(ApiVersion other)
    {
        var c = Major.CompareTo(other.Major);
        return c != 0 ? c : string.CompareOrdinal(Revision, other.Revision);
    }

    /// <summary>The lower of two versions.</summary>
    public static ApiVersion Min(ApiVersion a, ApiVersion b) => a.CompareTo(b) <= 0 ? a : b;

    /// <summary>Compares versions.</summary>
    public static bool operator <(ApiVersion a, ApiVersion b) => a.CompareTo(b) < 0;
    /// <summary>Compares versions.</summary>
    public static bool operator >(ApiVersion a, ApiVersion b) => a.CompareTo(b) > 0;
    /// <summary>Compares versions.</summary>
    public static bool operator <=(ApiVersion a, ApiVersion b) => a.CompareTo(b) <= 0;
    /// <summary>Compares versions.</summary>
    public static bool operator >=(ApiVersion a, ApiVersion b) => a.CompareTo(b) >= 0;

    /// <inheritdoc />
    public override string ToString() => $"v{Major}.{Revision}";

    [GeneratedRegex(@"^v(\d+)\.(\d{8})$")]
    private static partial Regex Pattern();
}

using System.Collections.Concurrent;

namespace BackendAI.Local.Hosting;

/// <summary>The upstream example identities (protocol README, "Well-known example identities").</summary>
public static class WellKnownKeypairs
{
    /// <summary>Id of the <c>default</c> group (project).</summary>
    public static readonly Guid DefaultGroupId = Guid.Parse("2de2b969-1d04-48a6-af16-0bc8adb3c831");

    /// <summary>superadmin <c>admin@lablup.com</c>.</summary>
    public static LocalKeypair SuperAdmin { get; } = Make("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "admin@lablup.com", "f38dea23-50fa-42a0-b5ae-338f5f4693f4", "superadmin");

    /// <summary>Domain admin <c>domain-admin@lablup.com</c>.</summary>
    public static LocalKeypair DomainAdmin { get; } = Make("AKIAHUKCHDEZGEXAMPLE", "cWbsM_vBB4CzTW7JdORRMx8SjGI3-wEXAMPLEKEY",
        "domain-admin@lablup.com", "4f13d193-f646-425a-a340-270c4d2b9860", "admin");

    /// <summary>Plain user <c>user@lablup.com</c>.</summary>
    public static LocalKeypair User { get; } = Make("AKIANABBDUSEREXAMPLE", "C8qnIo29EZvXkPK_MXcuAakYTy4NYrxwmCEyNPlf",
        "user@lablup.com", "dfa9da54-4b28-432f-be29-c0d680c7a412", "user");

    /// <summary>Monitor <c>monitor@lablup.com</c>.</summary>
    public static LocalKeypair Monitor { get; } = Make("AKIANAMONITOREXAMPLE", "7tuEwF1J7FfK41vOM4uSSyWCUWjPBolpVwvgkSBu",
        "monitor@lablup.com", "2e10157d-20ca-4bd0-9806-3f909cbcd0e6", "monitor");

    /// <summary>All four, superadmin first.</summary>
    public static IReadOnlyList<LocalKeypair> All { get; } = [SuperAdmin, DomainAdmin, User, Monitor];

    /// <summary>Login passwords of the example users (upstream example fixtures), by email.</summary>
    public static IReadOnlyDictionary<string, string> Passwords { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["admin@lablup.com"] = "wJalrXUt",
        ["domain-admin@lablup.com"] = "cWbsM_vB",
        ["user@lablup.com"] = "C8qnIo29",
        ["monitor@lablup.com"] = "7tuEwF1J",
    };

    private static LocalKeypair Make(string access, string secret, string email, string userId, string role) =>
        new(access, secret, email, Guid.Parse(userId), role, IsActive: true, RateLimit: 30000, ResourcePolicy: "default",
            Domain: "default", GroupName: "default", GroupId: DefaultGroupId);
}

/// <summary>In-memory <see cref="IKeypairStore"/>.</summary>
internal sealed class LocalKeypairStore : IKeypairStore
{
    private readonly ConcurrentDictionary<string, LocalKeypair> _byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _passwords;
    private readonly List<string> _order = [];

    public LocalKeypairStore(LocalBackendOptions options)
    {
        _passwords = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (options.IncludeExampleKeypairs)
        {
            foreach (var k in WellKnownKeypairs.All) Add(k);
            foreach (var (email, pw) in WellKnownKeypairs.Passwords) _passwords[email] = pw;
        }
        foreach (var k in options.ExtraKeypairs) Add(k);
        foreach (var (email, pw) in options.Passwords) _passwords[email] = pw;
    }

    private void Add(LocalKeypair k)
    {
        if (_byKey.TryAdd(k.AccessKey, k)) _order.Add(k.AccessKey);
        else _byKey[k.AccessKey] = k;
    }

    public LocalKeypair? Find(string accessKey) => _byKey.GetValueOrDefault(accessKey);

    public IReadOnlyList<LocalKeypair> All => [.. _order.Select(k => _byKey[k])];

    /// <summary>The active keypair of the user with this email and password, or null.</summary>
    public LocalKeypair? Authenticate(string email, string password)
    {
        if (!_passwords.TryGetValue(email, out var expected)) return null;
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(expected), System.Text.Encoding.UTF8.GetBytes(password))) return null;
        return All.FirstOrDefault(k => string.Equals(k.Email, email, StringComparison.OrdinalIgnoreCase) && k.IsActive);
    }
}

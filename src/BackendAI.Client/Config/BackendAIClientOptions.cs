using System.Globalization;
using System.Text;
using Akka.Configuration;
using BackendAI.Client.Auth;
using BackendAI.Client.Errors;

namespace BackendAI.Client.Config;

/// <summary>How the client authenticates (auth-and-transport.md §1).</summary>
public enum EndpointType
{
    /// <summary>Talk to the manager directly; every request is signed with the keypair.</summary>
    Api,
    /// <summary>Talk to a Backend.AI webserver with a login cookie; API paths get the <c>/func/</c> prefix.</summary>
    Session,
}

/// <summary>Retry knobs for idempotent requests (exponential backoff with jitter, <c>Retry-After</c> honoured).</summary>
public sealed class RetryOptions
{
    /// <summary>Total attempts per request including the first one (1 disables retries). Default 3.</summary>
    public int MaxAttempts { get; set; } = 3;
    /// <summary>Delay before the first retry. Default 200 ms.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Upper bound of a computed backoff delay. Default 10 s.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Growth factor between consecutive backoff delays (≥ 1). Default 2.</summary>
    public double BackoffMultiplier { get; set; } = 2.0;
    /// <summary>The longest <c>Retry-After</c> the client is willing to wait; longer waits surface the error instead. Default 60 s.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A copy of these settings.</summary>
    public RetryOptions Clone() => (RetryOptions)MemberwiseClone();

    /// <inheritdoc />
    public override string ToString() =>
        $"RetryOptions(MaxAttempts={MaxAttempts}, InitialBackoff={InitialBackoff}, MaxBackoff={MaxBackoff}, BackoffMultiplier={BackoffMultiplier})";
}

/// <summary>
/// Every setting of the Backend.AI client (client-py's <c>APIConfig</c> plus retry knobs).
/// </summary>
/// <remarks>
/// <para>Sources and precedence (highest first): values set in code on the instance, then environment
/// variables (<c>BACKEND_*</c>, falling back to <c>SORNA_*</c>), then HOCON (<c>backendai.client { … }</c>),
/// then the defaults below. <see cref="Load"/> applies HOCON and then the environment over the defaults; set
/// properties afterwards to override both.</para>
/// <para>The secret key never appears in <see cref="ToString"/>, exception messages or logs.</para>
/// </remarks>
public sealed class BackendAIClientOptions
{
    /// <summary>The default endpoint, <c>https://api.backend.ai</c>.</summary>
    public static readonly Uri DefaultEndpoint = new("https://api.backend.ai");

    /// <summary>Endpoint URLs (absolute http/https). Several URLs front the same cluster; the list is shuffled once
    /// per client (see <see cref="ShuffleEndpoints"/>) and failed over on connection-level errors.</summary>
    public IReadOnlyList<Uri> Endpoints { get; set; } = [DefaultEndpoint];
    /// <summary><c>api</c> (keypair signing, default) or <c>session</c> (cookie login through a webserver).</summary>
    public EndpointType EndpointType { get; set; } = EndpointType.Api;
    /// <summary>Domain, sent as <c>X-BackendAI-Domain</c> and the default <c>domain</c> on create. Default <c>default</c>.</summary>
    public string Domain { get; set; } = "default";
    /// <summary>Default project (group) on create. Default <c>default</c>.</summary>
    public string Group { get; set; } = "default";
    /// <summary>A fixed API version; null (default) negotiates with an unsigned probe of the endpoint.</summary>
    public ApiVersion? ApiVersion { get; set; }
    /// <summary>The <c>User-Agent</c> header.</summary>
    public string UserAgent { get; set; } = "Backend.AI Client for .NET " + typeof(BackendAIClientOptions).Assembly.GetName().Version?.ToString(3);
    /// <summary>Access key; empty means anonymous (unsigned) requests.</summary>
    public string AccessKey { get; set; } = string.Empty;
    /// <summary>Secret key. Never printed.</summary>
    public string SecretKey { get; set; } = string.Empty;
    /// <summary>Signature hash name: <c>sha256</c> (default), <c>sha1</c>, <c>md5</c>, <c>sha384</c>, <c>sha512</c>.</summary>
    public string HashType { get; set; } = "sha256";
    /// <summary>vfolder names added to every created session's <c>mounts</c>.</summary>
    public IReadOnlyList<string> VFolderMounts { get; set; } = [];
    /// <summary>Skip TLS certificate validation (manager and storage proxies). Default false.</summary>
    public bool SkipSslVerification { get; set; }
    /// <summary>TCP connect timeout. Default 10 s.</summary>
    public TimeSpan ConnectionTimeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>Maximum wait for response headers (and for buffered bodies); <see cref="TimeSpan.Zero"/> (default) = no limit.</summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.Zero;
    /// <summary>Retry knobs for idempotent requests.</summary>
    public RetryOptions Retry { get; set; } = new();
    /// <summary>Rewrites of storage-proxy URLs returned by the manager (<c>from → to</c>, whole URL strings).</summary>
    public IReadOnlyDictionary<string, string> StorageProxyOverrides { get; set; } = new Dictionary<string, string>();
    /// <summary>Called with the manager announcement text when one is fetched and enabled.</summary>
    public Action<string>? AnnouncementHandler { get; set; }
    /// <summary>Shuffle <see cref="Endpoints"/> once when the client is created (client-py does). Default true.</summary>
    public bool ShuffleEndpoints { get; set; } = true;
    /// <summary>
    /// The cookie jar of the <c>session</c> endpoint type; <c>null</c> = a new in-memory one per client.
    /// Pass one to share or persist a login (the CLI saves it between processes).
    /// </summary>
    public System.Net.CookieContainer? Cookies { get; set; }

    /// <summary>Reads <c>BACKEND_*</c> (falling back to <c>SORNA_*</c>) variables over the defaults.</summary>
    /// <param name="env">Variables to read; the process environment when null.</param>
    /// <exception cref="BackendClientException">A variable has an invalid value (the message names it).</exception>
    public static BackendAIClientOptions FromEnvironment(IDictionary<string, string?>? env = null)
    {
        var o = new BackendAIClientOptions();
        o.ApplyEnvironment(env ?? ReadProcessEnvironment());
        return o;
    }

    /// <summary>Reads the <c>backendai.client { … }</c> block of a HOCON document over the defaults.</summary>
    /// <exception cref="BackendClientException">The HOCON does not parse or holds an invalid value (the message names the key).</exception>
    public static BackendAIClientOptions FromHocon(string hocon)
    {
        var o = new BackendAIClientOptions();
        o.ApplyHocon(hocon);
        return o;
    }

    /// <summary>Defaults, then HOCON (when given), then the environment; set properties afterwards to override in code.</summary>
    public static BackendAIClientOptions Load(string? hocon = null, IDictionary<string, string?>? env = null)
    {
        var o = new BackendAIClientOptions();
        if (!string.IsNullOrWhiteSpace(hocon)) o.ApplyHocon(hocon);
        o.ApplyEnvironment(env ?? ReadProcessEnvironment());
        return o;
    }

    /// <summary>Checks every setting.</summary>
    /// <exception cref="BackendClientException">A setting is invalid; <see cref="BackendClientException.Setting"/> names it.</exception>
    public void Validate()
    {
        if (Endpoints is null || Endpoints.Count == 0) throw Bad("endpoint", "at least one endpoint URL is required.");
        foreach (var e in Endpoints) ValidateEndpoint(e, "endpoint");
        if (!Enum.IsDefined(EndpointType)) throw Bad("endpoint-type", $"'{EndpointType}' is not api or session.");
        if (string.IsNullOrWhiteSpace(Domain)) throw Bad("domain", "must not be empty.");
        if (string.IsNullOrWhiteSpace(Group)) throw Bad("group", "must not be empty.");
        if (string.IsNullOrWhiteSpace(UserAgent)) throw Bad("user-agent", "must not be empty.");
        if (AccessKey is null) throw Bad("access-key", "must not be null (use an empty string for anonymous mode).");
        if (SecretKey is null) throw Bad("secret-key", "must not be null.");
        if (EndpointType == EndpointType.Api && AccessKey.Length > 0 && SecretKey.Length == 0)
            throw Bad("secret-key", "is required when an access key is set.");
        if (AccessKey.Any(char.IsWhiteSpace) || AccessKey.Contains(':') || AccessKey.Contains(','))
            throw Bad("access-key", "contains whitespace, ':' or ','.");
        if (!SignatureHash.TryGet(HashType, out _))
            throw Bad("hash-type", $"'{HashType}' is not a supported hash (sha256, sha1, md5, sha384, sha512).");
        if (VFolderMounts is null || VFolderMounts.Any(string.IsNullOrWhiteSpace)) throw Bad("vfolder-mounts", "contains an empty name.");
        if (ConnectionTimeout <= TimeSpan.Zero) throw Bad("connection-timeout", $"must be positive (was {ConnectionTimeout}).");
        if (ReadTimeout < TimeSpan.Zero) throw Bad("read-timeout", $"must not be negative (was {ReadTimeout}).");
        if (Retry is null) throw Bad("retry", "must not be null.");
        if (Retry.MaxAttempts < 1) throw Bad("retry.max-attempts", $"must be at least 1 (was {Retry.MaxAttempts}).");
        if (Retry.InitialBackoff < TimeSpan.Zero) throw Bad("retry.initial-backoff", "must not be negative.");
        if (Retry.MaxBackoff < Retry.InitialBackoff) throw Bad("retry.max-backoff", "must not be less than retry.initial-backoff.");
        if (!(Retry.BackoffMultiplier >= 1.0) || double.IsInfinity(Retry.BackoffMultiplier)) throw Bad("retry.backoff-multiplier", "must be a finite number ≥ 1.");
        if (Retry.MaxRetryAfter < TimeSpan.Zero) throw Bad("retry.max-retry-after", "must not be negative.");
        if (StorageProxyOverrides is null) throw Bad("override-storage-proxy", "must not be null.");
        foreach (var (from, to) in StorageProxyOverrides)
        {
            if (string.IsNullOrWhiteSpace(from)) throw Bad("override-storage-proxy", "has an empty source URL.");
            if (!Uri.TryCreate(to, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps))
                throw Bad("override-storage-proxy", $"target '{to}' is not an absolute http(s) URL.");
        }
    }

    /// <summary>A copy of these options (the retry settings are copied too).</summary>
    public BackendAIClientOptions Clone()
    {
        var c = (BackendAIClientOptions)MemberwiseClone();
        c.Retry = Retry.Clone();
        return c;
    }

    /// <summary>Describes the options without the secret key.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("BackendAIClientOptions(");
        sb.Append("Endpoints=[").Append(string.Join(", ", Endpoints.Select(e => e.ToString()))).Append("], ");
        sb.Append("EndpointType=").Append(EndpointType).Append(", Domain=").Append(Domain).Append(", Group=").Append(Group);
        sb.Append(", ApiVersion=").Append(ApiVersion?.ToString() ?? "negotiate");
        sb.Append(", AccessKey=").Append(AccessKey.Length == 0 ? "(anonymous)" : AccessKey);
        sb.Append(", SecretKey=").Append(SecretKey.Length == 0 ? "(none)" : "***");
        sb.Append(", HashType=").Append(HashType).Append(", SkipSslVerification=").Append(SkipSslVerification);
        sb.Append(", ConnectionTimeout=").Append(ConnectionTimeout).Append(", ReadTimeout=").Append(ReadTimeout);
        sb.Append(", ").Append(Retry).Append(')');
        return sb.ToString();
    }

    // ---- environment ----

    private static Dictionary<string, string?> ReadProcessEnvironment()
    {
        var d = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            d[(string)e.Key] = e.Value as string;
        return d;
    }

    private void ApplyEnvironment(IDictionary<string, string?> env)
    {
        string? Get(string key)
        {
            if (env.TryGetValue("BACKEND_" + key, out var v) && v is not null) return v;
            return env.TryGetValue("SORNA_" + key, out v) ? v : null;
        }
        string Name(string key) => env.ContainsKey("BACKEND_" + key) ? "BACKEND_" + key : "SORNA_" + key;

        if (Get("ENDPOINT") is { } ep) Endpoints = ParseEndpoints(ep, Name("ENDPOINT"));
        if (Get("ENDPOINT_TYPE") is { } et) EndpointType = ParseEndpointType(et, Name("ENDPOINT_TYPE"));
        if (Get("DOMAIN") is { } dom) Domain = dom;
        if (Get("GROUP") is { } grp) Group = grp;
        if (Get("ACCESS_KEY") is { } ak) AccessKey = ak.Trim();
        if (Get("SECRET_KEY") is { } sk) SecretKey = sk.Trim();
        if (Get("VFOLDER_MOUNTS") is { } vm) VFolderMounts = SplitList(vm);
        if (Get("SKIP_SSLCERT_VALIDATION") is { } ssl) SkipSslVerification = ParseBool(ssl, Name("SKIP_SSLCERT_VALIDATION"));
        if (Get("CONNECTION_TIMEOUT") is { } ct) ConnectionTimeout = ParseSeconds(ct, Name("CONNECTION_TIMEOUT"), allowZero: false);
        if (Get("READ_TIMEOUT") is { } rt) ReadTimeout = ParseSeconds(rt, Name("READ_TIMEOUT"), allowZero: true);
        if (Get("OVERRIDE_STORAGE_PROXY") is { } sp) StorageProxyOverrides = ParseOverrides(sp, Name("OVERRIDE_STORAGE_PROXY"));
    }

    // ---- HOCON ----

    private void ApplyHocon(string hocon)
    {
        var root = HoconText.Parse(hocon, "backendai.client");
        if (!root.HasPath("backendai.client")) return;
        var c = root.GetConfig("backendai.client");
        const string P = "backendai.client.";

        string? Str(string key)
        {
            if (!c.HasPath(key)) return null;
            try
            {
                return c.GetString(key);
            }
            catch (Exception ex)
            {
                throw new BackendClientException($"{P}{key} must be a string: {ex.Message}", P + key, ex);
            }
        }

        if (c.HasPath("endpoint"))
        {
            var value = c.GetValue("endpoint");
            var list = value.IsArray() ? value.GetArray().Select(v => v.GetString()).ToList()
                : SplitList(value.GetString() ?? throw Bad(P + "endpoint", "has no value.")).ToList();
            Endpoints = ParseEndpoints(string.Join(",", list), P + "endpoint");
        }
        if (Str("endpoint-type") is { } et) EndpointType = ParseEndpointType(et, P + "endpoint-type");
        if (Str("domain") is { } dom) Domain = dom;
        if (Str("group") is { } grp) Group = grp;
        if (Str("api-version") is { } av && av.Length > 0)
            ApiVersion = Client.ApiVersion.TryParse(av, out var parsed) ? parsed
                : throw Bad(P + "api-version", $"'{av}' is not an API version like v6.20220315.");
        if (Str("user-agent") is { } ua) UserAgent = ua;
        if (Str("access-key") is { } ak) AccessKey = ak.Trim();
        if (Str("secret-key") is { } sk) SecretKey = sk.Trim();
        if (Str("hash-type") is { } ht) HashType = ht;
        if (c.HasPath("vfolder-mounts"))
        {
            var value = c.GetValue("vfolder-mounts");
            VFolderMounts = value.IsArray() ? value.GetArray().Select(v => v.GetString()).ToList() : SplitList(value.GetString() ?? string.Empty);
        }
        if (Str("skip-ssl-verification") is { } ssl) SkipSslVerification = ParseBool(ssl, P + "skip-ssl-verification");
        if (Str("connection-timeout") is { } ct) ConnectionTimeout = ParseDuration(ct, P + "connection-timeout", allowZero: false);
        if (Str("read-timeout") is { } rt) ReadTimeout = ParseDuration(rt, P + "read-timeout", allowZero: true);
        if (Str("shuffle-endpoints") is { } sh) ShuffleEndpoints = ParseBool(sh, P + "shuffle-endpoints");
        if (Str("retry.max-attempts") is { } ma)
            Retry.MaxAttempts = int.TryParse(ma, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 1 ? n
                : throw Bad(P + "retry.max-attempts", $"'{ma}' is not an integer ≥ 1.");
        if (Str("retry.initial-backoff") is { } ib) Retry.InitialBackoff = ParseDuration(ib, P + "retry.initial-backoff", allowZero: true);
        if (Str("retry.max-backoff") is { } mb) Retry.MaxBackoff = ParseDuration(mb, P + "retry.max-backoff", allowZero: true);
        if (Str("retry.max-retry-after") is { } mra) Retry.MaxRetryAfter = ParseDuration(mra, P + "retry.max-retry-after", allowZero: true);
        if (Str("retry.backoff-multiplier") is { } bm)
            Retry.BackoffMultiplier = double.TryParse(bm, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) && m >= 1 && !double.IsInfinity(m) ? m
                : throw Bad(P + "retry.backoff-multiplier", $"'{bm}' is not a number ≥ 1.");
        if (c.HasPath("override-storage-proxy"))
        {
            var value = c.GetValue("override-storage-proxy");
            if (value.IsObject())
            {
                var d = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (k, v) in value.GetObject().Items) d[k.Trim('"')] = v.GetString();
                StorageProxyOverrides = d;
                foreach (var t in d.Values) _ = ParseOverrides("x=" + t, P + "override-storage-proxy");
            }
            else
            {
                StorageProxyOverrides = ParseOverrides(value.GetString() ?? string.Empty, P + "override-storage-proxy");
            }
        }
    }

    // ---- parsing helpers (shared by both sources) ----

    private static BackendClientException Bad(string setting, string problem) =>
        new($"Invalid client setting {setting}: {problem}", setting);

    private static IReadOnlyList<string> SplitList(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal static IReadOnlyList<Uri> ParseEndpoints(string text, string setting)
    {
        var parts = SplitList(text);
        if (parts.Count == 0) throw Bad(setting, "at least one endpoint URL is required.");
        var list = new List<Uri>(parts.Count);
        foreach (var p in parts)
        {
            if (!Uri.TryCreate(p, UriKind.Absolute, out var u))
                throw Bad(setting, $"'{p}' is not an absolute URL (e.g. https://api.backend.ai).");
            ValidateEndpoint(u, setting);
            list.Add(u);
        }
        return list;
    }

    private static void ValidateEndpoint(Uri? u, string setting)
    {
        if (u is null) throw Bad(setting, "contains a null URL.");
        if (!u.IsAbsoluteUri) throw Bad(setting, $"'{u}' is not an absolute URL.");
        if (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps)
            throw Bad(setting, $"'{u}' must use http or https (was {u.Scheme}).");
        if (!string.IsNullOrEmpty(u.Query) || !string.IsNullOrEmpty(u.Fragment))
            throw Bad(setting, $"'{u}' must not have a query or fragment.");
        if (!string.IsNullOrEmpty(u.UserInfo)) throw Bad(setting, $"'{u.Host}' endpoint must not contain user info.");
    }

    private static EndpointType ParseEndpointType(string text, string setting) =>
        text.Trim().ToLowerInvariant() switch
        {
            "api" => EndpointType.Api,
            "session" => EndpointType.Session,
            _ => throw Bad(setting, $"'{text}' is not api or session."),
        };

    internal static bool ParseBool(string text, string setting) =>
        text.Trim().ToLowerInvariant() switch
        {
            "y" or "yes" or "t" or "true" or "1" or "on" => true,
            "n" or "no" or "f" or "false" or "0" or "off" or "" => false,
            _ => throw Bad(setting, $"'{text}' is not a boolean (yes/no, true/false, 1/0)."),
        };

    private static TimeSpan ParseSeconds(string text, string setting, bool allowZero)
    {
        if (!double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) || double.IsNaN(s) || double.IsInfinity(s))
            throw Bad(setting, $"'{text}' is not a number of seconds.");
        if (s < 0) throw Bad(setting, $"must not be negative (was {text}).");
        if (s == 0 && !allowZero) throw Bad(setting, "must be positive.");
        return TimeSpan.FromSeconds(s);
    }

    private static TimeSpan ParseDuration(string text, string setting, bool allowZero)
    {
        var t = text.Trim();
        var i = 0;
        while (i < t.Length && (char.IsDigit(t[i]) || t[i] is '.' or '-' or '+')) i++;
        var unit = t[i..].Trim().ToLowerInvariant();
        if (!double.TryParse(t[..i], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || double.IsNaN(n))
            throw Bad(setting, $"'{text}' is not a duration such as 10s or 500ms.");
        var ts = unit switch
        {
            "" or "s" or "sec" or "second" or "seconds" => TimeSpan.FromSeconds(n),
            "ms" or "millis" or "millisecond" or "milliseconds" => TimeSpan.FromMilliseconds(n),
            "m" or "min" or "minute" or "minutes" => TimeSpan.FromMinutes(n),
            "h" or "hour" or "hours" => TimeSpan.FromHours(n),
            _ => throw Bad(setting, $"'{text}' has an unknown unit '{unit}'."),
        };
        if (ts < TimeSpan.Zero) throw Bad(setting, $"must not be negative (was {text}).");
        if (ts == TimeSpan.Zero && !allowZero) throw Bad(setting, "must be positive.");
        return ts;
    }

    private static IReadOnlyDictionary<string, string> ParseOverrides(string text, string setting)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in SplitList(text))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0 || eq == pair.Length - 1) throw Bad(setting, $"'{pair}' is not from=to.");
            var to = pair[(eq + 1)..].Trim();
            if (!Uri.TryCreate(to, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps))
                throw Bad(setting, $"target '{to}' is not an absolute http(s) URL.");
            d[pair[..eq].Trim()] = to;
        }
        return d;
    }
}

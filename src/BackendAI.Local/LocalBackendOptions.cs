using System.Globalization;
using Akka.Configuration;
using BackendAI.Local.Hosting;

namespace BackendAI.Local;

/// <summary>
/// Settings of a <see cref="LocalBackend"/>. Plain, mutable, with defaults that suit tests;
/// <see cref="FromConfig"/> reads the HOCON section <c>backendai.local</c> (see <c>hocon/local.conf</c>).
/// </summary>
public sealed class LocalBackendOptions
{
    /// <summary>Interface to bind (default <c>127.0.0.1</c>).</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (default 0).</summary>
    public int Port { get; set; }

    /// <summary>Explicit listen URLs (e.g. <c>http://127.0.0.1:8081</c>); when set they win over <see cref="Host"/>/<see cref="Port"/>.</summary>
    public IList<string> Urls { get; set; } = [];

    /// <summary>Data directory; null creates a temporary one that is deleted on dispose.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Whether to register the upstream example keypairs (superadmin, domain admin, user, monitor). Default true.</summary>
    public bool IncludeExampleKeypairs { get; set; } = true;

    /// <summary>More keypairs the server accepts.</summary>
    public IList<LocalKeypair> ExtraKeypairs { get; set; } = [];

    /// <summary>Login passwords by email for <c>POST /auth/authorize</c> and <c>/server/login</c> (the example users have theirs).</summary>
    public IDictionary<string, string> Passwords { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Total CPU slots of the single local agent (large by default so that many cheap sessions fit; lower it to test queueing).</summary>
    public decimal CapacityCpu { get; set; } = 4096;

    /// <summary>Total memory of the local agent in bytes.</summary>
    public long CapacityMemory { get; set; } = 4096L << 30;

    /// <summary>Fake accelerator slots (<c>cuda.shares</c>).</summary>
    public decimal CapacityCudaShares { get; set; } = 64;

    /// <summary>CPU slots of a session that asks for none.</summary>
    public decimal DefaultSessionCpu { get; set; } = 1;

    /// <summary>Memory (bytes) of a session that asks for none.</summary>
    public long DefaultSessionMemory { get; set; } = 1L << 30;

    /// <summary>Extra image glob → runner rules (<c>python</c>, <c>bash</c>, <c>sim</c>), tried in order before the built-in ones.</summary>
    public IDictionary<string, string> ImageRunners { get; set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Fixed delay of the <c>sim</c> kernel per execution (zero = the kernels' default, a random 0–1 ms).</summary>
    public TimeSpan SimDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Output size (bytes) of the <c>sim</c> kernel per execution; 0 echoes the code as is.</summary>
    public int SimOutputSize { get; set; }

    /// <summary>Pause between lifecycle steps (PENDING → SCHEDULED → PREPARING → RUNNING, TERMINATING → TERMINATED).</summary>
    public TimeSpan LifecycleStepDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Image globs (over the requested or the canonical reference) that are "not present locally": the first session
    /// using such an image goes PREPARING → PULLING (event <c>kernel_pulling</c>) → PREPARING, the pull taking
    /// <see cref="PullDelay"/>; later sessions find it present. Empty (default) = every image is present.
    /// </summary>
    public IList<string> PullImages { get; set; } = [];

    /// <summary>How long a simulated image pull takes (default 1 s).</summary>
    public TimeSpan PullDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a REST execute call collects output before answering <c>continued</c> (upstream 2 s).</summary>
    public TimeSpan ExecuteFlushWindow { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Interval of <c>: ping</c> comments on SSE streams (upstream 15 s).</summary>
    public TimeSpan SseKeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Accepted clock skew of signed requests (upstream 15 min).</summary>
    public TimeSpan DateSkewWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Per-subscriber event buffer of SSE streams; a subscriber that falls this far behind is disconnected.</summary>
    public int EventBufferSize { get; set; } = 4096;

    /// <summary>The manager version reported by <c>GET /</c>.</summary>
    public string ManagerVersion { get; set; } = "22.03.3";

    /// <summary>Fault injection settings applied at start (change them at runtime via <see cref="LocalBackend.Faults"/>).</summary>
    public FaultSettings Faults { get; set; } = new();

    /// <summary>Reads <c>backendai.local { … }</c> from HOCON text; missing keys keep their defaults.</summary>
    /// <param name="hocon">HOCON text (a whole file).</param>
    public static LocalBackendOptions FromHocon(string hocon) =>
        FromConfig(BackendAI.Client.Config.HoconText.Parse(hocon, "backendai.local"));

    /// <summary>Reads <c>backendai.local { … }</c>; missing keys keep their defaults.</summary>
    /// <param name="config">A parsed config containing the <c>backendai.local</c> section (or that section itself).</param>
    public static LocalBackendOptions FromConfig(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var c = config.HasPath("backendai.local") ? config.GetConfig("backendai.local") : config;
        var o = new LocalBackendOptions();
        if (c.HasPath("host")) o.Host = c.GetString("host");
        if (c.HasPath("port")) o.Port = c.GetInt("port");
        if (c.HasPath("urls")) o.Urls = SplitUrls(c.GetString("urls"));
        if (c.HasPath("data-dir")) o.DataDirectory = c.GetString("data-dir");
        if (c.HasPath("include-example-keypairs")) o.IncludeExampleKeypairs = c.GetBoolean("include-example-keypairs");
        if (c.HasPath("capacity.cpu")) o.CapacityCpu = c.GetDecimal("capacity.cpu");
        if (c.HasPath("capacity.mem")) o.CapacityMemory = ByteSize(c, "capacity.mem");
        if (c.HasPath("capacity.cuda-shares")) o.CapacityCudaShares = c.GetDecimal("capacity.cuda-shares");
        if (c.HasPath("default-session-slots.cpu")) o.DefaultSessionCpu = c.GetDecimal("default-session-slots.cpu");
        if (c.HasPath("default-session-slots.mem")) o.DefaultSessionMemory = ByteSize(c, "default-session-slots.mem");
        if (c.HasPath("sim.delay")) o.SimDelay = c.GetTimeSpan("sim.delay", null, false);
        if (c.HasPath("sim.output-size")) o.SimOutputSize = (int)ByteSize(c, "sim.output-size");
        if (c.HasPath("lifecycle-step-delay")) o.LifecycleStepDelay = c.GetTimeSpan("lifecycle-step-delay", null, false);
        if (c.HasPath("pull.images")) o.PullImages = [.. c.GetStringList("pull.images")];
        if (c.HasPath("pull.delay")) o.PullDelay = c.GetTimeSpan("pull.delay", null, false);
        if (c.HasPath("execute-flush-window")) o.ExecuteFlushWindow = c.GetTimeSpan("execute-flush-window", null, false);
        if (c.HasPath("sse-keep-alive")) o.SseKeepAliveInterval = c.GetTimeSpan("sse-keep-alive", null, false);
        if (c.HasPath("date-skew-window")) o.DateSkewWindow = c.GetTimeSpan("date-skew-window", null, false);
        if (c.HasPath("event-buffer-size")) o.EventBufferSize = c.GetInt("event-buffer-size");
        if (c.HasPath("manager-version")) o.ManagerVersion = c.GetString("manager-version");
        if (c.HasPath("images"))
        {
            foreach (var (key, value) in c.GetConfig("images").AsEnumerable())
                o.ImageRunners[Unquote(key)] = value.GetString();
        }
        if (c.HasPath("keypairs"))
        {
            foreach (var item in c.GetValue("keypairs").GetArray())
            {
                var k = new Config(new Akka.Configuration.Hocon.HoconRoot(item));
                if (k.IsEmpty || item.IsEmpty) continue;
                var access = Required(k, "access-key");
                var email = k.GetString("email", access.ToLowerInvariant() + "@local");
                o.ExtraKeypairs.Add(new LocalKeypair(
                    access, Required(k, "secret-key"), email,
                    k.HasPath("user-id") ? Guid.Parse(k.GetString("user-id")) : Guid.NewGuid(),
                    k.GetString("role", "user"), k.GetBoolean("active", true), k.GetInt("rate-limit", 30000),
                    k.GetString("resource-policy", "default"), k.GetString("domain", "default"),
                    k.GetString("group", "default"),
                    k.HasPath("group-id") ? Guid.Parse(k.GetString("group-id")) : WellKnownKeypairs.DefaultGroupId));
                if (k.HasPath("password")) o.Passwords[email] = k.GetString("password");
            }
        }
        if (c.HasPath("faults"))
        {
            var f = c.GetConfig("faults");
            if (f.HasPath("routes"))
            {
                foreach (var item in f.GetValue("routes").GetArray())
                {
                    var r = new Config(new Akka.Configuration.Hocon.HoconRoot(item));
                    if (r.IsEmpty || item.IsEmpty) continue;
                    o.Faults.Routes.Add(new RouteFault
                    {
                        PathPrefix = r.GetString("path-prefix", "/"),
                        Method = r.GetString("method", null),
                        ErrorRate = r.GetDouble("error-rate", 0),
                        ErrorStatus = r.GetInt("error-status", 503),
                        RetryAfter = r.HasPath("retry-after") ? r.GetTimeSpan("retry-after", null, false) : null,
                        MaxErrors = r.HasPath("max-errors") ? r.GetInt("max-errors") : null,
                        Latency = r.HasPath("latency") ? r.GetTimeSpan("latency", null, false) : TimeSpan.Zero,
                    });
                }
            }
            if (f.HasPath("sse-drop-after-events")) o.Faults.SseDropAfterEvents = f.GetInt("sse-drop-after-events");
            if (f.HasPath("websocket-close-after-messages")) o.Faults.WebSocketCloseAfterMessages = f.GetInt("websocket-close-after-messages");
            if (f.HasPath("truncate-downloads-after-bytes")) o.Faults.TruncateDownloadsAfterBytes = ByteSize(f, "truncate-downloads-after-bytes");
        }
        return o;
    }

    /// <summary>Applies command-line flags (<c>--urls</c>, <c>--data-dir</c>, <c>--config</c>, <c>--port</c>, <c>--host</c>).</summary>
    /// <param name="args">The arguments.</param>
    /// <exception cref="ArgumentException">An unknown flag or a flag without value.</exception>
    public static LocalBackendOptions FromArgs(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? Value(int i) => i + 1 < args.Count ? args[i + 1] : throw new ArgumentException($"Flag {args[i]} needs a value.");
        string? configFile = null;
        for (var i = 0; i < args.Count; i++)
            if (args[i] == "--config") configFile = Value(i);
        var o = configFile is null ? new LocalBackendOptions() : FromHocon(File.ReadAllText(configFile));
        if (o.Urls.Count == 0 && o.Port == 0) o.Urls = ["http://127.0.0.1:8081"];
        o.DataDirectory ??= "./.backendai-local";
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--config": i++; break;
                case "--urls": o.Urls = SplitUrls(Value(i)!); i++; break;
                case "--data-dir": o.DataDirectory = Value(i); i++; break;
                case "--port": o.Port = int.Parse(Value(i)!, CultureInfo.InvariantCulture); o.Urls = []; i++; break;
                case "--host": o.Host = Value(i)!; i++; break;
                default: throw new ArgumentException($"Unknown flag '{args[i]}'. Known: --urls, --data-dir, --config, --host, --port.");
            }
        }
        return o;
    }

    private static List<string> SplitUrls(string text) =>
        [.. text.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static string Unquote(string key) => key.Trim('"');

    private static string Required(Config c, string key) =>
        c.HasPath(key) ? c.GetString(key) : throw new ArgumentException($"backendai.local.keypairs: every keypair needs '{key}'.");

    private static long ByteSize(Config c, string key) =>
        c.GetByteSize(key) ?? throw new ArgumentException($"backendai.local.{key}: not a byte size.");
}

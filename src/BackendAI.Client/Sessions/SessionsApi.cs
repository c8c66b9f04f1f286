using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Client.Errors;
using BackendAI.Client.Json;
using BackendAI.Client.Models;
using BackendAI.Client.Rest;
using BackendAI.Client.Transfers;

namespace BackendAI.Client.Sessions;

/// <summary>Compute-session REST functions (sessions.md). All calls use the negotiated version's naming.</summary>
public class SessionsApi
{
    private const int MaxUploadParts = 20;
    private const long MaxDownloadBytes = 64L << 20;
    private readonly ApiTransport _t;

    /// <summary>For mocks.</summary>
    protected SessionsApi() => _t = null!;

    internal SessionsApi(ApiTransport transport) => _t = transport;

    private async Task<(ApiVersion Version, string Prefix)> PrefixAsync(CancellationToken ct)
    {
        var v = await _t.EnsureVersionAsync(ct).ConfigureAwait(false);
        return (v, v.UsesLegacyNaming ? "/kernel" : "/session");
    }

    private static string Ref(string sessionRef)
    {
        if (string.IsNullOrWhiteSpace(sessionRef)) throw new BackendClientException("The session reference must not be empty.", "sessionRef");
        return ApiTransport.Segment(sessionRef);
    }

    /// <summary>Creates a session or reuses a same-name same-image one (<c>POST /session</c>). Blocks until the session
    /// starts unless <see cref="SessionCreateRequest.EnqueueOnly"/>; a <c>TIMEOUT</c> status means "still queued".</summary>
    public virtual async Task<SessionCreateResult> CreateAsync(SessionCreateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Image)) throw new BackendClientException("SessionCreateRequest.Image is required.", "Image");
        if (request.ClusterSize < 1) throw new BackendClientException("SessionCreateRequest.ClusterSize must be at least 1.", "ClusterSize");
        if (request.MaxWaitSeconds < 0) throw new BackendClientException("SessionCreateRequest.MaxWaitSeconds must not be negative.", "MaxWaitSeconds");
        var (v, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        var body = BuildCreateBody(request, v, _t.Options.Domain, _t.Options.Group, _t.Options.VFolderMounts, forTemplate: false);
        var req = new ApiRequest(HttpMethod.Post, prefix) { Content = Wire.JsonBody(body) };
        var json = await _t.SendJsonAsync(req, cancellationToken).ConfigureAwait(false);
        return ParseCreateResult(json, body[v.UsesLegacyNaming ? "clientSessionToken" : "name"]?.GetValue<string>() ?? string.Empty);
    }

    /// <summary>Creates a session from a stored template (<c>POST /session/_/create-from-template</c>); given override
    /// fields replace the template's.</summary>
    public virtual async Task<SessionCreateResult> CreateFromTemplateAsync(Guid templateId, SessionCreateRequest? overrides,
        CancellationToken cancellationToken = default)
    {
        var (v, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        var body = BuildCreateBody(overrides ?? new SessionCreateRequest(), v, _t.Options.Domain, _t.Options.Group, _t.Options.VFolderMounts, forTemplate: true);
        body["template_id"] = templateId.ToString();
        var req = new ApiRequest(HttpMethod.Post, prefix + "/_/create-from-template") { Content = Wire.JsonBody(body) };
        var json = await _t.SendJsonAsync(req, cancellationToken).ConfigureAwait(false);
        return ParseCreateResult(json, overrides?.Name ?? string.Empty);
    }

    /// <summary>Builds the create body with the version-gated rules of the protocol README.</summary>
    internal static JsonObject BuildCreateBody(SessionCreateRequest r, ApiVersion v, string defaultDomain, string defaultGroup,
        IReadOnlyList<string> defaultMounts, bool forTemplate)
    {
        var v5 = v >= new ApiVersion(5, "20191215");
        var v6Cluster = v >= new ApiVersion(6, "20200815");
        var mounts = defaultMounts.Concat(r.Mounts ?? []).Distinct(StringComparer.Ordinal).ToList();
        var name = r.Name ?? (forTemplate ? null : "dotnet-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5)));

        var config = new JsonObject
        {
            ["mounts"] = Wire.Array(mounts),
            ["environ"] = Wire.Map(r.Environ),
            ["resources"] = Wire.Map(r.Resources) ?? new JsonObject(),
            ["resource_opts"] = Wire.Map(r.ResourceOpts) ?? new JsonObject(),
            ["scalingGroup"] = r.ScalingGroup,
        };
        if (v5)
        {
            config["mount_map"] = Wire.Map(r.MountMap) ?? new JsonObject();
            config["preopen_ports"] = r.PreopenPorts is null ? null : new JsonArray(r.PreopenPorts.Select(p => (JsonNode?)p).ToArray());
            if (r.AgentList is { Count: > 0 }) config["agentList"] = Wire.Array(r.AgentList);
        }
        if (!v6Cluster) config["clusterSize"] = r.ClusterSize;

        var body = new JsonObject { ["tag"] = r.Tag };
        body[v.UsesLegacyNaming ? "clientSessionToken" : "name"] = name;
        body["config"] = config;
        if (v >= new ApiVersion(6, "20220315") && !forTemplate)
        {
            body["dependencies"] = r.Dependencies is null ? null : Wire.Array(r.Dependencies);
            body["callback_url"] = r.CallbackUrl;
        }
        if (v6Cluster)
        {
            body["clusterSize"] = r.ClusterSize;
            body["clusterMode"] = r.ClusterMode;
        }
        if (v5)
        {
            body["starts_at"] = r.StartsAt;
            body["bootstrap_script"] = r.BootstrapScript;
        }
        if (v >= new ApiVersion(4, "20190615"))
        {
            body["owner_access_key"] = r.OwnerAccessKey;
            body["domain"] = r.Domain ?? defaultDomain;
            body["group"] = r.Group ?? defaultGroup;
            body["type"] = r.Type == SessionType.Batch ? "batch" : "interactive";
            body["enqueueOnly"] = r.EnqueueOnly;
            body["maxWaitSeconds"] = r.MaxWaitSeconds;
            body["reuseIfExists"] = r.ReuseIfExists;
            body["startupCommand"] = r.StartupCommand;
        }
        if (r.Architecture is not null) body["architecture"] = r.Architecture;
        if (!string.IsNullOrEmpty(r.Image) || !forTemplate)
            body[v <= new ApiVersion(4, "20181215") ? "lang" : "image"] = r.Image;

        if (forTemplate)
        {
            // Templates: send only what was set, so the template's values stay in force.
            foreach (var key in body.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList()) body.Remove(key);
            // The default type would silently turn a batch template interactive: send it only when asked for batch.
            if (r.Type == SessionType.Interactive) body.Remove("type");
            foreach (var key in config.Where(kv => kv.Value is null || kv.Value is JsonObject { Count: 0 } || kv.Value is JsonArray { Count: 0 })
                         .Select(kv => kv.Key).ToList()) config.Remove(key);
        }
        return body;
    }

    internal static SessionCreateResult ParseCreateResult(JsonElement json, string fallbackName)
    {
        var ports = ParseServicePorts(json.Prop("servicePorts")) is { Count: > 0 } sp ? sp : ParseServicePorts(json.Prop("service_ports"));
        return new SessionCreateResult(
            json.Str("sessionId") ?? json.Str("kernelId") ?? throw new BackendProtocolException("The create response has no 'sessionId'."),
            json.Str("sessionName") ?? fallbackName,
            json.Str("status") ?? "RUNNING",
            ports,
            json.Bool("created") ?? true);
    }

    internal static IReadOnlyList<ServicePort> ParseServicePorts(JsonElement? element)
    {
        if (element is not { ValueKind: JsonValueKind.Array } a) return [];
        var list = new List<ServicePort>();
        foreach (var p in a.EnumerateArray())
        {
            if (p.ValueKind != JsonValueKind.Object) continue;
            var portsEl = p.Prop("ports") ?? p.Prop("container_ports");
            var ports = portsEl is { ValueKind: JsonValueKind.Array } pa
                ? pa.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number).Select(x => x.GetInt32()).ToList()
                : [];
            list.Add(new ServicePort(p.Str("name") ?? string.Empty, p.Str("protocol") ?? "tcp", ports, p.Str("url_template")));
        }
        return list;
    }

    /// <summary><c>GET /session/{id}</c>.</summary>
    public virtual async Task<SessionInfo> GetInfoAsync(string sessionRef, string? ownerAccessKey = null, CancellationToken cancellationToken = default)
    {
        var (_, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        var req = new ApiRequest(HttpMethod.Get, $"{prefix}/{Ref(sessionRef)}").With("owner_access_key", ownerAccessKey);
        var j = await _t.SendJsonAsync(req, cancellationToken).ConfigureAwait(false);
        return new SessionInfo
        {
            Status = SessionStatuses.TryParse(j.Str("status"), out var s) ? s : SessionStatus.Error,
            Image = j.Str("image") ?? j.Str("lang") ?? string.Empty,
            AgeMs = j.Long("age") ?? 0,
            DomainName = j.Str("domainName"),
            GroupId = NoneAsNull(j.Str("groupId")),
            UserId = NoneAsNull(j.Str("userId")),
            Tag = j.Str("tag"),
            StatusInfo = NoneAsNull(j.Str("statusInfo")),
            CreationTime = j.Str("creationTime"),
            NumQueriesExecuted = j.Long("numQueriesExecuted") ?? 0,
            Raw = j,
        };
    }

    private static string? NoneAsNull(string? s) => s is "None" ? null : s;

    /// <summary>The container log (<c>GET /session/{id}/logs</c>).</summary>
    public virtual async Task<string> GetLogsAsync(string sessionRef, string? ownerAccessKey = null, CancellationToken cancellationToken = default)
    {
        var (_, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        var req = new ApiRequest(HttpMethod.Get, $"{prefix}/{Ref(sessionRef)}/logs").With("owner_access_key", ownerAccessKey);
        var j = await _t.SendJsonAsync(req, cancellationToken).ConfigureAwait(false);
        return j.Prop("result")?.Str("logs") ?? string.Empty;
    }

    /// <summary><c>DELETE /session/{id}</c>; returns once termination was requested.</summary>
    public virtual async Task<DestroyResult> DestroyAsync(string sessionRef, bool forced = false, string? ownerAccessKey = null,
        CancellationToken cancellationToken = default)
    {
        var (_, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        var req = new ApiRequest(HttpMethod.Delete, $"{prefix}/{Ref(sessionRef)}")
            .With("forced", forced ? "true" : null).With("owner_access_key", ownerAccessKey);
        var j = await _t.SendJsonAsync(req, cancellationToken).ConfigureAwait(false);
        var stats = j.Prop("stats") ?? Wire.Parse("{}");
        return new DestroyResult(stats, stats.Str("status"));
    }

    /// <summary><c>PATCH /session/{id}</c>; returns after the kernel is back.</summary>
    public virtual async Task RestartAsync(string sessionRef, CancellationToken cancellationToken = default)
    {
        var (_, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        await _t.SendNoContentAsync(new ApiRequest(HttpMethod.Patch, $"{prefix}/{Ref(sessionRef)}"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>POST /session/{id}/interrupt</c>.</summary>
    public virtual async Task InterruptAsync(string sessionRef, CancellationToken cancellationToken = default)
    {
        var (_, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        await _t.SendNoContentAsync(new ApiRequest(HttpMethod.Post, $"{prefix}/{Ref(sessionRef)}/interrupt"), cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>POST /session/{id}/complete</c>; an upstream <c>{"result": null}</c> gives an empty list.</summary>
    public virtual async Task<IReadOnlyList<string>> CompleteAsync(string sessionRef, string code, CompletionOptions? options,
        CancellationToken cancellationToken = default)
    {
        var (_, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        var o = options ?? new CompletionOptions();
        var body = new JsonObject
        {
            ["code"] = code ?? string.Empty,
            ["options"] = new JsonObject { ["row"] = o.Row, ["col"] = o.Col, ["line"] = o.Line ?? string.Empty, ["post"] = o.Post ?? string.Empty },
        };
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Post, $"{prefix}/{Ref(sessionRef)}/complete") { Content = Wire.JsonBody(body) },
            cancellationToken).ConfigureAwait(false);
        return j.Prop("result")?.Prop("completions") is { ValueKind: JsonValueKind.Array } a
            ? a.EnumerateArray().Select(x => x.ToString()).ToList()
            : [];
    }

    /// <summary>One execute call (<c>POST /session/{id}</c>); the caller drives the run by <see cref="ExecutionResult.Status"/>.</summary>
    public virtual async Task<ExecutionResult> ExecuteAsync(string sessionRef, ExecuteRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Mode is ExecuteMode.Continue or ExecuteMode.Input && string.IsNullOrEmpty(request.RunId))
            throw new BackendClientException($"Execute mode {request.Mode} requires the run id of the run being continued.", "RunId");
        var (_, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        var body = new JsonObject
        {
            ["mode"] = request.Mode.ToString().ToLowerInvariant(),
            ["code"] = request.Code ?? string.Empty,
            ["runId"] = request.RunId,
        };
        if (request.Mode == ExecuteMode.Batch)
        {
            var o = request.Options ?? new BatchOptions("*", "*", "*");
            body["options"] = new JsonObject { ["clean"] = o.Clean, ["build"] = o.Build, ["buildLog"] = false, ["exec"] = o.Exec };
        }
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Post, $"{prefix}/{Ref(sessionRef)}") { Content = Wire.JsonBody(body) },
            cancellationToken).ConfigureAwait(false);
        return ParseExecutionResult(j.Prop("result") ?? throw new BackendProtocolException("The execute response has no 'result'."), request.RunId);
    }

    /// <summary>Parses a REST or WebSocket execution result (null <c>files</c>/<c>options</c>/<c>console</c> tolerated).</summary>
    public static ExecutionResult ParseExecutionResult(JsonElement r, string? fallbackRunId = null)
    {
        var console = new List<ConsoleRecord>();
        if (r.Prop("console") is { ValueKind: JsonValueKind.Array } c)
        {
            foreach (var rec in c.EnumerateArray())
            {
                if (rec.ValueKind != JsonValueKind.Array || rec.GetArrayLength() == 0) continue;
                var type = rec[0].ToString();
                var data = rec.GetArrayLength() > 1 ? rec[1] : default;
                string? text = null, media = null;
                if (type == "media" && data.ValueKind == JsonValueKind.Array && data.GetArrayLength() >= 2)
                {
                    media = data[0].ToString();
                    text = data[1].ToString();
                }
                else if (data.ValueKind == JsonValueKind.String)
                {
                    text = data.GetString();
                }
                else if (data.ValueKind != JsonValueKind.Undefined && data.ValueKind != JsonValueKind.Null)
                {
                    text = data.GetRawText();
                }
                console.Add(new ConsoleRecord(type, text, media, rec.Clone()));
            }
        }
        var exit = r.Prop("exitCode") is { ValueKind: JsonValueKind.Number } e ? (int?)e.GetInt32() : null;
        var isPassword = r.Prop("options")?.Bool("is_password") ?? false;
        return new ExecutionResult(r.Str("status") ?? "finished", r.Str("runId") ?? fallbackRunId, exit, isPassword, console, r.Prop("files"));
    }

    /// <summary>Uploads up to 20 small files (<c>POST /session/{id}/upload</c>, multipart, field <c>src</c>, plain relative names).</summary>
    public virtual async Task UploadAsync(string sessionRef, IReadOnlyList<UploadFile> files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0) throw new BackendClientException("At least one file is required.", "files");
        if (files.Count > MaxUploadParts)
            throw new BackendClientException($"At most {MaxUploadParts} files can be uploaded in one call (got {files.Count}).", "files");
        foreach (var f in files) ValidateRelative(f.RelativePath, "files");
        var (_, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        var req = new ApiRequest(HttpMethod.Post, $"{prefix}/{Ref(sessionRef)}/upload")
        {
            Content = () =>
            {
                var mp = new MultipartFormDataContent();
                foreach (var f in files)
                {
                    var part = new StreamContent(f.Open());
                    part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    part.Headers.TryAddWithoutValidation("Content-Disposition", FormDataDisposition(f.RelativePath));
                    mp.Add(part);
                }
                return mp;
            },
        };
        await _t.SendNoContentAsync(req, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>form-data; name="src"; filename="sub/b.txt"</c> with nothing percent-encoded (RFC 5987 <c>filename*</c> added for non-ASCII).</summary>
    internal static string FormDataDisposition(string relativePath)
    {
        var quoted = relativePath.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
        if (relativePath.All(ch => ch is >= ' ' and < (char)127))
            return $"form-data; name=\"src\"; filename=\"{quoted}\"";
        var ascii = new string(relativePath.Select(ch => ch is >= ' ' and < (char)127 and not '"' and not '\\' ? ch : '_').ToArray());
        return $"form-data; name=\"src\"; filename=\"{ascii}\"; filename*=UTF-8''{Uri.EscapeDataString(relativePath)}";
    }

    internal static void ValidateRelative(string path, string argument)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new BackendClientException("A file name must not be empty.", argument);
        var p = path.Replace('\\', '/');
        if (p.StartsWith('/') || Path.IsPathRooted(path) || p.Split('/').Any(s => s == ".."))
            throw new BackendClientException($"'{path}' must be a relative path inside the working directory (no leading '/', no '..').", argument);
    }

    /// <summary>Downloads files (<c>GET /session/{id}/download</c>): each multipart/mixed part is a tar archive, extracted
    /// safely into <paramref name="destinationDirectory"/>. Returns the extracted paths.</summary>
    public virtual Task<IReadOnlyList<string>> DownloadAsync(string sessionRef, IReadOnlyList<string> files, string destinationDirectory,
        CancellationToken cancellationToken = default) =>
        DownloadAsync(sessionRef, files, destinationDirectory, null, cancellationToken);

    /// <summary>As <see cref="DownloadAsync(string, IReadOnlyList{string}, string, CancellationToken)"/>, reporting the bytes of the
    /// response body as they arrive (one progress item for the whole response; its total is the <c>Content-Length</c> when sent).</summary>
    /// <param name="sessionRef">Session id or name.</param>
    /// <param name="files">Paths in the session.</param>
    /// <param name="destinationDirectory">Local directory to extract into.</param>
    /// <param name="progress">Byte progress (throttled, see <see cref="TransferProgressReporter"/>).</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>The extracted paths.</returns>
    public virtual async Task<IReadOnlyList<string>> DownloadAsync(string sessionRef, IReadOnlyList<string> files, string destinationDirectory,
        IProgress<TransferProgress>? progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count == 0) throw new BackendClientException("At least one file is required.", "files");
        if (string.IsNullOrWhiteSpace(destinationDirectory)) throw new BackendClientException("The destination directory is required.", "destinationDirectory");
        var (_, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        var body = new JsonObject { ["files"] = Wire.Array(files) };
        var req = new ApiRequest(HttpMethod.Get, $"{prefix}/{Ref(sessionRef)}/download") { Content = Wire.JsonBody(body) };
        using var resp = await _t.SendAsync(req, cancellationToken).ConfigureAwait(false);
        var boundary = resp.Content.Headers.ContentType?.Parameters.FirstOrDefault(p => p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))?.Value?.Trim('"');
        if (string.IsNullOrEmpty(boundary) || resp.Content.Headers.ContentType?.MediaType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) != true)
            throw new BackendProtocolException($"The download response is not multipart (Content-Type: {resp.Content.Headers.ContentType}).");
        var reporter = new TransferProgressReporter(progress, 1);
        var bytes = reporter.BeginFile(files.Count == 1 ? files[0] : $"{files.Count} files", resp.Content.Headers.ContentLength);
        var payload = await ReadBoundedAsync(resp.Content, MaxDownloadBytes, bytes, cancellationToken).ConfigureAwait(false);
        reporter.CompleteFile(payload.Length);
        Directory.CreateDirectory(destinationDirectory);
        var extracted = new List<string>();
        foreach (var (headers, content) in MultipartMixed.Split(payload, boundary))
        {
            if (headers.TryGetValue("content-encoding", out var enc) && !enc.Equals("identity", StringComparison.OrdinalIgnoreCase))
                throw new BackendProtocolException($"Unsupported part Content-Encoding '{enc}'.");
            using var tar = new MemoryStream(content.ToArray(), writable: false);
            extracted.AddRange(await TarExtraction.ExtractAsync(tar, destinationDirectory, cancellationToken).ConfigureAwait(false));
        }
        return extracted;
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, long max, IProgress<long> progress, CancellationToken ct)
    {
        await using var s = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var ms = new MemoryStream();
        var buf = new byte[81920];
        int n;
        while ((n = await s.ReadAsync(buf, ct).ConfigureAwait(false)) > 0)
        {
            if (ms.Length + n > max) throw new BackendProtocolException($"The download exceeds the {max >> 20} MiB limit.");
            ms.Write(buf, 0, n);
            progress.Report(ms.Length);
        }
        return ms.ToArray();
    }

    /// <summary>Lists a directory (<c>GET /session/{id}/files</c>); checks <c>errors</c> first, <c>""</c> = empty.</summary>
    public virtual async Task<IReadOnlyList<SessionFileEntry>> ListFilesAsync(string sessionRef, string path = ".", CancellationToken cancellationToken = default)
    {
        var (_, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        var body = new JsonObject { ["path"] = path ?? "." };
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Get, $"{prefix}/{Ref(sessionRef)}/files") { Content = Wire.JsonBody(body) },
            cancellationToken).ConfigureAwait(false);
        return ParseFileList(j, path ?? ".");
    }

    internal static IReadOnlyList<SessionFileEntry> ParseFileList(JsonElement j, string path)
    {
        var errors = j.Str("errors");
        if (!string.IsNullOrEmpty(errors))
            throw new BackendApiException(200, "OK", ProblemTypes.GenericError.Uri, $"Listing '{path}' failed in the session.", errors);
        var files = j.Prop("files");
        JsonElement list;
        if (files is { ValueKind: JsonValueKind.String } s)
        {
            var text = s.GetString()!;
            if (text.Length == 0) return [];
            try
            {
                list = Wire.Parse(text);
            }
            catch (JsonException ex)
            {
                throw new BackendProtocolException("The 'files' string of the listing is not JSON.", ex);
            }
        }
        else if (files is { ValueKind: JsonValueKind.Array } a)
        {
            list = a;
        }
        else
        {
            return [];
        }
        if (list.ValueKind != JsonValueKind.Array) throw new BackendProtocolException("The 'files' listing is not a JSON list.");
        return list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).Select(e => new SessionFileEntry(
            e.Str("filename") ?? e.Str("name") ?? string.Empty, e.Str("mode") ?? string.Empty, e.Long("size") ?? 0,
            e.Double("ctime") ?? 0, e.Double("mtime") ?? 0, e.Double("atime") ?? 0)).ToList();
    }

    /// <summary><c>POST /session/{id}/rename?name=…</c> (the session must be running).</summary>
    public virtual async Task RenameAsync(string sessionRef, string newName, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(newName)) throw new BackendClientException("The new session name must not be empty.", "newName");
        var (v, prefix) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        var req = new ApiRequest(HttpMethod.Post, $"{prefix}/{Ref(sessionRef)}/rename").With(v.UsesLegacyNaming ? "clientSessionToken" : "name", newName);
        await _t.SendNoContentAsync(req, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>GET /session/_/match?id=…</c>.</summary>
    public virtual async Task<IReadOnlyList<SessionMatch>> MatchAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var (_, p) = await PrefixAsync(cancellationToken).ConfigureAwait(false);
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Get, $"{p}/_/match").With("id", prefix ?? string.Empty), cancellationToken).ConfigureAwait(false);
        return j.Prop("matches") is { ValueKind: JsonValueKind.Array } a
            ? a.EnumerateArray().Select(m => new SessionMatch(m.Str("id") ?? string.Empty, m.Str("name") ?? string.Empty, m.Str("status") ?? string.Empty)).ToList()
            : [];
    }
}

/// <summary>Splits a buffered <c>multipart/mixed</c> body into parts.</summary>
internal static class MultipartMixed
{
    public static IEnumerable<(Dictionary<string, string> Headers, ReadOnlyMemory<byte> Content)> Split(byte[] body, string boundary)
    {
        var delimiter = Encoding.ASCII.GetBytes("--" + boundary);
        var span = body.AsMemory();
        var pos = IndexOf(body, delimiter, 0);
        if (pos < 0) throw new BackendProtocolException("The multipart body has no boundary.");
        while (true)
        {
            var after = pos + delimiter.Length;
            if (after + 1 < body.Length && body[after] == '-' && body[after + 1] == '-') yield break; // closing delimiter
            var lineEnd = IndexOf(body, "\r\n"u8.ToArray(), after);
            if (lineEnd < 0) throw new BackendProtocolException("Truncated multipart body.");
            var headersEnd = IndexOf(body, "\r\n\r\n"u8.ToArray(), lineEnd);
            Dictionary<string, string> headers = new(StringComparer.OrdinalIgnoreCase);
            int contentStart;
            if (headersEnd == lineEnd)
            {
                contentStart = lineEnd + 4;
            }
            else
            {
                if (headersEnd < 0) throw new BackendProtocolException("Truncated multipart part headers.");
                foreach (var line in Encoding.ASCII.GetString(body, lineEnd + 2, headersEnd - lineEnd - 2).Split("\r\n"))
                {
                    var colon = line.IndexOf(':');
                    if (colon > 0) headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                }
                contentStart = headersEnd + 4;
            }
            var next = IndexOf(body, Encoding.ASCII.GetBytes("\r\n--" + boundary), contentStart);
            if (next < 0) throw new BackendProtocolException("The multipart body has no closing boundary.");
            if (headers.TryGetValue("content-length", out var cl) && long.TryParse(cl, NumberStyles.Integer, CultureInfo.InvariantCulture, out var len)
                && len != next - contentStart)
                throw new BackendProtocolException($"A multipart part declares {len} bytes but has {next - contentStart}.");
            yield return (headers, span[contentStart..next]);
            pos = next + 2;
        }
    }

    private static int IndexOf(byte[] haystack, byte[] needle, int start)
    {
        var i = haystack.AsSpan(start).IndexOf(needle);
        return i < 0 ? -1 : i + start;
    }
}

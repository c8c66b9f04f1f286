using System.Text.Json;
using System.Text.Json.Nodes;
using BackendAI.Client.Errors;
using BackendAI.Client.Json;
using BackendAI.Client.Rest;
using BackendAI.Client.Sessions;
using BackendAI.Client.Transfers;

namespace BackendAI.Client.VFolders;

/// <summary>An entry of a vfolder listing.</summary>
/// <param name="Name">Name.</param>
/// <param name="Type"><c>FILE</c>, <c>DIRECTORY</c> or <c>SYMLINK</c>.</param>
/// <param name="Size">Bytes.</param>
/// <param name="Mode">Permission bits as sent.</param>
/// <param name="Created">Creation time string.</param>
/// <param name="Modified">Modification time string.</param>
public sealed record VFolderFileEntry(string Name, string Type, long Size, string Mode, string? Created, string? Modified)
{
    /// <summary>True for directories.</summary>
    public bool IsDirectory => Type == "DIRECTORY";
}

/// <summary>Options of <see cref="VFoldersApi.CreateAsync"/>.</summary>
public sealed class VFolderCreateOptions
{
    /// <summary>Storage host (<c>proxy:volume</c>); the server default when null.</summary>
    public string? Host { get; set; }
    /// <summary>Project (group) id or name for a project folder.</summary>
    public string? Group { get; set; }
    /// <summary><c>general</c>, <c>model</c> or <c>data</c>.</summary>
    public string UsageMode { get; set; } = "general";
    /// <summary><c>ro</c>, <c>rw</c> or <c>wd</c>.</summary>
    public string Permission { get; set; } = "rw";
    /// <summary>Quota such as <c>10g</c>; <c>0</c> = none.</summary>
    public string Quota { get; set; } = "0";
    /// <summary>Whether the folder can be cloned.</summary>
    public bool Cloneable { get; set; }
    /// <summary>Unmanaged path (admins).</summary>
    public string? UnmanagedPath { get; set; }
}

/// <summary>Virtual folders (vfolders.md). File contents go to the storage proxy (tus upload, token download with Range resume).</summary>
public class VFoldersApi
{
    /// <summary>tus chunk size (16 MiB like client-py).</summary>
    public const int DefaultChunkSize = 16 << 20;
    private readonly ApiTransport _t;

    /// <summary>For mocks.</summary>
    protected VFoldersApi() => _t = null!;

    internal VFoldersApi(ApiTransport transport) => _t = transport;

    private static string F(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new BackendClientException("The vfolder name must not be empty.", "name");
        return "/folders/" + ApiTransport.Segment(name);
    }

    /// <summary><c>POST /folders</c>.</summary>
    public virtual Task<JsonElement> CreateAsync(string name, VFolderCreateOptions? options = null, CancellationToken cancellationToken = default)
    {
        _ = F(name);
        var o = options ?? new VFolderCreateOptions();
        var body = new JsonObject
        {
            ["name"] = name, ["host"] = o.Host, ["unmanaged_path"] = o.UnmanagedPath, ["group"] = o.Group,
            ["usage_mode"] = o.UsageMode, ["permission"] = o.Permission, ["quota"] = o.Quota, ["cloneable"] = o.Cloneable,
        };
        return _t.SendJsonAsync(new ApiRequest(HttpMethod.Post, "/folders") { Content = Wire.JsonBody(body) }, cancellationToken);
    }

    /// <summary><c>GET /folders</c> (the caller's folders).</summary>
    public virtual async Task<IReadOnlyList<JsonElement>> ListAsync(string? groupId = null, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject { ["all"] = false };
        if (groupId is not null) body["group_id"] = groupId;
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Get, "/folders") { Content = Wire.JsonBody(body) }, cancellationToken).ConfigureAwait(false);
        return j.ValueKind == JsonValueKind.Array ? j.EnumerateArray().ToList() : [];
    }

    /// <summary><c>GET /folders/_/hosts</c>.</summary>
    public virtual Task<JsonElement> ListHostsAsync(CancellationToken cancellationToken = default) =>
        _t.SendJsonAsync(new ApiRequest(HttpMethod.Get, "/folders/_/hosts"), cancellationToken);

    /// <summary><c>GET /folders/{name}</c>.</summary>
    public virtual Task<JsonElement> GetInfoAsync(string name, CancellationToken cancellationToken = default) =>
        _t.SendJsonAsync(new ApiRequest(HttpMethod.Get, F(name)), cancellationToken);

    /// <summary><c>DELETE /folders/{name}</c>.</summary>
    public virtual Task DeleteAsync(string name, CancellationToken cancellationToken = default) =>
        _t.SendNoContentAsync(new ApiRequest(HttpMethod.Delete, F(name)), cancellationToken);

    /// <summary><c>POST /folders/{name}/rename</c>.</summary>
    public virtual Task RenameAsync(string name, string newName, CancellationToken cancellationToken = default) =>
        _t.SendNoContentAsync(new ApiRequest(HttpMethod.Post, F(name) + "/rename")
        {
            Content = Wire.JsonBody(new JsonObject { ["new_name"] = newName ?? throw new BackendClientException("newName is required.", "newName") }),
        }, cancellationToken);

    /// <summary><c>POST /folders/{name}/mkdir</c>.</summary>
    public virtual Task MkdirAsync(string name, string path, bool parents = true, bool existOk = false, CancellationToken cancellationToken = default) =>
        _t.SendNoContentAsync(new ApiRequest(HttpMethod.Post, F(name) + "/mkdir")
        {
            Content = Wire.JsonBody(new JsonObject { ["path"] = path, ["parents"] = parents, ["exist_ok"] = existOk }),
        }, cancellationToken);

    /// <summary><c>POST /folders/{name}/rename-file</c> (renames within the same directory).</summary>
    public virtual Task RenameFileAsync(string name, string targetPath, string newName, bool isDir = false, CancellationToken cancellationToken = default) =>
        _t.SendNoContentAsync(new ApiRequest(HttpMethod.Post, F(name) + "/rename-file")
        {
            Content = Wire.JsonBody(new JsonObject { ["target_path"] = targetPath, ["new_name"] = newName, ["is_dir"] = isDir }),
        }, cancellationToken);

    /// <summary><c>POST /folders/{name}/move-file</c>: moves (or renames) a file or directory anywhere inside the folder.</summary>
    public virtual Task MoveFileAsync(string name, string source, string destination, CancellationToken cancellationToken = default) =>
        _t.SendNoContentAsync(new ApiRequest(HttpMethod.Post, F(name) + "/move-file")
        {
            Content = Wire.JsonBody(new JsonObject { ["src"] = source, ["dst"] = destination }),
        }, cancellationToken);

    /// <summary><c>DELETE /folders/{name}/delete-files</c>.</summary>
    public virtual Task DeleteFilesAsync(string name, IReadOnlyList<string> files, bool recursive = false, CancellationToken cancellationToken = default) =>
        _t.SendNoContentAsync(new ApiRequest(HttpMethod.Delete, F(name) + "/delete-files")
        {
            Content = Wire.JsonBody(new JsonObject { ["files"] = Wire.Array(files), ["recursive"] = recursive }),
        }, cancellationToken);

    /// <summary><c>GET /folders/{name}/files</c>: reads <c>items</c>, falling back to the double-encoded <c>files</c> string.</summary>
    public virtual async Task<IReadOnlyList<VFolderFileEntry>> ListFilesAsync(string name, string path = ".", CancellationToken cancellationToken = default)
    {
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Get, F(name) + "/files")
        {
            Content = Wire.JsonBody(new JsonObject { ["path"] = path ?? "." }),
        }, cancellationToken).ConfigureAwait(false);
        if (j.Prop("items") is { ValueKind: JsonValueKind.Array } items)
            return items.EnumerateArray().Select(i => new VFolderFileEntry(i.Str("name") ?? string.Empty, i.Str("type") ?? "FILE", i.Long("size") ?? 0,
                i.Str("mode") ?? string.Empty, i.Str("created"), i.Str("modified"))).ToList();
        return SessionsApi.ParseFileList(j, path ?? ".").Select(f => new VFolderFileEntry(f.FileName, f.IsDirectory ? "DIRECTORY" : "FILE", f.Size, f.Mode,
            null, null)).ToList();
    }

    /// <summary>Uploads local files and whole directories (recursively) with tus: one <c>request-upload</c> per file, then PATCH
    /// chunks to the storage proxy, resuming from the server's <c>HEAD</c> offset after a failed chunk.</summary>
    /// <param name="name">vfolder name.</param>
    /// <param name="localPaths">Files or directories; a directory is uploaded under its own name.</param>
    /// <param name="basePath">Remote directory to upload into (null = the folder root).</param>
    /// <param name="progress">Byte progress per file and overall (throttled, see <see cref="TransferProgressReporter"/>).</param>
    /// <param name="cancellationToken">Cancels the upload; the file in flight never appears in the folder (its upload session
    /// keeps the confirmed bytes on the storage proxy until the token expires).</param>
    /// <returns>The remote paths written.</returns>
    public virtual Task<IReadOnlyList<string>> UploadAsync(string name, IReadOnlyList<string> localPaths, string? basePath = null,
        IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default) =>
        UploadAsync(name, localPaths, basePath, progress, DefaultChunkSize, cancellationToken);

    /// <summary>As <see cref="UploadAsync(string, IReadOnlyList{string}, string?, IProgress{TransferProgress}?, CancellationToken)"/>
    /// with a tus chunk size of <paramref name="chunkSize"/> bytes per <c>PATCH</c>.</summary>
    /// <param name="name">vfolder name.</param>
    /// <param name="localPaths">Files or directories; a directory is uploaded under its own name.</param>
    /// <param name="basePath">Remote directory to upload into (null = the folder root).</param>
    /// <param name="progress">Byte progress per file and overall.</param>
    /// <param name="chunkSize">Bytes per <c>PATCH</c>.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>The remote paths written.</returns>
    public virtual async Task<IReadOnlyList<string>> UploadAsync(string name, IReadOnlyList<string> localPaths, string? basePath,
        IProgress<TransferProgress>? progress, int chunkSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(localPaths);
        if (localPaths.Count == 0) throw new BackendClientException("At least one local path is required.", "localPaths");
        var prefix = string.IsNullOrEmpty(basePath) ? string.Empty : basePath.Replace('\\', '/').Trim('/') + "/";
        if (prefix.Length > 0) SessionsApi.ValidateRelative(prefix.TrimEnd('/'), "basePath");
        var plan = new List<(string Local, string Remote)>();
        foreach (var p in localPaths)
        {
            if (File.Exists(p)) plan.Add((p, prefix + Path.GetFileName(p)));
            else if (Directory.Exists(p))
            {
                var root = Path.GetFullPath(p).TrimEnd(Path.DirectorySeparatorChar);
                var dirName = Path.GetFileName(root);
                foreach (var f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                    plan.Add((f, prefix + dirName + "/" + Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/')));
            }
            else throw new BackendClientException($"'{p}' is neither a file nor a directory.", "localPaths");
        }

        var sizes = plan.Select(p => new FileInfo(p.Local).Length).ToArray();
        var reporter = new TransferProgressReporter(progress, plan.Count, sizes.Sum());
        var written = new List<string>(plan.Count);
        for (var i = 0; i < plan.Count; i++)
        {
            var (local, remote) = plan[i];
            var size = sizes[i];
            var ticket = await RequestTicketAsync(name, "request-upload", new JsonObject { ["path"] = remote, ["size"] = size }, cancellationToken).ConfigureAwait(false);
            var url = _t.StorageUri(ticket.Url, ticket.Token);
            await using (var source = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
            {
                var bytes = reporter.BeginFile(remote, size);
                await TusUploader.UploadAsync(_t.StorageHttp, url, source, size, bytes, chunkSize, TransferRetry.Default, cancellationToken, sending: bytes)
                    .ConfigureAwait(false);
                reporter.CompleteFile(size);
            }
            written.Add(remote);
        }
        return written;
    }

    /// <summary>Downloads one file: <c>request-download</c>, then a token GET streamed to <c>&lt;dest&gt;.partial</c>, resumed with
    /// <c>Range</c> after a drop, renamed into place at the end.</summary>
    /// <param name="name">vfolder name.</param>
    /// <param name="remotePath">Path inside the folder.</param>
    /// <param name="destination">Local file path, or an existing directory to download into.</param>
    /// <param name="progress">Progress.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>The local file written.</returns>
    public virtual async Task<string> DownloadAsync(string name, string remotePath, string destination, IProgress<TransferProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(remotePath)) throw new BackendClientException("The remote path is required.", "remotePath");
        if (string.IsNullOrWhiteSpace(destination)) throw new BackendClientException("The destination is required.", "destination");
        var target = Directory.Exists(destination) ? Path.Combine(destination, Path.GetFileName(remotePath.TrimEnd('/'))) : destination;
        var ticket = await RequestTicketAsync(name, "request-download", new JsonObject { ["path"] = remotePath, ["archive"] = false }, cancellationToken)
            .ConfigureAwait(false);
        var url = _t.StorageUri(ticket.Url, ticket.Token);
        var reporter = new TransferProgressReporter(progress, 1);
        await DownloadFileAsync(reporter, remotePath, url, target, cancellationToken).ConfigureAwait(false);
        return target;
    }

    /// <summary>Downloads several files into <paramref name="destinationDirectory"/> (each under its file name), one after another,
    /// each as <see cref="DownloadAsync(string, string, string, IProgress{TransferProgress}?, CancellationToken)"/> does.</summary>
    /// <param name="name">vfolder name.</param>
    /// <param name="remotePaths">Paths inside the folder.</param>
    /// <param name="destinationDirectory">Local directory (created when missing).</param>
    /// <param name="progress">Byte progress per file and overall (the overall total is known once the last file started).</param>
    /// <param name="cancellationToken">Cancels the download: the file in flight leaves nothing behind (no partial file, no final
    /// file); files completed before stay.</param>
    /// <returns>The local files written, in order.</returns>
    public virtual async Task<IReadOnlyList<string>> DownloadAsync(string name, IReadOnlyList<string> remotePaths, string destinationDirectory,
        IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remotePaths);
        if (remotePaths.Count == 0) throw new BackendClientException("At least one remote path is required.", "remotePaths");
        if (string.IsNullOrWhiteSpace(destinationDirectory)) throw new BackendClientException("The destination directory is required.", "destinationDirectory");
        foreach (var p in remotePaths)
            if (string.IsNullOrWhiteSpace(p)) throw new BackendClientException("A remote path must not be empty.", "remotePaths");
        Directory.CreateDirectory(destinationDirectory);
        var reporter = new TransferProgressReporter(progress, remotePaths.Count);
        var written = new List<string>(remotePaths.Count);
        foreach (var remotePath in remotePaths)
        {
            var target = Path.Combine(destinationDirectory, Path.GetFileName(remotePath.TrimEnd('/')));
            var ticket = await RequestTicketAsync(name, "request-download", new JsonObject { ["path"] = remotePath, ["archive"] = false }, cancellationToken)
                .ConfigureAwait(false);
            await DownloadFileAsync(reporter, remotePath, _t.StorageUri(ticket.Url, ticket.Token), target, cancellationToken).ConfigureAwait(false);
            written.Add(target);
        }
        return written;
    }

    private async Task DownloadFileAsync(TransferProgressReporter reporter, string remotePath, Uri url, string target, CancellationToken cancellationToken)
    {
        var bytes = reporter.BeginFile(remotePath, null);
        var total = new ProgressAdapter(reporter.SetFileTotal);
        var length = await RangeDownloader.DownloadAsync(_t.StorageHttp, url, target, bytes, TransferRetry.Default, cancellationToken, total).ConfigureAwait(false);
        reporter.CompleteFile(length);
    }

    private async Task<StorageTicket> RequestTicketAsync(string name, string op, JsonObject body, CancellationToken ct)
    {
        var j = await _t.SendJsonAsync(new ApiRequest(HttpMethod.Post, F(name) + "/" + op) { Content = Wire.JsonBody(body) }, ct).ConfigureAwait(false);
        return new StorageTicket(j.Str("token") ?? throw new BackendProtocolException($"The {op} response has no 'token'."),
            j.Str("url") ?? throw new BackendProtocolException($"The {op} response has no 'url'."));
    }
}

/// <summary>Forwards byte counts synchronously (unlike <see cref="Progress{T}"/>, which posts them later).</summary>
internal sealed class ProgressAdapter(Action<long> report) : IProgress<long>
{
    public void Report(long value) => report(value);
}

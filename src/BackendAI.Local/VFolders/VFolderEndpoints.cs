using System.Globalization;
using System.Text.Json.Nodes;
using BackendAI.Client.Errors;
using BackendAI.Local.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace BackendAI.Local.VFolders;

/// <summary>Maps the <c>/folders</c> family and the storage-proxy endpoints (tus upload, token download).</summary>
public static class VFolderEndpoints
{
    /// <summary>
    /// Registers the vfolder services in DI: the metadata store (SQLite <c>vfolders.db</c> in the data directory,
    /// folder contents under <see cref="LocalBackendPaths.VFoldersDirectory"/>), the storage tokens, the storage
    /// service, <see cref="VFolderOptions"/> and the <see cref="IVFolderMountResolver"/> for session mounts.
    /// </summary>
    public static IServiceCollection AddLocalVFolders(this IServiceCollection services, LocalBackendPaths paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        services.AddOptions<VFolderOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(_ => new VFolderStore(paths));
        services.AddSingleton(sp => new TransferTokens(paths.DataDirectory, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<StorageService>();
        services.AddSingleton<VFolderService>();
        services.AddSingleton<IVFolderMountResolver, VFolderMountResolver>();
        return services;
    }

    /// <summary>
    /// Maps <c>/folders/...</c> (signed requests; the caller's <see cref="LocalIdentity"/> must be on the request) and
    /// the anonymous storage routes <c>/storage/upload</c> (tus PATCH/HEAD/OPTIONS) and <c>/storage/download</c>
    /// (GET/HEAD), whose only credential is the token.
    /// </summary>
    public static IEndpointRouteBuilder MapVFolderEndpoints(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/folders", (HttpContext c, VFolderService s) => s.CreateAsync(c)).RejectWhenFrozen();
        app.MapGet("/folders", (HttpContext c, VFolderService s) => s.ListAsync(c));
        app.MapGet("/folders/_/hosts", (HttpContext c, VFolderService s) => s.HostsAsync(c));
        app.MapGet("/folders/_/all_hosts", (HttpContext c) => AllHosts(c));
        app.MapGet("/folders/_/all-hosts", (HttpContext c) => AllHosts(c));
        app.MapGet("/folders/_/allowed-types", (HttpContext c) => AllowedTypes(c));
        app.MapGet("/folders/_/allowed_types", (HttpContext c) => AllowedTypes(c));
        app.MapGet("/folders/{name}", (HttpContext c, string name, VFolderService s) => s.InfoAsync(c, name));
        app.MapDelete("/folders/{name}", (HttpContext c, string name, VFolderService s) => s.DeleteAsync(c, name)).RejectWhenFrozen();
        app.MapPost("/folders/{name}/rename", (HttpContext c, string name, VFolderService s) => s.RenameAsync(c, name)).RejectWhenFrozen();
        app.MapPost("/folders/{name}/update-options", (HttpContext c, string name, VFolderService s) => s.UpdateOptionsAsync(c, name)).RejectWhenFrozen();
        app.MapPost("/folders/{name}/mkdir", (HttpContext c, string name, VFolderService s) => s.MkdirAsync(c, name)).RejectWhenFrozen();
        app.MapPost("/folders/{name}/rename-file", (HttpContext c, string name, VFolderService s) => s.RenameFileAsync(c, name)).RejectWhenFrozen();
        app.MapPost("/folders/{name}/rename_file", (HttpContext c, string name, VFolderService s) => s.RenameFileAsync(c, name)).RejectWhenFrozen();
        app.MapPost("/folders/{name}/move-file", (HttpContext c, string name, VFolderService s) => s.MoveFileAsync(c, name)).RejectWhenFrozen();
        app.MapDelete("/folders/{name}/delete-files", (HttpContext c, string name, VFolderService s) => s.DeleteFilesAsync(c, name)).RejectWhenFrozen();
        app.MapDelete("/folders/{name}/delete_files", (HttpContext c, string name, VFolderService s) => s.DeleteFilesAsync(c, name)).RejectWhenFrozen();
        app.MapGet("/folders/{name}/files", (HttpContext c, string name, VFolderService s) => s.ListFilesAsync(c, name));
        app.MapPost("/folders/{name}/request-upload", (HttpContext c, string name, VFolderService s) => s.RequestUploadAsync(c, name)).RejectWhenFrozen();
        app.MapPost("/folders/{name}/request-download", (HttpContext c, string name, VFolderService s) => s.RequestDownloadAsync(c, name));
        StorageService.Map(app);
        return app;
    }

    /// <summary>
    /// Every storage host (superadmin only): the Python SDK's <c>VFolder.list_all_hosts()</c> calls
    /// <c>/folders/_/all_hosts</c>; the manager also routes <c>/_/all-hosts</c>. The local server has one host.
    /// </summary>
    private static IResult AllHosts(HttpContext context)
    {
        if (!CallerIdentity.Get(context).IsSuperAdmin)
            throw new ApiProblemException(ProblemTypes.GenericForbidden, "Insufficient permission.");
        return VFolderService.Json(new JsonObject
        {
            ["default"] = VFolderConstants.DefaultHost,
            ["allowed"] = new JsonArray(VFolderConstants.DefaultHost),
        });
    }

    private static IResult AllowedTypes(HttpContext context)
    {
        CallerIdentity.Get(context);
        return VFolderService.Json(new JsonArray(VFolderConstants.UserOwnership, VFolderConstants.GroupOwnership));
    }
}

/// <summary>Session mounts: the folder's directory when the owner can access a folder of that name.</summary>
internal sealed class VFolderMountResolver(VFolderStore store) : IVFolderMountResolver
{
    /// <inheritdoc />
    public string? ResolveMount(LocalIdentity owner, string name)
    {
        var access = store.FindAccessible(owner, name);
        if (access is null) return null;
        var root = store.RootOf(access.Folder);
        Directory.CreateDirectory(root);
        return root;
    }
}

/// <summary>The manager-side vfolder handlers (vfolders.md §2–§5).</summary>
internal sealed class VFolderService(VFolderStore store, StorageService storage, IServiceProvider services)
{
    private static readonly string[] s_createKeys =
        ["name", "host", "usage_mode", "permission", "unmanaged_path", "unmanagedPath", "group", "groupId", "group_id", "quota", "cloneable"];

    public async Task<IResult> CreateAsync(HttpContext context)
    {
        var caller = CallerIdentity.Get(context);
        var p = (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false)).AllowOnly(s_createKeys);
        var folder = Create(caller, p);
        var result = new JsonObject
        {
            ["id"] = folder.HexId,
            ["name"] = folder.Name,
            ["host"] = folder.Host,
            ["usage_mode"] = folder.UsageMode,
            ["permission"] = folder.Permission,
            ["max_size"] = folder.MaxSizeMiB,
            ["creator"] = folder.Creator,
            ["ownership_type"] = folder.OwnershipType,
            ["user"] = folder.UserId?.ToString(),
            ["group"] = folder.GroupId?.ToString(),
            ["cloneable"] = folder.Cloneable,
        };
        if (folder.UnmanagedPath is not null) result["unmanaged_path"] = folder.UnmanagedPath;
        return Json(result, StatusCodes.Status201Created);
    }

    /// <summary>Validates a create request and adds the folder.</summary>
    public VFolderRecord Create(LocalIdentity caller, ApiParams p)
    {
        var name = p.RequiredString("name");
        VFolderNames.Validate(name, "name");
        var host = p.String("host") ?? VFolderConstants.DefaultHost;
        if (host != VFolderConstants.DefaultHost)
            throw ApiProblemException.InvalidParams("You are not allowed to use this vfolder host.");
        var usage = p.String("usage_mode") ?? "general";
        if (!VFolderConstants.UsageModes.Contains(usage)) throw ApiParams.Invalid("usage_mode", $"value is not one of {string.Join(", ", VFolderConstants.UsageModes)}");
        var permission = p.String("permission") ?? VFolderConstants.ReadWrite;
        if (!VFolderConstants.Permissions.Contains(permission)) throw ApiParams.Invalid("permission", "value is not one of ro, rw, wd");
        var unmanaged = p.String("unmanaged_path", "unmanagedPath");
        if (unmanaged is not null)
        {
            if (!caller.IsAdmin) throw new ApiProblemException(ProblemTypes.GenericForbidden, "Insufficient permission.");
            if (!Path.IsPathRooted(unmanaged) || !Directory.Exists(unmanaged))
                throw new ApiProblemException(ProblemTypes.VFolderCreationFailed, $"The unmanaged path does not exist: {unmanaged}");
        }
        var groupRef = p.String("group", "groupId", "group_id");
        (Guid Id, string Name)? group = null;
        if (groupRef is not null)
        {
            if (!caller.IsAdmin) throw new ApiProblemException(ProblemTypes.GenericForbidden, "no permission");
            group = KnownGroups(caller)
                .Where(g => g.Id.ToString() == groupRef.ToLowerInvariant() || g.Name == groupRef)
                .Select(g => ((Guid, string)?)g)
                .FirstOrDefault();
            if (group is null) throw ApiProblemException.NotFound("No such user group (or project).");
            if (name.StartsWith('.')) throw ApiProblemException.InvalidParams("dot-prefixed vfolders cannot be a group folder.");
        }
        var maxSize = ParseQuota(p);
        var cloneable = p.StrictBool("cloneable") ?? false;
        var folder = new VFolderRecord
        {
            Id = Guid.NewGuid(),
            Name = name,
            Host = host,
            UsageMode = usage,
            Permission = permission,
            OwnershipType = group is null ? VFolderConstants.UserOwnership : VFolderConstants.GroupOwnership,
            UserId = group is null ? caller.UserId : null,
            UserEmail = group is null ? caller.Email : null,
            GroupId = group?.Id,
            GroupName = group?.Name,
            DomainName = caller.Domain,
            Creator = caller.Email,
            Cloneable = cloneable,
            MaxSizeMiB = maxSize,
            UnmanagedPath = unmanaged,
            CreatedAt = services.GetRequiredService<TimeProvider>().GetUtcNow(),
        };
        var limit = storage.Options.MaxFoldersPerUser;
        store.Add(folder, all =>
        {
            var clash = all.Any(f => f.Name == name && f.Host == host &&
                ((f.IsUserFolder && f.UserId == caller.UserId) || (!f.IsUserFolder && (f.GroupId == caller.GroupId || f.GroupId == group?.Id))));
            if (clash) throw new ApiProblemException(ProblemTypes.VFolderAlreadyExists);
            if (group is null && all.Count(f => f.IsUserFolder && f.UserId == caller.UserId) >= limit)
                throw ApiProblemException.InvalidParams("You cannot create more vfolders.");
        });
        return folder;
    }

    public async Task<IResult> ListAsync(HttpContext context)
    {
        var caller = CallerIdentity.Get(context);
        var p = (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false))
            .AllowOnly("all", "group_id", "groupId", "owner_user_email");
        if (p.Bool("all", false)) throw ApiProblemException.InvalidParams("Deprecated use of 'all' option");
        IReadOnlyList<VFolderAccess> folders;
        var ownerEmail = p.String("owner_user_email");
        if (ownerEmail is not null)
        {
            if (!caller.IsSuperAdmin) throw new ApiProblemException(ProblemTypes.GenericForbidden, "Insufficient permission.");
            var owner = services.GetService<IKeypairStore>()?.All.FirstOrDefault(k => k.Email == ownerEmail)
                ?? throw ApiProblemException.NotFound("No such user.", $"No user with email {ownerEmail}.");
            folders = store.OwnedBy(owner.UserId).Select(f => new VFolderAccess(f, true, VFolderConstants.ReadWriteDelete)).ToList();
        }
        else
        {
            folders = store.Accessible(caller);
            var groupId = p.String("group_id", "groupId");
            if (groupId is not null)
            {
                if (!Guid.TryParse(groupId, out var gid)) throw ApiParams.Invalid("group_id", "value is not a UUID");
                folders = folders.Where(a => a.Folder.IsUserFolder || a.Folder.GroupId == gid).ToList();
            }
        }
        var array = new JsonArray();
        foreach (var a in folders)
        {
            var f = a.Folder;
            array.Add(new JsonObject
            {
                ["name"] = f.Name,
                ["id"] = f.HexId,
                ["host"] = f.Host,
                ["usage_mode"] = f.UsageMode,
                ["created_at"] = VFolderConstants.PythonDate(f.CreatedAt),
                ["is_owner"] = a.IsOwner,
                ["permission"] = a.Permission,
                ["user"] = f.UserId?.ToString(),
                ["group"] = f.GroupId?.ToString(),
                ["creator"] = f.Creator,
                ["user_email"] = f.UserEmail,
                ["group_name"] = f.GroupName,
                ["ownership_type"] = f.OwnershipType,
                ["type"] = f.OwnershipType,
                ["cloneable"] = f.Cloneable,
                ["max_files"] = 0,
                ["max_size"] = f.MaxSizeMiB,
            });
        }
        return Json(array);
    }

    public async Task<IResult> HostsAsync(HttpContext context)
    {
        CallerIdentity.Get(context);
        (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false)).AllowOnly("group_id", "groupId");
        return Json(new JsonObject
        {
            ["default"] = VFolderConstants.DefaultHost,
            ["allowed"] = new JsonArray(VFolderConstants.DefaultHost),
            ["volume_info"] = new JsonObject
            {
                [VFolderConstants.DefaultHost] = new JsonObject { ["backend"] = "vfs", ["capabilities"] = new JsonArray("vfolder") },
            },
        });
    }

    public Task<IResult> InfoAsync(HttpContext context, string name)
    {
        var access = Require(context, name, VFolderConstants.ReadOnly);
        var f = access.Folder;
        var (files, bytes) = VFolderFiles.Usage(store.RootOf(f));
        var created = VFolderConstants.PythonDate(f.CreatedAt);
        return Task.FromResult(Json(new JsonObject
        {
            ["name"] = f.Name,
            ["id"] = f.HexId,
            ["host"] = f.Host,
            ["numFiles"] = files,
            ["num_files"] = files,
            ["used_bytes"] = bytes,
            ["created"] = created,
            ["created_at"] = created,
            ["last_used"] = created,
            ["user"] = f.UserId?.ToString(),
            ["group"] = f.GroupId?.ToString(),
            ["type"] = f.OwnershipType,
            ["is_owner"] = access.IsOwner,
            ["permission"] = access.Permission,
            ["usage_mode"] = f.UsageMode,
            ["cloneable"] = f.Cloneable,
            ["max_size"] = f.MaxSizeMiB,
        }));
    }

    public Task<IResult> DeleteAsync(HttpContext context, string name)
    {
        var caller = CallerIdentity.Get(context);
        var access = store.FindAccessible(caller, name) ?? throw ApiProblemException.InvalidParams("No such vfolder.");
        if (!access.CanDelete) throw ApiProblemException.InvalidParams("Cannot delete the vfolder that is not owned by myself.");
        store.Remove(access.Folder);
        return Task.FromResult(Results.StatusCode(StatusCodes.Status204NoContent));
    }

    public async Task<IResult> RenameAsync(HttpContext context, string name)
    {
        var caller = CallerIdentity.Get(context);
        var access = Require(context, name, VFolderConstants.ReadOnly);
        var p = (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false)).AllowOnly("new_name");
        var newName = p.RequiredString("new_name");
        VFolderNames.Validate(newName, "new_name");
        if (!access.IsOwner) throw ApiProblemException.InvalidParams("Cannot change the name of a vfolder that is not owned by myself.");
        var accessibleIds = store.Accessible(caller).Select(a => a.Folder.Id).ToHashSet();
        store.Update(access.Folder with { Name = newName }, all =>
        {
            if (all.Any(f => f.Id != access.Folder.Id && f.Name == newName && accessibleIds.Contains(f.Id)))
                throw ApiProblemException.InvalidParams("One of your accessible vfolders already has the name you requested.");
        });
        return Results.StatusCode(StatusCodes.Status201Created);
    }

    public async Task<IResult> UpdateOptionsAsync(HttpContext context, string name)
    {
        var access = Require(context, name, VFolderConstants.ReadOnly);
        var p = (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false)).AllowOnly("cloneable", "permission");
        var cloneable = p.StrictBool("cloneable");
        var permission = p.String("permission");
        if (permission is not null && !VFolderConstants.Permissions.Contains(permission))
            throw ApiParams.Invalid("permission", "value is not one of ro, rw, wd");
        if (!access.IsOwner) throw ApiProblemException.InvalidParams("Cannot change the options of a vfolder that is not owned by myself.");
        store.Update(access.Folder with
        {
            Cloneable = cloneable ?? access.Folder.Cloneable,
            Permission = permission ?? access.Folder.Permission,
        });
        return Results.StatusCode(StatusCodes.Status201Created);
    }

    public async Task<IResult> MkdirAsync(HttpContext context, string name)
    {
        var access = Require(context, name, VFolderConstants.ReadWrite);
        var p = (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false)).AllowOnly("path", "parents", "exist_ok");
        VFolderFiles.MakeDirectory(store.RootOf(access.Folder), p.RequiredString("path"), p.Bool("parents", true), p.Bool("exist_ok", false));
        return Results.StatusCode(StatusCodes.Status201Created);
    }

    public async Task<IResult> RenameFileAsync(HttpContext context, string name)
    {
        var access = Require(context, name, VFolderConstants.ReadWrite);
        var p = (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false)).AllowOnly("target_path", "new_name", "is_dir");
        p.Bool("is_dir", false);
        VFolderFiles.Rename(store.RootOf(access.Folder), p.RequiredString("target_path"), p.RequiredString("new_name"));
        return Json(new JsonObject());
    }

    public async Task<IResult> MoveFileAsync(HttpContext context, string name)
    {
        var access = Require(context, name, VFolderConstants.ReadWrite);
        var p = (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false)).AllowOnly("src", "dst");
        VFolderFiles.Move(store.RootOf(access.Folder), p.RequiredString("src"), p.RequiredString("dst"));
        return Json(new JsonObject());
    }

    public async Task<IResult> DeleteFilesAsync(HttpContext context, string name)
    {
        var access = Require(context, name, VFolderConstants.ReadWrite);
        var p = (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false)).AllowOnly("files", "recursive");
        var files = p.StringList("files") ?? throw ApiParams.Invalid("files", "is required");
        VFolderFiles.Delete(store.RootOf(access.Folder), files, p.Bool("recursive", false));
        return Json(new JsonObject());
    }

    public async Task<IResult> ListFilesAsync(HttpContext context, string name)
    {
        var access = Require(context, name, VFolderConstants.ReadOnly);
        var p = (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false)).AllowOnly("path");
        return Json(VFolderFiles.ListingJson(VFolderFiles.List(store.RootOf(access.Folder), p.String("path") ?? "")));
    }

    public async Task<IResult> RequestUploadAsync(HttpContext context, string name)
    {
        var access = Require(context, name, VFolderConstants.ReadWrite);
        var p = (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false)).AllowOnly("path", "size");
        var path = p.RequiredString("path");
        var size = p.Long("size") ?? throw ApiParams.Invalid("size", "is required");
        var token = storage.BeginUpload(access.Folder, path, size);
        return Json(new JsonObject { ["token"] = token, ["url"] = StorageUrl(context, StorageService.UploadPath) });
    }

    public async Task<IResult> RequestDownloadAsync(HttpContext context, string name)
    {
        var access = Require(context, name, VFolderConstants.ReadOnly);
        var p = (await ApiParams.ReadAsync(context, context.RequestAborted).ConfigureAwait(false)).AllowOnly("path", "file", "archive");
        var path = p.String("path", "file") ?? throw ApiParams.Invalid("path", "is required");
        var token = storage.BeginDownload(access.Folder, path, p.Bool("archive", false));
        return Json(new JsonObject { ["token"] = token, ["url"] = StorageUrl(context, StorageService.DownloadPath) });
    }

    /// <summary>The caller's folder <paramref name="name"/> with at least <paramref name="permission"/>, else 404.</summary>
    private VFolderAccess Require(HttpContext context, string name, string permission)
    {
        var caller = CallerIdentity.Get(context);
        var access = store.FindAccessible(caller, name);
        if (access is null || (permission != VFolderConstants.ReadOnly && !access.CanWrite))
            throw ApiProblemException.NotFound("No such virtual folder.", "Your operation may be permission denied.");
        return access;
    }

    private IEnumerable<(Guid Id, string Name)> KnownGroups(LocalIdentity caller)
    {
        yield return (caller.GroupId, caller.GroupName);
        if (services.GetService<IKeypairStore>() is { } keypairs)
            foreach (var k in keypairs.All)
                if (k.Domain == caller.Domain || caller.IsSuperAdmin) yield return (k.GroupId, k.GroupName);
    }

    private static long? ParseQuota(ApiParams p)
    {
        string? text;
        try
        {
            text = p.String("quota");
        }
        catch (ApiProblemException)
        {
            text = p.Long("quota")?.ToString(CultureInfo.InvariantCulture);
        }
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim().ToLowerInvariant();
        long multiplier = 1;
        var suffix = text[^1];
        var units = "kmgtpe";
        var unit = units.IndexOf(suffix);
        if (suffix == 'b' && text.Length > 1) text = text[..^1];
        else if (unit >= 0)
        {
            multiplier = 1L << (10 * (unit + 1));
            text = text[..^1];
        }
        if (!decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var value) || value < 0)
            throw ApiParams.Invalid("quota", "value is not a size string");
        var bytes = value * multiplier;
        if (bytes == 0) return null;
        return Math.Max(1, (long)Math.Ceiling(bytes / (1 << 20)));
    }

    private static string StorageUrl(HttpContext context, string path) =>
        $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{path}";

    /// <summary>A JSON response with exactly the given node.</summary>
    public static IResult Json(JsonNode node, int status = StatusCodes.Status200OK) =>
        Results.Text(node.ToJsonString(), "application/json; charset=utf-8", System.Text.Encoding.UTF8, status);
}

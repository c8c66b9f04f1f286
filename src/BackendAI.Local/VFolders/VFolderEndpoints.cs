using Microsoft.AspNetCore.Routing;

namespace BackendAI.Local.VFolders;

/// <summary>Maps the <c>/folders</c> family and the storage-proxy endpoints (tus upload, token download).</summary>
public static class VFolderEndpoints
{
    /// <summary>Registers the vfolder services (store, mount resolver) in DI.</summary>
    public static IServiceCollection AddLocalVFolders(this IServiceCollection services, LocalBackendPaths paths) => services;

    /// <summary>Maps the endpoints. (Placeholder until the vfolder area lands.)</summary>
    public static IEndpointRouteBuilder MapVFolderEndpoints(this IEndpointRouteBuilder app) => app;
}

using BackendAI.Local.Hosting;
using Microsoft.AspNetCore.Http;

namespace BackendAI.Local.VFolders;

/// <summary>The <see cref="LocalIdentity"/> the auth middleware attached to a request.</summary>
internal static class CallerIdentity
{
    /// <summary>The caller, or 401 "Unauthorized access" when the request is not authenticated.</summary>
    public static LocalIdentity Get(HttpContext context) => context.GetIdentity();
}

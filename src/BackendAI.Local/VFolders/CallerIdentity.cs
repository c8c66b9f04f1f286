using BackendAI.Client.Errors;
using BackendAI.Local.Hosting;
using Microsoft.AspNetCore.Http;

namespace BackendAI.Local.VFolders;

/// <summary>Finds the <see cref="LocalIdentity"/> the auth middleware attached to a request.</summary>
internal static class CallerIdentity
{
    /// <summary>The caller, or 401 "Unauthorized access" when the request is not authenticated.</summary>
    public static LocalIdentity Get(HttpContext context)
    {
        var identity = context.Features.Get<LocalIdentity>();
        if (identity is null)
        {
            foreach (var value in context.Items.Values)
            {
                if (value is LocalIdentity found)
                {
                    identity = found;
                    break;
                }
            }
        }
        return identity ?? throw new ApiProblemException(ProblemTypes.AuthFailed, "Unauthorized access");
    }
}

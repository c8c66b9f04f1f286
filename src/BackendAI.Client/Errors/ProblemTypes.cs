namespace BackendAI.Client.Errors;

/// <summary>
/// One Backend.AI error type: the <c>type</c> URI suffix, its HTTP status and fixed title
/// (auth-and-transport.md §6.2). Shared by the client (to map errors) and the local server (to emit them).
/// </summary>
/// <param name="Suffix">The part after <c>https://api.backend.ai/probs/</c>.</param>
/// <param name="Status">The HTTP status upstream uses.</param>
/// <param name="Title">The fixed English title.</param>
public sealed record ProblemType(string Suffix, int Status, string Title)
{
    /// <summary>The full <c>type</c> URI.</summary>
    public string Uri => ProblemTypes.Prefix + Suffix;
}

/// <summary>The Backend.AI error types.</summary>
public static class ProblemTypes
{
    /// <summary>The common prefix of every type URI.</summary>
    public const string Prefix = "https://api.backend.ai/probs/";

#pragma warning disable CS1591 // names are self-describing
    public static readonly ProblemType UrlNotFound = new("url-not-found", 404, "Unknown URL path.");
    public static readonly ProblemType ObjectNotFound = new("object-not-found", 404, "No such object.");
    public static readonly ProblemType TooManySessionsMatched = new("too-many-sessions-matched", 404, "Too many sessions matched.");
    public static readonly ProblemType GenericBadRequest = new("generic-bad-request", 400, "Bad request.");
    public static readonly ProblemType InvalidApiParams = new("invalid-api-params", 400, "Missing or invalid API parameters.");
    public static readonly ProblemType InvalidAuthParams = new("invalid-auth-params", 400, "Missing or invalid authorization parameters.");
    public static readonly ProblemType AuthFailed = new("auth-failed", 401, "Credential/signature mismatch.");
    public static readonly ProblemType GenericForbidden = new("generic-forbidden", 403, "Forbidden operation.");
    public static readonly ProblemType InsufficientPrivilege = new("insufficient-privilege", 403, "Insufficient privilege.");
    public static readonly ProblemType MethodNotAllowed = new("method-not-allowed", 405, "HTTP Method Not Allowed.");
    public static readonly ProblemType SessionAlreadyExists = new("session-already-exists", 400, "The session already exists but you requested not to reuse existing one.");
    public static readonly ProblemType QuotaExceeded = new("quota-exceeded", 412, "You have reached your resource limit.");
    public static readonly ProblemType RateLimitExceeded = new("rate-limit-exceeded", 429, "You have reached your API query rate limit.");
    public static readonly ProblemType VFolderCreationFailed = new("vfolder-creation-failed", 400, "Virtual folder creation has failed.");
    public static readonly ProblemType VFolderAlreadyExists = new("vfolder-already-exists", 400, "The virtual folder already exists with the same name.");
    public static readonly ProblemType VFolderOperationFailed = new("vfolder-operation-failed", 400, "Virtual folder operation has failed.");
    public static readonly ProblemType GraphQLError = new("graphql-error", 400, "GraphQL-generated error.");
    public static readonly ProblemType InternalServerError = new("internal-server-error", 500, "Internal server error.");
    public static readonly ProblemType KernelCreationFailed = new("kernel-creation-failed", 500, "Kernel creation has failed.");
    public static readonly ProblemType KernelDestructionFailed = new("kernel-destruction-failed", 500, "Kernel destruction has failed.");
    public static readonly ProblemType KernelRestartFailed = new("kernel-restart-failed", 500, "Kernel restart has failed.");
    public static readonly ProblemType KernelExecutionFailed = new("kernel-execution-failed", 500, "Executing user code in the kernel has failed.");
    public static readonly ProblemType ServiceUnavailable = new("service-unavailable", 503, "Serivce unavailable.");
    public static readonly ProblemType ServerFrozen = new("server-frozen", 503, "The server is frozen due to maintenance. Please try again later.");
    public static readonly ProblemType NotImplemented = new("not-implemented", 503, "This API query is not implemented.");
    public static readonly ProblemType GenericError = new("generic-error", 500, "Generic Error (could not parse error string)");
    public static readonly ProblemType StorageFileNotFound = new("storage/file-not-found", 404, "File not found");
    public static readonly ProblemType StorageNoSuchUploadSession = new("storage/no-such-upload-session", 404, "No such upload session");
    public static readonly ProblemType StorageInvalidApiParams = new("storage/invalid-api-params", 400, "Invalid API parameters");
#pragma warning restore CS1591
}

using BackendAI.Actors;
using BackendAI.Client;

namespace BackendAI.Cli.Commands;

/// <summary>Turns the CLI's complete create request into the runtime's start options.</summary>
internal static class SessionStarts
{
    /// <summary>
    /// Start options for <see cref="BackendAIRuntime.StartSessionAsync"/>: the runtime's own fields, and every
    /// other field of <paramref name="request"/> through <see cref="SessionStartOptions.ConfigureRequest"/>.
    /// The session is kept when its handle is disposed (the CLI destroys it only for <c>--rm</c>).
    /// <c>--max-wait 0</c> (no limit) leaves the runtime's <c>backendai.session.start-max-wait</c> for commands.
    /// </summary>
    public static SessionStartOptions ToStartOptions(SessionCreateRequest request) => new()
    {
        Name = request.Name,
        Type = request.Type,
        EnqueueOnly = request.EnqueueOnly,
        MaxWait = request.MaxWaitSeconds > 0 ? TimeSpan.FromSeconds(request.MaxWaitSeconds) : null,
        ReuseIfExists = request.ReuseIfExists,
        StartupCommand = request.StartupCommand,
        Environment = request.Environ,
        Resources = request.Resources,
        Mounts = request.Mounts,
        BootstrapScript = request.BootstrapScript,
        Tag = request.Tag,
        KeepOnDispose = true,
        ConfigureRequest = r =>
        {
            r.MaxWaitSeconds = request.MaxWaitSeconds;
            r.StartsAt = request.StartsAt;
            r.MountMap = request.MountMap;
            r.ResourceOpts = request.ResourceOpts;
            r.ScalingGroup = request.ScalingGroup;
            r.ClusterSize = request.ClusterSize;
            r.ClusterMode = request.ClusterMode;
            r.Dependencies = request.Dependencies;
            r.CallbackUrl = request.CallbackUrl;
            r.OwnerAccessKey = request.OwnerAccessKey;
            r.Domain = request.Domain;
            r.Group = request.Group;
            r.PreopenPorts = request.PreopenPorts;
        },
    };

    /// <summary>The create response of a session started by the runtime.</summary>
    public static SessionCreateResult CreateResultOf(ComputeSession session) =>
        session.CreateResult ?? new SessionCreateResult(session.Id, session.Name, SessionStatuses.ToWire(session.CurrentStatus), [], false);
}

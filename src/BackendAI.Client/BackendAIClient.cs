using BackendAI.Client.Admin;
using BackendAI.Client.Config;
using BackendAI.Client.Events;
using BackendAI.Client.Rest;
using BackendAI.Client.Sessions;
using BackendAI.Client.VFolders;
using BackendAI.Client.WebSockets;
using Microsoft.Extensions.Logging;

namespace BackendAI.Client;

/// <summary>
/// The Backend.AI wire client: one connection pool per instance, version negotiation on first use, signed requests,
/// failover and retries. Thread-safe; create one per configuration and dispose it at the end.
/// </summary>
public class BackendAIClient : IAsyncDisposable
{
    private readonly ApiTransport _transport = null!;

    /// <summary>For mocks.</summary>
    protected BackendAIClient()
    {
        Options = new BackendAIClientOptions();
        Sessions = null!;
        SessionTemplates = null!;
        Events = null!;
        Streams = null!;
        VFolders = null!;
        Admin = null!;
        Manager = null!;
        Auth = null!;
        Resources = null!;
    }

    /// <summary>Creates a client. The options are validated and copied.</summary>
    /// <exception cref="Errors.BackendClientException">An option is invalid (the message names it).</exception>
    public BackendAIClient(BackendAIClientOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options.Clone();
        _transport = new ApiTransport(Options, loggerFactory, time);
        Sessions = new SessionsApi(_transport);
        SessionTemplates = new SessionTemplatesApi(_transport);
        Events = new EventsApi(_transport);
        Streams = new StreamsApi(_transport);
        VFolders = new VFoldersApi(_transport);
        Admin = new AdminApi(_transport);
        Manager = new ManagerApi(_transport);
        Auth = new AuthApi(_transport);
        Resources = new ResourcesApi(_transport);
    }

    /// <summary>The (validated copy of the) options in use.</summary>
    public BackendAIClientOptions Options { get; }

    /// <summary>The version in use once negotiated (or the configured one); null before the first call.</summary>
    public virtual ApiVersion? NegotiatedVersion => Options.ApiVersion ?? _transport.NegotiatedVersion;

    /// <summary>The latest <c>X-RateLimit-*</c> values seen, if any.</summary>
    public virtual RateLimitInfo? RateLimit => _transport.RateLimit;

    /// <summary>Raised whenever a response carries <c>X-RateLimit-*</c> headers.</summary>
    public event Action<RateLimitInfo>? RateLimitUpdated
    {
        add => _transport.RateLimitUpdated += value;
        remove => _transport.RateLimitUpdated -= value;
    }

    /// <summary>The endpoint requests currently go to (the one that worked last).</summary>
    public virtual Uri CurrentEndpoint => _transport.CurrentEndpoint;

    /// <summary>Probes the endpoint (unsigned <c>GET</c>) and uses min(server, client) from now on; falls back to the
    /// client's version when the probe fails. A configured <see cref="BackendAIClientOptions.ApiVersion"/> wins.</summary>
    public virtual Task<ApiVersion> NegotiateVersionAsync(CancellationToken cancellationToken = default) =>
        _transport.NegotiateAsync(cancellationToken);

    /// <summary>Compute sessions (REST).</summary>
    public SessionsApi Sessions { get; }
    /// <summary>Session templates (<c>/template/session</c>); start sessions from them with <see cref="SessionsApi.CreateFromTemplateAsync"/>.</summary>
    public SessionTemplatesApi SessionTemplates { get; }
    /// <summary>Server-sent events.</summary>
    public EventsApi Events { get; }
    /// <summary>WebSockets and app services.</summary>
    public StreamsApi Streams { get; }
    /// <summary>Virtual folders.</summary>
    public VFoldersApi VFolders { get; }
    /// <summary>Admin GraphQL.</summary>
    public AdminApi Admin { get; }
    /// <summary>Manager status, freeze, announcement.</summary>
    public ManagerApi Manager { get; }
    /// <summary>Login/logout (session endpoint type) and the auth echo test.</summary>
    public AuthApi Auth { get; }
    /// <summary>Keypair, agents, images, scaling groups.</summary>
    public ResourcesApi Resources { get; }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_transport is not null) await _transport.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}

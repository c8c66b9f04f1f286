using System.Collections.Concurrent;
using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using BackendAI.Actors.Events;
using BackendAI.Actors.Hosting;
using BackendAI.Actors.Internal;
using BackendAI.Actors.Reactive;
using BackendAI.Actors.Sessions;
using BackendAI.Actors.VFolders;
using BackendAI.Client;
using BackendAI.Client.Config;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BackendAI.Actors;

/// <summary>
/// The supervised client runtime: one per configuration. Owns (or attaches to) an
/// <see cref="ActorSystem"/> whose <c>backendai-*</c> guardian supervises the session actors,
/// the session event stream and the transfer pool.
/// </summary>
public sealed partial class BackendAIRuntime : IAsyncDisposable
{
    private static int s_instances;
    private readonly ISessionApi _api;
    private readonly bool _ownsSystem;
    private readonly IActorRef _guardian;
    private readonly ConcurrentDictionary<string, SessionStatusCell> _cells = new(StringComparer.Ordinal);
    private readonly Lazy<Task<RuntimeRefs>> _refs;
    private readonly Lazy<Task<Source<SessionEvent, NotUsed>>> _events;
    private readonly ILogger _logger;
    private readonly BackendAIClient? _client;
    private readonly VFolderTransfers? _vfolders;
    private readonly CancellationTokenSource _disposing = new();
    private readonly EventStreamStateCell _streamStates = new();
    private int _disposed;

    /// <summary>
    /// Creates a runtime with its own actor system, configured from <paramref name="config"/> with the
    /// library's <c>reference.conf</c> as fallback.
    /// </summary>
    /// <param name="options">Client options (validated here; the secret key is never logged).</param>
    /// <param name="config">HOCON for the actor system and <c>backendai { … }</c>; <c>null</c> = defaults.</param>
    /// <param name="loggerFactory">Logging for the client and runtime.</param>
    public static BackendAIRuntime Create(BackendAIClientOptions options, Config? config = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var system = CreateSystem(config);
        return new BackendAIRuntime(system, ownsSystem: true, options, loggerFactory);
    }

    /// <summary>
    /// Creates a runtime inside an existing actor system (the system's own <c>backendai</c> settings are
    /// used, with <c>reference.conf</c> as fallback). Disposing the runtime stops only its actors.
    /// </summary>
    public static BackendAIRuntime Attach(ActorSystem system, BackendAIClientOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new BackendAIRuntime(system, ownsSystem: false, options, loggerFactory);
    }

    private BackendAIRuntime(ActorSystem system, bool ownsSystem, BackendAIClientOptions options, ILoggerFactory? loggerFactory)
        : this(system, ownsSystem, options, new BackendAIClient(options, loggerFactory), loggerFactory)
    {
    }

    private BackendAIRuntime(ActorSystem system, bool ownsSystem, BackendAIClientOptions options, BackendAIClient client, ILoggerFactory? loggerFactory)
        : this(system, ownsSystem, new ClientSessionApi(client),
            new SessionEventFilter(Group: null, OwnerAccessKey: null), loggerFactory, client)
    {
    }

    /// <summary>The wire client the runtime uses (for calls the runtime does not wrap).</summary>
    public BackendAIClient Client => _client ?? throw new InvalidOperationException("This runtime was built over a test double, not a BackendAIClient.");

    internal BackendAIRuntime(ActorSystem system, bool ownsSystem, ISessionApi api, SessionEventFilter filter,
        ILoggerFactory? loggerFactory, BackendAIClient? client = null)
    {
        _client = client;
        System = system;
        _ownsSystem = ownsSystem;
        _api = api;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<BackendAIRuntime>();
        Settings = BackendAISettings.Create(system.Settings.Config);
        Materializer = system.Materializer(namePrefix: "backendai");
        _guardian = system.ActorOf(BackendAIGuardian.Props(api, Settings, filter, _cells, _streamStates),
            $"backendai-{Interlocked.Increment(ref s_instances)}");
        _refs = new(() => _guardian.Ask<RuntimeRefs>(GetRuntimeRefs.Instance, TimeSpan.FromSeconds(30)));
        _events = new(async () =>
        {
            var refs = await _refs.Value.ConfigureAwait(false);
            return (await refs.Events.Ask<EventSourceAnswered>(new GetEventSource(), TimeSpan.FromSeconds(30)).ConfigureAwait(false)).Events;
        });
        Events = StreamBridges.ToObservable(EventsAsync);
        if (client is not null)
            _vfolders = new VFolderTransfers(client.VFolders, async ct => (await _refs.Value.WaitAsync(ct).ConfigureAwait(false)).Transfers,
                Settings.Transfer.TusChunkSize, _disposing.Token);
        EventStreamStates = StreamBridges.ToObservable(_streamStates.ReadAllAsync);
    }

    /// <summary>Virtual-folder uploads and downloads through the runtime's transfer pool (<c>backendai.transfer</c>).</summary>
    public VFolderTransfers VFolders => _vfolders ?? throw new InvalidOperationException("This runtime was built over a test double, not a BackendAIClient.");

    /// <summary>The actor system the runtime lives in.</summary>
    public ActorSystem System { get; }

    /// <summary>Every session event of the access key (hot: only events after subscription).</summary>
    public IObservable<SessionEvent> Events { get; }

    /// <summary>
    /// The state of the session event stream: each subscription starts with the current state, then sees every change
    /// (<see cref="EventStreamStatus.Reconnecting"/> with attempt, delay and error, then <see cref="EventStreamStatus.Connected"/>
    /// again, …) and completes after <see cref="EventStreamStatus.Stopped"/> when the runtime is disposed. A slow observer
    /// loses intermediate states, never the latest.
    /// </summary>
    public IObservable<EventStreamState> EventStreamStates { get; }

    /// <summary>The current state of the session event stream.</summary>
    public EventStreamState EventStreamState => _streamStates.Current;

    internal BackendAISettings Settings { get; }

    internal IMaterializer Materializer { get; }

    /// <summary>Every session event of the access key as an async stream; bounded per subscriber (backendai.event-stream.subscriber-*).</summary>
    public async IAsyncEnumerable<SessionEvent> EventsAsync([global::System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var hub = await _events.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var es = Settings.EventStream;
        var source = hub.Buffer(es.SubscriberBufferSize, es.SubscriberOverflow);
        await foreach (var e in StreamBridges.ToAsyncEnumerable(source, es.SubscriberBufferSize, Materializer, cancellationToken).ConfigureAwait(false))
            yield return e;
    }

    /// <summary>Starts a session, or reuses a live one of the same name and image (get-or-create).</summary>
    public async Task<ComputeSession> StartSessionAsync(string image, SessionStartOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(image);
        options ??= new SessionStartOptions();
        var request = new SessionCreateRequest
        {
            Image = image,
            Name = options.Name,
            Type = options.Type,
            EnqueueOnly = options.EnqueueOnly,
            MaxWaitSeconds = options.MaxWait is { } w ? (int)Math.Ceiling(w.TotalSeconds) : 0,
            ReuseIfExists = options.ReuseIfExists,
            StartupCommand = options.StartupCommand,
            Environ = options.Environment,
            Resources = options.Resources,
            Mounts = options.Mounts,
            BootstrapScript = options.BootstrapScript,
            Tag = options.Tag,
        };
        options.ConfigureRequest?.Invoke(request);
        var refs = await _refs.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var registered = await refs.Sessions.Ask<SessionRegistered>(new CreateSession(options.Name, request, options.MaxWait),
            Settings.Session.AskTimeout, cancellationToken).ConfigureAwait(false);
        return Track(registered, options.KeepOnDispose);
    }

    /// <summary>Follows an existing session by id or name (fails with the server's 404 if there is none).</summary>
    public async Task<ComputeSession> AttachSessionAsync(string sessionRef, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sessionRef);
        var refs = await _refs.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var registered = await refs.Sessions.Ask<SessionRegistered>(new AttachSession(sessionRef),
            Settings.Session.AskTimeout, cancellationToken).ConfigureAwait(false);
        return Track(registered, keepOnDispose: true);
    }

    /// <summary>Lists sessions (GraphQL <c>compute_session_list</c>), optionally by status.</summary>
    public IAsyncEnumerable<SessionSummary> ListSessionsAsync(string? status = null, CancellationToken cancellationToken = default) =>
        _api.ListSessionsAsync(status, cancellationToken);

    /// <summary>Stops the runtime's actors, and the actor system when the runtime created it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _disposing.CancelAsync().ConfigureAwait(false);
        try
        {
            await _guardian.GracefulStop(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AskTimeoutException or TaskCanceledException)
        {
            _logger.LogWarning("The runtime's actors did not stop within 10 seconds");
        }
        _streamStates.Complete();
        if (_ownsSystem) await System.Terminate().ConfigureAwait(false);
        if (_client is not null) await _client.DisposeAsync().ConfigureAwait(false);
    }

    internal static ActorSystem CreateSystem(Config? config, string name = "backendai") =>
        ActorSystem.Create(name, BackendAIConfig.WithFallback(config).WithFallback(ConfigurationFactory.ParseString("akka.loglevel = WARNING")));

    internal void Release(ComputeSession session)
    {
        session.Actor.Tell(new ReleaseSession(session.Id));
        _cells.TryRemove(session.Id, out _);
    }

    private ComputeSession Track(SessionRegistered r, bool keepOnDispose)
    {
        var cell = _cells.GetOrAdd(r.SessionId, id => new SessionStatusCell(id, r.Status, Settings.Session.StatusBufferSize));
        if (r.Status is { } s && cell.Current is null) cell.Set(s);
        return new ComputeSession(this, r.SessionId, r.SessionName ?? r.SessionId, r.Session, cell, keepOnDispose)
        {
            CreateResult = r.CreateResult,
        };
    }
}

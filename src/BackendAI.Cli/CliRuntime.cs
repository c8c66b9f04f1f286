using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using BackendAI.Actors;
using BackendAI.Actors.Sessions;
using BackendAI.Client;

namespace BackendAI.Cli;

/// <summary>
/// The one <see cref="BackendAIRuntime"/> of a CLI process, with a materializer for the CLI's own
/// streams and a signal for "the runtime's session event stream is connected". Created on first use
/// (commands that never talk to a server never start an actor system) and disposed when the command ends.
/// </summary>
internal sealed class CliRuntime : IAsyncDisposable
{
    /// <summary>
    /// The actor system of a command-line process: no Akka log output on the console (errors reach the
    /// user through the commands' one-line messages), no dead-letter chatter, and a shutdown that does
    /// not wait on phases the CLI does not use.
    /// </summary>
    internal static readonly Config QuietConfig = ConfigurationFactory.ParseString("""
        akka {
          loglevel = OFF
          stdout-loglevel = OFF
          log-config-on-start = off
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          suppress-json-serializer-warning = on
          coordinated-shutdown {
            run-by-clr-shutdown-hook = off
            default-phase-timeout = 2s
          }
        }
        """);

    private readonly Lazy<IMaterializer> _materializer;
    private readonly TaskCompletionSource _eventsConnected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CliRuntime(BackendAIRuntime runtime)
    {
        Runtime = runtime;
        _materializer = new Lazy<IMaterializer>(() => runtime.System.Materializer(namePrefix: "cli"));
        // Subscribed right after the system starts, before the event stream's first HTTP round trip can finish.
        var watcher = runtime.System.ActorOf(Props.Create(() => new ConnectionWatcher(_eventsConnected)), "cli-event-stream-watcher");
        runtime.System.EventStream.Subscribe(watcher, typeof(EventStreamReconnected));
    }

    /// <summary>The runtime.</summary>
    public BackendAIRuntime Runtime { get; }

    /// <summary>The wire client the runtime uses.</summary>
    public BackendAIClient Client => Runtime.Client;

    /// <summary>A materializer for the CLI's streams (runs), created on first use.</summary>
    public IMaterializer Materializer => _materializer.Value;

    /// <summary>Completes once the runtime's session event stream has connected (events after this are seen).</summary>
    public Task EventsConnected => _eventsConnected.Task;

    /// <summary>Starts a runtime for <paramref name="options"/> with <see cref="QuietConfig"/>.</summary>
    public static CliRuntime Create(BackendAIClientOptions options) => new(BackendAIRuntime.Create(options, QuietConfig));

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Runtime.DisposeAsync();

    private sealed class ConnectionWatcher : ReceiveActor
    {
        public ConnectionWatcher(TaskCompletionSource connected) =>
            Receive<EventStreamReconnected>(_ => connected.TrySetResult());
    }
}

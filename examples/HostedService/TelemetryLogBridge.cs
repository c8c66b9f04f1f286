using Microsoft.Extensions.Logging;

namespace BackendAI.Examples.HostedService;

/// <summary>
/// Turns log events into metrics where the libraries have no instruments of their own: the client's request log
/// (event 1001, debug), its retry log (1003) and the runtime's "event stream reconnected" message (an Akka log event,
/// bridged into Microsoft.Extensions.Logging by Akka.Hosting). Register it with a Debug filter for <c>BackendAI.Client</c>.
/// </summary>
public sealed class TelemetryLogBridge(WorkerTelemetry telemetry) : ILoggerProvider
{
    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(telemetry, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class Logger(WorkerTelemetry telemetry, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (category == "BackendAI.Client")
            {
                if (eventId.Id == 1001 && state is IReadOnlyList<KeyValuePair<string, object?>> fields
                    && fields.FirstOrDefault(f => f.Key == "Status").Value is int status)
                    telemetry.Request(status);
                else if (eventId.Id == 1003) telemetry.Retry();
            }
            else if (category.StartsWith("Akka", StringComparison.Ordinal) || category.StartsWith("BackendAI.Actors", StringComparison.Ordinal))
            {
                if (formatter(state, exception).Contains("event stream reconnected", StringComparison.OrdinalIgnoreCase)) telemetry.Reconnect();
            }
        }
    }
}

namespace BackendAI.Examples.MonitoringConsole;

/// <summary>Timings of the dashboard.</summary>
public sealed record MonitorOptions
{
    /// <summary>How often the full session list is fetched (GraphQL) to repair anything events missed.</summary>
    public TimeSpan ListInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often agent slot usage is fetched (GraphQL <c>agent_list</c>, superadmin only).</summary>
    public TimeSpan AgentInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Frame interval of the live display.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>First delay before subscribing to the runtime's events again after the subscription failed (doubles up to
    /// <see cref="ReconnectMaxDelay"/>). The SSE connection itself is the runtime's (<c>backendai.event-stream.reconnect</c>).</summary>
    public TimeSpan ReconnectMinDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Largest resubscribe delay.</summary>
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Read <c>q</c> from the keyboard (only when stdin is a console).</summary>
    public bool ReadKeys { get; init; }

    /// <summary>Start demo sessions in the background.</summary>
    public bool Demo { get; init; }
}

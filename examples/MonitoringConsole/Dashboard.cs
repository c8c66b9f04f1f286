using System.Globalization;
using System.Text.Json;
using BackendAI.Actors;
using BackendAI.Actors.Events;
using BackendAI.Client;
using Spectre.Console;

namespace BackendAI.Examples.MonitoringConsole;

/// <summary>
/// The dashboard's engine: three feeds fill a <see cref="DashboardModel"/> — session events, a periodic session
/// listing (reconcile) and a periodic agent query — and <see cref="RunAsync"/> draws it with <c>AnsiConsole.Live</c>
/// until cancelled or <c>q</c> is pressed. Every loop stops on cancellation; a failing feed is reported in the
/// status line and retried, never fatal.
/// </summary>
public sealed class Dashboard(BackendAIRuntime runtime, DashboardModel model, MonitorOptions options)
{
    private readonly SemaphoreSlim _reconcileNow = new(0, 1);

    /// <summary>The model the feeds fill.</summary>
    public DashboardModel Model => model;

    /// <summary>Runs the feeds and the live display until <paramref name="cancellationToken"/> fires or <c>q</c> is pressed.</summary>
    public async Task RunAsync(IAnsiConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(console);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var feeds = RunFeedsAsync(stop.Token);
        try
        {
            await console.Live(new Text("connecting…")).AutoClear(false).Overflow(VerticalOverflow.Ellipsis)
                .StartAsync(async ctx =>
                {
                    using var timer = new PeriodicTimer(options.RefreshInterval);
                    do
                    {
                        ctx.UpdateTarget(Frame(console));
                        ctx.Refresh();
                        if (QuitPressed()) break;
                    }
                    while (await Tick(timer, stop.Token).ConfigureAwait(false));
                }).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await feeds.ConfigureAwait(false);
        }
    }

    /// <summary>One frame for the console's current size (read every frame, so a resized terminal gets a fitting frame).</summary>
    public Spectre.Console.Rendering.IRenderable Frame(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var width = Math.Max(40, console.Profile.Width);
        var height = Math.Max(20, console.Profile.Height);
        return DashboardView.Render(model.Snapshot(), width, height);
    }

    /// <summary>Runs the event, listing and agent feeds until cancelled.</summary>
    public Task RunFeedsAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(EventsLoopAsync(cancellationToken), ListingLoopAsync(cancellationToken), AgentsLoopAsync(cancellationToken));

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private bool QuitPressed()
    {
        if (!options.ReadKeys || Console.IsInputRedirected) return false;
        while (Console.KeyAvailable)
            if (Console.ReadKey(intercept: true).KeyChar is 'q' or 'Q') return true;
        return false;
    }

    /// <summary>
    /// Session events from the runtime's own event stream (<see cref="BackendAIRuntime.EventsAsync"/>), and its connection
    /// state from <see cref="BackendAIRuntime.EventStreamStates"/>: a drop shows "reconnecting" with the runtime's next
    /// attempt and delay, and after every (re)connect the listing loop reconciles at once (the server replays nothing).
    /// </summary>
    private async Task EventsLoopAsync(CancellationToken ct)
    {
        using var states = runtime.EventStreamStates.Subscribe(OnStreamState);
        var delay = options.ReconnectMinDelay;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await foreach (var e in runtime.EventsAsync(ct).ConfigureAwait(false))
                {
                    model.Apply(e);
                    delay = options.ReconnectMinDelay;
                }
                model.ReportError("the event stream ended (server_close)");
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                model.ReportError($"event subscription: {ex.GetType().Name}: {ex.Message}");
            }
            try
            {
                await Task.Delay(delay, ct).ConfigureAwait(false);   // subscribe again (the runtime keeps its own connection)
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.ReconnectMaxDelay.Ticks));
        }
    }

    private void OnStreamState(EventStreamState state)
    {
        switch (state.Status)
        {
            case EventStreamStatus.Connected:
                model.StreamConnected();
                RequestReconcile();
                break;
            case EventStreamStatus.Reconnecting:
                model.StreamDropped(
                    $"event stream: {state.LastError?.GetType().Name}: {state.LastError?.Message}; attempt {state.Attempt} in {state.Delay?.TotalSeconds:0.0} s");
                break;
            case EventStreamStatus.Stopped:
                model.ReportError("event stream stopped");
                break;
        }
    }

    private void RequestReconcile()
    {
        try
        {
            _reconcileNow.Release();
        }
        catch (SemaphoreFullException)
        {
            // one pending request is enough
        }
    }

    private async Task ListingLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var startedAt = DateTimeOffset.UtcNow;
            var afterConnect = false;
            try
            {
                var rows = new List<SessionRow>();
                await foreach (var s in runtime.ListSessionsAsync(LiveStatuses, ct).ConfigureAwait(false))
                {
                    if (!SessionStatuses.TryParse(s.Status, out var status)) continue;
                    rows.Add(new SessionRow(s.Id, s.Name, s.Image, status, s.AccessKey, s.CreatedAt, startedAt));
                }
                model.Reconcile(rows, startedAt);
                afterConnect = true;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                model.ReportError($"listing: {ex.GetType().Name}: {ex.Message}");
            }
            if (afterConnect) model.Reconciled();
            try
            {
                await _reconcileNow.WaitAsync(options.ListInterval, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Every status but the terminal ones: sessions missing from the listing have ended.</summary>
    private static readonly string LiveStatuses = string.Join(",",
        Enum.GetValues<SessionStatus>().Where(s => !SessionStatuses.IsTerminal(s)).Select(SessionStatuses.ToWire));

    private const string AgentQuery =
        "query($limit:Int!, $offset:Int!) { agent_list(limit:$limit, offset:$offset, status:\"ALIVE\") { items { id status available_slots occupied_slots } total_count } }";

    private async Task AgentsLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.AgentInterval);
        do
        {
            try
            {
                var data = await runtime.Client.Admin.QueryAsync(AgentQuery,
                    new Dictionary<string, object?> { ["limit"] = 20, ["offset"] = 0 }, ct).ConfigureAwait(false);
                var agents = new List<AgentRow>();
                if (data.TryGetProperty("agent_list", out var list) && list.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
                    foreach (var a in items.EnumerateArray())
                        agents.Add(new AgentRow(a.GetProperty("id").GetString() ?? "?", a.GetProperty("status").GetString() ?? "?",
                            Slots(a, "occupied_slots"), Slots(a, "available_slots")));
                model.SetAgents(agents);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                model.SetAgents([], $"agents unavailable: {ex.GetType().Name}: {ex.Message}");
            }
        }
        while (await Tick(timer, ct).ConfigureAwait(false));
    }

    /// <summary>Parses a JSONString slot field (<c>"{\"cpu\": \"1\", …}"</c>) into decimals.</summary>
    public static IReadOnlyDictionary<string, decimal> Slots(JsonElement item, string field)
    {
        var result = new Dictionary<string, decimal>(StringComparer.Ordinal);
        if (!item.TryGetProperty(field, out var value)) return result;
        var json = value.ValueKind == JsonValueKind.String ? value.GetString() : value.ValueKind == JsonValueKind.Object ? value.GetRawText() : null;
        if (string.IsNullOrEmpty(json)) return result;
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) return result;
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            var text = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText();
            if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) result[p.Name] = d;
        }
        return result;
    }
}

namespace BackendAI.Examples.HostedService;

/// <summary>The <c>Worker</c> configuration section.</summary>
public sealed class WorkerOptions
{
    /// <summary>Image of the worker's session.</summary>
    public string Image { get; set; } = "python";

    /// <summary>Name of the worker's session (reused if it is still alive from an earlier run that kept it).</summary>
    public string SessionName { get; set; } = "hosted-worker";

    /// <summary>The job: code run in the session on every tick.</summary>
    public string Code { get; set; } = "print('hello')";

    /// <summary>Time between jobs.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Keep the session on the server when the host stops (default: destroy it).</summary>
    public bool KeepSessionOnShutdown { get; set; }
}

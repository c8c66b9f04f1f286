using System.Text.Json.Nodes;

namespace BackendAI.Local.Kernels;

/// <summary>An app service a session offers (an entry of <c>servicePorts</c> / the apps list).</summary>
/// <param name="Name">Service name, e.g. <c>http</c>.</param>
/// <param name="Protocol"><c>http</c>, <c>tcp</c>, <c>preopen</c> or <c>pty</c>.</param>
/// <param name="Ports">Its container ports (the first is the default).</param>
/// <param name="UrlTemplate">Optional URL template, e.g. <c>{protocol}://{host}:{port}/</c>.</param>
public sealed record KernelServicePort(string Name, string Protocol, IReadOnlyList<int> Ports, string? UrlTemplate = null)
{
    /// <summary>The wire shape: <c>{"name", "protocol", "ports", "url_template"?}</c>.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["name"] = Name,
            ["protocol"] = Protocol,
            ["ports"] = new JsonArray(Ports.Select(p => (JsonNode)JsonValue.Create(p)).ToArray()),
        };
        if (UrlTemplate is not null) o["url_template"] = UrlTemplate;
        return o;
    }
}

/// <summary>
/// Optional capability of a kernel: app services reachable over TCP (the stream proxy
/// <c>/stream/session/{id}/tcpproxy</c> uses it). Kernels without services do not implement it.
/// </summary>
public interface IKernelAppServices
{
    /// <summary>The services this kernel offers (empty when none).</summary>
    IReadOnlyList<KernelServicePort> ServicePorts { get; }

    /// <summary>
    /// Starts the service if it is not running (idempotent) and returns the local TCP endpoint that
    /// serves <paramref name="containerPort"/>. Throws <see cref="InvalidOperationException"/> when it cannot start.
    /// </summary>
    Task<System.Net.IPEndPoint> StartServiceAsync(string name, int containerPort, CancellationToken cancellationToken);
}

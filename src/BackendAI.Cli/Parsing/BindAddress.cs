using System.Globalization;
using System.Net;

namespace BackendAI.Cli.Parsing;

/// <summary>The <c>app -b [HOST:]PORT</c> listen address (default <c>127.0.0.1:8080</c>; a bare port means <c>127.0.0.1</c>).</summary>
/// <param name="Host">The host or IP as given.</param>
/// <param name="Port">The TCP port (0 = any free port).</param>
public sealed record BindAddress(string Host, int Port)
{
    /// <summary>Parses <c>PORT</c>, <c>HOST:PORT</c> or <c>[IPv6]:PORT</c>.</summary>
    public static BindAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Trim();
        string host = "127.0.0.1";
        string portText = s;
        var colon = s.LastIndexOf(':');
        if (colon >= 0)
        {
            host = s[..colon];
            portText = s[(colon + 1)..];
            if (host.StartsWith('[') && host.EndsWith(']'))
                host = host[1..^1];
            if (host.Length == 0)
                throw new CliUsageException($"Invalid -b/--bind \"{text}\": the host is empty.");
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new CliUsageException($"Invalid -b/--bind \"{text}\": \"{portText}\" is not a port number (0-65535).");
        return new BindAddress(host, port);
    }

    /// <summary>The address to listen on: an IP as given, <c>localhost</c> as loopback, <c>0.0.0.0</c>/<c>*</c> as any.</summary>
    public IPAddress ResolveAddress()
    {
        if (Host is "*" or "0.0.0.0")
            return IPAddress.Any;
        if (string.Equals(Host, "localhost", StringComparison.OrdinalIgnoreCase))
            return IPAddress.Loopback;
        if (IPAddress.TryParse(Host, out var ip))
            return ip;
        var addresses = Dns.GetHostAddresses(Host);
        return addresses.Length > 0 ? addresses[0] : throw new CliUsageException($"Cannot resolve the bind host \"{Host}\".");
    }
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using BackendAI.Client.Errors;
using BackendAI.Client.Rest;

namespace BackendAI.Client.Diagnostics;

/// <summary>
/// The names of the client's <see cref="ActivitySource"/> and <see cref="Meter"/> (both <c>BackendAI.Client</c>), for
/// <c>AddSource</c>/<c>AddMeter</c>. Spans: <c>BackendAIClient.&lt;Operation&gt;</c> per API call (e.g.
/// <c>BackendAIClient.StartSession</c>, <c>.Execute</c>, <c>.DestroySession</c>, <c>.Upload</c>, <c>.Download</c>),
/// tagged with the method, the route template (never the full URL or query), the status code and the session
/// reference. Instrument: <c>backendai.client.request.duration</c> (seconds; tags method, status class, endpoint host).
/// Keys and signatures are never recorded.
/// </summary>
public static class ClientTelemetry
{
    /// <summary>The activity source name.</summary>
    public const string ActivitySourceName = "BackendAI.Client";

    /// <summary>The meter name.</summary>
    public const string MeterName = "BackendAI.Client";

    /// <summary>The request duration histogram (seconds).</summary>
    public const string RequestDuration = "backendai.client.request.duration";

    internal static readonly ActivitySource Source = new(ActivitySourceName, typeof(ClientTelemetry).Assembly.GetName().Version?.ToString());
    internal static readonly Meter Meter = new(MeterName, typeof(ClientTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly Histogram<double> s_duration = Meter.CreateHistogram<double>(RequestDuration, "s",
        "Duration of Backend.AI API calls, retries included, until the response headers arrive.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });

    /// <summary>True when someone listens to the span or the histogram (otherwise calls are not wrapped at all).</summary>
    internal static bool IsActive => Source.HasListeners() || s_duration.Enabled;

    /// <summary>Sends <paramref name="request"/> through <paramref name="transport"/> inside a span, recording its duration.</summary>
    internal static async Task<HttpResponseMessage> TraceAsync(ApiTransport transport, ApiRequest request, CancellationToken ct)
    {
        var route = Route.Of(request.Method, request.Path);
        var host = transport.CurrentEndpoint.Host;
        using var activity = Source.StartActivity(route.SpanName, ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("http.request.method", request.Method.Method);
            activity.SetTag("http.route", route.Template);
            activity.SetTag("server.address", host);
            if (route.SessionRef is { } sessionRef) activity.SetTag("backendai.session.id", sessionRef);
        }
        var started = Stopwatch.GetTimestamp();
        int? status = null;
        try
        {
            var response = await transport.SendCoreAsync(request, ct).ConfigureAwait(false);
            status = (int)response.StatusCode;
            return response;
        }
        catch (BackendApiException ex)
        {
            status = ex.Status;
            activity?.SetStatus(ActivityStatusCode.Error, ex.ErrorType);
            throw;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            activity?.SetTag("error.type", ex.GetType().FullName);
            throw;
        }
        finally
        {
            if (status is { } s) activity?.SetTag("http.response.status_code", s);
            if (s_duration.Enabled)
            {
                var tags = new TagList
                {
                    { "http.request.method", request.Method.Method },
                    { "http.response.status_class", StatusClass(status) },
                    { "server.address", host },
                };
                s_duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            }
        }
    }

    internal static string StatusClass(int? status) => status switch
    {
        null => "error",
        < 200 => "1xx",
        < 300 => "2xx",
        < 400 => "3xx",
        < 500 => "4xx",
        _ => "5xx",
    };

    /// <summary>
    /// A request's operation name and route template: the path with session and vfolder names replaced by
    /// placeholders, so spans never carry a full URL or query string.
    /// </summary>
    internal readonly record struct Route(string SpanName, string Template, string? SessionRef)
    {
        public static Route Of(HttpMethod method, string path)
        {
            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (segments.Length == 0) return new("BackendAIClient.Request", "/", null);
            var m = method.Method;
            switch (segments[0])
            {
                case "session" or "kernel" or "compute-session":
                {
                    var prefix = "/" + segments[0];
                    if (segments.Length == 1) return new(m == "POST" ? "BackendAIClient.StartSession" : "BackendAIClient.Request", prefix, null);
                    if (segments[1] == "_")
                    {
                        var rest = string.Join('/', segments.Skip(1));
                        var name = rest switch
                        {
                            "_/create-from-template" => "BackendAIClient.StartSessionFromTemplate",
                            "_/match" => "BackendAIClient.MatchSessions",
                            _ => "BackendAIClient.Request",
                        };
                        return new(name, prefix + "/" + rest, null);
                    }
                    var sessionRef = Uri.UnescapeDataString(segments[1]);
                    if (segments.Length == 2)
                    {
                        var name = m switch
                        {
                            "POST" => "BackendAIClient.Execute",
                            "GET" => "BackendAIClient.GetSessionInfo",
                            "DELETE" => "BackendAIClient.DestroySession",
                            "PATCH" => "BackendAIClient.RestartSession",
                            _ => "BackendAIClient.Request",
                        };
                        return new(name, prefix + "/{session}", sessionRef);
                    }
                    var action = segments[2];
                    var op = action switch
                    {
                        "upload" => "BackendAIClient.Upload",
                        "download" or "download_single" => "BackendAIClient.Download",
                        "files" => "BackendAIClient.ListFiles",
                        "logs" => "BackendAIClient.GetLogs",
                        "interrupt" => "BackendAIClient.Interrupt",
                        "complete" => "BackendAIClient.Complete",
                        "rename" => "BackendAIClient.RenameSession",
                        _ => "BackendAIClient.Request",
                    };
                    return new(op, prefix + "/{session}/" + (op == "BackendAIClient.Request" ? "{action}" : action), sessionRef);
                }
                case "folders":
                    if (segments.Length == 1) return new("BackendAIClient.VFolders", "/folders", null);
                    if (segments[1] == "_") return new("BackendAIClient.VFolders", "/folders/_/" + (segments.Length > 2 ? segments[2] : ""), null);
                    return new("BackendAIClient.VFolders", segments.Length > 2 ? "/folders/{name}/" + segments[2] : "/folders/{name}", null);
                case "events":
                    return segments.Length > 1 && segments[1] == "session"
                        ? new("BackendAIClient.OpenSessionEvents", "/events/session", null)
                        : new("BackendAIClient.OpenBackgroundTaskEvents", "/events/background-task", null);
                case "stream":
                    if (segments.Length > 2 && segments[2] != "_")
                        return new("BackendAIClient.Stream", "/stream/" + segments[1] + "/{session}" + (segments.Length > 3 ? "/" + segments[3] : ""),
                            Uri.UnescapeDataString(segments[2]));
                    return new("BackendAIClient.OpenSessionEvents", "/stream/kernel/_/events", null);
                case "admin":
                    return new("BackendAIClient.GraphQL", "/admin/" + (segments.Length > 1 ? segments[1] : ""), null);
                default:
                    // Fixed routes (/manager/status, /auth/test, /scaling-groups, /server/login …): two segments at most.
                    return new("BackendAIClient.Request", "/" + string.Join('/', segments.Take(2)), null);
            }
        }
    }
}

using BackendAI.Local.Events;
using BackendAI.Local.GraphQL;
using BackendAI.Local.Kernels;
using BackendAI.Local.Sessions;
using BackendAI.Local.Streams;
using BackendAI.Local.Templates;
using BackendAI.Local.VFolders;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace BackendAI.Local.Hosting;

/// <summary>Builds the local server's web application (services, middleware, endpoints).</summary>
internal static class LocalServer
{
    public static WebApplication Build(LocalBackendOptions options, LocalBackendPaths paths, FaultInjection faults,
        Action<ILoggingBuilder>? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = typeof(LocalServer).Assembly.GetName().Name });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            k.Limits.MaxRequestBodySize = 64L << 20;
        });
        var urls = options.Urls.Count > 0 ? [.. options.Urls] : new[] { $"http://{HostForUrl(options.Host)}:{options.Port}" };
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();
        if (logging is not null) logging(builder.Logging);
        else builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(paths);
        services.AddSingleton(faults);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<LocalKeypairStore>();
        services.AddSingleton<IKeypairStore>(sp => sp.GetRequiredService<LocalKeypairStore>());
        services.AddSingleton<RateLimiter>();
        services.AddSingleton<ManagerState>();
        services.AddSingleton<CookieSessions>();
        services.AddSingleton<SessionEventBus>();
        services.AddSingleton<BackgroundTaskRegistry>();
        services.AddSingleton<IBackgroundTasks>(sp => sp.GetRequiredService<BackgroundTaskRegistry>());
        services.AddLocalKernels(); // applies ImageRunners / SimDelay / SimOutputSize from the registered LocalBackendOptions
        services.AddSingleton(sp => new SessionRegistry(
            options, paths, sp.GetRequiredService<IKernelFactory>(), sp.GetRequiredService<SessionEventBus>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<SessionRegistry>>(),
            sp.GetService<IVFolderMountResolver>()));
        services.AddSingleton<ISessionQuerySource>(sp => sp.GetRequiredService<SessionRegistry>());
        services.AddSingleton<ISessionResolver>(sp => sp.GetRequiredService<SessionRegistry>());
        services.AddSingleton<IAgentInfo>(sp => sp.GetRequiredService<SessionRegistry>());
        services.AddLocalVFolders(paths);
        services.AddLocalTemplates();
        services.AddLocalGraphQL();
        services.AddRouting();

        var app = builder.Build();
        app.UseMiddleware<ErrorMiddleware>();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.UseRouting();
        app.UseMiddleware<AuthMiddleware>();
        app.MapCoreEndpoints();
        CookieSessions.MapCookieEndpoints(app);
        app.MapSessionEndpoints();
        app.MapEventEndpoints();
        app.MapStreamEndpoints();
        app.MapVFolderEndpoints();
        app.MapTemplateEndpoints();
        app.MapGraphQLEndpoints();
        return app;
    }

    private static string HostForUrl(string host) => host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
}

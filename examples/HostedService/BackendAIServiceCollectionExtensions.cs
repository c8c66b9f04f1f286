using Akka.Actor;
using Akka.Hosting;
using BackendAI.Actors;
using BackendAI.Client.Config;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BackendAI.Examples.HostedService;

/// <summary>The <c>BackendAI</c> configuration section: where to connect. Empty values fall back to <c>BACKEND_*</c> variables.</summary>
public sealed class BackendAIConnectionOptions
{
    /// <summary>The API endpoint, e.g. <c>https://api.backend.ai</c>.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The access key.</summary>
    public string? AccessKey { get; set; }

    /// <summary>The secret key (never logged).</summary>
    public string? SecretKey { get; set; }

    /// <summary>The client options these settings describe, on top of <see cref="BackendAIClientOptions.FromEnvironment"/>.</summary>
    public BackendAIClientOptions ToClientOptions()
    {
        var o = BackendAIClientOptions.FromEnvironment();
        if (Endpoint is not null) o.Endpoints = [Endpoint];
        if (!string.IsNullOrEmpty(AccessKey)) o.AccessKey = AccessKey;
        if (!string.IsNullOrEmpty(SecretKey)) o.SecretKey = SecretKey;
        o.Validate();
        return o;
    }

    /// <inheritdoc />
    public override string ToString() => $"BackendAIConnectionOptions({Endpoint}, {AccessKey})";
}

/// <summary>Registers the Backend.AI runtime in a Generic Host.</summary>
public static class BackendAIServiceCollectionExtensions
{
    /// <summary>
    /// Adds an <see cref="ActorSystem"/> (Akka.Hosting; Akka's log events go to Microsoft.Extensions.Logging) and a
    /// singleton <see cref="BackendAIRuntime"/> attached to it, configured from <paramref name="section"/>
    /// (<see cref="BackendAIConnectionOptions"/>; validated on first use). The host disposes the runtime on shutdown.
    /// </summary>
    public static IServiceCollection AddBackendAI(this IServiceCollection services, IConfiguration section, string actorSystemName = "backendai")
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<BackendAIConnectionOptions>().Bind(section)
            .Validate(o => o.Endpoint is not null || !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("BACKEND_ENDPOINT")),
                "BackendAI:Endpoint (or BACKEND_ENDPOINT) is required.");
        services.AddAkka(actorSystemName, builder => builder.ConfigureLoggers(loggers =>
        {
            loggers.ClearLoggers();
            loggers.AddLoggerFactory();
        }));
        services.AddSingleton(sp => BackendAIRuntime.Attach(
            sp.GetRequiredService<ActorSystem>(),
            sp.GetRequiredService<IOptions<BackendAIConnectionOptions>>().Value.ToClientOptions(),
            sp.GetRequiredService<ILoggerFactory>()));
        return services;
    }
}

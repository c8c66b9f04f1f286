using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace BackendAI.Local.Kernels;

/// <summary>DI registration of the kernel runners.</summary>
public static class KernelServices
{
    /// <summary>
    /// Registers the <see cref="IKernelFactory"/> with <see cref="LocalKernelOptions"/>; when a
    /// <see cref="LocalBackendOptions"/> is registered, its image map and sim settings apply.
    /// </summary>
    public static IServiceCollection AddLocalKernels(this IServiceCollection services) => services.AddLocalKernels(null);

    /// <summary>
    /// Registers the <see cref="IKernelFactory"/>; <paramref name="configure"/> adjusts <see cref="LocalKernelOptions"/>
    /// after the settings taken from a registered <see cref="LocalBackendOptions"/>.
    /// </summary>
    public static IServiceCollection AddLocalKernels(this IServiceCollection services, Action<LocalKernelOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<LocalKernelOptions>();
        services.AddSingleton<IConfigureOptions<LocalKernelOptions>>(sp => new ConfigureOptions<LocalKernelOptions>(o =>
        {
            if (sp.GetService<LocalBackendOptions>() is { } server) ApplyServerOptions(server, o);
        }));
        if (configure is not null) services.Configure(configure);
        services.TryAddSingleton<IKernelFactory>(sp =>
            new LocalKernelFactory(sp.GetRequiredService<IOptions<LocalKernelOptions>>().Value));
        return services;
    }

    /// <summary>Copies the server's kernel settings: image rules go first (in their order), a positive sim delay is fixed.</summary>
    internal static void ApplyServerOptions(LocalBackendOptions server, LocalKernelOptions options)
    {
        var i = 0;
        foreach (var (pattern, runner) in server.ImageRunners) options.Images.Insert(i++, new KernelImageRule(pattern, runner));
        if (server.SimDelay is { } simDelay && simDelay > TimeSpan.Zero)
        {
            options.SimMinDelay = simDelay;
            options.SimMaxDelay = simDelay;
        }
        if (server.SimOutputSize > 0) options.SimOutputSize = server.SimOutputSize;
    }
}

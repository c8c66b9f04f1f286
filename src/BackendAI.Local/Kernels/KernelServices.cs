using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace BackendAI.Local.Kernels;

/// <summary>DI registration of the kernel runners.</summary>
public static class KernelServices
{
    /// <summary>Registers the <see cref="IKernelFactory"/> with default <see cref="LocalKernelOptions"/>.</summary>
    public static IServiceCollection AddLocalKernels(this IServiceCollection services) => services.AddLocalKernels(null);

    /// <summary>Registers the <see cref="IKernelFactory"/>; <paramref name="configure"/> adjusts <see cref="LocalKernelOptions"/>.</summary>
    public static IServiceCollection AddLocalKernels(this IServiceCollection services, Action<LocalKernelOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<LocalKernelOptions>();
        if (configure is not null) builder.Configure(configure);
        services.TryAddSingleton<IKernelFactory>(sp =>
            new LocalKernelFactory(sp.GetRequiredService<IOptions<LocalKernelOptions>>().Value));
        return services;
    }
}

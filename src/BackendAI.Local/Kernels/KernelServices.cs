namespace BackendAI.Local.Kernels;

/// <summary>DI registration of the kernel runners.</summary>
public static class KernelServices
{
    /// <summary>Registers an <see cref="IKernelFactory"/>. (Placeholder until the kernels area lands.)</summary>
    public static IServiceCollection AddLocalKernels(this IServiceCollection services) => services;
}

using System.Text.RegularExpressions;

namespace BackendAI.Local.Kernels;

/// <summary>Creates python, bash and sim kernels according to <see cref="LocalKernelOptions.Images"/>.</summary>
public sealed class LocalKernelFactory : IKernelFactory
{
    private readonly LocalKernelOptions _options;
    private readonly (Regex Pattern, string Runner)[] _rules;

    /// <summary>Creates the factory; throws <see cref="ArgumentException"/> for invalid options.</summary>
    public LocalKernelFactory(LocalKernelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _rules = options.Images.Select(r => (GlobToRegex(r.Pattern), r.Runner)).ToArray();
    }

    /// <summary>The runner name for an image, or null when none matches.</summary>
    public string? RunnerFor(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        foreach (var (pattern, runner) in _rules)
            if (pattern.IsMatch(image)) return runner;
        return null;
    }

    /// <inheritdoc />
    public bool Supports(string image) => RunnerFor(image) is not null;

    /// <inheritdoc />
    public IKernel Create(KernelStartInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return RunnerFor(info.Image) switch
        {
            "sim" => new SimKernel(info, _options),
            "python" => new PythonKernel(info, _options),
            "bash" => new BashKernel(info, _options),
            _ => throw new ArgumentException($"No kernel runner serves the image '{info.Image}'.", nameof(info)),
        };
    }

    internal static Regex GlobToRegex(string glob)
    {
        var body = Regex.Escape(glob).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal);
        return new Regex("^" + body + "$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }
}

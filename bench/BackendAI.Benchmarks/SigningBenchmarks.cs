using BackendAI.Client.Auth;
using BenchmarkDotNet.Attributes;

namespace BackendAI.Benchmarks;

/// <summary>Target: ≥ 300,000 signatures per second with cached derived keys.</summary>
[MemoryDiagnoser]
public class SigningBenchmarks
{
    private readonly RequestSigner _signer = new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    private readonly SignatureInput _input = new(
        "GET", "/events/session?sessionName=mysess&scope=*", "2022-03-15T10:20:30.123456+00:00",
        "127.0.0.1:8081", "application/octet-stream", "v6.20220315");

    [GlobalSetup]
    public void Setup() => _signer.Sign(_input, "20220315"); // warm the derived-key cache

    [Benchmark(Baseline = true)]
    public string Sign_with_day_key() => _signer.Sign(_input, "20220315");

    [Benchmark]
    public string Sign_deriving_day_key() => _signer.Sign(_input);

    [Benchmark]
    public string Authorization_header() => _signer.Authorization(_input, "20220315");
}

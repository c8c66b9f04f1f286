using BackendAI.Benchmarks;
using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "sse-throughput") return await SseThroughput.RunAsync(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(SseThroughput).Assembly).Run(args);
return 0;

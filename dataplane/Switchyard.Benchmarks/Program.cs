using BenchmarkDotNet.Running;

// Benchmarks, never timed tests: `dotnet run -c Release --project dataplane/Switchyard.Benchmarks -- --filter '*'`.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

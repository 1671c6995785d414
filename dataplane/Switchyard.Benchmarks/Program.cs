using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// Benchmarks, never timed tests:
//   dotnet run -c Release --project dataplane/Switchyard.Benchmarks -- --filter '*TrackReader*'
// They run in-process: BenchmarkDotNet's generated project would inherit this repository's Directory.Build.props.
if (args is ["quic-download", ..])
{
    // Not a BenchmarkDotNet benchmark: real peers side by side (see Quic/QuicDownloadBenchmark.cs).
    Environment.ExitCode = await Switchyard.Benchmarks.Quic.QuicDownloadBenchmark.RunAsync(args[1..]).ConfigureAwait(false);
    return;
}

var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddColumn(new Switchyard.Benchmarks.ThroughputColumn())
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);

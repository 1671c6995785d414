using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// Benchmarks, never timed tests:
//   dotnet run -c Release --project dataplane/Switchyard.Benchmarks -- --filter '*TrackReader*'
// They run in-process: BenchmarkDotNet's generated project would inherit this repository's Directory.Build.props.
// The side-by-side runners are subcommands (see README.md next to this file); they are not BenchmarkDotNet benchmarks
// but real peers measured from outside.
Func<string[], Task<int>>? runner = args switch
{
    ["quic-download", ..] => Switchyard.Benchmarks.Quic.QuicDownloadBenchmark.RunAsync,
    ["wt-clients", ..] => Switchyard.Benchmarks.WebTransport.WtClientsBenchmark.RunAsync,
    ["http-proxy", ..] => Switchyard.Benchmarks.Http.HttpProxyBenchmark.RunAsync,

    // The child role of http-proxy: our ProxyServer alone in a process, so /proc measures only it.
    ["http-proxy-serve", ..] => Switchyard.Benchmarks.Http.ProxyChild.RunAsync,
    _ => null,
};
if (runner is not null)
{
    Environment.ExitCode = await runner(args[1..]).ConfigureAwait(false);
    return;
}

var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddColumn(new Switchyard.Benchmarks.ThroughputColumn())
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);

using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

using Switchyard.Benchmarks.Harness;

namespace Switchyard.Benchmarks.Quic;

/// <summary>
/// Side by side: ngtcp2's <c>gtlsclient</c> downloads one large file over loopback from <c>switchyard interop server</c>
/// (the managed QUIC stack) and from ngtcp2's <c>gtlsserver</c> (the reference), alternating, N times each. It records
/// wall time, the server's CPU (user + system from /proc/PID/stat) and the client's CPU (getrusage of reaped children),
/// writes <c>quic-download.json</c> and a hand-drawn <c>quic-download.svg</c>, and prints reference time / our time.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project dataplane/Switchyard.Benchmarks -- quic-download [--size-mb 200] [--runs 3]
/// [--out DIR] [--switchyard PATH/switchyard.dll]</c>. Needs the ngtcp2-client and ngtcp2-server Debian packages and a
/// Release build of controller/Switchyard. Each server gets one unmeasured warm-up download (JIT, page cache).
/// </remarks>
internal static class QuicDownloadBenchmark
{
    private sealed record Settings(int SizeMb, int Runs, string OutDirectory, string SwitchyardDll, TimeSpan Timeout);

    /// <summary>One measured download.</summary>
    internal sealed record Run(int Index, double WallSeconds, double ServerCpuSeconds, double ClientCpuSeconds, double MegabitsPerSecond);

    private sealed record Contender(string Name, string Description, IReadOnlyList<Run> Runs);

    public static async Task<int> RunAsync(string[] args)
    {
        Settings settings;
        try
        {
            settings = Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"quic-download: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        var gtlsClient = Peers.Which("gtlsclient");
        var gtlsServer = Peers.Which("gtlsserver");
        if (gtlsClient is null || gtlsServer is null)
        {
            await Console.Error.WriteLineAsync("quic-download: gtlsclient and gtlsserver are needed (apt-get install ngtcp2-client ngtcp2-server).").ConfigureAwait(false);
            return 2;
        }

        var work = Peers.TemporaryDirectory("quic-download");
        var www = Path.Combine(work, "www");
        Directory.CreateDirectory(www);
        try
        {
            // :: Material: a fresh ECDSA P-256 certificate and one random file.
            var (certPath, keyPath, _) = Peers.WriteCertificate(work);
            var fileName = $"download-{settings.SizeMb}mb.bin";
            var fileBytes = WriteRandomFile(Path.Combine(www, fileName), settings.SizeMb * 1_000_000L);
            Console.WriteLine($"quic-download: {fileBytes / 1e6:F0} MB, {settings.Runs} runs each, gtlsclient against switchyard and gtlsserver, {Environment.ProcessorCount} cores");

            // :: Servers: ours through the CLI, the reference as packaged.
            var ourPort = Peers.FreeUdpPort();
            using var ours = new ChildProcess(Peers.Which("dotnet") ?? "dotnet", [settings.SwitchyardDll, "interop", "server", "--listen", $"127.0.0.1:{ourPort}", "--www", www, "--cert", certPath, "--key", keyPath]);
            var referencePort = Peers.FreeUdpPort();
            using var reference = new ChildProcess(gtlsServer, ["-q", "-d", www, "127.0.0.1", referencePort.ToString(CultureInfo.InvariantCulture), keyPath, certPath]);
            Peers.WaitForUdpPort(ours, ourPort);
            Peers.WaitForUdpPort(reference, referencePort);

            // :: Warm-up, then alternate so both see the same machine.
            await DownloadAsync(gtlsClient, ours, ourPort, fileName, fileBytes, 0, settings.Timeout).ConfigureAwait(false);
            await DownloadAsync(gtlsClient, reference, referencePort, fileName, fileBytes, 0, settings.Timeout).ConfigureAwait(false);
            var ourRuns = new List<Run>();
            var referenceRuns = new List<Run>();
            for (var i = 1; i <= settings.Runs; i++)
            {
                ourRuns.Add(await DownloadAsync(gtlsClient, ours, ourPort, fileName, fileBytes, i, settings.Timeout).ConfigureAwait(false));
                referenceRuns.Add(await DownloadAsync(gtlsClient, reference, referencePort, fileName, fileBytes, i, settings.Timeout).ConfigureAwait(false));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  run {i}: switchyard {ourRuns[^1].WallSeconds:F2} s (server CPU {ourRuns[^1].ServerCpuSeconds:F2} s), gtlsserver {referenceRuns[^1].WallSeconds:F2} s (server CPU {referenceRuns[^1].ServerCpuSeconds:F2} s)"));
            }

            // :: Results.
            var contenders = new[]
            {
                new Contender("switchyard", "switchyard interop server (managed QUIC, HTTP/3)", ourRuns),
                new Contender("gtlsserver", "ngtcp2 gtlsserver (reference)", referenceRuns),
            };
            var wallRatio = Median(referenceRuns, r => r.WallSeconds) / Median(ourRuns, r => r.WallSeconds);
            var cpuRatio = Median(referenceRuns, r => r.ServerCpuSeconds) / Median(ourRuns, r => r.ServerCpuSeconds);
            Directory.CreateDirectory(settings.OutDirectory);
            var (jsonPath, svgPath) = await Report.WriteAsync(settings.OutDirectory, "quic-download",
                ToJson(fileBytes, settings, contenders, wallRatio, cpuRatio), ToSvg(fileBytes, contenders, wallRatio, cpuRatio)).ConfigureAwait(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ratio reference_time / our_time = {wallRatio:F3} (medians: gtlsserver {Median(referenceRuns, r => r.WallSeconds):F2} s, switchyard {Median(ourRuns, r => r.WallSeconds):F2} s); server CPU ratio reference / ours = {cpuRatio:F3}"));
            Console.WriteLine($"wrote {jsonPath} and {svgPath}");
            return 0;
        }
        catch (BenchmarkFailedException e)
        {
            await Console.Error.WriteLineAsync($"quic-download: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            Peers.DeleteDirectory(work);
        }
    }

    private static Settings Parse(string[] args)
    {
        int sizeMb = 200, runs = 3;
        string? outDirectory = null, dll = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--size-mb": sizeMb = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--out": outDirectory = Value(); break;
                case "--switchyard": dll = Value(); break;
                default: throw new ArgumentException($"unknown option {args[i]} (known: --size-mb, --runs, --out, --switchyard)");
            }
        }

        if (sizeMb < 1 || runs < 1)
        {
            throw new ArgumentException("--size-mb and --runs must be positive");
        }

        dll ??= Peers.FindSwitchyardDll() ?? throw new ArgumentException("controller/Switchyard/bin/Release/net10.0/switchyard.dll not found: build controller/Switchyard -c Release or pass --switchyard");
        if (!File.Exists(dll))
        {
            throw new ArgumentException($"{dll} does not exist");
        }

        return new Settings(sizeMb, runs, outDirectory ?? Path.Combine(Environment.CurrentDirectory, "BenchmarkDotNet.Artifacts"), dll, TimeSpan.FromSeconds(30 + sizeMb));
    }

    /// <summary>One gtlsclient download, measured: wall time around the client, CPU deltas around it.</summary>
    private static async Task<Run> DownloadAsync(string gtlsClient, ChildProcess server, int port, string fileName, long fileBytes, int index, TimeSpan timeout)
    {
        var serverCpuBefore = ProcessMeter.CpuSeconds(server.Process.Id);
        var childrenBefore = ProcessMeter.ReapedChildrenCpuSeconds();
        var clock = Stopwatch.StartNew();
        using var client = new ChildProcess(gtlsClient, ["-q", "--exit-on-all-streams-close", "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), $"https://127.0.0.1:{port}/{fileName}"]);
        using (var cts = new CancellationTokenSource(timeout))
        {
            try
            {
                await client.Process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new BenchmarkFailedException($"gtlsclient did not finish within {timeout.TotalSeconds:F0} s from port {port}.\n{client.Output}\nserver:\n{server.Output}");
            }
        }

        var wall = clock.Elapsed.TotalSeconds;
        client.Process.WaitForExit();
        var serverCpu = ProcessMeter.CpuSeconds(server.Process.Id) - serverCpuBefore;
        var clientCpu = ProcessMeter.ReapedChildrenCpuSeconds() - childrenBefore;
        if (client.Process.ExitCode != 0)
        {
            throw new BenchmarkFailedException($"gtlsclient exited with {client.Process.ExitCode} from port {port}.\n{client.Output}\nserver:\n{server.Output}");
        }

        return new Run(index, wall, serverCpu, clientCpu, fileBytes * 8 / 1e6 / wall);
    }

    private static Dictionary<string, object?> ToJson(long fileBytes, Settings settings, Contender[] contenders, double wallRatio, double cpuRatio)
    {
        var document = new Dictionary<string, object?>
        {
            ["benchmark"] = "quic-download",
            ["description"] = "gtlsclient downloads one file over loopback from each server, alternating; wall time of the client, CPU of the server process",
            ["timestamp_utc"] = Report.UtcNow(),
            ["file_bytes"] = fileBytes,
            ["runs_per_server"] = settings.Runs,
            ["machine"] = Report.Machine(),
            ["servers"] = contenders.Select(c => new Dictionary<string, object?>
            {
                ["name"] = c.Name,
                ["description"] = c.Description,
                ["runs"] = c.Runs.Select(r => new Dictionary<string, object?>
                {
                    ["run"] = r.Index,
                    ["wall_seconds"] = Math.Round(r.WallSeconds, 4),
                    ["server_cpu_seconds"] = Math.Round(r.ServerCpuSeconds, 3),
                    ["client_cpu_seconds"] = double.IsNaN(r.ClientCpuSeconds) ? null : Math.Round(r.ClientCpuSeconds, 3),
                    ["megabits_per_second"] = Math.Round(r.MegabitsPerSecond, 1),
                }).ToList(),
                ["median_wall_seconds"] = Math.Round(Median(c.Runs, r => r.WallSeconds), 4),
                ["median_server_cpu_seconds"] = Math.Round(Median(c.Runs, r => r.ServerCpuSeconds), 3),
            }).ToList(),
            ["ratio_reference_time_over_our_time"] = Math.Round(wallRatio, 4),
            ["ratio_reference_server_cpu_over_our_server_cpu"] = Math.Round(cpuRatio, 4),
        };
        return document;
    }

    /// <summary>Two panels (wall time, server CPU), one bar per run and server.</summary>
    private static string ToSvg(long fileBytes, Contender[] contenders, double wallRatio, double cpuRatio)
    {
        var groups = Enumerable.Range(1, contenders.Max(c => c.Runs.Count)).Select(r => $"run {r}").ToList();
        ChartPanel Panel(string title, Func<Run, double> value) => new(title, groups,
            contenders.Select(c => new ChartSeries(c.Name, c.Runs.Select(r => (double?)value(r)).ToList())).ToList());
        return BarChart.Render(
            $"QUIC download of {fileBytes / 1e6:F0} MB by gtlsclient over loopback",
            string.Create(CultureInfo.InvariantCulture, $"reference time / our time = {wallRatio:F2}; reference server CPU / ours = {cpuRatio:F2} (medians)"),
            [Panel("wall time (s)", r => r.WallSeconds), Panel("server CPU, user + sys (s)", r => r.ServerCpuSeconds)]);
    }

    private static double Median(IReadOnlyList<Run> runs, Func<Run, double> value) => Report.Median(runs, value);

    private static long WriteRandomFile(string path, long size)
    {
        var buffer = new byte[1 << 20];
        using var file = File.Create(path);
        for (long written = 0; written < size; written += buffer.Length)
        {
            RandomNumberGenerator.Fill(buffer);
            file.Write(buffer, 0, (int)Math.Min(buffer.Length, size - written));
        }

        return size;
    }
}

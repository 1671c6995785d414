using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

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

        var gtlsClient = Which("gtlsclient");
        var gtlsServer = Which("gtlsserver");
        if (gtlsClient is null || gtlsServer is null)
        {
            await Console.Error.WriteLineAsync("quic-download: gtlsclient and gtlsserver are needed (apt-get install ngtcp2-client ngtcp2-server).").ConfigureAwait(false);
            return 2;
        }

        var work = Path.Combine(Path.GetTempPath(), "switchyard-quic-download-" + Guid.NewGuid().ToString("N")[..8]);
        var www = Path.Combine(work, "www");
        Directory.CreateDirectory(www);
        try
        {
            // :: Material: a fresh ECDSA P-256 certificate and one random file.
            var (certPath, keyPath) = WriteCertificate(work);
            var fileName = $"download-{settings.SizeMb}mb.bin";
            var fileBytes = WriteRandomFile(Path.Combine(www, fileName), settings.SizeMb * 1_000_000L);
            Console.WriteLine($"quic-download: {fileBytes / 1e6:F0} MB, {settings.Runs} runs each, gtlsclient against switchyard and gtlsserver, {Environment.ProcessorCount} cores");

            // :: Servers: ours through the CLI, the reference as packaged.
            var ourPort = FreeUdpPort();
            using var ours = new ChildProcess(Which("dotnet") ?? "dotnet", [settings.SwitchyardDll, "interop", "server", "--listen", $"127.0.0.1:{ourPort}", "--www", www, "--cert", certPath, "--key", keyPath]);
            var referencePort = FreeUdpPort();
            using var reference = new ChildProcess(gtlsServer, ["-q", "-d", www, "127.0.0.1", referencePort.ToString(CultureInfo.InvariantCulture), keyPath, certPath]);
            WaitForPort(ours, ourPort);
            WaitForPort(reference, referencePort);

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
            var jsonPath = Path.Combine(settings.OutDirectory, "quic-download.json");
            var svgPath = Path.Combine(settings.OutDirectory, "quic-download.svg");
            await File.WriteAllTextAsync(jsonPath, ToJson(fileBytes, settings, contenders, wallRatio, cpuRatio)).ConfigureAwait(false);
            await File.WriteAllTextAsync(svgPath, ToSvg(fileBytes, contenders, wallRatio, cpuRatio)).ConfigureAwait(false);
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
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
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

        dll ??= FindSwitchyardDll() ?? throw new ArgumentException("controller/Switchyard/bin/Release/net10.0/switchyard.dll not found: build controller/Switchyard -c Release or pass --switchyard");
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

    private static string ToJson(long fileBytes, Settings settings, Contender[] contenders, double wallRatio, double cpuRatio)
    {
        var document = new Dictionary<string, object?>
        {
            ["benchmark"] = "quic-download",
            ["description"] = "gtlsclient downloads one file over loopback from each server, alternating; wall time of the client, CPU of the server process",
            ["timestamp_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["file_bytes"] = fileBytes,
            ["runs_per_server"] = settings.Runs,
            ["machine"] = new Dictionary<string, object?>
            {
                ["processor_count"] = Environment.ProcessorCount,
                ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                ["runtime"] = Environment.Version.ToString(),
                ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
            },
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
        return JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Two panels (wall time, server CPU), one bar per run and server, drawn by hand.</summary>
    internal static string ToSvg(long fileBytes, IReadOnlyList<(string Name, IReadOnlyList<Run> Runs)> contenders, double wallRatio, double cpuRatio)
    {
        const int width = 760, height = 380, top = 70, plotHeight = 230, panelWidth = 330, left = 50, gap = 40;
        string[] colours = ["#2b6cb0", "#dd6b20"];
        var svg = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        svg.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(inv, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        svg.Append(inv, $"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">QUIC download of {fileBytes / 1e6:F0} MB by gtlsclient over loopback</text>\n");
        svg.Append(inv, $"<text x=\"{width / 2}\" y=\"42\" text-anchor=\"middle\">reference time / our time = {wallRatio:F2}; reference server CPU / ours = {cpuRatio:F2} (medians)</text>\n");
        var panels = new (string Title, Func<Run, double> Value)[] { ("wall time (s)", r => r.WallSeconds), ("server CPU, user + sys (s)", r => r.ServerCpuSeconds) };
        for (var p = 0; p < panels.Length; p++)
        {
            var (title, value) = panels[p];
            var x0 = left + p * (panelWidth + gap);
            var max = contenders.SelectMany(c => c.Runs).Select(value).DefaultIfEmpty(1).Max();
            max = max <= 0 ? 1 : max * 1.15;
            svg.Append(inv, $"<text x=\"{x0 + panelWidth / 2}\" y=\"{top - 8}\" text-anchor=\"middle\" font-weight=\"bold\">{title}</text>\n");
            svg.Append(inv, $"<line x1=\"{x0}\" y1=\"{top + plotHeight}\" x2=\"{x0 + panelWidth}\" y2=\"{top + plotHeight}\" stroke=\"#333\"/>\n");
            svg.Append(inv, $"<line x1=\"{x0}\" y1=\"{top}\" x2=\"{x0}\" y2=\"{top + plotHeight}\" stroke=\"#333\"/>\n");
            for (var t = 0; t <= 4; t++)
            {
                var y = top + plotHeight - plotHeight * t / 4.0;
                svg.Append(inv, $"<text x=\"{x0 - 4}\" y=\"{y + 4:F1}\" text-anchor=\"end\" font-size=\"10\">{max * t / 4:F2}</text>\n");
                svg.Append(inv, $"<line x1=\"{x0}\" y1=\"{y:F1}\" x2=\"{x0 + panelWidth}\" y2=\"{y:F1}\" stroke=\"#ddd\"/>\n");
            }

            var runs = contenders.Max(c => c.Runs.Count);
            var groupWidth = panelWidth / (double)Math.Max(1, runs);
            var barWidth = groupWidth * 0.8 / contenders.Count;
            for (var r = 0; r < runs; r++)
            {
                var gx = x0 + r * groupWidth + groupWidth * 0.1;
                for (var c = 0; c < contenders.Count; c++)
                {
                    if (r >= contenders[c].Runs.Count)
                    {
                        continue;
                    }

                    var v = value(contenders[c].Runs[r]);
                    var h = plotHeight * v / max;
                    var bx = gx + c * barWidth;
                    svg.Append(inv, $"<rect x=\"{bx:F1}\" y=\"{top + plotHeight - h:F1}\" width=\"{barWidth - 2:F1}\" height=\"{h:F1}\" fill=\"{colours[c % colours.Length]}\"><title>{contenders[c].Name} run {r + 1}: {v:F3}</title></rect>\n");
                    svg.Append(inv, $"<text x=\"{bx + (barWidth - 2) / 2:F1}\" y=\"{top + plotHeight - h - 3:F1}\" text-anchor=\"middle\" font-size=\"9\">{v:F2}</text>\n");
                }

                svg.Append(inv, $"<text x=\"{gx + groupWidth * 0.4:F1}\" y=\"{top + plotHeight + 15}\" text-anchor=\"middle\" font-size=\"10\">run {r + 1}</text>\n");
            }
        }

        for (var c = 0; c < contenders.Count; c++)
        {
            var lx = left + c * 200;
            svg.Append(inv, $"<rect x=\"{lx}\" y=\"{height - 32}\" width=\"14\" height=\"14\" fill=\"{colours[c % colours.Length]}\"/>\n");
            svg.Append(inv, $"<text x=\"{lx + 20}\" y=\"{height - 20}\">{contenders[c].Name}</text>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string ToSvg(long fileBytes, Contender[] contenders, double wallRatio, double cpuRatio) =>
        ToSvg(fileBytes, contenders.Select(c => (c.Name, c.Runs)).ToList(), wallRatio, cpuRatio);

    private static double Median(IReadOnlyList<Run> runs, Func<Run, double> value)
    {
        var sorted = runs.Select(value).Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static (string Cert, string Key) WriteCertificate(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certPath = Path.Combine(directory, "cert.pem");
        var keyPath = Path.Combine(directory, "key.pem");
        File.WriteAllText(certPath, certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        return (certPath, keyPath);
    }

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

    private static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static void WaitForPort(ChildProcess server, int port)
    {
        var hex = ":" + port.ToString("X4", CultureInfo.InvariantCulture) + " ";
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.ReadLines("/proc/net/udp").Any(l => l.Contains(hex, StringComparison.Ordinal)))
        {
            if (server.Process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new BenchmarkFailedException($"{server.Process.StartInfo.FileName} did not bind udp/{port}.\n{server.Output}");
            }

            Thread.Sleep(50);
        }
    }

    private static string? FindSwitchyardDll()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Controller.sln")))
            {
                var dll = Path.Combine(directory.FullName, "controller", "Switchyard", "bin", "Release", "net10.0", "switchyard.dll");
                return File.Exists(dll) ? dll : null;
            }
        }

        return null;
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/usr/sbin", "/usr/local/bin"])
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);

    private sealed class BenchmarkFailedException(string message) : Exception(message);
}

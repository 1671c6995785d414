using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Switchyard.Benchmarks.Harness;

namespace Switchyard.Benchmarks.Http;

/// <summary>
/// Side by side: <c>wrk</c> against our HTTP/1.1 listener (<see cref="Switchyard.Proxy.Listeners.ProxyServer"/> with one
/// HTTPRoute, in a child process) and against nginx (Debian <c>nginx-light</c>, unprivileged, generated config), both
/// proxying to the same small Kestrel backend, alternating, with the same wrk parameters. Records requests/s, the
/// latency distribution, the proxy's CPU (user + sys from /proc, nginx's master and workers summed) and RSS, writes
/// <c>http-proxy.json</c> and <c>http-proxy.svg</c>, and prints our/nginx ratios.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project dataplane/Switchyard.Benchmarks -- http-proxy [--threads 2] [--connections 64]
/// [--seconds 10] [--runs 2] [--out DIR]</c>. Each proxy gets an unmeasured 5 s warm-up (JIT, connection pools).
/// </remarks>
internal static partial class HttpProxyBenchmark
{
    private static readonly byte[] Body = "hello from the backend\n"u8.ToArray();

    private sealed record Settings(int Threads, int Connections, int Seconds, int Runs, string OutDirectory);

    /// <summary>One wrk run against one proxy.</summary>
    private sealed record Run(int Index, double RequestsPerSecond, double P50Ms, double P90Ms, double P99Ms, long Requests, long Errors, double ProxyCpuSeconds, double ProxyCores, long ProxyRssBytes)
    {
        /// <summary>CPU seconds the proxy's tiered JIT spent during the run (0 for nginx).</summary>
        public double JitSeconds { get; init; }
    }

    private sealed record Contender(string Name, string Description, ChildProcess Process, int Port, List<Run> Runs);

    public static async Task<int> RunAsync(string[] args)
    {
        Settings settings;
        try
        {
            settings = Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"http-proxy: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        var wrk = Peers.Which("wrk");
        var nginx = Peers.Which("nginx");
        if (wrk is null || nginx is null)
        {
            await Console.Error.WriteLineAsync("http-proxy: wrk and nginx are needed (apt-get install wrk nginx-light).").ConfigureAwait(false);
            return 2;
        }

        var work = Peers.TemporaryDirectory("http-proxy");
        try
        {
            // :: The backend both proxies forward to: a fixed small body, HTTP/1.1 keep-alive.
            await using var backend = await KestrelBackend.StartAsync([0], context =>
            {
                context.Response.ContentType = "text/plain";
                context.Response.ContentLength = Body.Length;
                return context.Response.Body.WriteAsync(Body).AsTask();
            }).ConfigureAwait(false);
            var backendPort = backend.Ports[0];

            // :: The proxies: ours as a child of this program, nginx with a config of our own in a temp folder.
            var ourPort = Peers.FreeTcpPort();
            var (self, selfArguments) = Peers.Self();
            using var ours = new ChildProcess(self, [.. selfArguments, "http-proxy-serve", "--port", Invariant(ourPort), "--backend-port", Invariant(backendPort)]);
            var nginxPort = Peers.FreeTcpPort();
            var nginxConfig = WriteNginxConfig(work, nginxPort, backendPort, settings.Connections);
            using var reference = new ChildProcess(nginx, ["-p", work + "/", "-c", nginxConfig, "-e", Path.Combine(work, "error.log")]);
            Peers.WaitForTcpPort(ours, ourPort);
            Peers.WaitForTcpPort(reference, nginxPort);
            var contenders = new[]
            {
                new Contender("switchyard", "Switchyard.Proxy ProxyServer: HTTP listener, one HTTPRoute (PathPrefix /), pooled SocketsHttpHandler", ours, ourPort, []),
                new Contender("nginx", NginxVersion(nginx) + ": proxy_pass to an upstream with keepalive, access_log off, worker_processes auto", reference, nginxPort, []),
            };
            foreach (var contender in contenders)
            {
                await CheckAsync(contender).ConfigureAwait(false);
            }

            Console.WriteLine($"http-proxy: wrk -t{settings.Threads} -c{settings.Connections} -d{settings.Seconds}s --latency, {settings.Runs} runs each, switchyard and nginx against one Kestrel backend, {Environment.ProcessorCount} cores");

            // :: Warm-up, then alternate so both see the same machine.
            foreach (var contender in contenders)
            {
                await WrkAsync(wrk, settings with { Seconds = 5 }, contender, 0).ConfigureAwait(false);
            }

            for (var i = 1; i <= settings.Runs; i++)
            {
                foreach (var contender in contenders)
                {
                    var run = await WrkAsync(wrk, settings, contender, i).ConfigureAwait(false);
                    contender.Runs.Add(run);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  run {i} {contender.Name,-10}: {run.RequestsPerSecond,10:F0} req/s, p50 {run.P50Ms:F3} ms, p99 {run.P99Ms:F3} ms, errors {run.Errors}, proxy CPU {run.ProxyCores:F2} cores, RSS {run.ProxyRssBytes / 1048576.0:F0} MiB"));
                }
            }

            // :: Results.
            var rpsRatio = Report.Median(contenders[0].Runs, r => r.RequestsPerSecond) / Report.Median(contenders[1].Runs, r => r.RequestsPerSecond);
            var p99Ratio = Report.Median(contenders[0].Runs, r => r.P99Ms) / Report.Median(contenders[1].Runs, r => r.P99Ms);
            var cpuRatio = Report.Median(contenders[0].Runs, r => r.ProxyCpuSeconds / Math.Max(1, r.Requests)) / Report.Median(contenders[1].Runs, r => r.ProxyCpuSeconds / Math.Max(1, r.Requests));
            var (jsonPath, svgPath) = await Report.WriteAsync(settings.OutDirectory, "http-proxy",
                ToJson(settings, contenders, rpsRatio, p99Ratio, cpuRatio), ToSvg(settings, contenders, rpsRatio, p99Ratio)).ConfigureAwait(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ratio requests/s ours/nginx = {rpsRatio:F3} (higher is better); p99 ours/nginx = {p99Ratio:F3} (lower is better); CPU per request ours/nginx = {cpuRatio:F3}"));
            Console.WriteLine($"wrote {jsonPath} and {svgPath}");
            return 0;
        }
        catch (BenchmarkFailedException e)
        {
            await Console.Error.WriteLineAsync($"http-proxy: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            Peers.DeleteDirectory(work);
        }
    }

    private static Settings Parse(string[] args)
    {
        int threads = 2, connections = 64, seconds = 10, runs = 2;
        string? outDirectory = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--threads": threads = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--connections": connections = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--out": outDirectory = Value(); break;
                default: throw new ArgumentException($"unknown option {args[i]} (known: --threads, --connections, --seconds, --runs, --out)");
            }
        }

        if (threads < 1 || connections < threads || seconds < 1 || runs < 1)
        {
            throw new ArgumentException("--threads, --seconds and --runs must be positive and --connections at least --threads");
        }

        return new Settings(threads, connections, seconds, runs, outDirectory ?? Peers.DefaultOutputDirectory());
    }

    /// <summary>
    /// nginx unprivileged: every path it writes (pid, error log, temp files) in <paramref name="directory"/>, in the
    /// foreground, and an upstream keeping idle connections to the backend as our pooled handler does.
    /// </summary>
    private static string WriteNginxConfig(string directory, int port, int backendPort, int connections)
    {
        var config = $$"""
            worker_processes auto;
            daemon off;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            events { worker_connections {{Math.Max(1024, connections * 4)}}; }
            http {
                access_log off;
                client_body_temp_path {{directory}}/client_body;
                proxy_temp_path {{directory}}/proxy;
                upstream backend {
                    server 127.0.0.1:{{backendPort}};
                    keepalive {{Math.Max(32, connections)}};
                }
                server {
                    listen 127.0.0.1:{{port}};
                    location / {
                        proxy_pass http://backend;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                    }
                }
            }
            """;
        var path = Path.Combine(directory, "nginx.conf");
        File.WriteAllText(path, config);
        return path;
    }

    private static string NginxVersion(string nginx)
    {
        using var version = Process.Start(new ProcessStartInfo(nginx, "-v") { RedirectStandardError = true, UseShellExecute = false })!;
        var text = version.StandardError.ReadToEnd().Trim();
        version.WaitForExit();
        return text.Replace("nginx version: ", string.Empty, StringComparison.Ordinal);
    }

    /// <summary>One GET through the proxy must return the backend's body before anything is measured.</summary>
    private static async Task CheckAsync(Contender contender)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var body = await http.GetByteArrayAsync(new Uri($"http://127.0.0.1:{contender.Port}/")).ConfigureAwait(false);
                if (body.AsSpan().SequenceEqual(Body))
                {
                    return;
                }

                throw new BenchmarkFailedException($"{contender.Name} answered {Encoding.UTF8.GetString(body)} instead of the backend's body.\n{contender.Process.Output}");
            }
            catch (HttpRequestException) when (attempt < 20)
            {
                await Task.Delay(250).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new BenchmarkFailedException($"{contender.Name} does not proxy: {e.Message}\n{contender.Process.Output}");
            }
        }
    }

    private static async Task<Run> WrkAsync(string wrk, Settings settings, Contender contender, int index)
    {
        var pid = contender.Process.Process.Id;
        var cpuBefore = ProcessMeter.TreeCpuSeconds(pid);
        var threadsBefore = ProcessMeter.ThreadCpuSeconds(pid);
        var clock = Stopwatch.StartNew();
        using var client = new ChildProcess(wrk, [$"-t{settings.Threads}", $"-c{settings.Connections}", $"-d{settings.Seconds}s", "--latency", $"http://127.0.0.1:{contender.Port}/"]);
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(settings.Seconds + 30)))
        {
            try
            {
                await client.Process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new BenchmarkFailedException($"wrk did not finish against {contender.Name}.\n{client.Output}");
            }
        }

        client.Process.WaitForExit();
        var wall = clock.Elapsed.TotalSeconds;
        var cpu = ProcessMeter.TreeCpuSeconds(pid) - cpuBefore;
        var rss = ProcessMeter.TreeRssBytes(pid);
        var jit = ProcessMeter.ThreadDelta(threadsBefore, ProcessMeter.ThreadCpuSeconds(pid))
            .Where(t => t.Name.StartsWith(".NET Tiered", StringComparison.Ordinal)).Sum(t => t.CpuSeconds);
        if (client.Process.ExitCode != 0)
        {
            throw new BenchmarkFailedException($"wrk exited with {client.Process.ExitCode} against {contender.Name}.\n{client.Output}");
        }

        var run = ParseWrk(client.Output, index, cpu, cpu / wall, rss)
            ?? throw new BenchmarkFailedException($"could not read wrk's report against {contender.Name}:\n{client.Output}");
        return run with { JitSeconds = jit };
    }

    /// <summary>Reads wrk 4's report: Requests/sec, the --latency percentiles, the request count and the error lines.</summary>
    private static Run? ParseWrk(string output, int index, double cpu, double cores, long rss)
    {
        var rps = RequestsPerSecond().Match(output);
        var requests = RequestCount().Match(output);
        if (!rps.Success || !requests.Success)
        {
            return null;
        }

        double Percentile(string p)
        {
            var m = Regex.Match(output, $@"^\s*{p}%\s+([\d.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline, TimeSpan.FromSeconds(1));
            return m.Success ? ToMilliseconds(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value) : double.NaN;
        }

        long errors = 0;
        var non2xx = Non2xx().Match(output);
        if (non2xx.Success)
        {
            errors += long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        var socket = SocketErrors().Match(output);
        if (socket.Success)
        {
            errors += Enumerable.Range(1, 4).Sum(g => long.Parse(socket.Groups[g].Value, CultureInfo.InvariantCulture));
        }

        return new Run(index, double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture), Percentile("50"), Percentile("90"), Percentile("99"),
            long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture), errors, cpu, cores, rss);
    }

    private static double ToMilliseconds(double value, string unit) => unit switch
    {
        "us" => value / 1000,
        "s" => value * 1000,
        "m" => value * 60_000,
        _ => value,
    };

    private static Dictionary<string, object?> ToJson(Settings settings, Contender[] contenders, double rpsRatio, double p99Ratio, double cpuRatio) => new()
    {
        ["benchmark"] = "http-proxy",
        ["description"] = "wrk over HTTP/1.1 keep-alive against each reverse proxy, alternating; both proxy GET / to the same Kestrel backend returning a small body",
        ["timestamp_utc"] = Report.UtcNow(),
        ["wrk"] = new Dictionary<string, object?> { ["threads"] = settings.Threads, ["connections"] = settings.Connections, ["seconds"] = settings.Seconds },
        ["backend_body_bytes"] = Body.Length,
        ["runs_per_proxy"] = settings.Runs,
        ["machine"] = Report.Machine(),
        ["note"] = "wrk, both proxies and the backend share this machine's cores; the backend runs in the runner's process",
        ["proxies"] = contenders.Select(c => new Dictionary<string, object?>
        {
            ["name"] = c.Name,
            ["description"] = c.Description,
            ["runs"] = c.Runs.Select(r => new Dictionary<string, object?>
            {
                ["run"] = r.Index,
                ["requests_per_second"] = Report.Round(r.RequestsPerSecond, 1),
                ["latency_p50_ms"] = Report.Round(r.P50Ms),
                ["latency_p90_ms"] = Report.Round(r.P90Ms),
                ["latency_p99_ms"] = Report.Round(r.P99Ms),
                ["requests"] = r.Requests,
                ["errors"] = r.Errors,
                ["proxy_cpu_seconds"] = Report.Round(r.ProxyCpuSeconds, 3),
                ["proxy_cores"] = Report.Round(r.ProxyCores, 3),
                ["proxy_cpu_microseconds_per_request"] = Report.Round(r.ProxyCpuSeconds / Math.Max(1, r.Requests) * 1e6, 2),
                ["proxy_rss_mib"] = Report.Round(r.ProxyRssBytes / 1048576.0, 1),
                ["proxy_jit_cpu_seconds"] = Report.Round(r.JitSeconds, 3),
            }).ToList(),
            ["median_requests_per_second"] = Report.Round(Report.Median(c.Runs, r => r.RequestsPerSecond), 1),
            ["median_latency_p99_ms"] = Report.Round(Report.Median(c.Runs, r => r.P99Ms)),
        }).ToList(),
        ["ratio_requests_per_second_ours_over_nginx"] = Report.Round(rpsRatio),
        ["ratio_p99_ours_over_nginx"] = Report.Round(p99Ratio),
        ["ratio_cpu_per_request_ours_over_nginx"] = Report.Round(cpuRatio),
    };

    private static string ToSvg(Settings settings, Contender[] contenders, double rpsRatio, double p99Ratio)
    {
        var groups = Enumerable.Range(1, settings.Runs).Select(r => $"run {r}").ToList();
        ChartPanel Panel(string title, Func<Run, double> value) => new(title, groups,
            contenders.Select(c => new ChartSeries(c.Name, c.Runs.Select(r => (double?)value(r)).ToList())).ToList());
        return BarChart.Render(
            $"HTTP/1.1 reverse proxy: wrk -t{settings.Threads} -c{settings.Connections} -d{settings.Seconds}s, one small backend",
            string.Create(CultureInfo.InvariantCulture, $"requests/s ours / nginx = {rpsRatio:F2} (higher is better); p99 ours / nginx = {p99Ratio:F2} (lower is better); medians"),
            [
                Panel("requests per second", r => r.RequestsPerSecond),
                Panel("p99 latency (ms)", r => r.P99Ms),
                Panel("p50 latency (ms)", r => r.P50Ms),
                Panel("proxy CPU per request (µs)", r => r.ProxyCpuSeconds / Math.Max(1, r.Requests) * 1e6),
            ]);
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in ")]
    private static partial Regex RequestCount();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using Switchyard.Benchmarks.Harness;
using Switchyard.Delivery;

namespace Switchyard.Benchmarks.WebTransport;

/// <summary>
/// The seed's workload through the gateway, for N simulated clients, beside the same clients POSTing straight to the
/// backend. The gateway is <c>switchyard run</c> on the quickstart manifests (pointed at this program's backend) in a
/// child process, so its CPU and RSS come from /proc apart from the clients'. Writes <c>wt-clients.json</c> and
/// <c>wt-clients.svg</c> with the seed's published figures beside ours, and prints ours/seed ratios.
/// </summary>
/// <remarks>
/// <para><c>dotnet run -c Release --project dataplane/Switchyard.Benchmarks -- wt-clients [--clients 1,3,5,50,200,1000]
/// [--seconds 10] [--out DIR] [--switchyard PATH/switchyard.dll] [--connect-timeout 120] [--no-direct]</c></para>
/// <para>Steps for each N:</para>
/// <list type="number">
/// <item>Start a fresh gateway; warm it up with five clients in 2 s rounds until its tiered JIT goes quiet (connection
/// pools, final tiers); read its idle CPU (over 2 s with no session) and idle RSS.</item>
/// <item>Connect N clients (16 handshakes at a time); a client that cannot connect within the timeout is recorded, not hidden.</item>
/// <item>Run the workload for the window; gateway CPU is the /proc delta over the window, RSS is sampled for its peak.</item>
/// <item>Wait until the backend has received every message sent (giving up after 10 s without progress, or 120 s);
/// record delivered against sent.</item>
/// <item>Close the clients and stop the gateway; run the same N clients straight to the backend for the baseline.</item>
/// </list>
/// </remarks>
internal static class WtClientsBenchmark
{
    private static readonly int[] DefaultClients = [1, 3, 5, 50, 200, 1000];

    private sealed record Settings(int[] Clients, int Seconds, string OutDirectory, string SwitchyardDll, TimeSpan ConnectTimeout, bool Direct);

    /// <summary>One path (through the gateway, or direct) for one N.</summary>
    private sealed record PathResult(
        int Clients,
        double WindowSeconds,
        long Sent,
        long SentBytes,
        long Delivered,
        long DeliveredBytes,
        long SendFailures,
        List<double> LatenciesMs,
        Dictionary<string, (long Sent, long Delivered, double P50, double P99)> PerTrack);

    /// <summary>The gateway's side of one N.</summary>
    private sealed record GatewayResult(
        int Requested,
        int Connected,
        int ConnectFailures,
        string? ConnectError,
        double ConnectSeconds,
        double CpuSeconds,
        double IdleCores,
        long IdleRssBytes,
        long ConnectedRssBytes,
        long PeakRssBytes,
        PathResult Path,
        List<(string Name, int Threads, double CpuSeconds)> IdleThreads,
        List<(string Name, int Threads, double CpuSeconds)> WindowThreads,
        string LoadAverage,
        double CpuSecondsWithDrain,
        List<string> MessageCounters);

    private sealed record Level(int Clients, GatewayResult? Gateway, PathResult? Direct, string? Error);

    public static async Task<int> RunAsync(string[] args)
    {
        Settings settings;
        try
        {
            settings = Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"wt-clients: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        var work = Peers.TemporaryDirectory("wt-clients");
        try
        {
            await using var backend = await LatencyBackend.StartAsync().ConfigureAwait(false);
            var (cert, key, sha256) = Peers.WriteCertificate(work);
            var manifests = await WriteManifestsAsync(work, backend.Ports).ConfigureAwait(false);
            using var directHttp = new HttpMessageInvoker(HttpMessageDeliverer.CreateHandler());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wt-clients: N = {string.Join(", ", settings.Clients)}, {settings.Seconds} s each; per client {Workload.OfferedMessagesPerClient:F1} messages/s, {Workload.OfferedMegabitsPerClient:F3} Mbps of payload; {Environment.ProcessorCount} cores"));

            var levels = new List<Level>();
            var phase = 0;
            foreach (var n in settings.Clients)
            {
                GatewayResult? gateway = null;
                PathResult? direct = null;
                string? error = null;
                try
                {
                    gateway = await RunGatewayAsync(settings, n, manifests, cert, key, sha256, backend, ++phase, ++phase).ConfigureAwait(false);
                    if (settings.Direct)
                    {
                        direct = await RunDirectAsync(settings, n, backend, directHttp, ++phase).ConfigureAwait(false);
                    }
                }
                catch (BenchmarkFailedException e)
                {
                    error = e.Message;
                    await Console.Error.WriteLineAsync($"wt-clients: N={n}: {e.Message}").ConfigureAwait(false);
                }

                levels.Add(new Level(n, gateway, direct, error));
                Print(levels[^1]);
            }

            var (jsonPath, svgPath) = await Report.WriteAsync(settings.OutDirectory, "wt-clients", ToJson(settings, levels, backend.Unstamped), ToSvg(settings, levels)).ConfigureAwait(false);
            var atSeed = levels.FirstOrDefault(l => l.Clients == Workload.Seed.Clients && l.Gateway is not null);
            if (atSeed is not null)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"ratio ours/seed at {Workload.Seed.Clients} clients: CPU per client {CpuPerClient(atSeed.Gateway!) / Workload.Seed.CoresPerClient:F3}, RSS {atSeed.Gateway!.PeakRssBytes / 1048576.0 / Workload.Seed.RssMib:F3}, CPU per Mbps {CpuPerMbps(atSeed.Gateway) / (Workload.Seed.Cores / Workload.Seed.Megabits):F3} (lower is better)"));
            }

            Console.WriteLine($"wrote {jsonPath} and {svgPath}");
            return levels.All(l => l.Error is null) ? 0 : 1;
        }
        catch (BenchmarkFailedException e)
        {
            await Console.Error.WriteLineAsync($"wt-clients: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            Peers.DeleteDirectory(work);
        }
    }

    private static Settings Parse(string[] args)
    {
        var clients = DefaultClients;
        int seconds = 10, connectTimeout = 120;
        var direct = true;
        string? outDirectory = null, dll = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--clients": clients = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--seconds": seconds = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--connect-timeout": connectTimeout = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--no-direct": direct = false; break;
                case "--out": outDirectory = Value(); break;
                case "--switchyard": dll = Value(); break;
                default: throw new ArgumentException($"unknown option {args[i]} (known: --clients, --seconds, --connect-timeout, --no-direct, --out, --switchyard)");
            }
        }

        if (clients.Length == 0 || clients.Any(c => c < 1) || seconds < 1 || connectTimeout < 1)
        {
            throw new ArgumentException("--clients, --seconds and --connect-timeout must be positive");
        }

        dll ??= Peers.FindSwitchyardDll() ?? throw new ArgumentException("controller/Switchyard/bin/Release/net10.0/switchyard.dll not found: build controller/Switchyard -c Release or pass --switchyard");
        if (!File.Exists(dll))
        {
            throw new ArgumentException($"{dll} does not exist");
        }

        return new Settings(clients, seconds, outDirectory ?? Peers.DefaultOutputDirectory(), dll, TimeSpan.FromSeconds(connectTimeout), direct);
    }

    /// <summary>The quickstart's manifests, as <c>switchyard quickstart</c> ships them, with the backends' ports ours.</summary>
    private static async Task<string> WriteManifestsAsync(string work, IReadOnlyDictionary<string, int> ports)
    {
        var source = Path.Combine(Peers.RepositoryRoot() ?? throw new BenchmarkFailedException("the repository root (Controller.sln) is not above the benchmark binaries"), "examples", "quickstart");
        var manifests = Path.Combine(work, "manifests");
        Directory.CreateDirectory(manifests);
        foreach (var file in Directory.GetFiles(source, "*.yaml"))
        {
            var text = await File.ReadAllTextAsync(file).ConfigureAwait(false);
            text = text.Replace("port: 5001", $"port: {ports["video"]}", StringComparison.Ordinal)
                       .Replace("port: 5002", $"port: {ports["audio"]}", StringComparison.Ordinal)
                       .Replace("port: 5003", $"port: {ports["chat"]}", StringComparison.Ordinal);
            await File.WriteAllTextAsync(Path.Combine(manifests, Path.GetFileName(file)), text).ConfigureAwait(false);
        }

        return manifests;
    }

    private static async Task<GatewayResult> RunGatewayAsync(Settings settings, int n, string manifests, string cert, string key, byte[] sha256, LatencyBackend backend, int warmPhase, int phase)
    {
        // :: Step 1: a fresh gateway, warmed up.
        var quicPort = Peers.FreeUdpPort();
        var adminPort = Peers.FreeTcpPort();
        using var gateway = new ChildProcess(Peers.Which("dotnet") ?? "dotnet",
            [settings.SwitchyardDll, "run", "--manifests", manifests, "--quic", $"127.0.0.1:{quicPort}", "--admin", $"127.0.0.1:{adminPort}", "--cert", cert, "--key", key],
            new Dictionary<string, string> { ["SWITCHYARD_LOG_LEVEL"] = "Warning" });
        Peers.WaitForUdpPort(gateway, quicPort);
        await WaitReadyAsync(gateway, adminPort).ConfigureAwait(false);
        var endPoint = new IPEndPoint(IPAddress.Loopback, quicPort);
        var pid = gateway.Process.Id;
        await WarmUpAsync(endPoint, sha256, backend, warmPhase, pid).ConfigureAwait(false);
        await SettleJitAsync(pid).ConfigureAwait(false);
        var idleCpuBefore = ProcessMeter.CpuSeconds(pid);
        var idleThreadsBefore = ProcessMeter.ThreadCpuSeconds(pid);
        var idleClock = Stopwatch.StartNew();
        await Task.Delay(2000).ConfigureAwait(false);
        var idleCores = (ProcessMeter.CpuSeconds(pid) - idleCpuBefore) / idleClock.Elapsed.TotalSeconds;
        var idleThreads = ProcessMeter.ThreadDelta(idleThreadsBefore, ProcessMeter.ThreadCpuSeconds(pid));
        var idleRss = ProcessMeter.RssBytes(pid);

        // :: Step 2: connect N clients, a few handshakes at a time.
        var clients = new List<GatewayClient>();
        var connectFailures = 0;
        string? connectError = null;
        var connectClock = Stopwatch.StartNew();
        using (var deadline = new CancellationTokenSource(settings.ConnectTimeout))
        using (var gate = new SemaphoreSlim(16))
        {
            var attempts = Enumerable.Range(1, n).Select(async id =>
            {
                await gate.WaitAsync().ConfigureAwait(false);
                try
                {
                    var client = await GatewayClient.ConnectAsync(id, endPoint, sha256, deadline.Token).ConfigureAwait(false);
                    lock (clients)
                    {
                        clients.Add(client);
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    Interlocked.Increment(ref connectFailures);
                    connectError ??= ex.GetType().Name + ": " + ex.Message;
                }
                finally
                {
                    gate.Release();
                }
            }).ToList();
            await Task.WhenAll(attempts).ConfigureAwait(false);
        }

        var connectSeconds = connectClock.Elapsed.TotalSeconds;
        try
        {
            var connectedRss = ProcessMeter.RssBytes(pid);
            if (gateway.Process.HasExited)
            {
                throw new BenchmarkFailedException($"the gateway exited while clients connected.\n{gateway.Output}");
            }

            // :: Step 3: the window, with CPU from /proc and RSS sampled for its peak.
            var record = backend.Phase(phase);
            var cpuBefore = ProcessMeter.CpuSeconds(pid);
            var threadsBefore = ProcessMeter.ThreadCpuSeconds(pid);
            var loadBefore = LoadAverage();
            var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
            var end = start + settings.Seconds * Stopwatch.Frequency;
            var run = Task.WhenAll(clients.Select(c => c.RunAsync(phase, start, end)));
            long peakRss = connectedRss;
            while (!run.IsCompleted)
            {
                await Task.WhenAny(run, Task.Delay(500)).ConfigureAwait(false);
                peakRss = Math.Max(peakRss, ProcessMeter.RssBytes(pid));
            }

            await run.ConfigureAwait(false);
            var window = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var cpu = ProcessMeter.CpuSeconds(pid) - cpuBefore;
            var threads = ProcessMeter.ThreadDelta(threadsBefore, ProcessMeter.ThreadCpuSeconds(pid));
            var loadAfter = LoadAverage();

            // :: Step 4: everything sent must arrive; wait for it, bounded.
            var sent = clients.Sum(c => c.Sent);
            await DrainAsync(record, sent, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            peakRss = Math.Max(peakRss, ProcessMeter.RssBytes(pid));
            var cpuWithDrain = ProcessMeter.CpuSeconds(pid) - cpuBefore;
            var counters = await MessageCountersAsync(adminPort).ConfigureAwait(false);
            var path = Collect(clients.Count, window, clients, record);
            return new GatewayResult(n, clients.Count, connectFailures, connectError, connectSeconds, cpu, idleCores, idleRss, connectedRss, peakRss, path,
                idleThreads, threads, loadBefore + " → " + loadAfter, cpuWithDrain, counters);
        }
        finally
        {
            // :: Step 5: close the sessions, then the gateway (ChildProcess kills it).
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask())).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task<PathResult> RunDirectAsync(Settings settings, int n, LatencyBackend backend, HttpMessageInvoker http, int phase)
    {
        var clients = Enumerable.Range(1, n).Select(id => new DirectClient(id, http, backend.Ports)).ToList();
        var record = backend.Phase(phase);
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
        await Task.WhenAll(clients.Select(c => c.RunAsync(phase, start, start + settings.Seconds * Stopwatch.Frequency))).ConfigureAwait(false);
        var window = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await DrainAsync(record, clients.Sum(c => c.Sent), TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        return Collect(n, window, clients, record);
    }

    /// <summary>
    /// Five clients send the workload in rounds of 2 s until the gateway's tiered JIT spends less than 5 % of a round
    /// recompiling (at most 15 rounds): the hot paths have then reached their final tier, and what follows measures the
    /// gateway rather than its compiler.
    /// </summary>
    private static async Task WarmUpAsync(IPEndPoint endPoint, byte[] sha256, LatencyBackend backend, int phase, int pid)
    {
        var clients = new List<GatewayClient>();
        try
        {
            for (var id = 0; id < 5; id++)
            {
                clients.Add(await GatewayClient.ConnectAsync(-1 - id, endPoint, sha256, CancellationToken.None).ConfigureAwait(false));
            }

            for (var round = 0; round < 15; round++)
            {
                var before = ProcessMeter.ThreadCpuSeconds(pid);
                var start = Stopwatch.GetTimestamp();
                await Task.WhenAll(clients.Select(c => c.RunAsync(phase, start, start + 2 * Stopwatch.Frequency))).ConfigureAwait(false);
                var jit = ProcessMeter.ThreadDelta(before, ProcessMeter.ThreadCpuSeconds(pid)).Where(t => IsJit(t.Name)).Sum(t => t.CpuSeconds);
                if (jit < 0.1)
                {
                    break;
                }
            }

            await DrainAsync(backend.Phase(phase), clients.Sum(c => c.Sent), TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask())).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits (at most 20 s) until the runtime's tiered compiler thread has gone quiet, so that the JIT's recompiling of
    /// the warmed-up paths is not counted as the work of the clients that follow.
    /// </summary>
    private static async Task SettleJitAsync(int pid)
    {
        var deadline = Stopwatch.GetTimestamp() + 20 * Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var before = ProcessMeter.ThreadCpuSeconds(pid);
            await Task.Delay(1000).ConfigureAwait(false);
            var jit = ProcessMeter.ThreadDelta(before, ProcessMeter.ThreadCpuSeconds(pid)).Where(t => IsJit(t.Name)).Sum(t => t.CpuSeconds);
            if (jit < 0.02)
            {
                return;
            }
        }
    }

    private static bool IsJit(string threadName) => threadName.StartsWith(".NET Tiered", StringComparison.Ordinal);

    private static double JitSeconds(GatewayResult g) => g.WindowThreads.Where(t => IsJit(t.Name)).Sum(t => t.CpuSeconds);

    /// <summary>The gateway's own count of messages by track type and outcome (its <c>/metrics</c>), after the drain.</summary>
    private static async Task<List<string>> MessageCountersAsync(int adminPort)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{adminPort}/metrics")).ConfigureAwait(false);
            return text.Split('\n').Where(l => l.StartsWith("switchyard_wt_messages_total{", StringComparison.Ordinal)).ToList();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return ["unavailable: " + ex.Message];
        }
    }

    /// <summary>The 1-minute load average: on a shared machine it says how much the numbers can be trusted.</summary>
    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    private static List<Dictionary<string, object?>> ThreadsJson(List<(string Name, int Threads, double CpuSeconds)> threads) =>
        threads.Where(t => t.CpuSeconds > 0).Take(6).Select(t => new Dictionary<string, object?>
        {
            ["name"] = t.Name,
            ["threads"] = t.Threads,
            ["cpu_seconds"] = Report.Round(t.CpuSeconds, 3),
        }).ToList();

    private static async Task WaitReadyAsync(ChildProcess gateway, int adminPort)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !gateway.Process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{adminPort}/readyz")).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200).ConfigureAwait(false);
        }

        throw new BenchmarkFailedException($"the gateway did not become ready on its admin port {adminPort}.\n{gateway.Output}");
    }

    /// <summary>
    /// Waits until the backend has counted <paramref name="sent"/> messages of the phase. It gives up when nothing more
    /// arrived for <paramref name="stall"/>, or after 120 s: an overloaded gateway still draining is waited for, a lost
    /// message is not.
    /// </summary>
    private static async Task DrainAsync(PhaseRecord record, long sent, TimeSpan stall)
    {
        var deadline = Stopwatch.GetTimestamp() + 120 * Stopwatch.Frequency;
        var lastCount = record.Messages;
        var lastProgress = Stopwatch.GetTimestamp();
        while (record.Messages < sent && Stopwatch.GetTimestamp() < deadline && Stopwatch.GetElapsedTime(lastProgress) < stall)
        {
            await Task.Delay(100).ConfigureAwait(false);
            var count = record.Messages;
            if (count != lastCount)
            {
                lastCount = count;
                lastProgress = Stopwatch.GetTimestamp();
            }
        }
    }

    private static PathResult Collect(int clients, double window, IEnumerable<SimulatedClient> senders, PhaseRecord record)
    {
        var list = senders.ToList();
        var perTrack = new Dictionary<string, (long, long, double, double)>();
        for (var t = 0; t < Workload.Tracks.Count; t++)
        {
            var type = Workload.Tracks[t].TrackType;
            var latencies = record.Latencies(type);
            perTrack[type] = (list.Sum(c => c.SentOn(t)), record.Track(type).Messages, Report.Percentile(latencies, 50), Report.Percentile(latencies, 99));
        }

        var delivered = Workload.Tracks.Select(t => record.Track(t.TrackType)).ToList();
        return new PathResult(clients, window, list.Sum(c => c.Sent), list.Sum(c => c.SentBytes), delivered.Sum(d => d.Messages), delivered.Sum(d => d.Bytes),
            list.Sum(c => c.Failed), record.Latencies(), perTrack);
    }

    /// <summary>
    /// Gateway CPU for the window's messages (window plus drain: an overloaded or starved gateway finishes the work
    /// after the window) per client and second of workload.
    /// </summary>
    private static double CpuPerClient(GatewayResult g) => g.Connected == 0 ? double.NaN : g.CpuSecondsWithDrain / g.Path.WindowSeconds / g.Connected;

    private static double CpuPerMbps(GatewayResult g) => g.CpuSecondsWithDrain / g.Path.WindowSeconds / Megabits(g.Path);

    private static double Megabits(PathResult p) => p.DeliveredBytes * 8 / 1e6 / p.WindowSeconds;

    private static double Added(Level level, double percentile) =>
        level.Gateway is null || level.Direct is null
            ? double.NaN
            : Report.Percentile(level.Gateway.Path.LatenciesMs, percentile) - Report.Percentile(level.Direct.LatenciesMs, percentile);

    private static double MibPerSession(GatewayResult g) => g.Connected == 0 ? double.NaN : (g.PeakRssBytes - g.IdleRssBytes) / 1048576.0 / g.Connected;

    private static void Print(Level level)
    {
        if (level.Gateway is not { } g)
        {
            Console.WriteLine($"  N={level.Clients,5}: failed: {level.Error}");
            return;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  N={level.Clients,5}: connected {g.Connected} in {g.ConnectSeconds:F1} s; sent {g.Path.Sent}, delivered {g.Path.Delivered}; {Megabits(g.Path):F2} Mbps; gateway {g.CpuSeconds / g.Path.WindowSeconds:F3} cores in the window, {g.CpuSecondsWithDrain:F1} CPU-s with the drain ({CpuPerClient(g) * 1000:F1} mcores/client; idle {g.IdleCores:F3}; JIT {JitSeconds(g):F2} s), RSS idle {g.IdleRssBytes / 1048576.0:F0} → peak {g.PeakRssBytes / 1048576.0:F0} MiB ({MibPerSession(g):F2} MiB/session); latency p50/p99 gateway {Report.Percentile(g.Path.LatenciesMs, 50):F2}/{Report.Percentile(g.Path.LatenciesMs, 99):F2} ms, direct {(level.Direct is null ? double.NaN : Report.Percentile(level.Direct.LatenciesMs, 50)):F2}/{(level.Direct is null ? double.NaN : Report.Percentile(level.Direct.LatenciesMs, 99)):F2} ms, added {Added(level, 50):F2}/{Added(level, 99):F2} ms"));
    }

    private static Dictionary<string, object?> PathJson(PathResult p) => new()
    {
        ["window_seconds"] = Report.Round(p.WindowSeconds, 3),
        ["offered_messages"] = (long)Math.Round(Workload.OfferedMessagesPerClient * p.Clients * p.WindowSeconds),
        ["sent_messages"] = p.Sent,
        ["sent_payload_bytes"] = p.SentBytes,
        ["delivered_messages"] = p.Delivered,
        ["delivered_payload_bytes"] = p.DeliveredBytes,
        ["delivered_equals_sent"] = p.Delivered == p.Sent && p.DeliveredBytes == p.SentBytes,
        ["send_failures"] = p.SendFailures,
        ["delivered_megabits_per_second"] = Report.Round(Megabits(p)),
        ["latency_p50_ms"] = Report.Round(Report.Percentile(p.LatenciesMs, 50)),
        ["latency_p99_ms"] = Report.Round(Report.Percentile(p.LatenciesMs, 99)),
        ["per_track"] = p.PerTrack.ToDictionary(t => t.Key, t => new Dictionary<string, object?>
        {
            ["sent_messages"] = t.Value.Sent,
            ["delivered_messages"] = t.Value.Delivered,
            ["latency_p50_ms"] = Report.Round(t.Value.P50),
            ["latency_p99_ms"] = Report.Round(t.Value.P99),
        }),
    };

    private static Dictionary<string, object?> ToJson(Settings settings, List<Level> levels, long unstamped) => new()
    {
        ["benchmark"] = "wt-clients",
        ["description"] = "N simulated clients, each one WebTransport session with video, audio and chat on their own unidirectional streams (32-byte track headers), through `switchyard run` on the quickstart manifests (Message delivery, one POST per message) to a Kestrel backend; baseline: the same clients POSTing straight to the backend",
        ["timestamp_utc"] = Report.UtcNow(),
        ["window_seconds"] = settings.Seconds,
        ["machine"] = Report.Machine(),
        ["note"] = "clients, the backend and the gateway share this machine's cores; only the gateway runs in its own process (switchyard run), so its CPU and RSS are its own",
        ["workload"] = Workload.Tracks.Select(t => new Dictionary<string, object?>
        {
            ["track_type"] = t.TrackType,
            ["messages_per_second"] = t.MessagesPerSecond,
            ["payload_bytes_min"] = t.MinPayload,
            ["payload_bytes_max"] = t.MaxPayload,
        }).ToList(),
        ["offered_per_client"] = new Dictionary<string, object?>
        {
            ["messages_per_second"] = Report.Round(Workload.OfferedMessagesPerClient, 2),
            ["payload_megabits_per_second"] = Report.Round(Workload.OfferedMegabitsPerClient),
        },
        ["seed_published"] = new Dictionary<string, object?>
        {
            ["clients"] = Workload.Seed.Clients,
            ["megabits_per_second"] = Workload.Seed.Megabits,
            ["cores"] = Workload.Seed.Cores,
            ["rss_mib"] = Workload.Seed.RssMib,
            ["processing_ms"] = new[] { Workload.Seed.ProcessingMsLow, Workload.Seed.ProcessingMsHigh },
            ["cores_per_client"] = Report.Round(Workload.Seed.CoresPerClient),
            ["mib_per_client"] = Report.Round(Workload.Seed.MibPerClient),
            ["cores_per_megabit"] = Report.Round(Workload.Seed.Cores / Workload.Seed.Megabits),
        },
        ["unstamped_backend_requests"] = unstamped,
        ["levels"] = levels.Select(l => new Dictionary<string, object?>
        {
            ["clients"] = l.Clients,
            ["error"] = l.Error,
            ["gateway"] = l.Gateway is not { } g ? null : new Dictionary<string, object?>
            {
                ["clients_connected"] = g.Connected,
                ["connect_failures"] = g.ConnectFailures,
                ["first_connect_error"] = g.ConnectError,
                ["connect_seconds"] = Report.Round(g.ConnectSeconds, 2),
                ["cpu_seconds"] = Report.Round(g.CpuSeconds, 3),
                ["cores_in_window"] = Report.Round(g.CpuSeconds / g.Path.WindowSeconds),
                ["cores_per_client"] = Report.Round(CpuPerClient(g), 5),
                ["idle_cores"] = Report.Round(g.IdleCores, 4),
                ["jit_cpu_seconds_in_window"] = Report.Round(JitSeconds(g), 3),
                ["cores_per_client_excluding_jit"] = Report.Round(g.Connected == 0 ? double.NaN : (g.CpuSecondsWithDrain - JitSeconds(g)) / g.Path.WindowSeconds / g.Connected, 5),
                ["cores_per_client_above_idle"] = Report.Round(g.Connected == 0 ? double.NaN : (g.CpuSecondsWithDrain / g.Path.WindowSeconds - g.IdleCores) / g.Connected, 5),
                ["cores_per_megabit"] = Report.Round(CpuPerMbps(g), 5),
                ["cpu_seconds_window_and_drain"] = Report.Round(g.CpuSecondsWithDrain, 3),
                ["cpu_microseconds_per_delivered_message"] = Report.Round(g.Path.Delivered == 0 ? double.NaN : g.CpuSecondsWithDrain / g.Path.Delivered * 1e6, 2),
                ["gateway_message_counters_since_start_including_warm_up"] = g.MessageCounters,
                ["idle_busiest_threads"] = ThreadsJson(g.IdleThreads),
                ["window_busiest_threads"] = ThreadsJson(g.WindowThreads),
                ["load_average_1m_before_after_window"] = g.LoadAverage,
                ["rss_idle_mib"] = Report.Round(g.IdleRssBytes / 1048576.0, 1),
                ["rss_connected_mib"] = Report.Round(g.ConnectedRssBytes / 1048576.0, 1),
                ["rss_peak_mib"] = Report.Round(g.PeakRssBytes / 1048576.0, 1),
                ["mib_per_session_connected"] = Report.Round(g.Connected == 0 ? double.NaN : (g.ConnectedRssBytes - g.IdleRssBytes) / 1048576.0 / g.Connected),
                ["mib_per_session_under_load"] = Report.Round(MibPerSession(g)),
                ["path"] = PathJson(g.Path),
            },
            ["direct"] = l.Direct is null ? null : PathJson(l.Direct),
            ["added_latency_p50_ms"] = Report.Round(Added(l, 50)),
            ["added_latency_p99_ms"] = Report.Round(Added(l, 99)),
            ["ratio_cores_per_client_ours_over_seed"] = l.Gateway is null ? null : Report.Round(CpuPerClient(l.Gateway) / Workload.Seed.CoresPerClient),
            ["ratio_mib_per_session_ours_over_seed_mib_per_client"] = l.Gateway is null ? null : Report.Round(MibPerSession(l.Gateway) / Workload.Seed.MibPerClient),
            ["ratio_rss_ours_over_seed"] = l.Gateway is null || l.Clients != Workload.Seed.Clients ? null : Report.Round(l.Gateway.PeakRssBytes / 1048576.0 / Workload.Seed.RssMib),
            ["ratio_cores_per_megabit_ours_over_seed"] = l.Gateway is null ? null : Report.Round(CpuPerMbps(l.Gateway) / (Workload.Seed.Cores / Workload.Seed.Megabits)),
        }).ToList(),
    };

    private static string ToSvg(Settings settings, List<Level> levels)
    {
        var groups = levels.Select(l => $"N={l.Clients}").ToList();
        List<double?> Ours(Func<Level, double> value) => levels.Select(l => l.Gateway is null ? null : (double?)value(l)).ToList();
        List<double?> SeedAt(double value) => levels.Select(l => l.Clients == Workload.Seed.Clients ? (double?)value : null).ToList();
        var atSeed = levels.FirstOrDefault(l => l.Clients == Workload.Seed.Clients && l.Gateway is not null);
        var subtitle = atSeed is null
            ? $"{settings.Seconds} s per N; the seed published figures for {Workload.Seed.Clients} clients only"
            : string.Create(CultureInfo.InvariantCulture, $"at {Workload.Seed.Clients} clients, ours / seed: CPU per client {CpuPerClient(atSeed.Gateway!) / Workload.Seed.CoresPerClient:F2}, RSS {atSeed.Gateway!.PeakRssBytes / 1048576.0 / Workload.Seed.RssMib:F2}, CPU per Mbps {CpuPerMbps(atSeed.Gateway) / (Workload.Seed.Cores / Workload.Seed.Megabits):F2}");
        return BarChart.Render(
            $"WebTransport clients through the gateway (seed workload, {settings.Seconds} s per N)",
            subtitle,
            [
                new("gateway CPU per client (millicores)", groups, [new("switchyard", Ours(l => CpuPerClient(l.Gateway!) * 1000)), new("seed (published)", SeedAt(Workload.Seed.CoresPerClient * 1000))]),
                new("latency added by the gateway (ms)", groups, [new("p50 added", levels.Select(l => (double?)Added(l, 50)).ToList()), new("p99 added", levels.Select(l => (double?)Added(l, 99)).ToList())]),
                new("gateway RSS under load (MiB)", groups, [new("switchyard", Ours(l => l.Gateway!.PeakRssBytes / 1048576.0)), new("seed (published)", SeedAt(Workload.Seed.RssMib))]),
                new("memory per session (MiB): (peak − idle RSS) / N", groups, [new("switchyard", Ours(l => MibPerSession(l.Gateway!))), new("seed: RSS / clients", SeedAt(Workload.Seed.MibPerClient))]),
                new("delivered payload (Mbps)", groups, [new("switchyard", Ours(l => Megabits(l.Gateway!.Path))), new("seed (published)", SeedAt(Workload.Seed.Megabits))]),
                new("delivered / sent (%)", groups, [new("through the gateway", Ours(l => l.Gateway!.Path.Sent == 0 ? 0 : 100.0 * l.Gateway.Path.Delivered / l.Gateway.Path.Sent)), new("direct", levels.Select(l => l.Direct is null || l.Direct.Sent == 0 ? null : (double?)(100.0 * l.Direct.Delivered / l.Direct.Sent)).ToList())]),
            ]);
    }
}

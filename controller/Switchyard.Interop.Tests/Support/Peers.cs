using System.Globalization;
using System.Net;

namespace Switchyard.Interop.Tests.Support;

/// <summary>Finds and starts the programs the interop tests play against each other.</summary>
internal static class Peers
{
    /// <summary>How long a peer may take to start listening (a cold .NET start on a busy 2-core runner is slow).</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long one download run may take.</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(120);

    /// <summary>The ngtcp2 HTTP/3 client (Debian package ngtcp2-client). Fails the test when it is not installed.</summary>
    public static string GtlsClient => FindExecutable("gtlsclient", "ngtcp2-client");

    /// <summary>The ngtcp2 HTTP/3 server (Debian package ngtcp2-server). Fails the test when it is not installed.</summary>
    public static string GtlsServer => FindExecutable("gtlsserver", "ngtcp2-server");

    /// <summary>The built <c>switchyard.dll</c>, found from the repository root (the folder holding Controller.sln).</summary>
    public static string SwitchyardDll
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Controller.sln")))
            {
                directory = directory.Parent;
            }

            Assert.True(directory is not null, $"No Controller.sln above {AppContext.BaseDirectory}: cannot find the switchyard CLI.");
            var candidates = new[] { "Release", "Debug" }
                .Select(c => new FileInfo(Path.Combine(directory!.FullName, "controller", "Switchyard", "bin", c, "net10.0", "switchyard.dll")))
                .Where(f => f.Exists)
                .OrderByDescending(f => f.LastWriteTimeUtc)
                .ToList();
            Assert.True(candidates.Count > 0, "controller/Switchyard/bin/{Release,Debug}/net10.0/switchyard.dll is missing: build controller/Switchyard first.");
            return candidates[0].FullName;
        }
    }

    /// <summary>The dotnet host that runs the tests, to run the CLI with.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Starts <c>switchyard interop server</c> on a free loopback port and waits until it listens.</summary>
    public static async Task<(PeerProcess Process, IPEndPoint EndPoint)> StartOurServerAsync(InteropFiles files, string? testCase = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var args = new List<string> { SwitchyardDll, "interop", "server", "--listen", "127.0.0.1:0", "--www", files.WwwRoot, "--cert", files.CertificatePath, "--key", files.KeyPath };
        if (testCase is not null)
        {
            args.AddRange(["--testcase", testCase]);
        }

        var server = PeerProcess.Start("switchyard interop server", DotnetHost, args, environment: environment);
        try
        {
            var line = await server.WaitForLineAsync(l => l.StartsWith("listening on ", StringComparison.Ordinal), StartTimeout).ConfigureAwait(false);
            return (server, IPEndPoint.Parse(line["listening on ".Length..].Trim()));
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs <c>switchyard interop client</c> to completion.</summary>
    public static PeerProcess StartOurClient(string downloads, IEnumerable<string> urls, string? caPath, string? testCase = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var args = new List<string> { SwitchyardDll, "interop", "client", "--downloads", downloads, "--timeout", "110" };
        if (caPath is not null)
        {
            args.AddRange(["--ca", caPath]);
        }

        if (testCase is not null)
        {
            args.AddRange(["--testcase", testCase]);
        }

        args.AddRange(urls);
        return PeerProcess.Start("switchyard interop client", DotnetHost, args, environment: environment);
    }

    /// <summary>Starts <c>gtlsserver</c> over the test's document root and waits until its UDP port is bound.</summary>
    public static Task<(PeerProcess Process, IPEndPoint EndPoint)> StartGtlsServerAsync(InteropFiles files, params string[] extra) =>
        StartGtlsServerAsync(files, quiet: true, extra);

    /// <summary>
    /// Starts <c>gtlsserver</c>; when <paramref name="quiet"/> is false it logs every packet header (ngtcp2's
    /// <c>pkt rx|tx … type=1RTT k=PHASE</c> lines) but no frame or body dumps.
    /// </summary>
    public static async Task<(PeerProcess Process, IPEndPoint EndPoint)> StartGtlsServerAsync(InteropFiles files, bool quiet, params string[] extra)
    {
        var port = FreeUdpPort();
        var args = new List<string>(extra);
        args.AddRange(quiet ? ["-q"] : ["--no-quic-dump", "--no-http-dump"]);
        args.AddRange(["-d", files.WwwRoot, "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), files.KeyPath, files.CertificatePath]);
        var server = PeerProcess.Start("gtlsserver", GtlsServer, args);
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        var deadline = DateTime.UtcNow + StartTimeout;
        while (!IsUdpPortBound(port))
        {
            if (server.HasExited || DateTime.UtcNow > deadline)
            {
                var description = server.Describe();
                await server.DisposeAsync().ConfigureAwait(false);
                Assert.Fail($"gtlsserver did not bind udp/{port}.\n{description}");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        return (server, endPoint);
    }

    /// <summary>Starts <c>gtlsclient</c> downloading <paramref name="paths"/> from <paramref name="server"/>.</summary>
    public static PeerProcess StartGtlsClient(IPEndPoint server, string downloads, IEnumerable<string> paths, bool quiet = true, IEnumerable<string>? extra = null)
    {
        Directory.CreateDirectory(downloads);
        var args = new List<string>();
        if (quiet)
        {
            args.Add("-q");
        }
        else
        {
            args.AddRange(["--no-quic-dump", "--no-http-dump"]);
        }

        args.AddRange(["--exit-on-all-streams-close", "--download=" + downloads]);
        args.AddRange(extra ?? []);
        args.Add(server.Address.ToString());
        args.Add(server.Port.ToString(CultureInfo.InvariantCulture));
        args.AddRange(paths.Select(p => $"https://{server}{p}"));
        return PeerProcess.Start("gtlsclient", GtlsClient, args);
    }

    /// <summary>A UDP port nobody holds right now on loopback.</summary>
    public static int FreeUdpPort()
    {
        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static bool IsUdpPortBound(int port)
    {
        // /proc/net/udp lists local addresses as hex "0100007F:PORT"; the port alone is enough here.
        var hex = ":" + port.ToString("X4", CultureInfo.InvariantCulture) + " ";
        return File.ReadLines("/proc/net/udp").Any(l => l.Contains(hex, StringComparison.Ordinal));
    }

    private static string FindExecutable(string name, string package)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"])
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);
        Assert.True(path is not null, $"{name} is not installed: the interop tests need the Debian package {package} (apt-get install {package}).");
        return path!;
    }
}

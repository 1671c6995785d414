using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Benchmarks.Harness;

/// <summary>A benchmark could not run or a peer misbehaved; the message says which and why.</summary>
internal sealed class BenchmarkFailedException(string message) : Exception(message);

/// <summary>Finding and starting the peers a side-by-side benchmark runs against: binaries, ports, certificates.</summary>
internal static class Peers
{
    /// <summary>The repository root (the folder holding Controller.sln) above the benchmark binaries, or null.</summary>
    public static string? RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Controller.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }

    /// <summary><c>artifacts/benchmarks</c> under the repository root (ignored by git), else under the current directory.</summary>
    public static string DefaultOutputDirectory() =>
        Path.Combine(RepositoryRoot() ?? Environment.CurrentDirectory, "artifacts", "benchmarks");

    /// <summary>The Release build of the <c>switchyard</c> CLI, or null when it has not been built.</summary>
    public static string? FindSwitchyardDll()
    {
        var root = RepositoryRoot();
        if (root is null)
        {
            return null;
        }

        var dll = Path.Combine(root, "controller", "Switchyard", "bin", "Release", "net10.0", "switchyard.dll");
        return File.Exists(dll) ? dll : null;
    }

    /// <summary>The file and leading arguments that start this benchmark program again (for child roles).</summary>
    public static (string File, string[] Arguments) Self()
    {
        var path = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? (path, [typeof(Peers).Assembly.Location])
            : (path, []);
    }

    public static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/usr/sbin", "/usr/local/bin"])
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);

    public static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    public static int FreeTcpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>Waits until some socket is bound to UDP <paramref name="port"/> (read from /proc/net/udp).</summary>
    public static void WaitForUdpPort(ChildProcess server, int port) => WaitForPort(server, port, "/proc/net/udp", "udp");

    /// <summary>Waits until some socket listens on TCP <paramref name="port"/> (state 0A in /proc/net/tcp).</summary>
    public static void WaitForTcpPort(ChildProcess server, int port) => WaitForPort(server, port, "/proc/net/tcp", "tcp");

    private static void WaitForPort(ChildProcess server, int port, string table, string protocol)
    {
        var hex = ":" + port.ToString("X4", CultureInfo.InvariantCulture) + " ";
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.ReadLines(table).Any(l => l.Contains(hex, StringComparison.Ordinal) && (protocol == "udp" || l.Contains(" 0A ", StringComparison.Ordinal))))
        {
            if (server.Process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new BenchmarkFailedException($"{server.Process.StartInfo.FileName} did not bind {protocol}/{port}.\n{server.Output}");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>Writes a fresh ECDSA P-256 certificate for 127.0.0.1 and localhost as PEM files; returns their paths and the DER's SHA-256.</summary>
    public static (string Cert, string Key, byte[] Sha256) WriteCertificate(string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());

        // WebTransport's serverCertificateHashes accepts at most 14 days; one is plenty for a benchmark.
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certPath = Path.Combine(directory, "cert.pem");
        var keyPath = Path.Combine(directory, "key.pem");
        File.WriteAllText(certPath, certificate.ExportCertificatePem() + "\n");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        return (certPath, keyPath, SHA256.HashData(certificate.RawData));
    }

    /// <summary>A fresh temporary folder whose name says which benchmark made it.</summary>
    public static string TemporaryDirectory(string benchmark)
    {
        var path = Path.Combine(Path.GetTempPath(), $"switchyard-{benchmark}-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static void DeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

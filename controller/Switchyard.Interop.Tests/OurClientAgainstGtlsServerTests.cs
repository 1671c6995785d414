using Switchyard.Interop.Tests.Support;
using Switchyard.Tls;

namespace Switchyard.Interop.Tests;

/// <summary><c>switchyard interop client</c> downloads from ngtcp2's <c>gtlsserver</c> over loopback.</summary>
[Collection(InteropCollection.Name)]
[Trait("Category", "Interop")]
public sealed class OurClientAgainstGtlsServerTests(InteropFiles files)
{
    [Fact]
    public async Task BigFileWithCertificateValidation_ArrivesByteIdentical()
    {
        var (server, endPoint) = await Peers.StartGtlsServerAsync(files);
        await using (server)
        {
            await DownloadAsync(endPoint, ["/big.bin"], files.CertificatePath, () => server.Describe());
        }
    }

    [Fact]
    public async Task BigFileThroughRelayDroppingFivePercentEachWay_ArrivesByteIdentical()
    {
        var (server, endPoint) = await Peers.StartGtlsServerAsync(files);
        await using (server)
        {
            await using var relay = new UdpRelay(endPoint, dropToServer: 0.05, dropToClient: 0.05, seed: 9000);
            await DownloadAsync(relay.LocalEndPoint, ["/big.bin"], files.CertificatePath, () => server.Describe() + "\n" + relay.Describe());
            Assert.True(relay.DroppedToClient > 0 && relay.DroppedToServer > 0, $"the relay dropped nothing: {relay.Describe()}");
        }
    }

    [Fact]
    public async Task TenConcurrentRequests_AllArriveByteIdentical()
    {
        var (server, endPoint) = await Peers.StartGtlsServerAsync(files);
        await using (server)
        {
            await DownloadAsync(endPoint, InteropFiles.ConcurrentPaths.ToArray(), files.CertificatePath, () => server.Describe());
        }
    }

    [Fact]
    public async Task KeyUpdateTestCase_ClientUpdatesKeysEarlyAndGtlsServerFollows()
    {
        var (server, endPoint) = await Peers.StartGtlsServerAsync(files, quiet: false);
        await using (server)
        {
            var downloads = files.NewDirectory("keyupdate");
            await using var client = Peers.StartOurClient(downloads, [$"https://{endPoint}/m0.bin"], files.CertificatePath, "keyupdate");
            var exit = await client.WaitForExitAsync(Peers.RunTimeout);
            var context = client.Describe() + "\n" + server.Describe(2000);
            Assert.True(exit == 0, $"switchyard interop client exited with {exit}.\n{context}");
            files.AssertDownloaded(downloads, "/m0.bin", context);

            // Our side: one update started, and gtlsserver's packets moved to the new phase (we read them with the next keys).
            var (initiated, peerChanges) = KeyUpdateCounts(client.StandardError);
            Assert.True(initiated >= 1 && peerChanges >= 1, $"key updates initiated {initiated}, peer key phase changes {peerChanges}.\n{context}");

            // gtlsserver's side, from its own packet log (RFC 9001 §6): it read our 1-RTT packets in key phase 1 and sent its own in phase 1.
            await Task.Delay(200);
            var log = server.StandardOutput + server.StandardError;
            Assert.True(HasPhaseOnePacket(log, "rx"), $"gtlsserver logged no 1-RTT packet received in key phase 1.\n{context}");
            Assert.True(HasPhaseOnePacket(log, "tx"), $"gtlsserver logged no 1-RTT packet sent in key phase 1.\n{context}");
        }
    }

    /// <summary>Reads "key updates initiated N, peer key phase changes M" from the client's summary line.</summary>
    internal static (long Initiated, long PeerChanges) KeyUpdateCounts(string clientLog)
    {
        var match = System.Text.RegularExpressions.Regex.Match(clientLog, @"key updates initiated (\d+), peer key phase changes (\d+)");
        Assert.True(match.Success, $"the client printed no key update counts:\n{clientLog}");
        return (long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), long.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>ngtcp2 logs each packet header as "… pkt rx|tx pkn=N dcid=0x… type=1RTT k=PHASE".</summary>
    private static bool HasPhaseOnePacket(string log, string direction) =>
        log.Split('\n').Any(l => l.Contains($" {direction} pkn=", StringComparison.Ordinal) && l.Contains("type=1RTT k=1", StringComparison.Ordinal));

    [Fact]
    public async Task CertificateNotChainingToCa_FailsTheDownload()
    {
        var otherCa = Path.Combine(files.NewDirectory("other-ca"), "ca.pem");
        using (var other = TlsCertificates.CreateSelfSignedEcdsaP256(["127.0.0.1"], TimeSpan.FromDays(1)))
        {
            File.WriteAllText(otherCa, other.ExportCertificatePem());
        }

        var (server, endPoint) = await Peers.StartGtlsServerAsync(files);
        await using (server)
        {
            var downloads = files.NewDirectory("bad-ca");
            await using var client = Peers.StartOurClient(downloads, [$"https://{endPoint}/small.bin"], otherCa);
            var exit = await client.WaitForExitAsync(Peers.RunTimeout);
            Assert.True(exit == 1, $"the client exited with {exit}, expected 1 for an untrusted certificate.\n{client.Describe()}");
            Assert.False(File.Exists(Path.Combine(downloads, "small.bin")), "a file was written from an untrusted server");
        }
    }

    private async Task DownloadAsync(System.Net.IPEndPoint endPoint, string[] paths, string? ca, Func<string> peerContext)
    {
        var downloads = files.NewDirectory("ours");
        await using var client = Peers.StartOurClient(downloads, paths.Select(p => $"https://{endPoint}{p}"), ca);
        var exit = await client.WaitForExitAsync(Peers.RunTimeout);
        var context = client.Describe() + "\n" + peerContext();
        Assert.True(exit == 0, $"switchyard interop client exited with {exit}.\n{context}");
        foreach (var path in paths)
        {
            files.AssertDownloaded(downloads, path, context);
        }
    }
}

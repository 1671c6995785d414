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

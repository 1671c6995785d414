using Switchyard.Interop.Tests.Support;

namespace Switchyard.Interop.Tests;

/// <summary>ngtcp2's <c>gtlsclient</c> downloads from <c>switchyard interop server</c> over loopback.</summary>
[Collection(InteropCollection.Name)]
[Trait("Category", "Interop")]
public sealed class GtlsClientAgainstOurServerTests(InteropFiles files)
{
    [Fact]
    public async Task BigFile_ArrivesByteIdentical()
    {
        await DownloadAsync(["/big.bin"], []);
    }

    [Fact]
    public async Task BigFileUnderFivePercentLossEachWay_ArrivesByteIdentical()
    {
        // gtlsclient drops 5% of what it sends and 5% of what it receives.
        await DownloadAsync(["/big.bin"], ["-t", "0.05", "-r", "0.05"]);
    }

    [Fact]
    public async Task TenConcurrentRequests_AllArriveByteIdentical()
    {
        await DownloadAsync(InteropFiles.ConcurrentPaths.ToArray(), []);
    }

    [Fact]
    public async Task ClientInitiatedKeyUpdate_ServerFollowsAndTransferCompletes()
    {
        var (server, endPoint) = await Peers.StartOurServerAsync(files, "keyupdate");
        await using var serverScope = server;
        var downloads = files.NewDirectory("gtls-keyupdate");
        await using var client = Peers.StartGtlsClient(endPoint, downloads, ["/m0.bin", "/m1.bin", "/m2.bin"], quiet: false, extra: ["--key-update=20ms"]);
        var exit = await client.WaitForExitAsync(Peers.RunTimeout);
        var context = client.Describe() + "\n" + server.Describe();
        Assert.True(exit == 0, $"gtlsclient exited with {exit}.\n{context}");
        foreach (var path in new[] { "/m0.bin", "/m1.bin", "/m2.bin" })
        {
            files.AssertDownloaded(downloads, path, context);
        }

        // ngtcp2 logs its own update and the key phase bit of each packet it receives (RFC 9001 §6).
        var output = client.StandardOutput + client.StandardError;
        Assert.True(output.Contains("Initiate key update", StringComparison.Ordinal), $"gtlsclient never initiated a key update.\n{context}");
        Assert.True(output.Contains("type=1RTT k=1", StringComparison.Ordinal), $"the server never answered in the new key phase.\n{context}");
    }

    private async Task DownloadAsync(string[] paths, string[] extra)
    {
        var (server, endPoint) = await Peers.StartOurServerAsync(files);
        await using (server)
        {
            var downloads = files.NewDirectory("gtls");
            await using var client = Peers.StartGtlsClient(endPoint, downloads, paths, extra: extra);
            var exit = await client.WaitForExitAsync(Peers.RunTimeout);
            var context = client.Describe() + "\n" + server.Describe();
            Assert.True(exit == 0, $"gtlsclient exited with {exit}.\n{context}");
            foreach (var path in paths)
            {
                files.AssertDownloaded(downloads, path, context);
            }
        }
    }
}

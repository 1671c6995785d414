using System.Net;
using Switchyard.Http3.Client;
using Switchyard.Interop.Tests.Support;
using Switchyard.Quic.Udp;
using Switchyard.Transport;
using Xunit.Abstractions;

namespace Switchyard.Interop.Tests;

/// <summary>
/// <c>switchyard interop client</c> against <c>switchyard interop server</c> for every test case both claim, the way the
/// QUIC Interop Runner would run them, plus the runner's conventions (127, <c>TESTCASE</c>, <c>SSLKEYLOGFILE</c>).
/// </summary>
[Collection(InteropCollection.Name)]
[Trait("Category", "Interop")]
public sealed class OurClientAgainstOurServerTests(InteropFiles files, ITestOutputHelper output)
{
    [Theory]
    [InlineData("handshake", new[] { "/small.bin" })] // one handshake, one small file
    [InlineData("transfer", new[] { "/m0.bin", "/m1.bin", "/m2.bin" })] // flow control over several MB on parallel streams
    [InlineData("http3", new[] { "/small.bin", "/m3.bin" })] // plain HTTP/3 requests
    [InlineData("multiplexing", new[] { "/m0.bin", "/m1.bin", "/m2.bin", "/m3.bin", "/m4.bin", "/m5.bin", "/m6.bin", "/m7.bin", "/m8.bin", "/m9.bin", "/small.bin" })] // eleven streams at once
    public async Task ClaimedTestCase_DownloadsByteIdentical(string testCase, string[] paths)
    {
        var (server, endPoint) = await Peers.StartOurServerAsync(files, testCase);
        await using (server)
        {
            var downloads = files.NewDirectory(testCase);
            await using var client = Peers.StartOurClient(downloads, paths.Select(p => $"https://{endPoint}{p}"), files.CertificatePath, testCase);
            var exit = await client.WaitForExitAsync(Peers.RunTimeout);
            var context = client.Describe() + "\n" + server.Describe();
            Assert.True(exit == 0, $"[{testCase}] the client exited with {exit}.\n{context}");
            foreach (var path in paths)
            {
                files.AssertDownloaded(downloads, path, context);
            }
        }
    }

    [Fact]
    public async Task Retry_HandshakeCompletesWithTokenAndServerStaysWithinThreeTimesBeforeValidation()
    {
        var (server, endPoint) = await Peers.StartOurServerAsync(files, "retry");
        await using (server)
        {
            await using var relay = new UdpRelay(endPoint);
            var downloads = files.NewDirectory("retry");
            await using var client = Peers.StartOurClient(downloads, [$"https://{relay.LocalEndPoint}/m0.bin"], files.CertificatePath, "retry");
            var exit = await client.WaitForExitAsync(Peers.RunTimeout);
            var context = client.Describe() + "\n" + server.Describe() + "\n" + relay.Describe();
            output.WriteLine(relay.Describe());
            Assert.True(exit == 0, $"the client exited with {exit}.\n{context}");
            files.AssertDownloaded(downloads, "/m0.bin", context);

            // RFC 9000 §8.1.2: the server answers the first Initial with a Retry, and the client's next Initial echoes the token.
            Assert.True(relay.RetrySeen, $"the server sent no Retry.\n{context}");
            Assert.True(relay.TokenInitialAfterRetrySeen, $"no client Initial carried the Retry token.\n{context}");

            // RFC 9000 §8.1: before validation the server sends at most three times what it received.
            Assert.True(relay.ClientBytesBeforeValidation > 0, $"nothing reached the server before validation.\n{context}");
            Assert.True(relay.ServerBytesBeforeValidation <= 3 * relay.ClientBytesBeforeValidation, $"anti-amplification limit broken.\n{context}");
            Assert.True(relay.AmplificationViolations.Count == 0, string.Join("\n", relay.AmplificationViolations) + "\n" + context);

            // The server's own counters agree: after a Retry the address is validated by the token, so nothing was unvalidated.
            var line = await server.WaitForLineAsync(l => l.Contains(" closed; ", StringComparison.Ordinal), Peers.StartTimeout);
            Assert.True(line.Contains("before address validation received 0 B, sent 0 B", StringComparison.Ordinal), $"server: {line}\n{context}");
        }
    }

    [Fact]
    public async Task HandshakeWithoutRetry_ServerStaysWithinThreeTimesUntilClientHandshakePacket()
    {
        var (server, endPoint) = await Peers.StartOurServerAsync(files, "handshake");
        await using (server)
        {
            await using var relay = new UdpRelay(endPoint);
            var downloads = files.NewDirectory("amplification");
            await using var client = Peers.StartOurClient(downloads, [$"https://{relay.LocalEndPoint}/small.bin"], files.CertificatePath, "handshake");
            var exit = await client.WaitForExitAsync(Peers.RunTimeout);
            var context = client.Describe() + "\n" + server.Describe() + "\n" + relay.Describe();
            output.WriteLine(relay.Describe());
            Assert.True(exit == 0, $"the client exited with {exit}.\n{context}");
            files.AssertDownloaded(downloads, "/small.bin", context);
            Assert.False(relay.RetrySeen, $"a Retry without the retry test case.\n{context}");
            Assert.True(relay.ServerBytesBeforeValidation > 0, $"the server sent nothing before the client's Handshake packet.\n{context}");
            Assert.True(relay.AmplificationViolations.Count == 0, string.Join("\n", relay.AmplificationViolations) + "\n" + context);

            // The server's own counters (RFC 9000 §8.1) say the same as the relay's view from outside.
            var line = await server.WaitForLineAsync(l => l.Contains(" closed; ", StringComparison.Ordinal), Peers.StartTimeout);
            var match = System.Text.RegularExpressions.Regex.Match(line, @"before address validation received (\d+) B, sent (\d+) B");
            Assert.True(match.Success, $"server: {line}\n{context}");
            var received = long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            var sent = long.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(received > 0 && sent > 0 && sent <= 3 * received, $"server counted {sent} B sent for {received} B received before validation.\n{context}");
        }
    }

    [Fact]
    public async Task KeyUpdateTestCase_ClientStartsUpdateAndOurServerFollows()
    {
        var (server, endPoint) = await Peers.StartOurServerAsync(files, "keyupdate");
        await using (server)
        {
            var downloads = files.NewDirectory("keyupdate");
            await using var client = Peers.StartOurClient(downloads, [$"https://{endPoint}/m1.bin"], files.CertificatePath, "keyupdate");
            var exit = await client.WaitForExitAsync(Peers.RunTimeout);
            var context = client.Describe() + "\n" + server.Describe();
            Assert.True(exit == 0, $"the client exited with {exit}.\n{context}");
            files.AssertDownloaded(downloads, "/m1.bin", context);
            var (initiated, peerChanges) = OurClientAgainstGtlsServerTests.KeyUpdateCounts(client.StandardError);
            Assert.True(initiated == 1 && peerChanges == 1, $"key updates initiated {initiated}, peer key phase changes {peerChanges}.\n{context}");

            // The server saw the client's packets change phase once and answered without starting one itself (RFC 9001 §6.2).
            var line = await server.WaitForLineAsync(l => l.Contains(" closed; ", StringComparison.Ordinal), Peers.StartTimeout);
            Assert.True(line.Contains("key phase changes 1, key updates initiated 0", StringComparison.Ordinal), $"server: {line}\n{context}");
        }
    }

    [Fact]
    public async Task KeyLogFile_ReceivesSecretsFromBothEnds()
    {
        var keyLogDirectory = files.NewDirectory("keylog");
        var serverLog = Path.Combine(keyLogDirectory, "server.keys");
        var clientLog = Path.Combine(keyLogDirectory, "client.keys");
        var (server, endPoint) = await Peers.StartOurServerAsync(files, "handshake", new Dictionary<string, string?> { ["SSLKEYLOGFILE"] = serverLog });
        await using (server)
        {
            var downloads = files.NewDirectory("keylog-dl");
            await using var client = Peers.StartOurClient(downloads, [$"https://{endPoint}/small.bin"], files.CertificatePath, environment: new Dictionary<string, string?> { ["SSLKEYLOGFILE"] = clientLog, ["TESTCASE"] = "handshake" });
            var exit = await client.WaitForExitAsync(Peers.RunTimeout);
            var context = client.Describe() + "\n" + server.Describe();
            Assert.True(exit == 0, $"the client exited with {exit}.\n{context}");
            foreach (var log in new[] { serverLog, clientLog })
            {
                Assert.True(File.Exists(log), $"{log} was not written.\n{context}");
                var text = await File.ReadAllTextAsync(log);
                foreach (var label in new[] { "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0" })
                {
                    Assert.True(text.Contains(label, StringComparison.Ordinal), $"{log} lacks {label}:\n{text}");
                }
            }
        }
    }

    [Theory]
    [InlineData("client", "ecn", false)] // ECN counts are not reported
    [InlineData("client", "zerortt", true)] // from TESTCASE, as the runner passes it
    [InlineData("client", "resumption", false)]
    [InlineData("server", "zerortt", false)]
    [InlineData("server", "chacha20", true)]
    public async Task UnsupportedTestCase_Exits127(string role, string testCase, bool fromEnvironment)
    {
        var environment = fromEnvironment ? new Dictionary<string, string?> { ["TESTCASE"] = testCase } : null;
        var option = fromEnvironment ? null : testCase;
        var downloads = files.NewDirectory("unsupported");
        await using var process = role == "client"
            ? Peers.StartOurClient(downloads, ["https://127.0.0.1:9/small.bin"], null, option, environment)
            : PeerProcess.Start("switchyard interop server", Peers.DotnetHost,
                new[] { Peers.SwitchyardDll, "interop", "server", "--listen", "127.0.0.1:0", "--www", files.WwwRoot, "--cert", files.CertificatePath, "--key", files.KeyPath }
                    .Concat(option is null ? [] : new[] { "--testcase", option }),
                environment: environment);
        var exit = await process.WaitForExitAsync(Peers.StartTimeout);
        Assert.True(exit == 127, $"exit code {exit}, expected 127.\n{process.Describe()}");
    }

    [Theory]
    [InlineData("/../secret.txt")] // dot segments
    [InlineData("/%2e%2e/secret.txt")] // percent-encoded dot segments
    [InlineData("/nothing-here.bin")] // a missing file
    public async Task PathOutsideRootOrMissing_Answers404(string path)
    {
        var (server, endPoint) = await Peers.StartOurServerAsync(files);
        await using (server)
        {
            await using var quic = await ManagedQuicTransport.Instance.ConnectAsync(new QuicClientOptions
            {
                RemoteEndPoint = endPoint,
                ApplicationProtocols = ["h3"],
                SkipCertificateValidation = true,
            });
            var http3 = await Http3ClientConnection.ConnectAsync(quic);
            var response = await http3.SendAsync(new Http3RequestHead { Authority = endPoint.ToString(), Path = path });
            Assert.True(response.StatusCode == 404, $"{path} answered {response.StatusCode} with {response.Body.Length} bytes.\n{server.Describe()}");
            await http3.CloseAsync(Switchyard.Http3.Http3ErrorCode.NoError, "done");
        }
    }
}

using System.Net;
using System.Security.Cryptography;
using Switchyard.Quic.Tests.Connection;
using Switchyard.Quic.Udp;
using Switchyard.Transport;

namespace Switchyard.Quic.Tests.Udp;

public class LoopbackTests
{
    private static QuicServerOptions ServerOptions(bool retry = false) => new()
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        ServerCertificate = SimPair.Certificate,
        ApplicationProtocols = ["h3"],
        RequireRetry = retry,
    };

    private static QuicClientOptions ClientOptions(IPEndPoint server) => new()
    {
        RemoteEndPoint = server,
        TargetHostName = "localhost",
        ApplicationProtocols = ["h3"],
        PinnedCertificateSha256 = SHA256.HashData(SimPair.Certificate.RawData),
    };

    [Theory]
    // Without and with a Retry round trip (RFC 9000 §8.1.2).
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClientAndServer_OverLoopbackUdp_EchoAStreamAndADatagram(bool retry)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var transport = ManagedQuicTransport.Instance;
        await using var listener = await transport.ListenAsync(ServerOptions(retry), timeout.Token);
        var serverTask = Task.Run(async () =>
        {
            await using var connection = await listener.AcceptConnectionAsync(timeout.Token);
            Assert.Equal("h3", connection.NegotiatedApplicationProtocol);
            Assert.Equal("localhost", connection.TargetHostName);
            await using var stream = await connection.AcceptInboundStreamAsync(timeout.Token);
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, n), false, timeout.Token);
            }

            stream.CompleteWrites();
            var datagram = await connection.ReceiveDatagramAsync(timeout.Token);
            Assert.True(connection.TrySendDatagram(datagram.Span));
            await connection.Closed.WaitAsync(timeout.Token);
        });

        await using var client = await transport.ConnectAsync(ClientOptions(listener.LocalEndPoint), timeout.Token);
        Assert.Equal("h3", client.NegotiatedApplicationProtocol);
        Assert.True(client.MaxDatagramPayloadSize > 1000);
        var payload = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        await using (var stream = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, timeout.Token))
        {
            var writer = stream.WriteAsync(payload, true, timeout.Token).AsTask();
            var echoed = new MemoryStream();
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                echoed.Write(buffer, 0, n);
            }

            await writer;
            Assert.Equal(payload, echoed.ToArray());
        }

        Assert.True(client.TrySendDatagram("datagram"u8));
        var back = await client.ReceiveDatagramAsync(timeout.Token);
        Assert.Equal("datagram"u8.ToArray(), back.ToArray());
        var statistics = client.GetStatistics();
        Assert.True(statistics.PacketsSent > 1000);
        await client.CloseAsync(0x100, timeout.Token);
        await serverTask;
    }

    [Fact]
    public async Task WrongPinnedCertificate_FailsTheHandshake()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var listener = await ManagedQuicTransport.Instance.ListenAsync(ServerOptions(), timeout.Token);
        var options = new QuicClientOptions
        {
            RemoteEndPoint = listener.LocalEndPoint,
            TargetHostName = "localhost",
            ApplicationProtocols = ["h3"],
            PinnedCertificateSha256 = new byte[32],
        };
        var error = await Assert.ThrowsAsync<QuicException>(async () => await ManagedQuicTransport.Instance.ConnectAsync(options, timeout.Token));
        Assert.Equal(QuicError.TransportError, error.QuicError);
        Assert.InRange(error.TransportErrorCode!.Value, 0x100, 0x1ff);
    }
}

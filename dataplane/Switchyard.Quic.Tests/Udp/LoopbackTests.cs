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

    /// <summary>The server writes <paramref name="size"/> bytes on a stream the client opens; returns what the client read.</summary>
    private static async Task<long> DownloadAsync(IQuicListener listener, IQuicConnection client, int size, Func<Task>? whileDownloading, CancellationToken cancellationToken)
    {
        var serverTask = Task.Run(async () =>
        {
            var connection = await listener.AcceptConnectionAsync(cancellationToken);
            await using var stream = await connection.AcceptInboundStreamAsync(cancellationToken);
            var request = new byte[16];
            while (await stream.ReadAsync(request, cancellationToken) > 0)
            {
            }

            var chunk = new byte[64 * 1024];
            for (var sent = 0; sent < size; sent += chunk.Length)
            {
                await stream.WriteAsync(chunk.AsMemory(0, Math.Min(chunk.Length, size - sent)), false, cancellationToken);
            }

            stream.CompleteWrites();
            await stream.WritesClosed.WaitAsync(cancellationToken);
        });
        await using var stream = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, cancellationToken);
        await stream.WriteAsync("GET"u8.ToArray(), true, cancellationToken);
        var during = whileDownloading?.Invoke() ?? Task.CompletedTask;
        var buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += n;
        }

        await during;
        await serverTask;
        return total;
    }

    [Fact]
    public async Task BulkDownload_ClientAcknowledgesAtLeastEverySecondPacket()
    {
        // RFC 9000 §13.2.2: a receiver acknowledges at least every second ack-eliciting packet. The client's loop reads
        // datagrams in batches; before the fix it acknowledged a whole batch (dozens of packets) with one ACK.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var listener = await ManagedQuicTransport.Instance.ListenAsync(ServerOptions(), timeout.Token);
        await using var client = await ManagedQuicTransport.Instance.ConnectAsync(ClientOptions(listener.LocalEndPoint), timeout.Token);
        const int size = 8 * 1024 * 1024;
        Assert.Equal(size, await DownloadAsync(listener, client, size, null, timeout.Token));
        var managed = (ManagedQuicConnection)client;
        var (eliciting, acks, urgent) = await managed.Loop.Invoke(() => (managed.Connection.AckElicitingPacketsReceived, managed.Connection.AckFramesSent, managed.Loop.UrgentFlushes));
        Assert.True(eliciting > 5000, $"only {eliciting} ack-eliciting packets for {size} bytes");
        Assert.True(acks >= (eliciting / 2) - 2, $"{acks} ACK frames for {eliciting} ack-eliciting packets (urgent flushes {urgent})");
    }

    [Fact]
    public async Task ClientKeyUpdate_ThroughTheSeam_ServerFollowsAndDataKeepsFlowing()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var listener = await ManagedQuicTransport.Instance.ListenAsync(ServerOptions(), timeout.Token);
        await using var client = await ManagedQuicTransport.Instance.ConnectAsync(ClientOptions(listener.LocalEndPoint), timeout.Token);
        var initiator = Assert.IsAssignableFrom<IQuicKeyUpdateInitiator>(client);
        const int size = 4 * 1024 * 1024;

        // Asked right after the handshake: it waits until the handshake is confirmed and a 1-RTT packet acknowledged (RFC 9001 §6.1).
        Assert.Equal(size, await DownloadAsync(listener, client, size, () => initiator.RequestKeyUpdateAsync(timeout.Token).AsTask(), timeout.Token));
        var statistics = client.GetStatistics();
        Assert.Equal(1, statistics.KeyUpdatesInitiated);
        Assert.Equal(1, statistics.KeyPhaseChanges);
        Assert.True(((ManagedQuicConnection)client).Connection.CurrentKeyPhase);
    }

    [Fact]
    public async Task PeerStopSending_EveryLaterWriteReportsItsCode_EvenAfterTheStreamIsForgotten()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var listener = await ManagedQuicTransport.Instance.ListenAsync(ServerOptions(), timeout.Token);
        await using var client = await ManagedQuicTransport.Instance.ConnectAsync(ClientOptions(listener.LocalEndPoint), timeout.Token);
        await using var server = await listener.AcceptConnectionAsync(timeout.Token);
        await using var stream = await client.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, timeout.Token);
        await stream.WriteAsync(new byte[100], completeWrites: false, timeout.Token);
        await using var inbound = await server.AcceptInboundStreamAsync(timeout.Token);
        inbound.Abort(QuicAbortDirection.Read, 0x1234);

        // Keep writing until the STOP_SENDING lands; then wait long enough for our RESET_STREAM to be acknowledged,
        // after which the connection no longer tracks the stream (RFC 9000 §3.1), and write again.
        var first = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            while (true)
            {
                await stream.WriteAsync(new byte[100], completeWrites: false, timeout.Token);
                await Task.Delay(10, timeout.Token);
            }
        });
        await Task.Delay(500, timeout.Token);
        var later = await Assert.ThrowsAsync<QuicException>(async () => await stream.WriteAsync(new byte[100], completeWrites: false, timeout.Token));
        Assert.All([first, later], e =>
        {
            Assert.Equal(QuicError.StreamAborted, e.QuicError);
            Assert.Equal(0x1234, e.ApplicationErrorCode);
        });
    }

    [Fact]
    public async Task KeyUpdateRequest_AfterClose_Throws()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var listener = await ManagedQuicTransport.Instance.ListenAsync(ServerOptions(), timeout.Token);
        var client = await ManagedQuicTransport.Instance.ConnectAsync(ClientOptions(listener.LocalEndPoint), timeout.Token);
        await client.CloseAsync(0, timeout.Token);
        await Assert.ThrowsAsync<QuicException>(async () => await ((IQuicKeyUpdateInitiator)client).RequestKeyUpdateAsync(timeout.Token));
        await client.DisposeAsync();
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

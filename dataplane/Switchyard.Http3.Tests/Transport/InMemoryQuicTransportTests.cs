using System.Net;
using Switchyard.Transport;
using Switchyard.Transport.InMemory;

namespace Switchyard.Http3.Tests.Transport;

public class InMemoryQuicTransportTests
{
    [Fact]
    public async Task StreamIds_FollowRfc9000Section2_1()
    {
        (InMemoryQuicConnection client, InMemoryQuicConnection server) = InMemoryQuicTransport.CreateConnectionPair();
        IQuicStream c0 = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        IQuicStream c1 = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        IQuicStream cu = await client.OpenOutboundStreamAsync(QuicStreamType.Unidirectional);
        IQuicStream s0 = await server.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        IQuicStream su = await server.OpenOutboundStreamAsync(QuicStreamType.Unidirectional);
        Assert.Equal([0L, 4L, 2L, 1L, 3L], new[] { c0.Id, c1.Id, cu.Id, s0.Id, su.Id });
        Assert.False(cu.CanRead);
        Assert.True(cu.CanWrite);
    }

    [Fact]
    public async Task WriteWithFin_PeerReadsDataThenZero()
    {
        (InMemoryQuicConnection client, InMemoryQuicConnection server) = InMemoryQuicTransport.CreateConnectionPair();
        IQuicStream c = await client.OpenOutboundStreamAsync(QuicStreamType.Unidirectional);
        await c.WriteAsync("hello"u8.ToArray(), completeWrites: true);
        IQuicStream s = await server.AcceptInboundStreamAsync();
        Assert.Equal(2, s.Id);
        Assert.False(s.CanWrite);
        byte[] buffer = new byte[16];
        int n = await s.ReadAsync(buffer);
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buffer, 0, n));
        Assert.Equal(0, await s.ReadAsync(buffer));
        await s.ReadsClosed.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ResetStream_SurfacesAsStreamAbortedWithCode()
    {
        (InMemoryQuicConnection client, InMemoryQuicConnection server) = InMemoryQuicTransport.CreateConnectionPair();
        IQuicStream c = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await c.WriteAsync(new byte[10], false);
        IQuicStream s = await server.AcceptInboundStreamAsync();
        c.Abort(QuicAbortDirection.Write, 0x1234);
        var e = await Assert.ThrowsAsync<QuicException>(async () => await s.ReadAsync(new byte[100]));
        Assert.Equal(QuicError.StreamAborted, e.QuicError);
        Assert.Equal(0x1234, e.ApplicationErrorCode);
    }

    [Fact]
    public async Task StopSending_FailsPeerWritesWithCode()
    {
        (InMemoryQuicConnection client, InMemoryQuicConnection server) = InMemoryQuicTransport.CreateConnectionPair();
        IQuicStream c = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await c.WriteAsync(new byte[1], false);
        IQuicStream s = await server.AcceptInboundStreamAsync();
        s.Abort(QuicAbortDirection.Read, 0x99);
        var e = await Assert.ThrowsAsync<QuicException>(async () => await c.WriteAsync(new byte[1], false));
        Assert.Equal(QuicError.StreamAborted, e.QuicError);
        Assert.Equal(0x99, e.ApplicationErrorCode);
    }

    [Fact]
    public async Task FullReceiveWindow_BlocksWriterUntilRead()
    {
        var small = new InMemoryQuicConnectionOptions { StreamReceiveWindow = 1000 };
        (InMemoryQuicConnection client, InMemoryQuicConnection server) = InMemoryQuicTransport.CreateConnectionPair(null, small);
        IQuicStream c = await client.OpenOutboundStreamAsync(QuicStreamType.Unidirectional);
        ValueTask write = c.WriteAsync(new byte[5000], true);
        IQuicStream s = await server.AcceptInboundStreamAsync();
        await Task.Delay(50);
        Assert.False(write.IsCompleted);
        byte[] all = await Support.RawPeer.ReadToEndAsync(s);
        await write;
        Assert.Equal(5000, all.Length);
    }

    [Fact]
    public async Task MaxStreams_OpenerWaitsUntilAStreamCloses()
    {
        var limited = new InMemoryQuicConnectionOptions { MaxInboundBidirectionalStreams = 1 };
        (InMemoryQuicConnection client, InMemoryQuicConnection server) = InMemoryQuicTransport.CreateConnectionPair(null, limited);
        IQuicStream first = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        ValueTask<IQuicStream> second = client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await Task.Delay(50);
        Assert.False(second.IsCompleted);
        await first.WriteAsync(new byte[1], true);
        IQuicStream s = await server.AcceptInboundStreamAsync();
        await Support.RawPeer.ReadToEndAsync(s);
        await s.WriteAsync(Array.Empty<byte>(), true);
        await Support.RawPeer.ReadToEndAsync(first);
        IQuicStream opened = await second.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(4, opened.Id);
    }

    [Fact]
    public async Task Datagrams_DeliveredAndBoundedBySize()
    {
        (InMemoryQuicConnection client, InMemoryQuicConnection server) = InMemoryQuicTransport.CreateConnectionPair();
        Assert.True(client.TrySendDatagram([1, 2, 3]));
        Assert.False(client.TrySendDatagram(new byte[client.MaxDatagramPayloadSize + 1]));
        ReadOnlyMemory<byte> d = await server.ReceiveDatagramAsync();
        Assert.Equal(new byte[] { 1, 2, 3 }, d.ToArray());
    }

    [Fact]
    public async Task CloseWithCode_PeerSeesConnectionAborted()
    {
        (InMemoryQuicConnection client, InMemoryQuicConnection server) = InMemoryQuicTransport.CreateConnectionPair();
        IQuicStream c = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await c.WriteAsync(new byte[1], false);
        IQuicStream s = await server.AcceptInboundStreamAsync();
        ValueTask<int> pendingRead = s.ReadAsync(new byte[10]);
        Assert.Equal(1, await pendingRead);
        ValueTask<int> blocked = s.ReadAsync(new byte[10]);
        await client.CloseAsync(0x10c);
        var e = await Assert.ThrowsAsync<QuicException>(async () => await blocked);
        Assert.Equal(QuicError.ConnectionAborted, e.QuicError);
        Assert.Equal(0x10c, e.ApplicationErrorCode);
        var accept = await Assert.ThrowsAsync<QuicException>(async () => await server.AcceptInboundStreamAsync());
        Assert.Equal(0x10c, accept.ApplicationErrorCode);
        await server.Closed.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ListenAndConnect_NegotiatesAlpnAndDeliversConnection()
    {
        var transport = new InMemoryQuicTransport();
        using var cert = CreateCertificate();
        await using IQuicListener listener = await transport.ListenAsync(new QuicServerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ServerCertificate = cert,
            ApplicationProtocols = ["h3"],
        });
        IQuicConnection client = await transport.ConnectAsync(new QuicClientOptions { RemoteEndPoint = listener.LocalEndPoint, ApplicationProtocols = ["h3"] });
        IQuicConnection server = await listener.AcceptConnectionAsync();
        Assert.Equal("h3", client.NegotiatedApplicationProtocol);
        Assert.Equal(server.LocalEndPoint, client.RemoteEndPoint);
        await Assert.ThrowsAsync<QuicException>(async () => await transport.ConnectAsync(new QuicClientOptions { RemoteEndPoint = listener.LocalEndPoint, ApplicationProtocols = ["h2"] }));
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2 CreateCertificate()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=test", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}

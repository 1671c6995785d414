using System.Text;
using Switchyard.Http3;
using Switchyard.Http3.Client;
using Switchyard.Http3.Frames;
using Switchyard.Transport;
using Switchyard.WebTransport.Client;
using Switchyard.WebTransport.Server;
using Switchyard.WebTransport.Sessions;

namespace Switchyard.WebTransport.Tests.Sessions;

public class WebTransportSessionTests
{
    private static readonly TimeSpan Timeout = WebTransportTestHost.Timeout;

    [Fact]
    public async Task ServerSettings_AdvertiseConnectProtocolDatagramsAndWebTransport()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        Http3Settings settings = await host.Client.PeerSettings.WaitAsync(Timeout);
        Assert.Equal(1, settings.Get(0x08, 0));
        Assert.Equal(1, settings.Get(0x33, 0));
        Assert.Equal(1, settings.Get(0x2b603742, 0));
        Assert.True(WebTransportClient.ServerSupportsWebTransport(settings));
    }

    [Fact]
    public async Task AcceptedSession_ExposesPathAuthorityOriginAndId()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        (WebTransportSession client, WebTransportSession server) = await host.OpenSessionAsync("/wt/room?x=1");
        Assert.Equal(client.Id, server.Id);
        Assert.Equal(0, server.Id % 4);
        Assert.Equal("/wt/room?x=1", server.Path);
        Assert.Equal("localhost:443", server.Authority);
        Assert.Equal("https://example.com", server.Origin);
        Assert.Contains(server.Headers, h => h.Name == "sec-webtransport-http3-draft02" && h.Value == "1");
        Assert.Contains(client.Headers, h => h.Name == "sec-webtransport-http3-draft" && h.Value == "draft02");
    }

    [Fact]
    public async Task RejectedSession_Gets4xx()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync(accept: (request, _) =>
            ValueTask.FromResult(request.Origin == "https://good.example" ? WebTransportDecision.Accept : WebTransportDecision.Reject(403)));
        var e = await Assert.ThrowsAsync<WebTransportSessionException>(() => WebTransportClient.ConnectAsync(host.Client, "a", "/wt", "https://evil.example"));
        Assert.Equal(403, e.StatusCode);
        WebTransportSession ok = await WebTransportClient.ConnectAsync(host.Client, "a", "/wt", "https://good.example").WaitAsync(Timeout);
        Assert.False(ok.IsClosed);
    }

    [Fact]
    public async Task ServerWithoutWebTransport_IsRefusedByClient()
    {
        (var c, var s) = Transport.InMemory.InMemoryQuicTransport.CreateConnectionPair();
        var server = new Http3.Server.Http3ServerConnection(s, new Http3.Connection.Http3ConnectionOptions { EnableExtendedConnect = true }, (_, _) => Task.CompletedTask);
        _ = server.RunAsync();
        Http3ClientConnection client = await Http3ClientConnection.ConnectAsync(c, WebTransportClient.ConfigureHttp3());
        await Assert.ThrowsAsync<WebTransportSessionException>(() => WebTransportClient.ConnectAsync(client, "a", "/wt"));
    }

    [Fact]
    public async Task Streams_FlowBothWaysInBothDirections()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        (WebTransportSession client, WebTransportSession server) = await host.OpenSessionAsync();

        // Client-opened bidirectional stream, echoed by the server.
        WebTransportStream bidi = await client.OpenBidirectionalStreamAsync();
        await bidi.WriteAsync("hello"u8.ToArray(), completeWrites: true);
        WebTransportStream accepted = await server.AcceptStreamAsync().AsTask().WaitAsync(Timeout);
        Assert.True(accepted.IsBidirectional);
        Assert.False(accepted.IsLocallyInitiated);
        byte[] got = await ReadAllAsync(accepted);
        await accepted.WriteAsync(got.Reverse().ToArray(), completeWrites: true);
        Assert.Equal("olleh", Encoding.ASCII.GetString(await ReadAllAsync(bidi)));

        // Server-opened unidirectional stream.
        WebTransportStream push = await server.OpenUnidirectionalStreamAsync();
        await push.WriteAsync("from server"u8.ToArray(), completeWrites: true);
        WebTransportStream incoming = await client.AcceptStreamAsync().AsTask().WaitAsync(Timeout);
        Assert.False(incoming.IsBidirectional);
        Assert.Equal("from server", Encoding.ASCII.GetString(await ReadAllAsync(incoming)));

        // Client-opened unidirectional and server-opened bidirectional streams.
        WebTransportStream up = await client.OpenUnidirectionalStreamAsync();
        Task upload = up.WriteAsync(new byte[100_000], completeWrites: true).AsTask(); // larger than the receive window
        Assert.Equal(100_000, (await ReadAllAsync(await server.AcceptStreamAsync().AsTask().WaitAsync(Timeout))).Length);
        await upload.WaitAsync(Timeout);
        WebTransportStream serverBidi = await server.OpenBidirectionalStreamAsync();
        await serverBidi.WriteAsync("ping"u8.ToArray(), completeWrites: true);
        WebTransportStream clientSide = await client.AcceptStreamAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("ping", Encoding.ASCII.GetString(await ReadAllAsync(clientSide)));
        await clientSide.WriteAsync("pong"u8.ToArray(), completeWrites: true);
        Assert.Equal("pong", Encoding.ASCII.GetString(await ReadAllAsync(serverBidi)));
    }

    [Fact]
    public async Task StreamAbortCode_ArrivesAsWebTransportCode()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        (WebTransportSession client, WebTransportSession server) = await host.OpenSessionAsync();
        WebTransportStream stream = await client.OpenUnidirectionalStreamAsync();
        WebTransportStream accepted = await server.AcceptStreamAsync().AsTask().WaitAsync(Timeout);
        stream.Abort(QuicAbortDirection.Write, 7);
        var e = await Assert.ThrowsAsync<WebTransportStreamException>(async () => await accepted.ReadAsync(new byte[10])).WaitAsync(Timeout);
        Assert.Equal(7u, e.ErrorCode);
        Assert.Equal(WebTransportErrorCodes.ToHttp3(7), e.Http3ErrorCode);
    }

    [Fact]
    public async Task Datagrams_FlowBothWays()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        (WebTransportSession client, WebTransportSession server) = await host.OpenSessionAsync();
        Assert.True(client.MaxDatagramPayloadSize > 1000);
        Assert.True(client.TrySendDatagram([1, 2, 3]));
        Assert.Equal(new byte[] { 1, 2, 3 }, (await server.ReceiveDatagramAsync().AsTask().WaitAsync(Timeout)).ToArray());
        Assert.True(server.TrySendDatagram([4, 5]));
        Assert.Equal(new byte[] { 4, 5 }, (await client.ReceiveDatagramAsync().AsTask().WaitAsync(Timeout)).ToArray());
        Assert.False(client.TrySendDatagram(new byte[client.MaxDatagramPayloadSize + 1]));
    }

    [Fact]
    public async Task CloseCapsule_DeliversCodeAndReasonAndResetsStreams()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        (WebTransportSession client, WebTransportSession server) = await host.OpenSessionAsync();
        WebTransportStream open = await server.OpenBidirectionalStreamAsync();
        await open.WriteAsync(new byte[1]);
        WebTransportStream clientStream = await client.AcceptStreamAsync().AsTask().WaitAsync(Timeout);

        await client.CloseAsync(42, "bye now");
        WebTransportCloseInfo info = await server.Closed.WaitAsync(Timeout);
        Assert.Equal(new WebTransportCloseInfo(42, "bye now", ClosedByPeer: true, Abrupt: false), info);
        Assert.Equal(new WebTransportCloseInfo(42, "bye now", ClosedByPeer: false, Abrupt: false), await client.Closed);

        // Both sides reset the session's streams: they can no longer be used (the exact error depends on which reset lands first).
        Exception serverSide = await Assert.ThrowsAnyAsync<Exception>(async () => await open.WriteAsync(new byte[1])).WaitAsync(Timeout);
        Assert.True(serverSide is QuicException or WebTransportStreamException, serverSide.ToString());
        Exception clientSide = await Assert.ThrowsAnyAsync<Exception>(async () => await ReadAllAsync(clientStream)).WaitAsync(Timeout);
        Assert.True(clientSide is QuicException or WebTransportStreamException, clientSide.ToString());
        await Assert.ThrowsAsync<WebTransportSessionException>(async () => await server.AcceptStreamAsync());
        Assert.False(server.TrySendDatagram([1]));
        Assert.False(host.Client.Closed.IsCompleted);
    }

    [Fact]
    public async Task ServerClose_ReachesClient()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        (WebTransportSession client, WebTransportSession server) = await host.OpenSessionAsync();
        await server.CloseAsync(0xffffffff, new string('é', 700)); // 1400 bytes of UTF-8: cut to 1024
        WebTransportCloseInfo info = await client.Closed.WaitAsync(Timeout);
        Assert.Equal(0xffffffffu, info.ErrorCode);
        Assert.Equal(new string('é', 512), info.Reason);
        Assert.True(info.ClosedByPeer);
    }

    [Fact]
    public async Task DrainCapsule_IsSignalled()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        (WebTransportSession client, WebTransportSession server) = await host.OpenSessionAsync();
        await server.DrainAsync();
        await client.DrainRequested.WaitAsync(Timeout);
        Assert.False(client.IsClosed);
    }

    [Fact]
    public async Task SessionsPerConnectionLimit_Answers429()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync(new WebTransportOptions { MaxSessionsPerConnection = 1 }, clientOptions: WebTransportClient.ConfigureHttp3(null, new WebTransportOptions { MaxSessionsPerConnection = 10 }));
        (WebTransportSession first, _) = await host.OpenSessionAsync();
        var e = await Assert.ThrowsAsync<WebTransportSessionException>(() => WebTransportClient.ConnectAsync(host.Client, "a", "/wt"));
        Assert.Equal(429, e.StatusCode);

        // Once the first session ends, a new one fits.
        await first.CloseAsync();
        await Task.Delay(100);
        WebTransportSession again = await WebTransportClient.ConnectAsync(host.Client, "a", "/wt").WaitAsync(Timeout);
        Assert.False(again.IsClosed);
    }

    [Fact]
    public async Task StreamsPerSessionLimit_RefusesExtraStreams()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync(new WebTransportOptions { MaxIncomingStreamsPerSession = 2 });
        (WebTransportSession client, WebTransportSession server) = await host.OpenSessionAsync();
        WebTransportStream a = await client.OpenUnidirectionalStreamAsync();
        WebTransportStream b = await client.OpenUnidirectionalStreamAsync();
        await server.AcceptStreamAsync().AsTask().WaitAsync(Timeout);
        await server.AcceptStreamAsync().AsTask().WaitAsync(Timeout);
        WebTransportStream c = await client.OpenUnidirectionalStreamAsync();
        var e = await Assert.ThrowsAsync<WebTransportStreamException>(async () =>
        {
            for (int i = 0; i < 200; i++)
            {
                await c.WriteAsync(new byte[1000]);
                await Task.Delay(5);
            }
        }).WaitAsync(Timeout);
        Assert.Equal(WebTransportProtocol.BufferedStreamRejectedErrorCode, e.Http3ErrorCode);
        Assert.Equal(2, server.IncomingStreamCount);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
    }

    [Fact]
    public async Task BidiStreamWithReservedFrameBeforeSignal_IsAccepted()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        (WebTransportSession client, WebTransportSession server) = await host.OpenSessionAsync();
        IQuicStream raw = await host.ClientQuic.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        byte[] prefix = [.. VariableLengthInteger.Encode(0x21), 0x00, .. VariableLengthInteger.Encode(0x41), .. VariableLengthInteger.Encode(client.Id)];
        await raw.WriteAsync((byte[])[.. prefix, .. "payload"u8.ToArray()], completeWrites: true);
        WebTransportStream accepted = await server.AcceptStreamAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("payload", Encoding.ASCII.GetString(await ReadAllAsync(accepted)));
    }

    [Fact]
    public async Task StreamArrivingBeforeItsConnect_IsBufferedAndDelivered()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        await host.Client.PeerSettings.WaitAsync(Timeout);
        IQuicStream connect = await host.ClientQuic.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        IQuicStream early = await host.ClientQuic.OpenOutboundStreamAsync(QuicStreamType.Unidirectional);
        await early.WriteAsync((byte[])[.. VariableLengthInteger.Encode(0x54), .. VariableLengthInteger.Encode(connect.Id), .. "early"u8.ToArray()], completeWrites: true);
        await Task.Delay(50);
        await connect.WriteAsync(WebTransportTestHost.HeadersFrame(
            (":method", "CONNECT"), (":protocol", "webtransport"), (":scheme", "https"), (":authority", "a"), (":path", "/wt"), ("sec-webtransport-http3-draft02", "1")), completeWrites: false);
        WebTransportSession server = await host.ServerSessions.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(connect.Id, server.Id);
        WebTransportStream accepted = await server.AcceptStreamAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("early", Encoding.ASCII.GetString(await ReadAllAsync(accepted)));
    }

    [Fact]
    public async Task ConnectStreamFinWithoutCapsule_ClosesWithCodeZero()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        await host.Client.PeerSettings.WaitAsync(Timeout);
        IQuicStream connect = await host.ClientQuic.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await connect.WriteAsync(WebTransportTestHost.HeadersFrame(
            (":method", "CONNECT"), (":protocol", "webtransport"), (":scheme", "https"), (":authority", "a"), (":path", "/wt")), completeWrites: false);
        WebTransportSession server = await host.ServerSessions.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        connect.CompleteWrites();
        Assert.Equal(new WebTransportCloseInfo(0, "", ClosedByPeer: true, Abrupt: false), await server.Closed.WaitAsync(Timeout));
    }

    [Fact]
    public async Task PeerCloseCapsule_ResetsSessionStreamsWithSessionGone()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        await host.Client.PeerSettings.WaitAsync(Timeout);
        IQuicStream connect = await host.ClientQuic.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await connect.WriteAsync(WebTransportTestHost.HeadersFrame(
            (":method", "CONNECT"), (":protocol", "webtransport"), (":scheme", "https"), (":authority", "a"), (":path", "/wt")), completeWrites: false);
        WebTransportSession server = await host.ServerSessions.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        IQuicStream raw = await host.ClientQuic.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await raw.WriteAsync((byte[])[.. VariableLengthInteger.Encode(0x41), .. VariableLengthInteger.Encode(connect.Id), 1], completeWrites: false);
        await server.AcceptStreamAsync().AsTask().WaitAsync(Timeout);

        byte[] close = [.. VariableLengthInteger.Encode(WebTransportProtocol.CloseSessionCapsule), 0x06, 0, 0, 0, 9, (byte)'o', (byte)'k'];
        await connect.WriteAsync(DataFrame(close), completeWrites: true);
        Assert.Equal(new WebTransportCloseInfo(9, "ok", ClosedByPeer: true, Abrupt: false), await server.Closed.WaitAsync(Timeout));
        var e = await Assert.ThrowsAsync<QuicException>(async () => await raw.ReadAsync(new byte[10])).WaitAsync(Timeout);
        Assert.Equal(WebTransportProtocol.SessionGoneErrorCode, e.ApplicationErrorCode);

        // The server answers with FIN on the CONNECT stream after the response headers.
        byte[] buffer = new byte[1000];
        int total = 0, n;
        while ((n = await connect.ReadAsync(buffer.AsMemory(total)).AsTask().WaitAsync(Timeout)) > 0)
        {
            total += n;
        }

        Assert.True(total > 0);
    }

    [Fact]
    public async Task UnknownCapsule_IsSkippedAndMalformedCloseResetsStream()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        await host.Client.PeerSettings.WaitAsync(Timeout);
        IQuicStream connect = await host.ClientQuic.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);
        await connect.WriteAsync(WebTransportTestHost.HeadersFrame(
            (":method", "CONNECT"), (":protocol", "webtransport"), (":scheme", "https"), (":authority", "a"), (":path", "/wt")), completeWrites: false);
        WebTransportSession server = await host.ServerSessions.Reader.ReadAsync().AsTask().WaitAsync(Timeout);

        // An unknown capsule (type 0x3f, 5000 bytes) then a DRAIN, both in DATA frames.
        byte[] unknown = [.. VariableLengthInteger.Encode(0x3f), .. VariableLengthInteger.Encode(5000), .. new byte[5000]];
        byte[] drain = [.. VariableLengthInteger.Encode(WebTransportProtocol.DrainSessionCapsule), 0x00];
        await connect.WriteAsync(DataFrame([.. unknown, .. drain]), completeWrites: false);
        await server.DrainRequested.WaitAsync(Timeout);
        Assert.False(server.IsClosed);

        // A CLOSE capsule shorter than its 32-bit code is malformed: H3_MESSAGE_ERROR on the CONNECT stream.
        byte[] badClose = [.. VariableLengthInteger.Encode(WebTransportProtocol.CloseSessionCapsule), 0x02, 0x00, 0x01];
        await connect.WriteAsync(DataFrame(badClose), completeWrites: false);
        WebTransportCloseInfo info = await server.Closed.WaitAsync(Timeout);
        Assert.True(info.Abrupt);
        var reset = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            byte[] buffer = new byte[1000];
            while (await connect.ReadAsync(buffer) > 0)
            {
            }
        }).WaitAsync(Timeout);
        Assert.Equal((long)Http3ErrorCode.MessageError, reset.ApplicationErrorCode);
    }

    [Fact]
    public async Task ConnectionClose_EndsSessionsAbruptly()
    {
        await using WebTransportTestHost host = await WebTransportTestHost.StartAsync();
        (WebTransportSession client, WebTransportSession server) = await host.OpenSessionAsync();
        await host.Client.CloseAsync(Http3ErrorCode.NoError, "bye");
        Assert.True((await server.Closed.WaitAsync(Timeout)).Abrupt);
        Assert.True((await client.Closed.WaitAsync(Timeout)).Abrupt);
    }

    private static byte[] DataFrame(byte[] payload) => [.. VariableLengthInteger.Encode(0), .. VariableLengthInteger.Encode(payload.Length), .. payload];

    private static async Task<byte[]> ReadAllAsync(WebTransportStream stream)
    {
        using var ms = new MemoryStream();
        byte[] buffer = new byte[16384];
        using var cts = new CancellationTokenSource(Timeout);
        while (true)
        {
            int n = await stream.ReadAsync(buffer, cts.Token);
            if (n == 0)
            {
                return ms.ToArray();
            }

            ms.Write(buffer, 0, n);
        }
    }
}

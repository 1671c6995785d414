using System.Text;
using Switchyard.Http3.Client;
using Switchyard.Http3.Connection;
using Switchyard.Http3.Frames;
using Switchyard.Http3.Server;
using Switchyard.Http3.Tests.Support;
using Switchyard.Transport;
using Switchyard.Transport.InMemory;

namespace Switchyard.Http3.Tests.Connection;

public class Http3ErrorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static (RawPeer Raw, Http3ServerConnection Server) StartServerWithRawClient(Http3RequestHandler? handler = null, Http3ConnectionOptions? options = null)
    {
        (InMemoryQuicConnection c, InMemoryQuicConnection s) = InMemoryQuicTransport.CreateConnectionPair();
        var server = new Http3ServerConnection(s, options ?? new Http3ConnectionOptions(), handler ?? ((_, res) => res.WriteAsync("ok"u8.ToArray()).AsTask()));
        _ = server.RunAsync();
        return (new RawPeer(c), server);
    }

    private static byte[] GetRequest(string path = "/") =>
        Http3RoundTripTests.Headers(new(":method", "GET"), new(":scheme", "https"), new(":path", path), new(":authority", "a"));

    [Fact]
    public async Task ControlStreamWithoutSettingsFirst_IsMissingSettings()
    {
        (RawPeer raw, Http3ServerConnection server) = StartServerWithRawClient();
        await raw.OpenControlAsync(RawPeer.Frame((long)Http3FrameType.GoAway, [0]));
        Assert.Equal((long)Http3ErrorCode.MissingSettings, await raw.WaitForCloseCodeAsync());
        Assert.Equal(Http3ErrorCode.MissingSettings, server.CloseError!.ErrorCode);
        Assert.Contains("§6.2.1", server.CloseError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondControlStream_IsStreamCreationError()
    {
        (RawPeer raw, _) = StartServerWithRawClient();
        await raw.OpenControlAsync(RawPeer.Settings());
        await raw.OpenControlAsync(RawPeer.Settings());
        Assert.Equal((long)Http3ErrorCode.StreamCreationError, await raw.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task ClosingControlStream_IsClosedCriticalStream()
    {
        (RawPeer raw, _) = StartServerWithRawClient();
        IQuicStream control = await raw.OpenControlAsync(RawPeer.Settings());
        control.CompleteWrites();
        Assert.Equal((long)Http3ErrorCode.ClosedCriticalStream, await raw.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task ResettingQpackEncoderStream_IsClosedCriticalStream()
    {
        (RawPeer raw, _) = StartServerWithRawClient();
        await raw.OpenControlAsync(RawPeer.Settings());
        IQuicStream encoder = await raw.OpenUniAsync(RawPeer.Varint(2));
        await Task.Delay(20);
        encoder.Abort(QuicAbortDirection.Write, 0x100);
        Assert.Equal((long)Http3ErrorCode.ClosedCriticalStream, await raw.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task SecondSettingsFrame_IsFrameUnexpected()
    {
        (RawPeer raw, _) = StartServerWithRawClient();
        await raw.OpenControlAsync(RawPeer.Settings(), RawPeer.Settings());
        Assert.Equal((long)Http3ErrorCode.FrameUnexpected, await raw.WaitForCloseCodeAsync());
    }

    [Theory]
    // DATA, HEADERS and an HTTP/2-reserved type (0x06, PING) are not allowed on the control stream (RFC 9114 §7.2.8).
    [InlineData(0x00L)]
    [InlineData(0x01L)]
    [InlineData(0x06L)]
    public async Task ForbiddenFrameOnControlStream_IsFrameUnexpected(long type)
    {
        (RawPeer raw, _) = StartServerWithRawClient();
        await raw.OpenControlAsync(RawPeer.Settings(), RawPeer.Frame(type, [0]));
        Assert.Equal((long)Http3ErrorCode.FrameUnexpected, await raw.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task CancelPushForUnknownPush_IsIdError()
    {
        (RawPeer raw, _) = StartServerWithRawClient();
        await raw.OpenControlAsync(RawPeer.Settings(), RawPeer.Frame((long)Http3FrameType.CancelPush, [3]));
        Assert.Equal((long)Http3ErrorCode.IdError, await raw.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task ClientPushStream_IsStreamCreationError()
    {
        (RawPeer raw, _) = StartServerWithRawClient();
        await raw.OpenUniAsync(RawPeer.Concat(RawPeer.Varint(1), RawPeer.Varint(0)));
        Assert.Equal((long)Http3ErrorCode.StreamCreationError, await raw.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task DataBeforeHeaders_IsFrameUnexpected()
    {
        (RawPeer raw, _) = StartServerWithRawClient();
        await raw.OpenControlAsync(RawPeer.Settings());
        await raw.OpenRequestAsync(RawPeer.Frame(0, "x"u8), fin: true);
        Assert.Equal((long)Http3ErrorCode.FrameUnexpected, await raw.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task PushPromiseFromClient_IsFrameUnexpected()
    {
        (RawPeer raw, _) = StartServerWithRawClient(async (req, res) => await req.ReadBodyToEndAsync(100));
        await raw.OpenControlAsync(RawPeer.Settings());
        await raw.OpenRequestAsync(RawPeer.Concat(GetRequest(), RawPeer.Frame(5, [0, 0, 0])), fin: true);
        Assert.Equal((long)Http3ErrorCode.FrameUnexpected, await raw.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task TruncatedFrameAtFin_IsFrameError()
    {
        (RawPeer raw, _) = StartServerWithRawClient(async (req, res) => await req.ReadBodyToEndAsync(100));
        await raw.OpenControlAsync(RawPeer.Settings());
        byte[] truncated = RawPeer.Frame(0, "abcdef"u8)[..4];
        await raw.OpenRequestAsync(RawPeer.Concat(GetRequest(), truncated), fin: true);
        Assert.Equal((long)Http3ErrorCode.FrameError, await raw.WaitForCloseCodeAsync());
    }

    [Theory]
    // Each row is one malformed request per RFC 9114 §4.2 / §4.3.1; all are stream errors H3_MESSAGE_ERROR.
    [InlineData("uppercase")]
    [InlineData("missing-path")]
    [InlineData("pseudo-after-regular")]
    [InlineData("unknown-pseudo")]
    [InlineData("connection-header")]
    [InlineData("duplicate-method")]
    [InlineData("connect-with-path")]
    public async Task MalformedRequest_IsStreamMessageErrorAndConnectionSurvives(string kind)
    {
        (RawPeer raw, _) = StartServerWithRawClient();
        await raw.OpenControlAsync(RawPeer.Settings());
        HeaderField[] fields = kind switch
        {
            "uppercase" => [new(":method", "GET"), new(":scheme", "https"), new(":path", "/"), new(":authority", "a"), new("X-Upper", "1")],
            "missing-path" => [new(":method", "GET"), new(":scheme", "https"), new(":authority", "a")],
            "pseudo-after-regular" => [new(":method", "GET"), new(":scheme", "https"), new("accept", "*/*"), new(":path", "/"), new(":authority", "a")],
            "unknown-pseudo" => [new(":method", "GET"), new(":scheme", "https"), new(":path", "/"), new(":authority", "a"), new(":bogus", "1")],
            "connection-header" => [new(":method", "GET"), new(":scheme", "https"), new(":path", "/"), new(":authority", "a"), new("connection", "close")],
            "duplicate-method" => [new(":method", "GET"), new(":method", "GET"), new(":scheme", "https"), new(":path", "/"), new(":authority", "a")],
            _ => [new HeaderField(":method", "CONNECT"), new(":path", "/"), new(":authority", "a")],
        };
        IQuicStream bad = await raw.OpenRequestAsync(Http3RoundTripTests.Headers(fields), fin: true);
        Assert.Equal((long)Http3ErrorCode.MessageError, await RawPeer.WaitForResetAsync(bad).WaitAsync(Timeout));

        IQuicStream good = await raw.OpenRequestAsync(GetRequest(), fin: true);
        byte[] response = await RawPeer.ReadToEndAsync(good);
        Assert.EndsWith("ok", Encoding.ASCII.GetString(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestStreamEndingBeforeHeaders_IsRequestIncomplete()
    {
        (RawPeer raw, _) = StartServerWithRawClient();
        await raw.OpenControlAsync(RawPeer.Settings());
        IQuicStream s = await raw.OpenRequestAsync(RawPeer.Frame(0x21, []), fin: true);
        Assert.Equal((long)Http3ErrorCode.RequestIncomplete, await RawPeer.WaitForResetAsync(s).WaitAsync(Timeout));
    }

    [Fact]
    public async Task QpackReferenceBeyondTable_IsDecompressionFailed()
    {
        (RawPeer raw, _) = StartServerWithRawClient(options: new Http3ConnectionOptions { QpackMaxTableCapacity = 0 });
        await raw.OpenControlAsync(RawPeer.Settings());
        await raw.OpenRequestAsync(RawPeer.Frame(1, Hex.Parse("0200 80")), fin: true);
        Assert.Equal((long)Http3ErrorCode.QpackDecompressionFailed, await raw.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task SectionAcknowledgmentOnOurEncoder_IsDecoderStreamError()
    {
        (RawPeer raw, _) = StartServerWithRawClient();
        await raw.OpenControlAsync(RawPeer.Settings());
        await raw.OpenUniAsync(RawPeer.Concat(RawPeer.Varint(3), [0x80]));
        Assert.Equal((long)Http3ErrorCode.QpackDecoderStreamError, await raw.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task MalformedDatagram_IsDatagramError()
    {
        (RawPeer raw, _) = StartServerWithRawClient(options: new Http3ConnectionOptions { EnableDatagrams = true });
        await raw.OpenControlAsync(RawPeer.Settings((0x33, 1)));
        Assert.True(raw.Quic.TrySendDatagram([0x40])); // a two-byte varint cut after one byte
        Assert.Equal((long)Http3ErrorCode.DatagramError, await raw.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task PushPromiseToClient_IsIdError()
    {
        (InMemoryQuicConnection c, InMemoryQuicConnection s) = InMemoryQuicTransport.CreateConnectionPair();
        Http3ClientConnection client = await Http3ClientConnection.ConnectAsync(c);
        var rawServer = new RawPeer(s);
        await rawServer.OpenControlAsync(RawPeer.Settings());
        Task<Http3ResponseMessage> send = client.SendAsync(new Http3RequestHead { Authority = "a" });
        IQuicStream request = await s.AcceptBidiAsync();
        await request.WriteAsync(RawPeer.Frame(5, [0, 0, 0]), false);
        Assert.Equal((long)Http3ErrorCode.IdError, await rawServer.WaitForCloseCodeAsync());
        await Assert.ThrowsAnyAsync<Exception>(() => send);
    }

    [Fact]
    public async Task ServerInitiatedBidiStream_IsStreamCreationError()
    {
        (InMemoryQuicConnection c, InMemoryQuicConnection s) = InMemoryQuicTransport.CreateConnectionPair();
        await Http3ClientConnection.ConnectAsync(c);
        var rawServer = new RawPeer(s);
        await rawServer.OpenControlAsync(RawPeer.Settings());
        await rawServer.OpenRequestAsync(RawPeer.Frame(0, [1]), fin: false);
        Assert.Equal((long)Http3ErrorCode.StreamCreationError, await rawServer.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task GoAwayIncreasing_IsIdError()
    {
        (InMemoryQuicConnection c, InMemoryQuicConnection s) = InMemoryQuicTransport.CreateConnectionPair();
        await Http3ClientConnection.ConnectAsync(c);
        var rawServer = new RawPeer(s);
        await rawServer.OpenControlAsync(RawPeer.Settings(), RawPeer.Frame(7, [4]), RawPeer.Frame(7, [8]));
        Assert.Equal((long)Http3ErrorCode.IdError, await rawServer.WaitForCloseCodeAsync());
    }

    [Fact]
    public async Task MalformedResponse_IsStreamMessageError()
    {
        (InMemoryQuicConnection c, InMemoryQuicConnection s) = InMemoryQuicTransport.CreateConnectionPair();
        Http3ClientConnection client = await Http3ClientConnection.ConnectAsync(c);
        var rawServer = new RawPeer(s);
        await rawServer.OpenControlAsync(RawPeer.Settings());
        Task<Http3ResponseMessage> send = client.SendAsync(new Http3RequestHead { Authority = "a" });
        IQuicStream request = await s.AcceptBidiAsync();
        await request.WriteAsync(Http3RoundTripTests.Headers(new HeaderField(":status", "2000")), true);
        var e = await Assert.ThrowsAsync<Http3StreamException>(() => send).WaitAsync(Timeout);
        Assert.Equal(Http3ErrorCode.MessageError, e.ErrorCode);
        Assert.Equal((long)Http3ErrorCode.MessageError, await RawPeer.WaitForResetAsync(request).WaitAsync(Timeout));
    }
}

internal static class QuicTestExtensions
{
    public static async Task<IQuicStream> AcceptBidiAsync(this IQuicConnection connection)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            IQuicStream s = await connection.AcceptInboundStreamAsync(cts.Token);
            if (s.Type == QuicStreamType.Bidirectional)
            {
                return s;
            }
        }
    }
}

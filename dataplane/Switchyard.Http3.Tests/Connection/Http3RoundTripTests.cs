using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Switchyard.Http3.Client;
using Switchyard.Http3.Connection;
using Switchyard.Http3.Frames;
using Switchyard.Http3.Qpack;
using Switchyard.Http3.Server;
using Switchyard.Http3.Tests.Support;
using Switchyard.Transport;
using Switchyard.Transport.InMemory;

namespace Switchyard.Http3.Tests.Connection;

public class Http3RoundTripTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Get_ReturnsStatusHeadersBodyAndTrailers()
    {
        await using Http3TestHost host = await Http3TestHost.StartAsync(async (req, res) =>
        {
            res.StatusCode = 203;
            res.Headers.Add(new("x-path", req.Path!));
            res.Headers.Add(new("x-authority", req.Authority!));
            res.Trailers.Add(new("x-trailer", "done"));
            await res.WriteAsync(Encoding.ASCII.GetBytes(req.Method + " " + req.GetHeader("user-agent")));
        });

        var request = new Http3RequestHead { Authority = "example.com", Path = "/hello?x=1" };
        request.Headers.Add(new("user-agent", "test/1"));
        Http3ResponseMessage response = await host.Client.SendAsync(request).WaitAsync(Timeout);
        Assert.Equal(203, response.StatusCode);
        Assert.Equal("/hello?x=1", response.Head.GetHeader("x-path"));
        Assert.Equal("example.com", response.Head.GetHeader("x-authority"));
        Assert.Equal("GET test/1", Encoding.ASCII.GetString(response.Body.Span));
        Assert.Equal([new HeaderField("x-trailer", "done")], response.Trailers);
    }

    [Fact]
    public async Task LargeStreamedBodies_EchoIntactUnderBackpressure()
    {
        const int size = 8 * 1024 * 1024;
        await using Http3TestHost host = await Http3TestHost.StartAsync(async (req, res) =>
        {
            byte[] buffer = new byte[7000];
            while (true)
            {
                int n = await req.ReadBodyAsync(buffer);
                if (n == 0)
                {
                    break;
                }

                await res.WriteAsync(buffer.AsMemory(0, n));
            }

            res.Trailers.Add(new("x-count", "ok"));
        });

        byte[] body = RandomNumberGenerator.GetBytes(size);
        await using Http3ClientStream stream = await host.Client.SendRequestHeadersAsync(new Http3RequestHead { Method = "POST", Authority = "a", Path = "/echo" });
        Task send = Task.Run(async () =>
        {
            for (int offset = 0; offset < size; offset += 100_000)
            {
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(100_000, size - offset)));
            }

            await stream.CompleteAsync();
        });

        Http3ResponseHead head = await stream.ReadResponseAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(200, head.StatusCode);
        using var received = new MemoryStream();
        byte[] chunk = new byte[50_000];
        while (true)
        {
            int n = await stream.ReadBodyAsync(chunk).AsTask().WaitAsync(Timeout);
            if (n == 0)
            {
                break;
            }

            received.Write(chunk, 0, n);
        }

        await send.WaitAsync(Timeout);
        Assert.Equal(SHA256.HashData(body), SHA256.HashData(received.ToArray()));
        Assert.Equal("ok", stream.Trailers!.Single().Value);
    }

    [Fact]
    public async Task ManyConcurrentRequests_AllSucceedAboveTheStreamLimit()
    {
        await using Http3TestHost host = await Http3TestHost.StartAsync(
            async (req, res) =>
            {
                await Task.Yield();
                await res.WriteAsync(Encoding.ASCII.GetBytes(req.Path!));
            },
            serverQuicOptions: new InMemoryQuicConnectionOptions { MaxInboundBidirectionalStreams = 16 });

        Task<Http3ResponseMessage>[] tasks = Enumerable.Range(0, 300)
            .Select(i => host.Client.SendAsync(new Http3RequestHead { Authority = "a", Path = "/r/" + i }))
            .ToArray();
        Http3ResponseMessage[] responses = await Task.WhenAll(tasks).WaitAsync(Timeout);
        for (int i = 0; i < responses.Length; i++)
        {
            Assert.Equal("/r/" + i, Encoding.ASCII.GetString(responses[i].Body.Span));
        }
    }

    [Fact]
    public async Task ExtendedConnect_ExposesProtocolAndKeepsStreamOpenBothWays()
    {
        var options = new Http3ConnectionOptions { EnableExtendedConnect = true };
        await using Http3TestHost host = await Http3TestHost.StartAsync(
            async (req, res) =>
            {
                Assert.Equal("CONNECT", req.Method);
                res.Headers.Add(new("x-protocol", req.Protocol!));
                await res.SendHeadersAsync();
                byte[] buffer = new byte[100];
                int n = await req.ReadBodyAsync(buffer);
                await res.WriteAsync(buffer.AsMemory(0, n));
            },
            options,
            new Http3ConnectionOptions { EnableExtendedConnect = true });

        await using Http3ClientStream stream = await host.Client.SendRequestHeadersAsync(new Http3RequestHead { Method = "CONNECT", Protocol = "echo", Authority = "a", Path = "/tunnel" });
        Http3ResponseHead head = await stream.ReadResponseAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("echo", head.GetHeader("x-protocol"));
        await stream.WriteAsync("ping"u8.ToArray());
        byte[] echo = new byte[10];
        int read = await stream.ReadBodyAsync(echo).AsTask().WaitAsync(Timeout);
        Assert.Equal("ping", Encoding.ASCII.GetString(echo, 0, read));
    }

    [Fact]
    public async Task ExtendedConnect_WithoutServerSetting_IsRefusedByClient()
    {
        await using Http3TestHost host = await Http3TestHost.StartAsync((req, res) => Task.CompletedTask);
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await host.Client.SendRequestHeadersAsync(new Http3RequestHead { Method = "CONNECT", Protocol = "webtransport", Authority = "a", Path = "/" }));
    }

    [Fact]
    public async Task ProtocolPseudoHeader_WhenNotEnabled_IsMessageError()
    {
        (InMemoryQuicConnection c, InMemoryQuicConnection s) = InMemoryQuicTransport.CreateConnectionPair();
        var server = new Http3ServerConnection(s, new Http3ConnectionOptions(), (_, _) => Task.CompletedTask);
        _ = server.RunAsync();
        var raw = new RawPeer(c);
        await raw.OpenControlAsync(RawPeer.Settings());
        IQuicStream request = await raw.OpenRequestAsync(Headers(new(":method", "CONNECT"), new(":protocol", "x"), new(":scheme", "https"), new(":path", "/"), new(":authority", "a")), fin: true);
        Assert.Equal((long)Http3ErrorCode.MessageError, await RawPeer.WaitForResetAsync(request).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Datagrams_RoutedByQuarterStreamIdBothWays()
    {
        var options = new Http3ConnectionOptions { EnableDatagrams = true, EnableExtendedConnect = true };
        var received = new TaskCompletionSource<byte[]>();
        await using Http3TestHost host = await Http3TestHost.StartAsync(
            async (req, res) =>
            {
                using IDisposable registration = req.Connection.RegisterDatagramHandler(req.StreamId, d =>
                {
                    req.Connection.TrySendDatagram(req.StreamId, d.Span);
                });
                await res.SendHeadersAsync();
                await req.ReadBodyAsync(new byte[1]);
            },
            options,
            options.Clone());

        await using Http3ClientStream stream = await host.Client.SendRequestHeadersAsync(new Http3RequestHead { Method = "CONNECT", Protocol = "dg", Authority = "a", Path = "/" });
        await stream.ReadResponseAsync().AsTask().WaitAsync(Timeout);
        using IDisposable clientRegistration = host.Client.RegisterDatagramHandler(stream.StreamId, d => received.TrySetResult(d.ToArray()));
        await host.Client.PeerSettings.WaitAsync(Timeout);
        Assert.True(host.Client.DatagramsEnabled);
        Assert.True(host.Client.TrySendDatagram(stream.StreamId, [9, 8, 7]));
        Assert.Equal(new byte[] { 9, 8, 7 }, await received.Task.WaitAsync(Timeout));
        await stream.CompleteAsync();
    }

    [Fact]
    public async Task GracefulShutdown_SendsGoAwayAndFinishesInFlightRequests()
    {
        var release = new TaskCompletionSource();
        var started = new TaskCompletionSource();
        await using Http3TestHost host = await Http3TestHost.StartAsync(async (req, res) =>
        {
            started.TrySetResult();
            await release.Task;
            await res.WriteAsync("finished"u8.ToArray());
        });

        Task<Http3ResponseMessage> inFlight = host.Client.SendAsync(new Http3RequestHead { Authority = "a" });
        await started.Task.WaitAsync(Timeout);
        Task shutdown = host.Server.ShutdownAsync(TimeSpan.FromSeconds(10));
        while (host.Client.PeerGoAwayId is null)
        {
            await Task.Delay(10);
        }

        Assert.Equal(4, host.Client.PeerGoAwayId);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await host.Client.SendRequestHeadersAsync(new Http3RequestHead { Authority = "a" }));
        release.SetResult();
        Http3ResponseMessage response = await inFlight.WaitAsync(Timeout);
        Assert.Equal("finished", Encoding.ASCII.GetString(response.Body.Span));
        await shutdown.WaitAsync(Timeout);
        await host.Client.Closed.WaitAsync(Timeout);
        Assert.Null(host.Client.CloseError);
    }

    [Fact]
    public async Task HandlerThrowsBeforeResponse_Returns500()
    {
        await using Http3TestHost host = await Http3TestHost.StartAsync((req, res) => throw new InvalidOperationException("boom"));
        Http3ResponseMessage response = await host.Client.SendAsync(new Http3RequestHead { Authority = "a" }).WaitAsync(Timeout);
        Assert.Equal(500, response.StatusCode);
    }

    [Fact]
    public async Task HandlerThrowsAfterResponseStarted_ResetsStream()
    {
        await using Http3TestHost host = await Http3TestHost.StartAsync(async (req, res) =>
        {
            await res.WriteAsync(new byte[10]);
            throw new InvalidOperationException("boom");
        });
        await using Http3ClientStream stream = await host.Client.SendRequestHeadersAsync(new Http3RequestHead { Authority = "a" }, endStream: true);
        var e = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            await stream.ReadResponseAsync();
            while (await stream.ReadBodyAsync(new byte[100]) > 0)
            {
            }
        }).WaitAsync(Timeout);
        Assert.Equal((long)Http3ErrorCode.InternalError, e.ApplicationErrorCode);
    }

    [Fact]
    public async Task UnknownFramesSettingsAndStreamTypes_AreIgnored()
    {
        (InMemoryQuicConnection c, InMemoryQuicConnection s) = InMemoryQuicTransport.CreateConnectionPair();
        var server = new Http3ServerConnection(s, new Http3ConnectionOptions(), async (req, res) =>
        {
            byte[] body = await req.ReadBodyToEndAsync(1000);
            await res.WriteAsync(body);
        });
        _ = server.RunAsync();
        var raw = new RawPeer(c);

        // Control stream: SETTINGS with unknown and GREASE identifiers, then an unknown frame type.
        await raw.OpenControlAsync(RawPeer.Settings((0x21, 5), (0xffd277, 1), (0x2b603742, 1)), RawPeer.Frame(0x40, [1, 2, 3]));

        // An unknown unidirectional stream type is refused with STOP_SENDING H3_STREAM_CREATION_ERROR (§6.2).
        IQuicStream unknown = await raw.OpenUniAsync(RawPeer.Concat(RawPeer.Varint(0x5f), new byte[10]));
        var stop = await Assert.ThrowsAsync<QuicException>(async () =>
        {
            for (int i = 0; i < 100; i++)
            {
                await unknown.WriteAsync(new byte[1000], false);
                await Task.Delay(5);
            }
        }).WaitAsync(Timeout);
        Assert.Equal((long)Http3ErrorCode.StreamCreationError, stop.ApplicationErrorCode);

        // A request with reserved frames before HEADERS, between DATA frames and after them.
        byte[] request = RawPeer.Concat(
            RawPeer.Frame(0x21, []),
            Headers(new(":method", "POST"), new(":scheme", "https"), new(":path", "/"), new(":authority", "a")),
            RawPeer.Frame(0, "ab"u8),
            RawPeer.Frame(0x5f, [7, 7, 7]),
            RawPeer.Frame(0, "cd"u8),
            RawPeer.Frame(0x7e, []));
        IQuicStream stream = await raw.OpenRequestAsync(request, fin: true);
        byte[] response = await RawPeer.ReadToEndAsync(stream);
        Assert.EndsWith("abcd", Encoding.ASCII.GetString(response), StringComparison.Ordinal);
        Assert.False(c.Closed.IsCompleted);
    }

    [Fact]
    public async Task DynamicTableRequest_BlocksThenDecodesAndIsAcknowledged()
    {
        (InMemoryQuicConnection c, InMemoryQuicConnection s) = InMemoryQuicTransport.CreateConnectionPair();
        var server = new Http3ServerConnection(s, new Http3ConnectionOptions { QpackMaxTableCapacity = 220 }, async (req, res) =>
        {
            await res.WriteAsync(Encoding.ASCII.GetBytes(req.Authority + req.Path));
        });
        _ = server.RunAsync();
        var raw = new RawPeer(c);
        await raw.OpenControlAsync(RawPeer.Settings());

        // The section of RFC 9204 B.2 (Required Insert Count 2) arrives before the encoder stream: it blocks.
        byte[] section = Hex.Parse("0381 10 11 d1 d7"); // + static :method GET (17), :scheme https (23)
        IQuicStream request = await raw.OpenRequestAsync(RawPeer.Frame(1, section), fin: true);
        await Task.Delay(50);
        await raw.OpenUniAsync(RawPeer.Concat(RawPeer.Varint(2), Hex.Parse("3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468")));
        byte[] response = await RawPeer.ReadToEndAsync(request);
        Assert.EndsWith("www.example.com/sample/path", Encoding.ASCII.GetString(response), StringComparison.Ordinal);

        // The server's decoder stream carries an Insert Count Increment of 2 and/or Section Acknowledgment for stream 0.
        byte[] decoderStream = await ReadServerUniStreamAsync(c, 3, until: 0x80); // Section Acknowledgment, stream 0
        Assert.All(decoderStream, b => Assert.True(b is 0x80 or 0x02, $"unexpected decoder instruction 0x{b:x2}"));
    }

    [Fact]
    public async Task ContentLengthMismatch_IsMessageError()
    {
        (InMemoryQuicConnection c, InMemoryQuicConnection s) = InMemoryQuicTransport.CreateConnectionPair();
        var server = new Http3ServerConnection(s, new Http3ConnectionOptions(), async (req, res) => await req.ReadBodyToEndAsync(100));
        _ = server.RunAsync();
        var raw = new RawPeer(c);
        await raw.OpenControlAsync(RawPeer.Settings());
        IQuicStream stream = await raw.OpenRequestAsync(RawPeer.Concat(
            Headers(new(":method", "POST"), new(":scheme", "https"), new(":path", "/"), new(":authority", "a"), new("content-length", "5")),
            RawPeer.Frame(0, "abc"u8)), fin: true);
        Assert.Equal((long)Http3ErrorCode.MessageError, await RawPeer.WaitForResetAsync(stream).WaitAsync(Timeout));
    }

    [Fact]
    public async Task HeaderSectionAboveLimit_Gets431()
    {
        await using Http3TestHost host = await Http3TestHost.StartAsync((req, res) => Task.CompletedTask, new Http3ConnectionOptions { MaxFieldSectionSize = 200 });
        var request = new Http3RequestHead { Authority = "a" };
        request.Headers.Add(new("x-big", new string('z', 300)));
        Http3ResponseMessage response = await host.Client.SendAsync(request).WaitAsync(Timeout);
        Assert.Equal(431, response.StatusCode);
    }

    internal static byte[] Headers(params HeaderField[] fields)
    {
        var section = new ArrayBufferWriter<byte>();
        QpackEncoder.EncodeFieldSection(section, fields);
        return RawPeer.Frame((long)Http3FrameType.Headers, section.WrittenSpan);
    }

    private static async Task<byte[]> ReadServerUniStreamAsync(InMemoryQuicConnection client, long type, byte until)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (true)
        {
            IQuicStream s = await client.AcceptInboundStreamAsync(cts.Token);
            byte[] first = new byte[1];
            await s.ReadAsync(first, cts.Token);
            if (first[0] != type)
            {
                continue;
            }

            var bytes = new List<byte>();
            byte[] buffer = new byte[100];
            while (!bytes.Contains(until))
            {
                int n = await s.ReadAsync(buffer, cts.Token);
                bytes.AddRange(buffer.Take(n));
            }

            return bytes.ToArray();
        }
    }
}

public class Http3ServerListenerTests
{
    [Fact]
    public async Task ServerOnListener_ServesConnectionsAndShutsDownGracefully()
    {
        var transport = new InMemoryQuicTransport();
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        using var cert = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=test", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await using IQuicListener listener = await transport.ListenAsync(new QuicServerOptions
        {
            ListenEndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            ServerCertificate = cert,
            ApplicationProtocols = ["h3"],
        });
        var server = new Http3Server(listener, new Http3ConnectionOptions(), (req, res) => res.WriteAsync(Encoding.ASCII.GetBytes("hi " + req.Path)).AsTask());
        using var stop = new CancellationTokenSource();
        Task run = server.RunAsync(stop.Token);

        var clients = new List<Http3ClientConnection>();
        for (int i = 0; i < 3; i++)
        {
            IQuicConnection quic = await transport.ConnectAsync(new QuicClientOptions { RemoteEndPoint = listener.LocalEndPoint, ApplicationProtocols = ["h3"] });
            Http3ClientConnection client = await Http3ClientConnection.ConnectAsync(quic);
            Http3ResponseMessage response = await client.SendAsync(new Http3RequestHead { Authority = "a", Path = "/" + i }).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("hi /" + i, Encoding.ASCII.GetString(response.Body.Span));
            clients.Add(client);
        }

        Assert.Equal(3, server.ConnectionCount);
        stop.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        foreach (Http3ClientConnection client in clients)
        {
            await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
            for (int wait = 0; wait < 200 && client.PeerGoAwayId is null; wait++)
            {
                await Task.Delay(10);
            }

            Assert.Equal(4, client.PeerGoAwayId); // stream 0 was served; 4 is the first not processed
        }
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Delivery;
using Switchyard.Delivery.Tests;
using Switchyard.Gateway.Hosting;
using Switchyard.Gateway.Metrics;
using Switchyard.Http3.Client;
using Switchyard.Ir;
using Switchyard.Tracks.Framing;
using Switchyard.Transport;
using Switchyard.Transport.InMemory;
using Switchyard.WebTransport.Client;
using Switchyard.WebTransport.Sessions;

namespace Switchyard.Gateway.Tests.Sessions;

/// <summary>
/// The whole WebTransport side — <see cref="WebTransportGateway"/>, HTTP/3, WebTransport sessions, the track pump —
/// driven by our WebTransport client over the in-memory QUIC transport, delivering to real Kestrel backends.
/// </summary>
public sealed class TrackGatewayTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly InMemoryQuicTransport _transport = new();
    private StreamingBackend _ingest = null!;
    private TestBackend _audio = null!;
    private WebTransportGateway _gateway = null!;
    private PrometheusExporter _exporter = null!;
    private IQuicConnection _quic = null!;
    private Http3ClientConnection _h3 = null!;
    private WebTransportSession _session = null!;

    public async Task InitializeAsync()
    {
        _ingest = await StreamingBackend.StartAsync();
        _audio = await TestBackend.StartAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var certificate = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        _gateway = new WebTransportGateway(_transport, new WebTransportGatewayOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            Certificate = certificate,
        }, NullLoggerFactory.Instance);
        var meter = _gateway.Metrics.Meter;
        _exporter = new PrometheusExporter(m => ReferenceEquals(m, meter));
        _gateway.Apply([Snapshot(_ingest.Port, _audio.Port)]);
        await _gateway.StartAsync();

        _quic = await _transport.ConnectAsync(new QuicClientOptions
        {
            RemoteEndPoint = _gateway.LocalEndPoint!,
            TargetHostName = "localhost",
            ApplicationProtocols = ["h3"],
        });
        _h3 = await Http3ClientConnection.ConnectAsync(_quic, WebTransportClient.ConfigureHttp3());
        _session = await WebTransportClient.ConnectAsync(_h3, "localhost", "/wt", origin: "https://localhost").WaitAsync(Patience);
    }

    public async Task DisposeAsync()
    {
        await _session.DisposeAsync();
        await _h3.DisposeAsync();
        await _quic.DisposeAsync();
        await _gateway.DisposeAsync();
        _exporter.Dispose();
        await _ingest.DisposeAsync();
        await _audio.DisposeAsync();
    }

    /// <summary>video and screen go to the streaming backend in Stream mode (screen refused by it); audio in Message mode.</summary>
    private static GatewaySnapshot Snapshot(int ingestPort, int audioPort)
    {
        static WebTransportRuleIr Rule(int index, string type, int port, DeliveryMode mode) => new()
        {
            Name = $"webtransportroute/default/media/rule/{index}",
            Matches = [new WebTransportMatchIr { TrackType = type }],
            Backends = [new WeightedBackendIr { Name = $"service/default/{type}/port/80", Endpoints = [new EndpointIr { Host = "127.0.0.1", Port = port }] }],
            Delivery = new DeliveryIr { Mode = mode, Path = $"/{type}", Timeout = TimeSpan.FromSeconds(10) },
        };

        return new GatewaySnapshot
        {
            Name = "default/gw",
            Listeners =
            [
                new ListenerIr
                {
                    Name = "https",
                    Protocol = ListenerProtocol.Https,
                    Port = 443,
                    WebTransportRoutes =
                    [
                        new WebTransportRouteIr
                        {
                            Name = "webtransportroute/default/media",
                            Rules =
                            [
                                Rule(0, "video", ingestPort, DeliveryMode.Stream),
                                Rule(1, "screen", ingestPort, DeliveryMode.Stream),
                                Rule(2, "audio", audioPort, DeliveryMode.Message),
                            ],
                        },
                    ],
                },
            ],
        };
    }

    [Fact]
    public async Task StreamModeRule_OneStreamingRequestPerStream_BodyIsTheFramedMessagesByteExact()
    {
        var random = new Random(7);
        var stream = await _session.OpenUnidirectionalStreamAsync();
        var sent = new List<byte>();
        for (var i = 0; i < 120; i++)
        {
            var payload = new byte[random.Next(0, 6000)];
            random.NextBytes(payload);
            var message = TrackFraming.EncodeMessage("cam", "video", payload);
            sent.AddRange(message);
            await stream.WriteAsync(message);
        }

        stream.CompleteWrites();
        await Eventually(() => !_ingest.Uploads.IsEmpty);

        var upload = Assert.Single(_ingest.Uploads);
        Assert.Equal(sent.ToArray(), upload.Body);
        Assert.Equal(("/video", HttpStreamDeliverer.ContentType, "cam", "video", _session.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), stream.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (upload.Path, upload.ContentType, upload.TrackId, upload.TrackType, upload.SessionId, upload.StreamId));
        await Eventually(() => _exporter.Scrape().Contains("switchyard_wt_messages_total{outcome=\"delivered\",track_type=\"video\"} 120\n", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StreamModeBackendRefuses_TheClientSeesBackendRejected_OtherStreamsFlow()
    {
        _ingest.Status = _ => 422;
        var screen = await _session.OpenBidirectionalStreamAsync();
        var audio = await _session.OpenUnidirectionalStreamAsync();
        await screen.WriteAsync(TrackFraming.EncodeMessage("desk", "screen", new byte[3000]));
        await audio.WriteAsync(TrackFraming.EncodeMessage("mic", "audio", new byte[100]));

        // The streaming request is answered only once its body ends, so the refusal comes after the client's FIN: on a
        // bidirectional stream the client reads it as the reset of the gateway's half.
        screen.CompleteWrites();
        Assert.Equal(StreamErrorCodes.BackendRejected, await ResetCodeAsync(screen));

        await audio.WriteAsync(TrackFraming.EncodeMessage("mic", "audio", new byte[100]));
        audio.CompleteWrites();
        await Eventually(() => _audio.Requests.Count == 2);
        Assert.False(_session.IsClosed);
        var scrape = _exporter.Scrape();
        Assert.Contains("switchyard_wt_messages_total{outcome=\"failed\",track_type=\"screen\"} 1\n", scrape, StringComparison.Ordinal);
        Assert.DoesNotContain("outcome=\"delivered\",track_type=\"screen\"", scrape, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StreamModeBackendDies_TheClientSeesBackendUnavailable()
    {
        var video = await _session.OpenUnidirectionalStreamAsync();
        await video.WriteAsync(TrackFraming.EncodeMessage("cam", "video", new byte[2000]));
        await Eventually(() => _ingest.BytesRead >= 2032);
        _ingest.Kill.TrySetResult();

        uint? code = null;
        var deadline = DateTime.UtcNow + Patience;
        while (code is null && DateTime.UtcNow < deadline)
        {
            try
            {
                await video.WriteAsync(TrackFraming.EncodeMessage("cam", "video", new byte[2000]));
                await Task.Delay(20);
            }
            catch (WebTransportStreamException ex)
            {
                code = ex.ErrorCode;
            }
        }

        Assert.Equal(StreamErrorCodes.BackendUnavailable, code);
        Assert.DoesNotContain("outcome=\"delivered\",track_type=\"video\"", _exporter.Scrape(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatagramsWithTrackHeaders_AreRoutedAndPosted_BadOnesCountedMalformed()
    {
        Assert.True(_session.TrySendDatagram(TrackFraming.EncodeMessage("mic", "audio", [1, 2, 3])));
        Assert.True(_session.TrySendDatagram(new byte[12]));
        Assert.True(_session.TrySendDatagram(TrackFraming.EncodeMessage("mic", "audio", [4])));

        await Eventually(() => _audio.Requests.Count == 2);
        var received = _audio.Requests.OrderBy(r => r.Sequence).ToArray();
        Assert.Equal([[1, 2, 3], [4]], received.Select(r => r.Body));

        // The second datagram was malformed but still took a sequence number.
        Assert.Equal([1L, 3L], received.Select(r => r.Sequence));
        Assert.All(received, r => Assert.Equal(_session.Id, r.StreamId));
        await Eventually(() => _exporter.Scrape().Contains("switchyard_wt_messages_total{outcome=\"delivered\",track_type=\"audio\"} 2\n", StringComparison.Ordinal));
        Assert.Contains("switchyard_wt_messages_total{outcome=\"malformed\",track_type=\"malformed\"} 1\n", _exporter.Scrape(), StringComparison.Ordinal);

        // Nothing was shed for the in-flight bound; the counter reads the dispatcher's own count.
        Assert.Equal(0, _gateway.Datagrams.Dropped);
        Assert.Contains("switchyard_wt_datagrams_dropped_total 0\n", _exporter.Scrape(), StringComparison.Ordinal);
    }

    private static async Task<uint?> ResetCodeAsync(WebTransportStream stream)
    {
        var buffer = new byte[256];
        try
        {
            while (await stream.ReadAsync(buffer).AsTask().WaitAsync(Patience) > 0)
            {
            }
        }
        catch (WebTransportStreamException ex)
        {
            return ex.ErrorCode;
        }

        return null;
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }
}

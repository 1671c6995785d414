using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Switchyard.Ir;
using Switchyard.Tracks.Framing;
using Switchyard.Tracks.Routing;

namespace Switchyard.Delivery.Tests;

public sealed class TrackStreamPumpTests : IAsyncLifetime
{
    private TestBackend _video = null!;
    private TestBackend _chat = null!;
    private readonly RecordingObserver _observer = new();
    private readonly HttpMessageDeliverer _deliverer = new();
    private readonly HttpStreamDeliverer _streams = new();

    public async Task InitializeAsync()
    {
        _video = await TestBackend.StartAsync();
        _chat = await TestBackend.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _deliverer.Dispose();
        _streams.Dispose();
        await _video.DisposeAsync();
        await _chat.DisposeAsync();
    }

    private static WebTransportRuleIr Rule(int index, string type, int port, int retries = 0) => new()
    {
        Name = $"webtransportroute/default/media/rule/{index}",
        Matches = [new WebTransportMatchIr { TrackType = type }],
        Backends = [new WeightedBackendIr { Name = $"service/default/{type}/port/80", Endpoints = [new EndpointIr { Host = "127.0.0.1", Port = port }] }],
        Delivery = new DeliveryIr { Path = $"/process_{type}", RetryAttempts = retries, RetryBackoff = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(2) },
    };

    private TrackStreamPump Pump(long maxInFlight = 4 << 20, params WebTransportRuleIr[] rules)
    {
        var router = new TrackRouter();
        router.Swap(TrackRouteTable.Build(1, [new WebTransportRouteIr { Name = "webtransportroute/default/media", Rules = [.. rules] }]));
        return new TrackStreamPump(router, _deliverer, _streams, new TrackStreamOptions { MaxInFlightBytes = maxInFlight }, _observer);
    }

    private static PipeReader Input(params byte[][] messages)
    {
        var pipe = new Pipe();
        foreach (var m in messages)
        {
            pipe.Writer.Write(m);
        }

        pipe.Writer.Complete();
        return pipe.Reader;
    }

    private static byte[] Msg(string id, string type, int size, byte fill = 1) => TrackFraming.EncodeMessage(id, type, Enumerable.Repeat(fill, size).ToArray());

    [Fact]
    public async Task Messages_ArePostedWithTheSeedHeaders_InOrder()
    {
        var pump = Pump(rules: [Rule(0, "video", _video.Port), Rule(1, "chat", _chat.Port)]);
        var input = Input(Msg("cam", "video", 9000, 1), Msg("room", "chat", 40, 2), Msg("cam", "video", 3000, 3), Msg("cam", "video", 10, 4));

        var result = await pump.RunAsync(input, "127.0.0.1:4433", "/wt", "s-4", 10, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Null(result.ErrorCode);
        Assert.Equal(4, result.Messages);
        var video = _video.Requests.ToArray();
        Assert.Equal([1L, 3, 4], video.Select(r => r.Sequence));
        Assert.Equal([9000, 3000, 10], video.Select(r => r.Body.Length));
        Assert.All(video, r => Assert.Equal(("/process_video", "cam", "video", "s-4", 10L), (r.Path, r.TrackId, r.TrackType, r.SessionId, r.StreamId)));
        Assert.Equal(3, video[1].Body[0]);
        var chat = Assert.Single(_chat.Requests);
        Assert.Equal(("room", "chat", 2L, 40), (chat.TrackId, chat.TrackType, chat.Sequence, chat.Body.Length));
        Assert.Equal(3, _observer.Count("video", DeliveryOutcome.Delivered));
        Assert.Equal(0, _observer.Buffered);
    }

    [Fact]
    public async Task NonAsciiTrackId_ReachesTheBackendAsUtf8()
    {
        // A track_id is UTF-8 (DESIGN.md); HttpClient refuses non-ASCII header values unless told the encoding.
        var pump = Pump(rules: [Rule(0, "chat", _chat.Port)]);

        var result = await pump.RunAsync(Input(Msg("салон-雪", "chat", 5)), "h", "/wt", "s", 0, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Equal("салон-雪", Assert.Single(_chat.Requests).TrackId);
    }

    [Fact]
    public async Task BackendRefusal_StopsTheStreamWithBackendRejected()
    {
        _chat.Status = n => n == 2 ? 400 : 200;
        var pump = Pump(rules: [Rule(0, "chat", _chat.Port, retries: 3)]);

        var result = await pump.RunAsync(Input(Msg("r", "chat", 5), Msg("r", "chat", 5), Msg("r", "chat", 5)), "h", "/wt", "s", 2, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.BackendRejected, result.Outcome);
        Assert.Equal(StreamErrorCodes.BackendRejected, result.ErrorCode);
        Assert.Single(_chat.Requests);
        Assert.Equal(1, _observer.Count("chat", DeliveryOutcome.Delivered));

        // The refused message is never retried. The third was either never read (the stream is stopped, so the client
        // knows) or was queued behind the refusal and is reported with it: never counted delivered, never lost.
        Assert.InRange(_observer.Count("chat", DeliveryOutcome.BackendRejected), 1, 2);
        Assert.Equal(_observer.Total("chat"), _observer.Count("chat", DeliveryOutcome.Delivered) + _observer.Count("chat", DeliveryOutcome.BackendRejected));
    }

    [Fact]
    public async Task DeadBackend_GivesBackendUnavailableAfterBoundedRetries_NothingCountedDelivered()
    {
        var deadPort = FreePort();
        var pump = Pump(rules: [Rule(0, "audio", deadPort, retries: 2)]);
        var started = DateTime.UtcNow;

        var result = await pump.RunAsync(Input(Msg("mic", "audio", 100), Msg("mic", "audio", 100)), "h", "/wt", "s", 6, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.BackendUnavailable, result.Outcome);
        Assert.Equal(StreamErrorCodes.BackendUnavailable, result.ErrorCode);
        Assert.Equal(0, _observer.Count("audio", DeliveryOutcome.Delivered));
        Assert.Equal(_observer.Total("audio"), _observer.Count("audio", DeliveryOutcome.BackendUnavailable) + _observer.Count("audio", DeliveryOutcome.Overloaded));
        Assert.True(_observer.Total("audio") >= 1);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task TransientFailures_AreRetriedUntilDelivered()
    {
        _video.Status = n => n <= 2 ? 503 : 200;
        var pump = Pump(rules: [Rule(0, "video", _video.Port, retries: 3)]);

        var result = await pump.RunAsync(Input(Msg("cam", "video", 500)), "h", "/wt", "s", 0, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Single(_video.Requests);
    }

    [Fact]
    public async Task MalformedHeader_EarlierMessagesDelivered_LaterNeverSent()
    {
        var pump = Pump(rules: [Rule(0, "chat", _chat.Port)]);
        var bad = Msg("r", "chat", 5);
        bad[20] = 0x01;

        var result = await pump.RunAsync(Input(Msg("r", "chat", 5), bad, Msg("r", "chat", 5)), "h", "/wt", "s", 0, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.MalformedHeader, result.Outcome);
        Assert.Equal(StreamErrorCodes.MalformedHeader, result.ErrorCode);
        Assert.Single(_chat.Requests);
        Assert.Equal(1, _observer.Count(TrackStreamPump.MalformedLabel, DeliveryOutcome.MalformedHeader));
    }

    [Fact]
    public async Task OversizedPayload_IsMessageTooLarge()
    {
        var router = new TrackRouter();
        var pump = new TrackStreamPump(router, _deliverer, _streams, new TrackStreamOptions { MaxPayloadLength = 100 }, _observer);
        var result = await pump.RunAsync(Input(Msg("r", "chat", 101)), "h", "/wt", "s", 0, CancellationToken.None);
        Assert.Equal(StreamErrorCodes.MessageTooLarge, result.ErrorCode);
    }

    [Fact]
    public async Task UnroutedTrack_IsNoRoute()
    {
        var pump = Pump(rules: [Rule(0, "chat", _chat.Port)]);
        var result = await pump.RunAsync(Input(Msg("f", "file", 5)), "h", "/wt", "s", 0, CancellationToken.None);
        Assert.Equal(StreamErrorCodes.NoRoute, result.ErrorCode);
        Assert.Equal(1, _observer.Count(TrackStreamPump.UnroutedLabel, DeliveryOutcome.NoRoute));
    }

    [Fact]
    public async Task SlowBackend_BoundsBytesInFlight_AndStopsReading()
    {
        _video.Delay = TimeSpan.FromMilliseconds(30);
        var pump = Pump(maxInFlight: 10_000, rules: [Rule(0, "video", _video.Port)]);
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 20_000, resumeWriterThreshold: 10_000));
        var run = pump.RunAsync(pipe.Reader, "h", "/wt", "s", 0, CancellationToken.None);

        for (var i = 0; i < 20; i++)
        {
            await pipe.Writer.WriteAsync(Msg("cam", "video", 4_000));
            Assert.InRange(_observer.Buffered, 0, 10_000);
        }

        await pipe.Writer.CompleteAsync();
        var result = await run;

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Equal(20, _video.Requests.Count);
        Assert.True(_observer.BufferFull > 0);
        Assert.True(_observer.MaxBuffered <= 10_000, $"max buffered {_observer.MaxBuffered}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

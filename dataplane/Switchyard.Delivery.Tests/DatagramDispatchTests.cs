using Switchyard.Ir;
using Switchyard.Tracks.Framing;
using Switchyard.Tracks.Routing;

namespace Switchyard.Delivery.Tests;

/// <summary>Datagrams with a track header: routed like stream messages, POSTed once each, best effort and bounded.</summary>
public sealed class DatagramDispatchTests : IAsyncLifetime
{
    private readonly RecordingObserver _observer = new();
    private readonly HttpMessageDeliverer _deliverer = new();
    private TestBackend _audio = null!;

    public async Task InitializeAsync() => _audio = await TestBackend.StartAsync();

    public async Task DisposeAsync()
    {
        _deliverer.Dispose();
        await _audio.DisposeAsync();
    }

    private TrackDatagramDispatcher Dispatcher(int port, int maxInFlight = 256, DeliveryMode mode = DeliveryMode.Message, int retries = 3)
    {
        var router = new TrackRouter();
        router.Swap(TrackRouteTable.Build(1, [new WebTransportRouteIr
        {
            Name = "webtransportroute/default/media",
            Rules =
            [
                new WebTransportRuleIr
                {
                    Name = "webtransportroute/default/media/rule/0",
                    Matches = [new WebTransportMatchIr { TrackType = "audio" }],
                    Backends = [new WeightedBackendIr { Name = "service/default/audio/port/80", Endpoints = [new EndpointIr { Host = "127.0.0.1", Port = port }] }],
                    Delivery = new DeliveryIr { Mode = mode, Path = "/process_audio", RetryAttempts = retries, RetryBackoff = TimeSpan.FromMilliseconds(200) },
                },
            ],
        }]));
        return new TrackDatagramDispatcher(router, _deliverer, new TrackDatagramOptions { MaxInFlight = maxInFlight, MaxPayloadLength = 1000 }, _observer);
    }

    [Theory]
    [InlineData(DeliveryMode.Message)]

    // A rule in Stream mode still gets its datagrams one POST each: a datagram belongs to no stream.
    [InlineData(DeliveryMode.Stream)]
    public async Task Datagrams_ArePostedOnceEach_WithTheSessionAsStreamAndTheirOrdinalAsSeq(DeliveryMode mode)
    {
        var session = Dispatcher(_audio.Port, mode: mode).Open("h", "/wt", "s-1", 4);

        for (var i = 0; i < 20; i++)
        {
            Assert.Null(session.Dispatch(TrackFraming.EncodeMessage("mic", "audio", [(byte)i, 1, 2])));
        }

        await session.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));

        var received = _audio.Requests.OrderBy(r => r.Sequence).ToArray();
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), received.Select(r => r.Sequence));
        Assert.All(received, r => Assert.Equal(("/process_audio", "mic", "audio", "s-1", 4L), (r.Path, r.TrackId, r.TrackType, r.SessionId, r.StreamId)));
        Assert.Equal([5, 1, 2], received[5].Body);
        Assert.Equal(20, _observer.Count("audio", DeliveryOutcome.Delivered));
    }

    [Fact]
    public async Task BadDatagrams_AreCountedAndDropped_TheGoodOnesStillDelivered()
    {
        var session = Dispatcher(_audio.Port).Open("h", "/wt", "s", 0);
        var badType = TrackFraming.EncodeMessage("mic", "audio", [1]);
        badType[21] = 0x01;
        var longer = TrackFraming.EncodeMessage("mic", "audio", [1, 2]).Concat(new byte[] { 9 }).ToArray();
        var shorter = TrackFraming.EncodeMessage("mic", "audio", [1, 2])[..^1];

        Assert.Equal(DeliveryOutcome.MalformedHeader, session.Dispatch(new byte[10]));
        Assert.Equal(DeliveryOutcome.MalformedHeader, session.Dispatch(badType));
        Assert.Equal(DeliveryOutcome.MalformedHeader, session.Dispatch(longer));
        Assert.Equal(DeliveryOutcome.MalformedHeader, session.Dispatch(shorter));
        Assert.Equal(DeliveryOutcome.MessageTooLarge, session.Dispatch(TrackFraming.EncodeMessage("mic", "audio", new byte[1001])));
        Assert.Equal(DeliveryOutcome.NoRoute, session.Dispatch(TrackFraming.EncodeMessage("cam", "video", [1])));
        Assert.Null(session.Dispatch(TrackFraming.EncodeMessage("mic", "audio", [7])));
        await session.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal([7], Assert.Single(_audio.Requests).Body);
        Assert.Equal(4, _observer.Count(TrackStreamPump.MalformedLabel, DeliveryOutcome.MalformedHeader));
        Assert.Equal(1, _observer.Count(TrackStreamPump.MalformedLabel, DeliveryOutcome.MessageTooLarge));
        Assert.Equal(1, _observer.Count(TrackStreamPump.UnroutedLabel, DeliveryOutcome.NoRoute));
        Assert.Equal(1, _observer.Count("audio", DeliveryOutcome.Delivered));
    }

    [Fact]
    public async Task OverTheInFlightBound_DatagramsAreDroppedAndCounted()
    {
        _audio.Delay = TimeSpan.FromMilliseconds(500);
        var dispatcher = Dispatcher(_audio.Port, maxInFlight: 3);
        var session = dispatcher.Open("h", "/wt", "s", 0);

        var outcomes = Enumerable.Range(0, 10).Select(i => session.Dispatch(TrackFraming.EncodeMessage("mic", "audio", [(byte)i]))).ToArray();

        Assert.Equal(3, outcomes.Count(o => o is null));
        Assert.Equal(7, outcomes.Count(o => o == DeliveryOutcome.Overloaded));
        Assert.Equal(7, dispatcher.Dropped);
        Assert.Equal(3, dispatcher.InFlight);
        await session.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, dispatcher.InFlight);
        Assert.Equal(3, _audio.Requests.Count);
        Assert.Equal(3, _observer.Count("audio", DeliveryOutcome.Delivered));
        Assert.Equal(7, _observer.Count("audio", DeliveryOutcome.Overloaded));

        // Room again once the deliveries finished.
        Assert.Null(session.Dispatch(TrackFraming.EncodeMessage("mic", "audio", [42])));
        await session.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(4, _audio.Requests.Count);
    }

    [Fact]
    public async Task FailingBackend_IsTriedOnce_AndCountedFailed()
    {
        var attempts = 0;
        _audio.Status = _ =>
        {
            Interlocked.Increment(ref attempts);
            return 503;
        };
        var session = Dispatcher(_audio.Port, retries: 5).Open("h", "/wt", "s", 0);

        Assert.Null(session.Dispatch(TrackFraming.EncodeMessage("mic", "audio", [1])));
        await session.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(20));

        // The rule allows five retries; a datagram gets one attempt.
        Assert.Equal(1, Volatile.Read(ref attempts));
        Assert.Equal(1, _observer.Count("audio", DeliveryOutcome.BackendUnavailable));
        Assert.Equal(0, _observer.Count("audio", DeliveryOutcome.Delivered));
    }
}

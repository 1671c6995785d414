using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Switchyard.Ir;
using Switchyard.Tracks.Framing;
using Switchyard.Tracks.Routing;

namespace Switchyard.Delivery.Tests;

/// <summary><c>Stream</c> delivery against real Kestrel backends: one streaming request per (stream, rule).</summary>
public sealed class StreamDeliveryTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly RecordingObserver _observer = new();
    private readonly HttpMessageDeliverer _messages = new();
    private readonly HttpStreamDeliverer _streams = new();
    private StreamingBackend _video = null!;
    private StreamingBackend _chat = null!;

    public async Task InitializeAsync()
    {
        _video = await StreamingBackend.StartAsync();
        _chat = await StreamingBackend.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _messages.Dispose();
        _streams.Dispose();
        await _video.DisposeAsync();
        await _chat.DisposeAsync();
    }

    /// <summary>A rule sending one track type to one loopback endpoint; Stream mode unless told otherwise.</summary>
    internal static WebTransportRuleIr Rule(int index, string type, int port, int retries = 0, TimeSpan? timeout = null, DeliveryMode mode = DeliveryMode.Stream, BackendProtocol protocol = BackendProtocol.Http1) => new()
    {
        Name = $"webtransportroute/default/media/rule/{index}",
        Matches = [new WebTransportMatchIr { TrackType = type }],
        Backends = [new WeightedBackendIr { Name = $"service/default/{type}/port/80", Protocol = protocol, Endpoints = [new EndpointIr { Host = "127.0.0.1", Port = port }] }],
        Delivery = new DeliveryIr
        {
            Mode = mode,
            Path = $"/ingest_{type}",
            RetryAttempts = retries,
            RetryBackoff = TimeSpan.FromMilliseconds(20),
            Timeout = timeout ?? TimeSpan.FromSeconds(10),
        },
    };

    /// <summary>A pump whose router holds one route with <paramref name="rules"/>.</summary>
    internal static TrackStreamPump Pump(HttpMessageDeliverer messages, HttpStreamDeliverer streams, IDeliveryObserver observer, long maxInFlight, params WebTransportRuleIr[] rules)
    {
        var router = new TrackRouter();
        router.Swap(TrackRouteTable.Build(1, [new WebTransportRouteIr { Name = "webtransportroute/default/media", Rules = [.. rules] }]));
        return new TrackStreamPump(router, messages, streams, new TrackStreamOptions { MaxInFlightBytes = maxInFlight }, observer);
    }

    private TrackStreamPump Pump(long maxInFlight = 4 << 20, params WebTransportRuleIr[] rules) => Pump(_messages, _streams, _observer, maxInFlight, rules);

    private static byte[] Msg(string id, string type, int size, Random? random = null)
    {
        var payload = new byte[size];
        (random ?? Random.Shared).NextBytes(payload);
        return TrackFraming.EncodeMessage(id, type, payload);
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task ManyMessages_ArriveInOneRequest_ByteExactAndInOrder_AsTheyAreRead()
    {
        var random = new Random(4);
        var pump = Pump(rules: Rule(0, "video", _video.Port));
        var pipe = new Pipe();
        var run = pump.RunAsync(pipe.Reader, "h", "/wt", "s-9", 14, CancellationToken.None);

        // The first message reaches the backend while the stream is still open: the body is streamed, not buffered.
        var first = Msg("cam", "video", 700, random);
        await pipe.Writer.WriteAsync(first);
        await Eventually(() => _video.BytesRead >= first.Length, "the first message at the backend");

        // The rest arrives split at random points, as QUIC may deliver it; some payloads are empty.
        var messages = new List<byte[]> { first };
        for (var i = 0; i < 400; i++)
        {
            messages.Add(Msg(i % 3 == 0 ? "cam" : "cam-hd", "video", random.Next(0, 9000), random));
        }

        var wire = messages.Skip(1).SelectMany(m => m).ToArray();
        for (var offset = 0; offset < wire.Length;)
        {
            var cut = Math.Min(wire.Length - offset, random.Next(1, 20_000));
            await pipe.Writer.WriteAsync(wire.AsMemory(offset, cut));
            offset += cut;
        }

        await pipe.Writer.CompleteAsync();
        var result = await run.WaitAsync(Patience);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Equal(401, result.Messages);
        var upload = Assert.Single(_video.Uploads);
        Assert.Equal(messages.SelectMany(m => m).ToArray(), upload.Body);
        Assert.Equal(("/ingest_video", HttpStreamDeliverer.ContentType, "cam", "video", "s-9", "14", 200),
            (upload.Path, upload.ContentType, upload.TrackId, upload.TrackType, upload.SessionId, upload.StreamId, upload.Status));
        Assert.Equal(401, _observer.Count("video", DeliveryOutcome.Delivered));
        Assert.Equal(messages.Sum(m => m.Length - TrackHeader.Size), _observer.Bytes("video", DeliveryOutcome.Delivered));
        Assert.Equal(0, _observer.Buffered);
    }

    [Fact]
    public async Task NonAsciiTrackId_NamesTheStreamingRequestAsUtf8()
    {
        var pump = Pump(rules: Rule(0, "video", _video.Port));
        var pipe = new Pipe();
        pipe.Writer.Write(Msg("камера-雪", "video", 10));
        await pipe.Writer.CompleteAsync();

        var result = await pump.RunAsync(pipe.Reader, "h", "/wt", "s", 0, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Equal("камера-雪", Assert.Single(_video.Uploads).TrackId);
    }

    [Fact]
    public async Task TwoRulesOnOneStream_FanOutIntoOneRequestPerRule()
    {
        var pump = Pump(rules: [Rule(0, "video", _video.Port), Rule(1, "chat", _chat.Port)]);
        var video = Enumerable.Range(0, 30).Select(i => Msg("cam", "video", 1000 + i)).ToList();
        var chat = Enumerable.Range(0, 30).Select(i => Msg("room", "chat", 10 + i)).ToList();
        var pipe = new Pipe();
        foreach (var (v, c) in video.Zip(chat))
        {
            pipe.Writer.Write(v);
            pipe.Writer.Write(c);
        }

        await pipe.Writer.CompleteAsync();
        var result = await pump.RunAsync(pipe.Reader, "h", "/wt", "s", 2, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Equal(video.SelectMany(m => m).ToArray(), Assert.Single(_video.Uploads).Body);
        var chatUpload = Assert.Single(_chat.Uploads);
        Assert.Equal(chat.SelectMany(m => m).ToArray(), chatUpload.Body);
        Assert.Equal(("room", "chat", "/ingest_chat"), (chatUpload.TrackId, chatUpload.TrackType, chatUpload.Path));
        Assert.Equal(30, _observer.Count("video", DeliveryOutcome.Delivered));
        Assert.Equal(30, _observer.Count("chat", DeliveryOutcome.Delivered));
    }

    [Fact]
    public async Task Backend4xx_StopsTheStreamWithBackendRejected_NothingCountedDelivered()
    {
        _chat.Status = _ => 403;
        var pump = Pump(rules: Rule(0, "chat", _chat.Port, retries: 3));
        var pipe = new Pipe();
        for (var i = 0; i < 3; i++)
        {
            pipe.Writer.Write(Msg("room", "chat", 50));
        }

        await pipe.Writer.CompleteAsync();
        var result = await pump.RunAsync(pipe.Reader, "h", "/wt", "s", 6, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(DeliveryOutcome.BackendRejected, result.Outcome);
        Assert.Equal(StreamErrorCodes.BackendRejected, result.ErrorCode);
        Assert.Equal(1, _chat.RequestsStarted);
        Assert.Equal(0, _observer.Count("chat", DeliveryOutcome.Delivered));
        Assert.Equal(3, _observer.Count("chat", DeliveryOutcome.BackendRejected));
    }

    [Fact]
    public async Task Backend5xx_IsBackendUnavailable_AndTheBodyIsNotSentTwice()
    {
        _chat.Status = _ => 503;
        var pump = Pump(rules: Rule(0, "chat", _chat.Port, retries: 3));
        var pipe = new Pipe();
        pipe.Writer.Write(Msg("room", "chat", 50));
        await pipe.Writer.CompleteAsync();

        var result = await pump.RunAsync(pipe.Reader, "h", "/wt", "s", 6, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(StreamErrorCodes.BackendUnavailable, result.ErrorCode);
        Assert.Equal(1, _chat.RequestsStarted);
        Assert.Equal(1, _observer.Count("chat", DeliveryOutcome.BackendUnavailable));
    }

    [Fact]
    public async Task BackendKilledMidStream_GivesBackendUnavailable_UnconfirmedMessagesCountedFailed()
    {
        var pump = Pump(rules: Rule(0, "video", _video.Port, retries: 3));
        var pipe = new Pipe();
        var run = pump.RunAsync(pipe.Reader, "h", "/wt", "s", 10, CancellationToken.None);
        for (var i = 0; i < 5; i++)
        {
            await pipe.Writer.WriteAsync(Msg("cam", "video", 2000));
        }

        await Eventually(() => _video.BytesRead >= 5 * 2032, "five messages at the backend");
        _video.Kill.TrySetResult();

        // The client goes on sending, as a camera does, until the gateway stops its stream.
        for (var i = 0; i < 200 && !run.IsCompleted; i++)
        {
            await pipe.Writer.WriteAsync(Msg("cam", "video", 2000));
            await Task.Delay(20);
        }

        await pipe.Writer.CompleteAsync();
        var result = await run.WaitAsync(Patience);

        Assert.Equal(DeliveryOutcome.BackendUnavailable, result.Outcome);
        Assert.Equal(StreamErrorCodes.BackendUnavailable, result.ErrorCode);

        // The backend read five messages but never confirmed them: none counts delivered, every message read is failed.
        Assert.Empty(_video.Uploads);
        Assert.Equal(1, _video.RequestsStarted);
        Assert.Equal(0, _observer.Count("video", DeliveryOutcome.Delivered));
        Assert.True(result.Messages > 5);
        Assert.Equal(result.Messages, _observer.Count("video", DeliveryOutcome.BackendUnavailable));
        Assert.Equal(0, _observer.Buffered);
    }

    [Fact]
    public async Task NothingListening_IsBackendUnavailableAfterBoundedConnectRetries()
    {
        var pump = Pump(rules: Rule(0, "audio", FreePort(), retries: 2));
        var pipe = new Pipe();
        pipe.Writer.Write(Msg("mic", "audio", 100));
        pipe.Writer.Write(Msg("mic", "audio", 100));
        await pipe.Writer.CompleteAsync();
        var started = DateTime.UtcNow;

        var result = await pump.RunAsync(pipe.Reader, "h", "/wt", "s", 6, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(StreamErrorCodes.BackendUnavailable, result.ErrorCode);
        Assert.Contains("3 attempt(s)", result.Detail, StringComparison.Ordinal);
        Assert.Equal(0, _observer.Count("audio", DeliveryOutcome.Delivered));
        Assert.Equal(2, _observer.Count("audio", DeliveryOutcome.BackendUnavailable));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task BackendComingUpLate_TheConnectIsRetried_AndTheBodyStillStartsWithTheFirstMessage()
    {
        var port = FreePort();
        var pump = Pump(rules: Rule(0, "audio", port, retries: 8));
        var messages = Enumerable.Range(0, 3).Select(i => Msg("mic", "audio", 100 + i)).ToList();
        var pipe = new Pipe();
        foreach (var m in messages)
        {
            pipe.Writer.Write(m);
        }

        var run = pump.RunAsync(pipe.Reader, "h", "/wt", "s", 6, CancellationToken.None);

        // Backoff doubles from 20 ms, so eight retries span about five seconds: the backend comes up within them.
        await Task.Delay(300);
        Assert.False(run.IsCompleted);
        await using var late = await StreamingBackend.StartAsync(port: port);
        var last = Msg("mic", "audio", 7);
        pipe.Writer.Write(last);
        await pipe.Writer.CompleteAsync();
        var result = await run.WaitAsync(Patience);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        var upload = Assert.Single(late.Uploads);
        Assert.Equal("mic", upload.TrackId);
        Assert.Equal(messages.Append(last).SelectMany(m => m).ToArray(), upload.Body);
        Assert.Equal(4, _observer.Count("audio", DeliveryOutcome.Delivered));
    }

    [Fact]
    public async Task SlowBackend_StopsTheReadingOfTheStream_WithBoundedBytesInFlight_ThenDeliversEverything()
    {
        await using var slow = await StreamingBackend.StartAsync(gateOpen: false);
        const long budget = 64 * 1024;
        const int size = 16 * 1024;
        const int count = 2000;
        var pump = Pump(maxInFlight: budget, rules: Rule(0, "video", slow.Port, timeout: TimeSpan.FromSeconds(60)));
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024));
        var run = pump.RunAsync(pipe.Reader, "h", "/wt", "s", 0, CancellationToken.None);
        var message = Msg("cam", "video", size);
        var written = 0;
        var writer = Task.Run(async () =>
        {
            for (; written < count; written++)
            {
                await pipe.Writer.WriteAsync(message);
            }

            await pipe.Writer.CompleteAsync();
        });

        // Wait until the writer makes no progress for a second: the pipe is full because the gateway stopped reading.
        var last = -1;
        var stillSince = DateTime.UtcNow;
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow - stillSince < TimeSpan.FromSeconds(1) || _observer.BufferFull == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the writer never stalled");
            var now = Volatile.Read(ref written);
            if (now != last)
            {
                (last, stillSince) = (now, DateTime.UtcNow);
            }

            await Task.Delay(50);
        }

        // 32 MB were to be sent; what the gateway took is its budget plus socket buffers plus Kestrel's 64 KB.
        Assert.False(writer.IsCompleted);
        Assert.InRange((long)last * message.Length, 0, 8L << 20);
        Assert.Equal(0, slow.BytesRead);
        Assert.True(_observer.BufferFull > 0);
        Assert.InRange(_observer.MaxBuffered, 1, budget);

        slow.ReadGate.TrySetResult();
        await writer.WaitAsync(TimeSpan.FromSeconds(60));
        var result = await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Equal((long)count * message.Length, Assert.Single(slow.Uploads).Body.Length);
        Assert.Equal(count, _observer.Count("video", DeliveryOutcome.Delivered));
        Assert.InRange(_observer.MaxBuffered, 1, budget);
    }

    [Fact]
    public async Task BackendThatStopsReading_PastTheRuleTimeout_IsBackendUnavailable()
    {
        await using var stuck = await StreamingBackend.StartAsync(gateOpen: false);
        var pump = Pump(maxInFlight: 64 * 1024, rules: Rule(0, "video", stuck.Port, timeout: TimeSpan.FromMilliseconds(500)));
        var pipe = new Pipe();
        var run = pump.RunAsync(pipe.Reader, "h", "/wt", "s", 0, CancellationToken.None);
        for (var i = 0; i < 2000 && !run.IsCompleted; i++)
        {
            var flush = pipe.Writer.WriteAsync(Msg("cam", "video", 16 * 1024)).AsTask();
            if (await Task.WhenAny(flush, run) == run)
            {
                break;
            }
        }

        var result = await run.WaitAsync(Patience);
        await pipe.Writer.CompleteAsync();

        Assert.Equal(StreamErrorCodes.BackendUnavailable, result.ErrorCode);
        Assert.Contains("timed out", result.Detail, StringComparison.Ordinal);
        Assert.Equal(0, _observer.Count("video", DeliveryOutcome.Delivered));
        Assert.Equal(result.Messages, _observer.Count("video", DeliveryOutcome.BackendUnavailable));
    }

    [Fact]
    public async Task EmptyStream_MakesNoRequest()
    {
        var pump = Pump(rules: Rule(0, "video", _video.Port));
        var pipe = new Pipe();
        await pipe.Writer.CompleteAsync();

        var result = await pump.RunAsync(pipe.Reader, "h", "/wt", "s", 0, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Equal(0, _video.RequestsStarted);
    }

    [Fact]
    public async Task SessionEndsMidStream_MessagesAreCountedFailed_NeverDelivered()
    {
        using var session = new CancellationTokenSource();
        var pump = Pump(rules: Rule(0, "video", _video.Port));
        var pipe = new Pipe();
        var run = pump.RunAsync(pipe.Reader, "h", "/wt", "s", 0, session.Token);
        await pipe.Writer.WriteAsync(Msg("cam", "video", 100));
        await Eventually(() => _video.BytesRead >= 132, "the message at the backend");

        await session.CancelAsync();
        var result = await run.WaitAsync(Patience);

        Assert.Equal(StreamErrorCodes.Overloaded, result.ErrorCode);
        Assert.Equal(0, _observer.Count("video", DeliveryOutcome.Delivered));
        Assert.Equal(1, _observer.Count("video", DeliveryOutcome.Overloaded));
    }

    [Fact]
    public void ParsedHeaders_WriteBackToTheExactBytesRead()
    {
        // Stream mode forwards a header by writing the parsed one back: that must reproduce the wire bytes exactly.
        string[] idChars = ["a", "Z", "0", "-", "_", "é", "雪", "🎥"];
        var random = new Random(32);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        var checkedCount = 0;
        while (DateTime.UtcNow < deadline && checkedCount < 20_000)
        {
            var id = new List<byte>();
            while (random.Next(8) != 0)
            {
                var next = System.Text.Encoding.UTF8.GetBytes(idChars[random.Next(idChars.Length)]);
                if (id.Count + next.Length > TrackHeader.TrackIdFieldSize)
                {
                    break;
                }

                id.AddRange(next);
            }

            var wire = new byte[TrackHeader.Size];
            id.CopyTo(wire);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(wire.AsSpan(16), (uint)random.NextInt64(0, 1L << 32));
            var typeLength = random.Next(1, TrackHeader.TrackTypeFieldSize + 1);
            for (var i = 0; i < typeLength; i++)
            {
                wire[20 + i] = (byte)random.Next(0x20, 0x7F);
            }

            Assert.Equal(TrackHeaderError.None, TrackHeaderCodec.TryParse(wire, uint.MaxValue, out var header));
            var written = new byte[TrackHeader.Size];
            header.WriteTo(written);
            Assert.Equal(wire, written);
            checkedCount++;
        }

        Assert.True(checkedCount > 100);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

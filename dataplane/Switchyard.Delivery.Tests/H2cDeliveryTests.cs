using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Switchyard.Ir;
using Switchyard.Tracks.Framing;

namespace Switchyard.Delivery.Tests;

/// <summary>
/// Backends whose Service port says <c>appProtocol: kubernetes.io/h2c</c>: spoken to with HTTP/2 prior knowledge, in
/// both delivery modes, against HTTP/2-only Kestrel endpoints (which refuse HTTP/1.1).
/// </summary>
public sealed class H2cDeliveryTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly RecordingObserver _observer = new();
    private readonly HttpMessageDeliverer _messages = new();
    private readonly HttpStreamDeliverer _streams = new();
    private StreamingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await StreamingBackend.StartAsync(protocols: HttpProtocols.Http2);

    public async Task DisposeAsync()
    {
        _messages.Dispose();
        _streams.Dispose();
        await _backend.DisposeAsync();
    }

    private TrackStreamPump Pump(DeliveryMode mode, BackendProtocol protocol) =>
        StreamDeliveryTests.Pump(_messages, _streams, _observer, 4 << 20, StreamDeliveryTests.Rule(0, "audio", _backend.Port, mode: mode, protocol: protocol));

    [Theory]
    [InlineData(DeliveryMode.Message)]
    [InlineData(DeliveryMode.Stream)]
    public async Task H2cBackend_ReceivesEveryMessage(DeliveryMode mode)
    {
        var pipe = new Pipe();
        var framed = Enumerable.Range(0, 5).Select(i => TrackFraming.EncodeMessage("mic", "audio", new byte[100 + i])).ToArray();
        foreach (var message in framed)
        {
            pipe.Writer.Write(message);
        }

        await pipe.Writer.CompleteAsync();
        var result = await Pump(mode, BackendProtocol.H2c).RunAsync(pipe.Reader, "h", "/wt", "s", 2, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Equal(5, _observer.Count("audio", DeliveryOutcome.Delivered));
        if (mode == DeliveryMode.Stream)
        {
            Assert.Equal(framed.SelectMany(m => m).ToArray(), Assert.Single(_backend.Uploads).Body);
        }
        else
        {
            Assert.Equal(5, _backend.Uploads.Count);
        }
    }

    [Fact]
    public async Task H2cBackend_DeclaredHttp1_IsNotReached()
    {
        var pipe = new Pipe();
        pipe.Writer.Write(TrackFraming.EncodeMessage("mic", "audio", new byte[10]));
        await pipe.Writer.CompleteAsync();

        var result = await Pump(DeliveryMode.Message, BackendProtocol.Http1).RunAsync(pipe.Reader, "h", "/wt", "s", 2, CancellationToken.None).WaitAsync(Patience);

        Assert.NotEqual(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Empty(_backend.Uploads);
    }

    [Fact]
    public async Task StreamMode_ARefusalBeforeTheStreamEnds_StopsItWhileTheClientIsStillSending()
    {
        // Over HTTP/1.1 the refusal would be seen only after the client's FIN; over HTTP/2 it arrives at once, so the
        // sender is told while it is still sending (and before it would finish a unidirectional stream).
        _backend.AnswerBeforeReading = 403;
        var pipe = new Pipe();
        pipe.Writer.Write(TrackFraming.EncodeMessage("mic", "audio", new byte[10]));
        await pipe.Writer.FlushAsync();

        var result = await Pump(DeliveryMode.Stream, BackendProtocol.H2c).RunAsync(pipe.Reader, "h", "/wt", "s", 2, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(DeliveryOutcome.BackendRejected, result.Outcome);
        Assert.Equal(StreamErrorCodes.BackendRejected, result.ErrorCode);
        Assert.Equal(1, _observer.Count("audio", DeliveryOutcome.BackendRejected));
        await pipe.Writer.CompleteAsync();
    }

    [Fact]
    public async Task StreamMode_AnEarly2xx_StillWaitsForTheWholeStream_ThenDelivers()
    {
        _backend.StartResponseBeforeReading = true;
        var pipe = new Pipe();
        var first = TrackFraming.EncodeMessage("mic", "audio", new byte[10]);
        var last = TrackFraming.EncodeMessage("mic", "audio", new byte[20]);
        pipe.Writer.Write(first);
        await pipe.Writer.FlushAsync();
        var run = Pump(DeliveryMode.Stream, BackendProtocol.H2c).RunAsync(pipe.Reader, "h", "/wt", "s", 2, CancellationToken.None);

        // The backend starts its 200 before the stream has ended; the lane must keep sending and only then settle.
        for (var i = 0; i < 200 && _backend.RequestsStarted == 0; i++)
        {
            await Task.Delay(10);
        }

        await Task.Delay(100);
        Assert.False(run.IsCompleted);
        pipe.Writer.Write(last);
        await pipe.Writer.CompleteAsync();
        var result = await run.WaitAsync(Patience);

        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Equal(2, _observer.Count("audio", DeliveryOutcome.Delivered));
        Assert.Equal([.. first, .. last], Assert.Single(_backend.Uploads).Body);
    }
}

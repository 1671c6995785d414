using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Threading.Channels;
using Switchyard.Tracks.Routing;

namespace Switchyard.Delivery;

/// <summary>
/// A <c>Stream</c>-mode lane: one streaming request whose body is the lane's framed messages (see
/// <see cref="HttpStreamDeliverer"/> for the outcomes).
/// </summary>
/// <remarks>
/// <para>Steps of <see cref="RunAsync"/>:</para>
/// <list type="number">
/// <item>Send the request; its body (<see cref="FramedBody"/>) writes queued messages in batches and flushes each batch.</item>
/// <item>When the attempt failed before any message was flushed, back off and try again, resending what it had taken.</item>
/// <item>Settle: flushed messages are delivered when the final response was 2xx after the whole body, otherwise they
/// fail with the request; what was never flushed fails with it; a failure stops the WebTransport stream.</item>
/// </list>
/// <para>The body runs inside <c>SendAsync</c> and <see cref="RunAsync"/> waits for it to finish before it settles, so
/// the lane's counters are never touched by two tasks at once.</para>
/// </remarks>
internal sealed class StreamLane : DeliveryLane
{
    /// <summary>Messages written before a flush; bounds one batch's latency.</summary>
    private const int MaxBatch = 64;

    private readonly Channel<PendingMessage> _queue = Channel.CreateUnbounded<PendingMessage>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    // Taken from the queue by an attempt but not yet flushed into a request: resent first by a retry.
    private readonly List<PendingMessage> _unflushed = new(MaxBatch);
    private readonly Uri _uri;
    private long _flushedMessages;
    private long _flushedBytes;
    private long _flushedLatencyTicks;
    private bool _bodyCompleted;

    public StreamLane(TrackStreamState stream, TrackRoute route)
        : base(stream, route)
    {
        _uri = new Uri($"http://{Endpoint}{Delivery.Path}");
    }

    public override void Enqueue(PendingMessage message)
    {
        if (!_queue.Writer.TryWrite(message))
        {
            Finish(message, DeliveryOutcome.Overloaded, TimeSpan.Zero);
        }
    }

    public override void Complete() => _queue.Writer.TryComplete();

    protected override async Task RunAsync()
    {
        // :: Step 1 — the request names the track of its first message, so it starts once that message is queued.
        if (!await _queue.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            return;
        }

        var maxAttempts = 1 + Math.Clamp(Delivery.RetryAttempts, 0, 10);
        var attempts = 0;
        DeliveryOutcome outcome;
        int? status = null;
        string? reason = null;
        while (true)
        {
            // :: Step 2
            if (attempts > 0)
            {
                try
                {
                    await Task.Delay(HttpMessageDeliverer.Backoff(Delivery.RetryBackoff, attempts), Stream.CancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    (outcome, reason) = (DeliveryOutcome.Overloaded, "the session ended");
                    break;
                }
            }

            attempts++;
            (outcome, status, reason) = await SendOnceAsync().ConfigureAwait(false);
            if (outcome != DeliveryOutcome.BackendUnavailable || _flushedMessages > 0 || attempts >= maxAttempts)
            {
                break;
            }
        }

        // :: Step 3
        Settle(outcome, $"{Endpoint}{Delivery.Path} (streaming): {outcome} after {attempts} attempt(s)" +
            (status is { } s ? $", status {s}" : string.Empty) + (reason is null ? string.Empty : $", {reason}"));
        await DrainAsync(outcome == DeliveryOutcome.Delivered ? DeliveryOutcome.BackendUnavailable : outcome).ConfigureAwait(false);
    }

    private async Task<(DeliveryOutcome Outcome, int? Status, string? Reason)> SendOnceAsync()
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(Stream.CancellationToken);

        // Connecting and sending the request head must not take longer than one request may.
        attempt.CancelAfter(Delivery.Timeout);
        var body = new FramedBody(this, attempt);
        using var request = new HttpRequestMessage(HttpMethod.Post, _uri)
        {
            Version = HttpMessageDeliverer.VersionOf(Protocol),
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = body,
        };
        var (trackId, trackType) = FirstNames();
        request.Content.Headers.TryAddWithoutValidation("Content-Type", HttpStreamDeliverer.ContentType);
        request.Headers.TryAddWithoutValidation("X-Track-Id", trackId);
        request.Headers.TryAddWithoutValidation("X-Track-Type", trackType);
        request.Headers.TryAddWithoutValidation("X-Session-Id", Stream.SessionId);
        request.Headers.TryAddWithoutValidation("X-Stream-Id", Stream.StreamId.ToString(CultureInfo.InvariantCulture));
        (DeliveryOutcome, int?, string?) result;
        try
        {
            using var response = await Stream.Pump.StreamDeliverer.Invoker.SendAsync(request, attempt.Token).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            var outcome = HttpMessageDeliverer.Classify(code);
            result = (outcome, code, null);
            if (outcome == DeliveryOutcome.Delivered)
            {
                // Over HTTP/2 the handler may hand back a 2xx before the body has finished (duplex). Such an answer
                // still has to take the rest of the stream, so the body runs on rather than being cancelled below;
                // whether it was all taken is what Settle looks at. Over HTTP/1.1 the body is already done here.
                await body.Finished.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (!_bodyCompleted && Stream.CancellationToken.IsCancellationRequested)
                {
                    result = (DeliveryOutcome.Overloaded, code, "the session ended");
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException or ObjectDisposedException)
        {
            result = Stream.CancellationToken.IsCancellationRequested
                ? (DeliveryOutcome.Overloaded, null, "the session ended")
                : (DeliveryOutcome.BackendUnavailable, null, attempt.IsCancellationRequested ? "timed out" : ex.GetBaseException().Message);
        }

        // The handler may give up on a request while its body is still running: wait for the body before settling.
        await attempt.CancelAsync().ConfigureAwait(false);
        await body.Finished.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return result;
    }

    /// <summary>The track names of the first message not yet flushed: the request's <c>X-Track-Id</c> and <c>X-Track-Type</c>.</summary>
    private (string TrackId, string TrackType) FirstNames()
    {
        if (_unflushed.Count > 0)
        {
            return (_unflushed[0].TrackId, _unflushed[0].TrackType);
        }

        return _queue.Reader.TryPeek(out var first) ? (first.TrackId, first.TrackType) : (string.Empty, string.Empty);
    }

    /// <summary>Reports every flushed and unflushed message with the request's outcome and stops the stream on failure.</summary>
    private void Settle(DeliveryOutcome outcome, string detail)
    {
        var confirmed = outcome == DeliveryOutcome.Delivered;
        if (confirmed && !_bodyCompleted)
        {
            // The backend answered before it could have read the whole body: only what was flushed is confirmed.
            outcome = DeliveryOutcome.BackendUnavailable;
            detail += ", answered before the body was complete";
        }

        if (_flushedMessages > 0)
        {
            var mean = TimeSpan.FromSeconds(_flushedLatencyTicks / (double)Stopwatch.Frequency / _flushedMessages);
            Observer.OnMessages(RuleTrackType, confirmed ? DeliveryOutcome.Delivered : outcome, _flushedMessages, _flushedBytes, mean);
        }

        foreach (var message in _unflushed)
        {
            Finish(message, outcome == DeliveryOutcome.Delivered ? DeliveryOutcome.BackendUnavailable : outcome, TimeSpan.Zero);
        }

        _unflushed.Clear();
        if (outcome != DeliveryOutcome.Delivered)
        {
            Stream.Fail(outcome, detail);
        }
    }

    /// <summary>Reports what is still queued (or arrives before the pump stops) with the lane's failure.</summary>
    private async Task DrainAsync(DeliveryOutcome outcome)
    {
        await foreach (var message in _queue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            Finish(message, outcome, TimeSpan.Zero);
        }
    }

    /// <summary>Moves the flushed batch from "in the gateway" to "sent, awaiting the final response".</summary>
    private void Flushed()
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var message in _unflushed)
        {
            _flushedMessages++;
            _flushedBytes += message.PayloadLength;
            _flushedLatencyTicks += now - message.ReadTimestamp;
            Release(message);
        }

        _unflushed.Clear();
    }

    /// <summary>The request body: the lane's messages, framed, written as they are queued.</summary>
    private sealed class FramedBody : HttpContent
    {
        private readonly StreamLane _lane;
        private readonly CancellationTokenSource _attempt;
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _started;

        public FramedBody(StreamLane lane, CancellationTokenSource attempt)
        {
            _lane = lane;
            _attempt = attempt;
        }

        /// <summary>Completes when the body stopped running, or at once when it never started.</summary>
        public Task Finished => Volatile.Read(ref _started) == 0 ? Task.CompletedTask : _finished.Task;

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _started, 1) != 0)
            {
                throw new InvalidOperationException("A streaming body is sent once.");
            }

            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _attempt.Token);
            var token = linked.Token;
            var lane = _lane;
            var timeout = lane.Delivery.Timeout;
            try
            {
                // Connected: an idle WebTransport stream is not a slow backend, so no timer runs while waiting for messages.
                _attempt.CancelAfter(Timeout.InfiniteTimeSpan);
                if (lane._unflushed.Count > 0)
                {
                    _attempt.CancelAfter(timeout);
                    foreach (var message in lane._unflushed)
                    {
                        await stream.WriteAsync(message.Framed, token).ConfigureAwait(false);
                    }

                    await stream.FlushAsync(token).ConfigureAwait(false);
                    _attempt.CancelAfter(Timeout.InfiniteTimeSpan);
                    lane.Flushed();
                }

                var reader = lane._queue.Reader;
                while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
                {
                    // A write or flush that takes longer than the rule's timeout means the backend stopped reading.
                    _attempt.CancelAfter(timeout);
                    while (lane._unflushed.Count < MaxBatch && reader.TryRead(out var message))
                    {
                        lane._unflushed.Add(message);
                        await stream.WriteAsync(message.Framed, token).ConfigureAwait(false);
                    }

                    await stream.FlushAsync(token).ConfigureAwait(false);
                    _attempt.CancelAfter(Timeout.InfiniteTimeSpan);
                    lane.Flushed();
                }

                // The WebTransport stream ended: the body ends here, and the final response must come within the timeout.
                lane._bodyCompleted = true;
                _attempt.CancelAfter(timeout);
            }
            finally
            {
                _finished.TrySetResult();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}

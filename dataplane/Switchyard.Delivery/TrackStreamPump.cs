using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using Switchyard.Ir;
using Switchyard.Tracks.Framing;
using Switchyard.Tracks.Routing;

namespace Switchyard.Delivery;

/// <summary>Limits of one track stream.</summary>
public sealed class TrackStreamOptions
{
    /// <summary>Messages with a larger <c>payload_len</c> are refused (message too large).</summary>
    public uint MaxPayloadLength { get; init; } = TrackFraming.DefaultMaxPayloadLength;

    /// <summary>Bytes of a stream that may wait for delivery before the stream stops being read.</summary>
    public long MaxInFlightBytes { get; init; } = 4 << 20;
}

/// <summary>How a stream ended.</summary>
/// <param name="Outcome"><see cref="DeliveryOutcome.Delivered"/> when every message was delivered; otherwise the first failure.</param>
/// <param name="Messages">Messages read from the stream.</param>
/// <param name="Detail">What went wrong, for logs.</param>
public readonly record struct TrackStreamResult(DeliveryOutcome Outcome, long Messages, string? Detail)
{
    /// <summary>The WebTransport stream error code to stop the stream with, or null when it succeeded.</summary>
    public byte? ErrorCode => Outcome == DeliveryOutcome.Delivered ? null : StreamErrorCodes.For(Outcome);
}

/// <summary>
/// Moves one WebTransport stream's messages to their backends: read → route → deliver, in order per (stream, rule).
/// </summary>
/// <remarks>
/// <para>Steps:</para>
/// <list type="number">
/// <item>Read the next whole message with <see cref="TrackMessageReader"/>; a malformed header ends the stream.</item>
/// <item>Route it with the current table; no rule or no endpoint ends the stream with "no route".</item>
/// <item>Wait for room in the stream's byte budget (this is the back-pressure), copy the payload to a pooled buffer and
/// queue it on the lane of its (rule, endpoint). Each lane delivers its messages one after another, so order holds.</item>
/// <item>When a lane fails for good, the stream stops being read and the caller stops it with the returned code; the
/// messages still queued on that lane are reported failed, never silently dropped.</item>
/// <item>At the end of the stream, wait for every lane to finish.</item>
/// </list>
/// </remarks>
public sealed class TrackStreamPump
{
    /// <summary>The metric label of messages that matched no rule.</summary>
    public const string UnroutedLabel = "unrouted";

    /// <summary>The metric label of messages whose header could not be read.</summary>
    public const string MalformedLabel = "malformed";

    private readonly TrackRouter _router;
    private readonly HttpMessageDeliverer _deliverer;
    private readonly TrackStreamOptions _options;
    private readonly IDeliveryObserver _observer;

    /// <summary>Creates a pump sharing the router, deliverer and observer with every other stream.</summary>
    public TrackStreamPump(TrackRouter router, HttpMessageDeliverer deliverer, TrackStreamOptions options, IDeliveryObserver observer)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(deliverer);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(observer);
        _router = router;
        _deliverer = deliverer;
        _options = options;
        _observer = observer;
    }

    /// <summary>Runs one stream to its end.</summary>
    /// <param name="input">The stream's bytes (after the WebTransport stream preamble).</param>
    /// <param name="authority">The session's <c>:authority</c>.</param>
    /// <param name="path">The session's <c>:path</c>.</param>
    /// <param name="sessionId">The session ID, for <c>X-Session-Id</c>.</param>
    /// <param name="streamId">The stream ID, for <c>X-Stream-Id</c>.</param>
    /// <param name="cancellationToken">Ends the stream early (session closed).</param>
    public async Task<TrackStreamResult> RunAsync(PipeReader input, string authority, string path, string sessionId, long streamId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var state = new StreamState(this, sessionId, streamId, cancellationToken);
        var reader = new TrackMessageReader(input, _options.MaxPayloadLength);
        var routes = new StreamTrackRouter(_router, authority, path);
        long sequence = 0;
        try
        {
            while (state.Failure is null)
            {
                // :: Step 1
                bool more;
                var fragmentedBefore = reader.FragmentedMessages;
                try
                {
                    more = await reader.MoveNextAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (TrackHeaderException ex)
                {
                    var outcome = ex.Error == TrackHeaderError.PayloadTooLarge ? DeliveryOutcome.MessageTooLarge : DeliveryOutcome.MalformedHeader;
                    _observer.OnMessage(MalformedLabel, outcome, 0, TimeSpan.Zero);
                    state.Fail(outcome, ex.Message);
                    break;
                }

                if (!more)
                {
                    break;
                }

                if (reader.FragmentedMessages != fragmentedBefore)
                {
                    _observer.OnFragmentedMessage();
                }

                var message = reader.Current;
                sequence++;

                // :: Step 2
                var failure = routes.TryRoute(message.Header.TrackType, message.Header.TrackId, out var route);
                if (failure != TrackRouteFailure.None)
                {
                    _observer.OnMessage(UnroutedLabel, DeliveryOutcome.NoRoute, message.Payload.Length, TimeSpan.Zero);
                    state.Fail(DeliveryOutcome.NoRoute, failure == TrackRouteFailure.NoRule
                        ? $"no rule takes track_type '{message.Header.GetTrackType()}' track_id '{message.Header.GetTrackId()}'"
                        : "the matching rule has no backend with a ready endpoint");
                    break;
                }

                // :: Step 3
                var size = message.Payload.Length;
                if (!state.Budget.TryTake(size))
                {
                    _observer.OnBufferFull();
                    if (!await state.Budget.TakeAsync(size, cancellationToken).ConfigureAwait(false))
                    {
                        break;
                    }
                }

                var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(size, 1));
                message.Payload.CopyTo(buffer);
                _observer.OnBufferedBytesChanged(size);
                state.LaneFor(route).Enqueue(new PendingMessage(
                    message.Header.GetTrackId(), message.Header.GetTrackType(), buffer, (int)size, sequence));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            state.Fail(DeliveryOutcome.Overloaded, "the session ended before the stream did");
        }

        // :: Step 5
        await state.CompleteAsync().ConfigureAwait(false);
        return state.Failure is { } f
            ? new TrackStreamResult(f.Outcome, sequence, f.Detail)
            : new TrackStreamResult(DeliveryOutcome.Delivered, sequence, null);
    }

    private readonly record struct PendingMessage(string TrackId, string TrackType, byte[] Buffer, int Length, long Sequence);

    private sealed class StreamState
    {
        private readonly TrackStreamPump _pump;
        private readonly string _sessionId;
        private readonly long _streamId;
        private readonly CancellationToken _cancellationToken;
        private readonly List<Lane> _lanes = new(2);
        private (DeliveryOutcome Outcome, string Detail)? _failure;

        public StreamState(TrackStreamPump pump, string sessionId, long streamId, CancellationToken cancellationToken)
        {
            _pump = pump;
            _sessionId = sessionId;
            _streamId = streamId;
            _cancellationToken = cancellationToken;
            Budget = new ByteBudget(pump._options.MaxInFlightBytes);
        }

        public ByteBudget Budget { get; }

        public (DeliveryOutcome Outcome, string Detail)? Failure
        {
            get
            {
                lock (_lanes)
                {
                    return _failure;
                }
            }
        }

        public void Fail(DeliveryOutcome outcome, string detail)
        {
            lock (_lanes)
            {
                _failure ??= (outcome, detail);
            }

            Budget.Cancel();
        }

        public Lane LaneFor(TrackRoute route)
        {
            foreach (var lane in _lanes)
            {
                if (lane.RuleName == route.Rule.Name && lane.Endpoint == route.Endpoint)
                {
                    // The rule may have been reloaded with new delivery settings; the lane keeps its endpoint.
                    return lane;
                }
            }

            var created = new Lane(this, route);
            _lanes.Add(created);
            return created;
        }

        public async Task CompleteAsync()
        {
            foreach (var lane in _lanes)
            {
                lane.Complete();
            }

            foreach (var lane in _lanes)
            {
                await lane.Completion.ConfigureAwait(false);
            }
        }

        /// <summary>One (rule, endpoint) of the stream: its messages are delivered one after another.</summary>
        public sealed class Lane
        {
            private readonly StreamState _stream;
            private readonly Channel<PendingMessage> _queue = Channel.CreateUnbounded<PendingMessage>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            private readonly DeliveryIr _delivery;
            private readonly string _ruleTrackType;

            public Lane(StreamState stream, TrackRoute route)
            {
                _stream = stream;
                RuleName = route.Rule.Name;
                Endpoint = route.Endpoint;
                _delivery = route.Rule.Rule.Delivery;

                // Label metrics by what the rule was configured to match, never by raw client input.
                _ruleTrackType = route.Rule.Rule.Matches.Select(m => m.TrackType).FirstOrDefault(t => t is not null) ?? "any";
                Completion = Task.Run(RunAsync);
            }

            public string RuleName { get; }

            public EndpointIr Endpoint { get; }

            public Task Completion { get; }

            public void Enqueue(PendingMessage message)
            {
                if (!_queue.Writer.TryWrite(message))
                {
                    // The lane already completed: account for the message rather than lose it.
                    Finish(message, DeliveryOutcome.Overloaded, TimeSpan.Zero);
                }
            }

            public void Complete() => _queue.Writer.TryComplete();

            private async Task RunAsync()
            {
                var pump = _stream._pump;
                var failed = (DeliveryOutcome?)null;
                await foreach (var message in _queue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    if (failed is { } outcome)
                    {
                        // After a final failure the rest of this lane's queue is reported, never sent out of order.
                        Finish(message, outcome, TimeSpan.Zero);
                        continue;
                    }

                    DeliveryResult result;
                    try
                    {
                        result = await pump._deliverer.DeliverAsync(
                            Endpoint, _delivery, message.TrackId, message.TrackType,
                            message.Buffer.AsMemory(0, message.Length),
                            new MessageContext(_stream._sessionId, _stream._streamId, message.Sequence),
                            _stream._cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        result = new DeliveryResult(DeliveryOutcome.Overloaded, 0, TimeSpan.Zero, null);
                    }

                    Finish(message, result.Outcome, result.Elapsed);
                    if (result.Outcome != DeliveryOutcome.Delivered)
                    {
                        failed = result.Outcome;
                        _stream.Fail(result.Outcome, $"{Endpoint}{_delivery.Path}: {result.Outcome} after {result.Attempts} attempt(s)" +
                            (result.StatusCode is { } s ? $", last status {s}" : string.Empty));
                    }
                }
            }

            private void Finish(PendingMessage message, DeliveryOutcome outcome, TimeSpan elapsed)
            {
                var pump = _stream._pump;
                ArrayPool<byte>.Shared.Return(message.Buffer);
                _stream.Budget.Release(message.Length);
                pump._observer.OnBufferedBytesChanged(-message.Length);
                pump._observer.OnMessage(_ruleTrackType, outcome, message.Length, elapsed);
            }
        }
    }
}

using System.Buffers;
using System.Diagnostics;
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

    /// <summary>
    /// Bytes of a stream (framed: 32-byte header plus payload) that may wait in the gateway for delivery before the
    /// stream stops being read. In <c>Stream</c> mode a message stops counting once it is flushed into its request.
    /// </summary>
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
/// <item>Wait for room in the stream's byte budget (this is the back-pressure), copy the framed message to a pooled
/// buffer and queue it on the lane of its (rule, endpoint). A lane is a <c>Message</c> lane (one POST per message, one
/// after another) or a <c>Stream</c> lane (one streaming request carrying the framed messages), after the rule's
/// delivery mode when the lane opened; either way order holds per lane.</item>
/// <item>When a lane fails for good, the stream stops being read (a pending read is cancelled) and the caller stops it
/// with the returned code; the messages still queued on that lane are reported failed, never silently dropped.</item>
/// <item>At the end of the stream, complete every lane (a <c>Stream</c> lane ends its request body and awaits the
/// response) and wait for them.</item>
/// </list>
/// </remarks>
public sealed class TrackStreamPump
{
    /// <summary>The metric label of messages that matched no rule.</summary>
    public const string UnroutedLabel = "unrouted";

    /// <summary>The metric label of messages whose header could not be read.</summary>
    public const string MalformedLabel = "malformed";

    private readonly TrackRouter _router;

    /// <summary>Creates a pump sharing the router, deliverers and observer with every other stream.</summary>
    /// <param name="router">Holds the current route table.</param>
    /// <param name="messages">Delivers rules in <c>Message</c> mode.</param>
    /// <param name="streams">Delivers rules in <c>Stream</c> mode.</param>
    /// <param name="options">Per-stream limits.</param>
    /// <param name="observer">Receives outcomes for metrics.</param>
    public TrackStreamPump(TrackRouter router, HttpMessageDeliverer messages, HttpStreamDeliverer streams, TrackStreamOptions options, IDeliveryObserver observer)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(streams);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(observer);
        _router = router;
        MessageDeliverer = messages;
        StreamDeliverer = streams;
        Options = options;
        Observer = observer;
    }

    internal HttpMessageDeliverer MessageDeliverer { get; }

    internal HttpStreamDeliverer StreamDeliverer { get; }

    internal TrackStreamOptions Options { get; }

    internal IDeliveryObserver Observer { get; }

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
        using var state = new TrackStreamState(this, sessionId, streamId, cancellationToken);
        var reader = new TrackMessageReader(input, Options.MaxPayloadLength);
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
                    more = await reader.MoveNextAsync(state.ReadToken).ConfigureAwait(false);
                }
                catch (TrackHeaderException ex)
                {
                    var outcome = ex.Error == TrackHeaderError.PayloadTooLarge ? DeliveryOutcome.MessageTooLarge : DeliveryOutcome.MalformedHeader;
                    Observer.OnMessage(MalformedLabel, outcome, 0, TimeSpan.Zero);
                    state.Fail(outcome, ex.Message);
                    break;
                }

                if (!more)
                {
                    break;
                }

                if (reader.FragmentedMessages != fragmentedBefore)
                {
                    Observer.OnFragmentedMessage();
                }

                var message = reader.Current;
                sequence++;

                // :: Step 2
                var failure = routes.TryRoute(message.Header.TrackType, message.Header.TrackId, out var route);
                if (failure != TrackRouteFailure.None)
                {
                    Observer.OnMessage(UnroutedLabel, DeliveryOutcome.NoRoute, message.Payload.Length, TimeSpan.Zero);
                    state.Fail(DeliveryOutcome.NoRoute, failure == TrackRouteFailure.NoRule
                        ? $"no rule takes track_type '{message.Header.GetTrackType()}' track_id '{message.Header.GetTrackId()}'"
                        : "the matching rule has no backend with a ready endpoint");
                    break;
                }

                // :: Step 3 — the budget counts framed bytes, so even empty payloads cannot queue without bound.
                var size = (int)message.Payload.Length;
                var framed = TrackHeader.Size + size;
                if (!state.Budget.TryTake(framed))
                {
                    Observer.OnBufferFull();
                    bool taken;
                    try
                    {
                        taken = await state.Budget.TakeAsync(framed, state.ReadToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        taken = false;
                    }

                    if (!taken)
                    {
                        // The stream failed (or the session ended) while this message waited: it shares that fate.
                        var fate = cancellationToken.IsCancellationRequested ? DeliveryOutcome.Overloaded : state.Failure?.Outcome ?? DeliveryOutcome.Overloaded;
                        Observer.OnMessage(DeliveryLane.LabelOf(route.Rule), fate, size, TimeSpan.Zero);
                        if (cancellationToken.IsCancellationRequested)
                        {
                            state.Fail(DeliveryOutcome.Overloaded, "the session ended before the stream did");
                        }

                        break;
                    }
                }

                var buffer = ArrayPool<byte>.Shared.Rent(framed);

                // A header that parsed is canonical (NUL padding only at the end), so writing it back gives the exact bytes read.
                message.Header.WriteTo(buffer);
                message.Payload.CopyTo(buffer.AsSpan(TrackHeader.Size));
                Observer.OnBufferedBytesChanged(size);
                state.LaneFor(route).Enqueue(new PendingMessage(
                    message.Header.GetTrackId(), message.Header.GetTrackType(), buffer, size, sequence, Stopwatch.GetTimestamp()));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            state.Fail(DeliveryOutcome.Overloaded, "the session ended before the stream did");
        }
        catch (OperationCanceledException) when (state.Failure is not null)
        {
            // :: Step 4 — a lane failed while the stream was idle: stop reading now rather than at the next message.
        }

        // :: Step 5
        await state.CompleteAsync().ConfigureAwait(false);
        return state.Failure is { } f
            ? new TrackStreamResult(f.Outcome, sequence, f.Detail)
            : new TrackStreamResult(DeliveryOutcome.Delivered, sequence, null);
    }
}

/// <summary>One message read from a stream and waiting for delivery: its framed bytes (header then payload) in a pooled buffer.</summary>
internal readonly record struct PendingMessage(string TrackId, string TrackType, byte[] Buffer, int PayloadLength, long Sequence, long ReadTimestamp)
{
    public int FramedLength => TrackHeader.Size + PayloadLength;

    public ReadOnlyMemory<byte> Payload => Buffer.AsMemory(TrackHeader.Size, PayloadLength);

    public ReadOnlyMemory<byte> Framed => Buffer.AsMemory(0, FramedLength);
}

/// <summary>The delivery state of one stream: its byte budget, its lanes and its first failure.</summary>
internal sealed class TrackStreamState : IDisposable
{
    private readonly List<DeliveryLane> _lanes = new(2);
    private readonly CancellationTokenSource _stopReading;
    private (DeliveryOutcome Outcome, string Detail)? _failure;

    public TrackStreamState(TrackStreamPump pump, string sessionId, long streamId, CancellationToken cancellationToken)
    {
        Pump = pump;
        SessionId = sessionId;
        StreamId = streamId;
        CancellationToken = cancellationToken;
        Budget = new ByteBudget(pump.Options.MaxInFlightBytes);
        _stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    public TrackStreamPump Pump { get; }

    public string SessionId { get; }

    public long StreamId { get; }

    /// <summary>The session's token: delivery stops when the session ends.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Cancelled when the session ends or a lane fails: the stream is not read further.</summary>
    public CancellationToken ReadToken => _stopReading.Token;

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
        try
        {
            _stopReading.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The stream already finished; nothing is read any more.
        }
    }

    public DeliveryLane LaneFor(TrackRoute route)
    {
        foreach (var lane in _lanes)
        {
            if (lane.RuleName == route.Rule.Name && lane.Endpoint == route.Endpoint)
            {
                // The rule may have been reloaded with new delivery settings; the lane keeps its endpoint and mode.
                return lane;
            }
        }

        DeliveryLane created = route.Rule.Rule.Delivery.Mode == DeliveryMode.Stream
            ? new StreamLane(this, route)
            : new MessageLane(this, route);
        _lanes.Add(created);
        created.Start();
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

    public void Dispose() => _stopReading.Dispose();
}

/// <summary>One (rule, endpoint) of a stream: its messages reach the backend in the order they were read.</summary>
internal abstract class DeliveryLane
{
    protected DeliveryLane(TrackStreamState stream, TrackRoute route)
    {
        Stream = stream;
        RuleName = route.Rule.Name;
        Endpoint = route.Endpoint;
        Protocol = route.Backend.Protocol;
        Delivery = route.Rule.Rule.Delivery;

        RuleTrackType = LabelOf(route.Rule);
    }

    public string RuleName { get; }

    public EndpointIr Endpoint { get; }

    /// <summary>How the backend is spoken to: HTTP/1.1, or HTTP/2 with prior knowledge (appProtocol kubernetes.io/h2c).</summary>
    public BackendProtocol Protocol { get; }

    public Task Completion { get; private set; } = Task.CompletedTask;

    protected TrackStreamState Stream { get; }

    protected DeliveryIr Delivery { get; }

    protected string RuleTrackType { get; }

    protected IDeliveryObserver Observer => Stream.Pump.Observer;

    /// <summary>The metric label of a rule's messages: what the rule was configured to match, never raw client input.</summary>
    public static string LabelOf(CompiledRule rule) =>
        rule.Rule.Matches.Select(m => m.TrackType).FirstOrDefault(t => t is not null) ?? "any";

    /// <summary>Starts the lane's delivery loop; called once the lane is fully constructed.</summary>
    public void Start() => Completion = Task.Run(RunAsync);

    public abstract void Enqueue(PendingMessage message);

    /// <summary>No more messages will come: the stream ended or failed.</summary>
    public abstract void Complete();

    protected abstract Task RunAsync();

    /// <summary>The message has left the gateway (or never will): give back its buffer and its share of the budget.</summary>
    protected void Release(PendingMessage message)
    {
        ArrayPool<byte>.Shared.Return(message.Buffer);
        Stream.Budget.Release(message.FramedLength);
        Observer.OnBufferedBytesChanged(-message.PayloadLength);
    }

    /// <summary>Releases the message and reports its outcome.</summary>
    protected void Finish(PendingMessage message, DeliveryOutcome outcome, TimeSpan elapsed)
    {
        Release(message);
        Observer.OnMessage(RuleTrackType, outcome, message.PayloadLength, elapsed);
    }
}

/// <summary>A <c>Message</c>-mode lane: one POST per message, the next only after the previous one's outcome.</summary>
internal sealed class MessageLane : DeliveryLane
{
    private readonly Channel<PendingMessage> _queue = Channel.CreateUnbounded<PendingMessage>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    public MessageLane(TrackStreamState stream, TrackRoute route)
        : base(stream, route)
    {
    }

    public override void Enqueue(PendingMessage message)
    {
        if (!_queue.Writer.TryWrite(message))
        {
            // The lane already completed: account for the message rather than lose it.
            Finish(message, DeliveryOutcome.Overloaded, TimeSpan.Zero);
        }
    }

    public override void Complete() => _queue.Writer.TryComplete();

    protected override async Task RunAsync()
    {
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
                result = await Stream.Pump.MessageDeliverer.DeliverAsync(
                    Endpoint, Delivery, message.TrackId, message.TrackType, message.Payload,
                    new MessageContext(Stream.SessionId, Stream.StreamId, message.Sequence),
                    Stream.CancellationToken, Protocol).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                result = new DeliveryResult(DeliveryOutcome.Overloaded, 0, TimeSpan.Zero, null);
            }

            Finish(message, result.Outcome, result.Elapsed);
            if (result.Outcome != DeliveryOutcome.Delivered)
            {
                failed = result.Outcome;
                Stream.Fail(result.Outcome, $"{Endpoint}{Delivery.Path}: {result.Outcome} after {result.Attempts} attempt(s)" +
                    (result.StatusCode is { } s ? $", last status {s}" : string.Empty));
            }
        }
    }
}

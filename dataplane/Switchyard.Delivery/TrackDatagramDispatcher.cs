using Switchyard.Ir;
using Switchyard.Tracks.Framing;
using Switchyard.Tracks.Routing;

namespace Switchyard.Delivery;

/// <summary>Limits of datagram delivery.</summary>
public sealed class TrackDatagramOptions
{
    /// <summary>Datagrams with a larger <c>payload_len</c> are refused (message too large).</summary>
    public uint MaxPayloadLength { get; init; } = TrackFraming.DefaultMaxPayloadLength;

    /// <summary>
    /// Datagram deliveries in flight at once, across every session of the gateway. A datagram that arrives while the
    /// bound is reached is dropped and counted (outcome <see cref="DeliveryOutcome.Overloaded"/>, metric label failed).
    /// </summary>
    public int MaxInFlight { get; init; } = 256;
}

/// <summary>
/// Delivers WebTransport datagrams that start with a track header (DESIGN.md: "the same header may prefix a
/// datagram"). Datagrams are unreliable by nature, so delivery is best effort: each one is routed by the current
/// snapshot like a stream message and POSTed once in <c>Message</c> form, whatever the rule's delivery mode.
/// </summary>
/// <remarks>
/// <para>One datagram is one message: the header's <c>payload_len</c> must equal the bytes after the header. A datagram
/// that breaks this or any header rule is malformed; one no rule takes is unrouted; both are counted and dropped, and
/// the session goes on (there is no stream to stop).</para>
/// <para>No retries (a lost datagram is the client's expected case, and retrying a flood would multiply it), and at most
/// <see cref="TrackDatagramOptions.MaxInFlight"/> POSTs at once: beyond that datagrams are dropped and counted.</para>
/// <para>The POST carries <c>X-Session-Id</c>, <c>X-Stream-Id</c> = the session ID (the CONNECT stream's ID, which no
/// WebTransport data stream shares) and <c>X-Message-Seq</c> = the datagram's position among the session's datagrams,
/// from 1, so a backend's (session, stream, seq) de-duplication key stays unique.</para>
/// </remarks>
public sealed class TrackDatagramDispatcher
{
    private readonly TrackRouter _router;
    private readonly HttpMessageDeliverer _deliverer;
    private readonly TrackDatagramOptions _options;
    private readonly IDeliveryObserver _observer;
    private int _inFlight;
    private long _dropped;

    /// <summary>Creates the dispatcher shared by every session.</summary>
    public TrackDatagramDispatcher(TrackRouter router, HttpMessageDeliverer deliverer, TrackDatagramOptions options, IDeliveryObserver observer)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(deliverer);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxInFlight, 1);
        _router = router;
        _deliverer = deliverer;
        _options = options;
        _observer = observer;
    }

    /// <summary>Datagram deliveries in flight now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Datagrams dropped because <see cref="TrackDatagramOptions.MaxInFlight"/> was reached.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Starts dispatching the datagrams of one session.</summary>
    /// <param name="authority">The session's <c>:authority</c>.</param>
    /// <param name="path">The session's <c>:path</c>.</param>
    /// <param name="sessionId">The session ID, for <c>X-Session-Id</c>.</param>
    /// <param name="sessionStreamId">The CONNECT stream's ID, sent as <c>X-Stream-Id</c>.</param>
    public TrackDatagramSession Open(string authority, string path, string sessionId, long sessionStreamId) =>
        new(this, new StreamTrackRouter(_router, authority, path), sessionId, sessionStreamId);

    internal bool TryEnter()
    {
        if (Interlocked.Increment(ref _inFlight) <= _options.MaxInFlight)
        {
            return true;
        }

        Interlocked.Decrement(ref _inFlight);
        Interlocked.Increment(ref _dropped);
        return false;
    }

    internal void Exit() => Interlocked.Decrement(ref _inFlight);

    internal TrackDatagramOptions Options => _options;

    internal IDeliveryObserver Observer => _observer;

    internal HttpMessageDeliverer Deliverer => _deliverer;
}

/// <summary>The datagrams of one session. <see cref="Dispatch"/> is called by one receive loop at a time.</summary>
public sealed class TrackDatagramSession
{
    private readonly TrackDatagramDispatcher _owner;
    private readonly StreamTrackRouter _routes;
    private readonly string _sessionId;
    private readonly long _sessionStreamId;
    private readonly object _gate = new();
    private long _sequence;
    private int _inFlight;
    private TaskCompletionSource? _idle;
    private (DeliveryIr Rule, DeliveryIr Once)? _lastDelivery;

    internal TrackDatagramSession(TrackDatagramDispatcher owner, StreamTrackRouter routes, string sessionId, long sessionStreamId)
    {
        _owner = owner;
        _routes = routes;
        _sessionId = sessionId;
        _sessionStreamId = sessionStreamId;
    }

    /// <summary>Routes one datagram and starts its delivery.</summary>
    /// <param name="datagram">The datagram's payload (after the quarter stream ID); kept until its delivery ends.</param>
    /// <returns>Null when the datagram was handed to delivery (its outcome is reported to the observer when it
    /// arrives); otherwise why it was dropped at once: malformed header, message too large, no route, or overloaded.</returns>
    public DeliveryOutcome? Dispatch(ReadOnlyMemory<byte> datagram)
    {
        var observer = _owner.Observer;
        var sequence = ++_sequence;

        // One datagram holds exactly one message: a header, then exactly payload_len bytes.
        TrackHeader header = default;
        var error = datagram.Length < TrackHeader.Size
            ? TrackHeaderError.TruncatedMessage
            : TrackHeaderCodec.TryParse(datagram.Span[..TrackHeader.Size], _owner.Options.MaxPayloadLength, out header);
        if (error == TrackHeaderError.None && datagram.Length - TrackHeader.Size != header.PayloadLength)
        {
            error = TrackHeaderError.TruncatedMessage;
        }

        if (error != TrackHeaderError.None)
        {
            var malformed = error == TrackHeaderError.PayloadTooLarge ? DeliveryOutcome.MessageTooLarge : DeliveryOutcome.MalformedHeader;
            observer.OnMessage(TrackStreamPump.MalformedLabel, malformed, 0, TimeSpan.Zero);
            return malformed;
        }

        var payload = datagram[TrackHeader.Size..];
        if (_routes.TryRoute(header.TrackType, header.TrackId, out var route) != TrackRouteFailure.None)
        {
            observer.OnMessage(TrackStreamPump.UnroutedLabel, DeliveryOutcome.NoRoute, payload.Length, TimeSpan.Zero);
            return DeliveryOutcome.NoRoute;
        }

        var trackType = DeliveryLane.LabelOf(route.Rule);
        if (!_owner.TryEnter())
        {
            observer.OnMessage(trackType, DeliveryOutcome.Overloaded, payload.Length, TimeSpan.Zero);
            return DeliveryOutcome.Overloaded;
        }

        lock (_gate)
        {
            _inFlight++;
        }

        _ = DeliverAsync(route, OnceOnly(route.Rule.Rule.Delivery), header.GetTrackId(), header.GetTrackType(), trackType, payload, sequence);
        return null;
    }

    /// <summary>Completes when none of this session's datagram deliveries is in flight.</summary>
    public Task WhenIdleAsync()
    {
        lock (_gate)
        {
            if (_inFlight == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    /// <summary>The rule's delivery settings without retries, cached for the rule last seen.</summary>
    private DeliveryIr OnceOnly(DeliveryIr delivery)
    {
        if (_lastDelivery is { } last && ReferenceEquals(last.Rule, delivery))
        {
            return last.Once;
        }

        var once = delivery with { RetryAttempts = 0 };
        _lastDelivery = (delivery, once);
        return once;
    }

    private async Task DeliverAsync(TrackRoute route, DeliveryIr delivery, string trackId, string trackType, string label, ReadOnlyMemory<byte> payload, long sequence)
    {
        var outcome = DeliveryOutcome.BackendUnavailable;
        var elapsed = TimeSpan.Zero;
        try
        {
            await Task.Yield();
            var result = await _owner.Deliverer.DeliverAsync(route.Endpoint, delivery, trackId, trackType, payload,
                new MessageContext(_sessionId, _sessionStreamId, sequence), CancellationToken.None, route.Backend.Protocol).ConfigureAwait(false);
            (outcome, elapsed) = (result.Outcome, result.Elapsed);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or HttpRequestException or InvalidOperationException)
        {
            // The gateway is shutting down: the datagram is counted failed.
        }
        finally
        {
            _owner.Observer.OnMessage(label, outcome, payload.Length, elapsed);
            _owner.Exit();
            TaskCompletionSource? idle = null;
            lock (_gate)
            {
                if (--_inFlight == 0)
                {
                    idle = _idle;
                    _idle = null;
                }
            }

            idle?.TrySetResult();
        }
    }
}

namespace Switchyard.Quic.Recovery;

/// <summary>
/// Loss detection for one connection (RFC 9002 §6): tracks sent packets per packet number space,
/// processes acknowledgements, detects loss by packet and time thresholds, runs the probe timeout
/// with exponential backoff and the client anti-deadlock rules, detects persistent congestion, and
/// feeds an <see cref="ICongestionController"/>. It follows the semantics of RFC 9002 Appendix A.
/// </summary>
/// <remarks>
/// Sans-I/O: time is supplied by the caller in microseconds, nothing here reads a clock or arms a
/// timer. The connection sleeps until <see cref="LossDetectionDeadline"/> and then calls
/// <see cref="OnLossDetectionTimeout"/>. The deadline is recomputed from current state on every
/// read, so changing <see cref="HandshakeConfirmed"/> or the other inputs takes effect immediately.
/// Not thread-safe: one connection is touched by one worker at a time.
/// </remarks>
public sealed class LossRecovery
{
    /// <summary>kPacketThreshold: reordering threshold in packets before loss is declared (RFC 9002 §6.1.1).</summary>
    public const int PacketThreshold = 3;

    /// <summary>kPersistentCongestionThreshold (RFC 9002 §7.6.1).</summary>
    public const int PersistentCongestionThreshold = 3;

    /// <summary>The default max_ack_delay transport parameter, 25 ms (RFC 9000 §18.2).</summary>
    public const long DefaultMaxAckDelayMicros = 25_000;

    private const int SpaceCount = 3;
    private const int MaxBackoffExponent = 30;

    private readonly SpaceState[] _spaces = [new(), new(), new()];
    private SentPacketInfo[] _ackedScratch = new SentPacketInfo[16];
    private SentPacketInfo[] _lostScratch = new SentPacketInfo[16];
    private PacketEvent[] _events = new PacketEvent[16];
    private int _ackedCount;
    private int _lostCount;
    private int _eventCount;
    private bool _dispatching;

    // The time the timer was last (re)armed as A.8 SetLossDetectionTimer would; the anti-deadlock
    // PTO of a client with nothing in flight counts from it (RFC 9002 Appendix A.8, GetPtoTimeAndSpace).
    private long _lastArmTime;

    /// <summary>Creates loss recovery state for a new connection.</summary>
    /// <param name="congestionController">The congestion controller to feed.</param>
    /// <param name="rtt">The RTT estimator to update; a new one with the default initial RTT when omitted.</param>
    public LossRecovery(ICongestionController congestionController, RttEstimator? rtt = null)
    {
        ArgumentNullException.ThrowIfNull(congestionController);
        CongestionController = congestionController;
        Rtt = rtt ?? new RttEstimator();
    }

    /// <summary>The RTT estimator updated by acknowledgements.</summary>
    public RttEstimator Rtt { get; }

    /// <summary>The congestion controller fed by acknowledgements and losses.</summary>
    public ICongestionController CongestionController { get; }

    /// <summary>The peer's max_ack_delay transport parameter in microseconds (RFC 9000 §18.2). Default 25 ms.</summary>
    public long PeerMaxAckDelayMicros { get; set; } = DefaultMaxAckDelayMicros;

    /// <summary>
    /// Whether the handshake is confirmed (RFC 9001 §4.1.2). Until then the Application Data space is not
    /// probed (RFC 9002 §6.2.1) and the peer's max_ack_delay does not cap ack delay (RFC 9002 §5.3).
    /// </summary>
    public bool HandshakeConfirmed { get; set; }

    /// <summary>Whether Handshake keys are available; chooses the space of a client's anti-deadlock probe (RFC 9002 §6.2.2.1).</summary>
    public bool HasHandshakeKeys { get; set; }

    /// <summary>
    /// Client only: <see langword="true"/> while the client cannot be sure the server has validated its
    /// address, i.e. until it has received an acknowledgement of a Handshake packet or the handshake is
    /// confirmed (RFC 9002 §6.2.2.1). While set, the PTO stays armed with nothing in flight and
    /// pto_count is not reset by acknowledgements. Servers leave it <see langword="false"/>. A valid ACK
    /// frame in the Handshake space clears it automatically.
    /// </summary>
    public bool PeerAwaitingAddressValidation { get; set; }

    /// <summary>
    /// Server only: whether the anti-amplification limit (RFC 9000 §8.1) currently forbids sending.
    /// While set, the PTO is not armed, since a probe could not be sent (RFC 9002 §6.2.2.1).
    /// </summary>
    public bool AtAntiAmplificationLimit { get; set; }

    /// <summary>The number of consecutive probe timeouts without an acknowledgement (pto_count, RFC 9002 §6.2.1).</summary>
    public int PtoCount { get; private set; }

    /// <summary>Counters for metrics: packets sent, acknowledged and lost, probe timeouts, persistent congestion.</summary>
    public RecoveryStatistics Statistics { get; } = new();

    /// <summary>Bytes in flight across all spaces, as counted by the congestion controller.</summary>
    public long BytesInFlight => CongestionController.BytesInFlight;

    /// <summary>
    /// When <see cref="OnLossDetectionTimeout"/> must be called, in microseconds, or
    /// <see langword="null"/> when no timer is armed (RFC 9002 Appendix A.8).
    /// </summary>
    public long? LossDetectionDeadline
    {
        get
        {
            if (EarliestLossTime(out _) is { } lossTime)
            {
                return lossTime;
            }

            // RFC 9002 §6.2.2.1: a server at its anti-amplification limit could not send a probe.
            if (AtAntiAmplificationLimit)
            {
                return null;
            }

            if (!AnyAckElicitingInFlight() && !PeerAwaitingAddressValidation)
            {
                return null;
            }

            return PtoTimeAndSpace(out _);
        }
    }

    /// <summary>The largest packet number acknowledged by the peer in <paramref name="space"/>, or -1.</summary>
    /// <param name="space">The packet number space.</param>
    /// <returns>The largest acknowledged packet number, or -1 if none (RFC 9002 Appendix A.3 largest_acked_packet).</returns>
    public long LargestAcked(PacketNumberSpace space) => _spaces[(int)space].LargestAcked;

    /// <summary>The largest packet number sent in <paramref name="space"/>, or -1.</summary>
    /// <param name="space">The packet number space.</param>
    /// <returns>The largest packet number passed to <see cref="OnPacketSent"/>, or -1 if none.</returns>
    public long LargestSent(PacketNumberSpace space) => _spaces[(int)space].LargestSent;

    /// <summary>The number of ack-eliciting packets in flight in <paramref name="space"/>.</summary>
    /// <param name="space">The packet number space.</param>
    /// <returns>A count of outstanding ack-eliciting packets.</returns>
    public int AckElicitingInFlight(PacketNumberSpace space) => _spaces[(int)space].AckElicitingInFlight;

    /// <summary>The number of packet records held for <paramref name="space"/>, including tombstones; exposed for memory tests.</summary>
    internal int TrackedRecordCount(PacketNumberSpace space) => _spaces[(int)space].Sent.Count;

    /// <summary>Records a packet that was just sent (RFC 9002 Appendix A.5).</summary>
    /// <param name="space">The packet number space the packet was sent in.</param>
    /// <param name="packetNumber">Its packet number; strictly greater than every earlier one in the space (RFC 9000 §12.3).</param>
    /// <param name="sentBytes">The packet's size in bytes, as counted toward bytes in flight.</param>
    /// <param name="ackEliciting">Whether it contains frames other than ACK, PADDING and CONNECTION_CLOSE (RFC 9002 §2).</param>
    /// <param name="inFlight">Whether it counts toward bytes in flight (ack-eliciting or padding, RFC 9002 §2).</param>
    /// <param name="now">The send time.</param>
    /// <param name="frames">An opaque token owned by the connection that describes the packet's contents; it is handed back by <see cref="IRecoveryEvents"/>.</param>
    /// <exception cref="ArgumentException">The packet number does not increase, or the size is negative.</exception>
    /// <exception cref="InvalidOperationException">The space has been discarded.</exception>
    public void OnPacketSent(PacketNumberSpace space, long packetNumber, int sentBytes, bool ackEliciting, bool inFlight, long now, object? frames)
    {
        var state = _spaces[(int)space];
        if (state.Discarded)
        {
            throw new InvalidOperationException($"The {space} packet number space was discarded (RFC 9002 §6.4); no packet can be sent in it.");
        }

        if (packetNumber <= state.LargestSent)
        {
            throw new ArgumentException($"Packet numbers must increase within a space (RFC 9000 §12.3): {packetNumber} after {state.LargestSent}.", nameof(packetNumber));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(sentBytes);

        // An ack-eliciting packet is always in flight (RFC 9002 §2).
        inFlight |= ackEliciting;
        Statistics.PacketsSent++;
        state.LargestSent = packetNumber;
        state.Sent.Add(new SentPacket
        {
            PacketNumber = packetNumber,
            TimeSent = now,
            Frames = frames,
            SentBytes = sentBytes,
            AckEliciting = ackEliciting,
            InFlight = inFlight,
            State = SentPacketState.Outstanding,
        });

        if (inFlight)
        {
            if (ackEliciting)
            {
                state.TimeOfLastAckEliciting = now;
                state.AckElicitingInFlight++;
            }

            state.BytesInFlight += sentBytes;
            Statistics.BytesSent += sentBytes;
            CongestionController.OnPacketSent(now, sentBytes);
            _lastArmTime = now;
        }
    }

    /// <summary>
    /// Processes an ACK frame received in <paramref name="space"/> (RFC 9002 §6 and Appendix A.7).
    /// </summary>
    /// <remarks>
    /// <list type="number">
    /// <item>Validate the ranges; nothing changes when they are invalid.</item>
    /// <item>Mark newly acknowledged packets and collect them.</item>
    /// <item>Take an RTT sample when the largest acknowledged is newly acknowledged and ack-eliciting packets were acknowledged.</item>
    /// <item>Detect lost packets by packet and time thresholds, and persistent congestion.</item>
    /// <item>Feed losses, then acknowledgements, to the congestion controller.</item>
    /// <item>Reset pto_count unless the client's address may still be unvalidated.</item>
    /// <item>Report each acknowledged and lost packet to <paramref name="events"/>.</item>
    /// </list>
    /// </remarks>
    /// <param name="space">The packet number space of the packet that carried the ACK frame.</param>
    /// <param name="ranges">The acknowledged ranges, in descending order as in the frame; the first holds the Largest Acknowledged.</param>
    /// <param name="ackDelayMicros">The decoded ACK Delay field in microseconds (RFC 9000 §19.3); ignored for the Initial space (RFC 9002 §5.3).</param>
    /// <param name="now">The time the ACK was received.</param>
    /// <param name="events">Receives one callback per newly acknowledged or lost packet.</param>
    /// <returns><see cref="AckOutcome.Accepted"/>, or the error the connection closes with.</returns>
    public AckOutcome OnAckReceived(PacketNumberSpace space, ReadOnlySpan<AckRange> ranges, long ackDelayMicros, long now, IRecoveryEvents events)
    {
        ArgumentNullException.ThrowIfNull(events);
        EnterDispatchGuard();
        var state = _spaces[(int)space];

        // :: Step 1 — validate before touching anything.
        var outcome = Validate(state, ranges);
        if (outcome != AckOutcome.Accepted || state.Discarded)
        {
            if (outcome != AckOutcome.Accepted)
            {
                Statistics.InvalidAcks++;
            }

            _dispatching = false;
            return outcome;
        }

        // RFC 9002 §6.2.2.1: a client that receives an acknowledgement of one of its Handshake packets
        // knows the server has validated its address.
        if (space == PacketNumberSpace.Handshake)
        {
            PeerAwaitingAddressValidation = false;
        }

        long largestAckedInFrame = ranges[0].Largest;
        state.LargestAcked = Math.Max(state.LargestAcked, largestAckedInFrame);

        // :: Step 2 — newly acknowledged packets.
        bool largestNewlyAcked = false;
        bool includesAckEliciting = false;
        long largestTimeSent = 0;
        var sent = state.Sent;
        foreach (var range in ranges)
        {
            for (int i = sent.LowerBound(range.Smallest); i < sent.Count; i++)
            {
                ref var packet = ref sent[i];
                if (packet.PacketNumber > range.Largest)
                {
                    break;
                }

                if (packet.State != SentPacketState.Outstanding)
                {
                    continue;
                }

                packet.State = SentPacketState.Acked;
                Statistics.PacketsAcked++;
                if (packet.PacketNumber == largestAckedInFrame)
                {
                    largestNewlyAcked = true;
                    largestTimeSent = packet.TimeSent;
                }

                includesAckEliciting |= packet.AckEliciting;
                RemoveFromFlight(state, ref packet);
                if (packet.InFlight)
                {
                    Append(ref _ackedScratch, ref _ackedCount, new SentPacketInfo(packet.PacketNumber, packet.TimeSent, packet.SentBytes));
                }

                Append(ref _events, ref _eventCount, new PacketEvent(space, packet.PacketNumber, packet.Frames, acked: true));
                packet.Frames = null;
            }
        }

        if (_eventCount == 0)
        {
            // RFC 9002 Appendix A.7: nothing newly acknowledged, nothing to do.
            _dispatching = false;
            return AckOutcome.Accepted;
        }

        // The acked scratch was filled range by range in descending order; the controller expects packet order.
        _ackedScratch.AsSpan(0, _ackedCount).Sort(static (a, b) => a.PacketNumber.CompareTo(b.PacketNumber));

        // :: Step 3 — RTT sample (RFC 9002 §5.1).
        if (largestNewlyAcked && includesAckEliciting)
        {
            long ackDelay = space == PacketNumberSpace.Initial ? 0 : ackDelayMicros;
            Rtt.AddSample(now - largestTimeSent, ackDelay, PeerMaxAckDelayMicros, HandshakeConfirmed, now);
        }

        // :: Step 4 — loss detection.
        bool persistentCongestion = DetectLostPackets(space, state, now);

        // :: Step 5 — congestion control: losses first, as in RFC 9002 Appendix A.7.
        if (_lostCount > 0)
        {
            CongestionController.OnPacketsLost(_lostScratch.AsSpan(0, _lostCount), now, persistentCongestion);
        }

        if (_ackedCount > 0)
        {
            CongestionController.OnPacketsAcked(_ackedScratch.AsSpan(0, _ackedCount), now, Rtt);
        }

        // :: Step 6 — RFC 9002 §6.2.1: pto_count is reset on acknowledgement, except on a client
        // that is unsure the server has validated its address (RFC 9002 §6.2.2.1).
        if (!PeerAwaitingAddressValidation)
        {
            PtoCount = 0;
        }

        state.Sent.TrimFront();
        _lastArmTime = now;

        // :: Step 7 — tell the connection.
        Dispatch(events);
        return AckOutcome.Accepted;
    }

    /// <summary>
    /// Handles expiry of <see cref="LossDetectionDeadline"/> (RFC 9002 §6.1.2, §6.2.4, Appendix A.9):
    /// declares time-threshold losses, or counts a probe timeout and says which space to probe.
    /// </summary>
    /// <param name="now">The current time; nothing happens if it is before the deadline.</param>
    /// <param name="events">Receives one callback per lost packet.</param>
    /// <returns>What happened and, on a probe timeout, what the connection must send now.</returns>
    public LossTimeoutResult OnLossDetectionTimeout(long now, IRecoveryEvents events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (LossDetectionDeadline is not { } deadline || now < deadline)
        {
            return default;
        }

        EnterDispatchGuard();
        if (EarliestLossTime(out var lossSpace) is not null)
        {
            // Time threshold loss detection (RFC 9002 §6.1.2).
            var state = _spaces[(int)lossSpace];
            bool persistentCongestion = DetectLostPackets(lossSpace, state, now);
            if (_lostCount > 0)
            {
                CongestionController.OnPacketsLost(_lostScratch.AsSpan(0, _lostCount), now, persistentCongestion);
            }

            state.Sent.TrimFront();
            _lastArmTime = now;
            Dispatch(events);
            return new LossTimeoutResult(LossTimeoutAction.PacketsDeclaredLost, lossSpace, 0, false);
        }

        LossTimeoutResult result;
        if (!AnyAckElicitingInFlight())
        {
            // RFC 9002 §6.2.2.1: a client whose address may be unvalidated sends an anti-deadlock
            // packet: Handshake proves address ownership, a padded Initial earns amplification credit.
            var space = HasHandshakeKeys ? PacketNumberSpace.Handshake : PacketNumberSpace.Initial;
            result = new LossTimeoutResult(LossTimeoutAction.SendProbes, space, 1, true);
        }
        else
        {
            PtoTimeAndSpace(out var space);
            // RFC 9002 §6.2.4: one or two ack-eliciting packets; two make a single loss less likely to
            // cost another timeout.
            result = new LossTimeoutResult(LossTimeoutAction.SendProbes, space, 2, false);
        }

        PtoCount++;
        Statistics.ProbeTimeouts++;
        _lastArmTime = now;
        _dispatching = false;
        return result;
    }

    /// <summary>
    /// Discards a packet number space when its keys are discarded (RFC 9002 §6.4, Appendix A.11):
    /// its packets leave bytes in flight without being declared lost, its timers are cleared and
    /// pto_count is reset. Later ACK frames for the space are ignored.
    /// </summary>
    /// <param name="space">The space whose keys were discarded.</param>
    /// <param name="now">The current time.</param>
    /// <param name="events">Receives <see cref="IRecoveryEvents.OnPacketDiscarded"/> for each outstanding packet, so tokens can be released; may be <see langword="null"/>.</param>
    public void DiscardPacketNumberSpace(PacketNumberSpace space, long now, IRecoveryEvents? events)
    {
        EnterDispatchGuard();
        var state = _spaces[(int)space];
        var sent = state.Sent;
        for (int i = 0; i < sent.Count; i++)
        {
            ref var packet = ref sent[i];
            if (packet.State == SentPacketState.Outstanding)
            {
                Append(ref _events, ref _eventCount, new PacketEvent(space, packet.PacketNumber, packet.Frames, acked: false, discarded: true));
            }
        }

        CongestionController.OnPacketsDiscarded(state.BytesInFlight);
        sent.Clear();
        state.BytesInFlight = 0;
        state.AckElicitingInFlight = 0;
        state.TimeOfLastAckEliciting = null;
        state.LossTime = null;
        state.Discarded = true;
        PtoCount = 0;
        _lastArmTime = now;

        if (events is null)
        {
            _eventCount = 0;
            _dispatching = false;
            return;
        }

        Dispatch(events);
    }

    /// <summary>
    /// Handles a Retry on a client (RFC 9002 §6.3): every Initial packet sent so far is reported lost
    /// so its CRYPTO data is sent again, bytes in flight are released without a congestion signal, and
    /// congestion control, loss detection timers and pto_count are reset. Packet numbers continue (RFC 9000 §17.2.5.3).
    /// </summary>
    /// <param name="now">The current time.</param>
    /// <param name="events">Receives <see cref="IRecoveryEvents.OnPacketLost"/> for each outstanding Initial packet.</param>
    public void OnRetryReceived(long now, IRecoveryEvents events)
    {
        ArgumentNullException.ThrowIfNull(events);
        EnterDispatchGuard();
        var state = _spaces[(int)PacketNumberSpace.Initial];
        var sent = state.Sent;
        for (int i = 0; i < sent.Count; i++)
        {
            ref var packet = ref sent[i];
            if (packet.State == SentPacketState.Outstanding)
            {
                Statistics.PacketsLost++;
                Append(ref _events, ref _eventCount, new PacketEvent(PacketNumberSpace.Initial, packet.PacketNumber, packet.Frames, acked: false));
            }
        }

        CongestionController.OnPacketsDiscarded(state.BytesInFlight);
        CongestionController.Reset();
        sent.Clear();
        state.BytesInFlight = 0;
        state.AckElicitingInFlight = 0;
        state.TimeOfLastAckEliciting = null;
        state.LossTime = null;
        PtoCount = 0;
        _lastArmTime = now;
        Dispatch(events);
    }

    private static AckOutcome Validate(SpaceState state, ReadOnlySpan<AckRange> ranges)
    {
        if (ranges.IsEmpty)
        {
            return AckOutcome.MalformedRanges;
        }

        for (int i = 0; i < ranges.Length; i++)
        {
            var range = ranges[i];
            if (range.Smallest < 0 || range.Smallest > range.Largest)
            {
                return AckOutcome.MalformedRanges;
            }

            // Ranges descend and do not touch: the gap field encodes at least one missing packet (RFC 9000 §19.3.1).
            if (i > 0 && range.Largest >= ranges[i - 1].Smallest - 1)
            {
                return AckOutcome.MalformedRanges;
            }
        }

        // RFC 9000 §13.1: acknowledging a packet that was never sent is a PROTOCOL_VIOLATION.
        // Packet numbers increase, so the largest sent bounds everything that was sent.
        return ranges[0].Largest > state.LargestSent ? AckOutcome.AcknowledgedUnsentPacket : AckOutcome.Accepted;
    }

    private static void RemoveFromFlight(SpaceState state, ref SentPacket packet)
    {
        if (!packet.InFlight)
        {
            return;
        }

        state.BytesInFlight -= packet.SentBytes;
        if (packet.AckEliciting)
        {
            state.AckElicitingInFlight--;
        }
    }

    private static void Append<T>(ref T[] buffer, ref int count, in T item)
    {
        if (count == buffer.Length)
        {
            Array.Resize(ref buffer, buffer.Length * 2);
        }

        buffer[count++] = item;
    }

    /// <summary>
    /// RFC 9002 §6.1 and Appendix A.10: declares outstanding packets at or below the largest
    /// acknowledged lost when they are <see cref="PacketThreshold"/> packets older than it or were sent
    /// more than the loss delay ago, and arms the loss time for the rest. Also reports whether the
    /// losses establish persistent congestion (RFC 9002 §7.6.2).
    /// </summary>
    private bool DetectLostPackets(PacketNumberSpace space, SpaceState state, long now)
    {
        state.LossTime = null;
        if (state.LargestAcked < 0)
        {
            return false;
        }

        // RFC 9002 §6.1.2: 9/8 of the larger of the latest and smoothed RTT, at least kGranularity.
        long lossDelay = Math.Max(Math.Max(Rtt.LatestRtt, Rtt.SmoothedRtt) * 9 / 8, RttEstimator.GranularityMicros);
        long lostSendTime = now - lossDelay;

        // RFC 9002 §7.6.1.
        long persistentDuration = (Rtt.SmoothedRtt + Math.Max(4 * Rtt.RttVariation, RttEstimator.GranularityMicros) + PeerMaxAckDelayMicros) * PersistentCongestionThreshold;
        long? runStart = null;
        bool persistent = false;

        var sent = state.Sent;
        for (int i = 0; i < sent.Count; i++)
        {
            ref var packet = ref sent[i];
            if (packet.PacketNumber > state.LargestAcked)
            {
                break;
            }

            if (packet.State == SentPacketState.Acked)
            {
                // RFC 9002 §7.6.2: an acknowledgement between two lost packets ends the congestion period.
                runStart = null;
                continue;
            }

            if (packet.State == SentPacketState.Lost)
            {
                continue;
            }

            if (packet.TimeSent > lostSendTime && state.LargestAcked < packet.PacketNumber + PacketThreshold)
            {
                long candidate = packet.TimeSent + lossDelay;
                state.LossTime = state.LossTime is { } t ? Math.Min(t, candidate) : candidate;
                continue;
            }

            packet.State = SentPacketState.Lost;
            Statistics.PacketsLost++;
            RemoveFromFlight(state, ref packet);
            if (packet.InFlight)
            {
                Statistics.BytesLost += packet.SentBytes;
                Append(ref _lostScratch, ref _lostCount, new SentPacketInfo(packet.PacketNumber, packet.TimeSent, packet.SentBytes));
            }

            // RFC 9002 §7.6.2: only ack-eliciting packets sent after the first RTT sample count.
            if (packet.AckEliciting && Rtt.HasSample && packet.TimeSent > Rtt.FirstSampleTime)
            {
                if (runStart is not { } start)
                {
                    runStart = packet.TimeSent;
                }
                else if (packet.TimeSent - start > persistentDuration)
                {
                    persistent = true;
                }
            }

            Append(ref _events, ref _eventCount, new PacketEvent(space, packet.PacketNumber, packet.Frames, acked: false));
            packet.Frames = null;
        }

        if (persistent)
        {
            Statistics.PersistentCongestionEvents++;
            Rtt.OnPersistentCongestion();
        }

        return persistent;
    }

    private long? EarliestLossTime(out PacketNumberSpace space)
    {
        long? earliest = null;
        space = PacketNumberSpace.Initial;
        for (int i = 0; i < SpaceCount; i++)
        {
            if (_spaces[i].LossTime is { } t && (earliest is null || t < earliest))
            {
                earliest = t;
                space = (PacketNumberSpace)i;
            }
        }

        return earliest;
    }

    private bool AnyAckElicitingInFlight()
    {
        foreach (var state in _spaces)
        {
            if (state.AckElicitingInFlight > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>RFC 9002 Appendix A.8 GetPtoTimeAndSpace.</summary>
    private long? PtoTimeAndSpace(out PacketNumberSpace space)
    {
        long backoff = 1L << Math.Min(PtoCount, MaxBackoffExponent);
        long duration = SaturatingMultiply(Rtt.PtoDuration(PacketNumberSpace.Initial, 0), backoff);

        if (!AnyAckElicitingInFlight())
        {
            // RFC 9002 §6.2.2.1: the anti-deadlock PTO counts from when the timer was armed.
            space = HasHandshakeKeys ? PacketNumberSpace.Handshake : PacketNumberSpace.Initial;
            return SaturatingAdd(_lastArmTime, duration);
        }

        long? timeout = null;
        space = PacketNumberSpace.Initial;
        for (int i = 0; i < SpaceCount; i++)
        {
            var state = _spaces[i];
            if (state.AckElicitingInFlight == 0 || state.TimeOfLastAckEliciting is not { } lastSent)
            {
                continue;
            }

            long spaceDuration = duration;
            if ((PacketNumberSpace)i == PacketNumberSpace.ApplicationData)
            {
                // RFC 9002 §6.2.1: do not arm the Application Data PTO before the handshake is confirmed.
                if (!HandshakeConfirmed)
                {
                    break;
                }

                spaceDuration = SaturatingAdd(duration, SaturatingMultiply(PeerMaxAckDelayMicros, backoff));
            }

            long t = SaturatingAdd(lastSent, spaceDuration);
            if (timeout is null || t < timeout)
            {
                timeout = t;
                space = (PacketNumberSpace)i;
            }
        }

        return timeout;
    }

    private static long SaturatingMultiply(long a, long b)
    {
        long product;
        try
        {
            product = checked(a * b);
        }
        catch (OverflowException)
        {
            product = long.MaxValue;
        }

        return product;
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    private void EnterDispatchGuard()
    {
        if (_dispatching)
        {
            throw new InvalidOperationException("LossRecovery is not re-entrant: a recovery event handler called back into it.");
        }

        _dispatching = true;
        _ackedCount = 0;
        _lostCount = 0;
        _eventCount = 0;
    }

    private void Dispatch(IRecoveryEvents events)
    {
        try
        {
            for (int i = 0; i < _eventCount; i++)
            {
                ref var e = ref _events[i];
                if (e.Discarded)
                {
                    events.OnPacketDiscarded(e.Space, e.PacketNumber, e.Frames);
                }
                else if (e.Acked)
                {
                    events.OnPacketAcked(e.Space, e.PacketNumber, e.Frames);
                }
                else
                {
                    events.OnPacketLost(e.Space, e.PacketNumber, e.Frames);
                }

                e = default;
            }
        }
        finally
        {
            // Drop the tokens even if a handler threw, so the recovery state holds no stale references.
            Array.Clear(_events, 0, _eventCount);
            _eventCount = 0;
            _dispatching = false;
        }
    }

    private readonly struct PacketEvent(PacketNumberSpace space, long packetNumber, object? frames, bool acked, bool discarded = false)
    {
        public PacketNumberSpace Space { get; } = space;

        public long PacketNumber { get; } = packetNumber;

        public object? Frames { get; } = frames;

        public bool Acked { get; } = acked;

        public bool Discarded { get; } = discarded;
    }

    private sealed class SpaceState
    {
        public SentPacketQueue Sent { get; } = new();

        public long LargestAcked { get; set; } = -1;

        public long LargestSent { get; set; } = -1;

        public long? LossTime { get; set; }

        public long? TimeOfLastAckEliciting { get; set; }

        public int AckElicitingInFlight { get; set; }

        public long BytesInFlight { get; set; }

        public bool Discarded { get; set; }
    }
}

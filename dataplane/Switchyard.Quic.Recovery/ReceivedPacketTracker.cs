namespace Switchyard.Quic.Recovery;

/// <summary>
/// The receive side of one packet number space (RFC 9000 §13.2): remembers which packet numbers
/// arrived so duplicates are discarded (RFC 9000 §12.3), keeps the ranges an ACK frame reports, and
/// decides when an ACK frame is due.
/// </summary>
/// <remarks>
/// At most <see cref="MaxRanges"/> ranges are kept. When a new gap would exceed the bound the lowest
/// range is forgotten and every packet number at or below it is afterwards treated as a duplicate,
/// which RFC 9000 §12.3 allows ("a minimum packet number below which all packets are immediately
/// dropped"); RFC 9000 §13.2.4 lets an ACK frame omit old ranges. Memory is fixed at construction.
/// </remarks>
public sealed class ReceivedPacketTracker
{
    /// <summary>The default bound on the number of ranges kept.</summary>
    public const int DefaultMaxRanges = 64;

    /// <summary>The default max_ack_delay, 25 ms (RFC 9000 §18.2).</summary>
    public const long DefaultMaxAckDelayMicros = 25_000;

    // Descending by packet number: _ranges[0] holds the largest packet received.
    private readonly AckRange[] _ranges;
    private int _rangeCount;

    // Packet numbers at or below this are treated as duplicates: their ranges were evicted.
    private long _duplicateFloor = -1;

    // Packet numbers at or below this are no longer reported: an ACK covering them was acknowledged.
    private long _reportFloor = -1;

    private long _largestReceivedTime;
    private int _ackElicitingSinceAck;
    private long? _firstUnackedAckElicitingTime;
    private long? _immediateSince;
    private bool _newSinceAck;

    /// <summary>Creates an empty tracker.</summary>
    /// <param name="space">The packet number space this tracker serves.</param>
    /// <param name="maxAckDelayMicros">Our max_ack_delay transport parameter in microseconds (RFC 9000 §18.2); used in the Application Data space.</param>
    /// <param name="maxRanges">The bound on ranges kept, at least 1.</param>
    public ReceivedPacketTracker(PacketNumberSpace space, long maxAckDelayMicros = DefaultMaxAckDelayMicros, int maxRanges = DefaultMaxRanges)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxAckDelayMicros);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRanges);
        Space = space;
        MaxAckDelayMicros = maxAckDelayMicros;
        MaxRanges = maxRanges;
        _ranges = new AckRange[maxRanges];
    }

    /// <summary>The packet number space this tracker serves.</summary>
    public PacketNumberSpace Space { get; }

    /// <summary>Our max_ack_delay: the longest an ack-eliciting Application Data packet goes unacknowledged (RFC 9000 §13.2.1).</summary>
    public long MaxAckDelayMicros { get; set; }

    /// <summary>The number of ack-eliciting packets after which an ACK is sent at once; 2 per RFC 9000 §13.2.2.</summary>
    public int AckElicitingThreshold { get; set; } = 2;

    /// <summary>The bound on the number of ranges kept.</summary>
    public int MaxRanges { get; }

    /// <summary>The largest packet number received, or -1 if none.</summary>
    public long LargestReceived => _rangeCount == 0 ? -1 : _ranges[0].Largest;

    /// <summary>The number of ranges currently kept for duplicate detection (including ones no longer reported).</summary>
    public int RangeCount => _rangeCount;

    /// <summary>
    /// Whether an ACK frame must be sent without waiting (RFC 9000 §13.2.1, §13.2.2): an ack-eliciting
    /// packet arrived out of order or after a gap, <see cref="AckElicitingThreshold"/> ack-eliciting
    /// packets arrived since the last ACK, or an ack-eliciting Initial or Handshake packet arrived.
    /// </summary>
    public bool ShouldSendAckNow => _immediateSince is not null;

    /// <summary>
    /// The time by which an ACK frame must be sent, or <see langword="null"/> when no ack-eliciting
    /// packet awaits acknowledgement. When <see cref="ShouldSendAckNow"/> is set it is the arrival time
    /// of the packet that made the ACK urgent, so it is never later than now.
    /// </summary>
    public long? AckDeadline
    {
        get
        {
            if (_immediateSince is { } immediate)
            {
                return immediate;
            }

            return _firstUnackedAckElicitingTime is { } first ? first + MaxAckDelayMicros : null;
        }
    }

    /// <summary>
    /// Whether there is anything new to acknowledge: a packet arrived since the last ACK frame was
    /// sent and at least one range is reportable. An ACK may be bundled whenever this holds.
    /// </summary>
    public bool HasAckToSend => _newSinceAck && ReportableRangeCount > 0;

    /// <summary>The number of ranges an ACK frame built now would carry.</summary>
    public int ReportableRangeCount
    {
        get
        {
            int count = 0;
            while (count < _rangeCount && _ranges[count].Largest > _reportFloor)
            {
                count++;
            }

            return count;
        }
    }

    /// <summary>Whether the ACK is due at <paramref name="now"/>.</summary>
    /// <param name="now">The current time.</param>
    /// <returns><see langword="true"/> when <see cref="AckDeadline"/> is at or before <paramref name="now"/>.</returns>
    public bool IsAckDue(long now) => AckDeadline is { } deadline && deadline <= now;

    /// <summary>Whether <paramref name="packetNumber"/> was already received, or is too old to tell (RFC 9000 §12.3).</summary>
    /// <param name="packetNumber">The packet number, after removing header protection and decoding it.</param>
    /// <returns><see langword="true"/> when the packet must be discarded as a duplicate.</returns>
    public bool IsDuplicate(long packetNumber)
    {
        if (packetNumber <= _duplicateFloor)
        {
            return true;
        }

        for (int i = 0; i < _rangeCount; i++)
        {
            var range = _ranges[i];
            if (packetNumber > range.Largest)
            {
                return false;
            }

            if (packetNumber >= range.Smallest)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Records a packet that was successfully decrypted (RFC 9000 §13.2). Call it only after packet
    /// protection is removed, so that a forged packet number cannot poison the state.
    /// </summary>
    /// <param name="packetNumber">The full packet number.</param>
    /// <param name="ackEliciting">Whether the packet contained a frame other than ACK, PADDING and CONNECTION_CLOSE.</param>
    /// <param name="now">The arrival time.</param>
    /// <returns><see langword="false"/> when it is a duplicate: nothing was recorded and the packet must be discarded.</returns>
    public bool OnPacketReceived(long packetNumber, bool ackEliciting, long now)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(packetNumber);
        if (IsDuplicate(packetNumber))
        {
            return false;
        }

        long largestBefore = LargestReceived;
        Insert(packetNumber);
        if (packetNumber > largestBefore)
        {
            _largestReceivedTime = now;
        }

        // Packets an acknowledged ACK already let us stop reporting (RFC 9000 §13.2.4) are recorded for
        // duplicate detection only; acknowledging them would report nothing.
        if (packetNumber <= _reportFloor)
        {
            return true;
        }

        _newSinceAck = true;
        if (!ackEliciting)
        {
            // RFC 9000 §13.2.1: non-ack-eliciting packets are acknowledged only along with others.
            return true;
        }

        _ackElicitingSinceAck++;
        _firstUnackedAckElicitingTime ??= now;

        bool outOfOrder = largestBefore >= 0 && packetNumber < largestBefore;
        bool afterGap = largestBefore >= 0 && packetNumber > largestBefore + 1;
        bool urgent =
            Space != PacketNumberSpace.ApplicationData // RFC 9000 §13.2.1: Initial and Handshake are acknowledged immediately.
            || outOfOrder || afterGap                // RFC 9000 §13.2.1: reordering or loss — tell the sender quickly.
            || _ackElicitingSinceAck >= AckElicitingThreshold; // RFC 9000 §13.2.2.
        if (urgent)
        {
            _immediateSince ??= now;
        }

        return true;
    }

    /// <summary>The ACK Delay to report: time since the largest packet was received (RFC 9000 §13.2.5), never negative.</summary>
    /// <param name="now">The time the ACK frame is built.</param>
    /// <returns>The delay in microseconds, before scaling by ack_delay_exponent.</returns>
    public long GetAckDelay(long now) => _rangeCount == 0 ? 0 : Math.Max(0, now - _largestReceivedTime);

    /// <summary>
    /// Copies the ranges an ACK frame reports into <paramref name="destination"/>, descending, largest
    /// first. When the destination is short, the oldest ranges are left out (RFC 9000 §13.2.4).
    /// </summary>
    /// <param name="destination">Where to write the ranges.</param>
    /// <returns>The number of ranges written.</returns>
    public int CopyAckRanges(Span<AckRange> destination)
    {
        int written = 0;
        for (int i = 0; i < _rangeCount && written < destination.Length; i++)
        {
            var range = _ranges[i];
            if (range.Largest <= _reportFloor)
            {
                break;
            }

            destination[written++] = range.Smallest <= _reportFloor ? range with { Smallest = _reportFloor + 1 } : range;
        }

        return written;
    }

    /// <summary>Resets the ACK triggers after an ACK frame for this space was sent.</summary>
    /// <param name="now">The send time; kept for symmetry with the other time-driven calls.</param>
    public void OnAckSent(long now)
    {
        _ = now;
        _ackElicitingSinceAck = 0;
        _firstUnackedAckElicitingTime = null;
        _immediateSince = null;
        _newSinceAck = false;
    }

    /// <summary>
    /// A packet that carried one of our ACK frames was acknowledged: packet numbers at or below that
    /// frame's Largest Acknowledged need not be reported again (RFC 9000 §13.2.4). They stay known for
    /// duplicate detection.
    /// </summary>
    /// <param name="largestAckedInOurAck">The Largest Acknowledged field of the ACK frame that was acknowledged.</param>
    public void OnAckOfAckReceived(long largestAckedInOurAck) => _reportFloor = Math.Max(_reportFloor, largestAckedInOurAck);

    private void Insert(long packetNumber)
    {
        // Most packets extend the newest range, so search from the top.
        int i = 0;
        while (i < _rangeCount && _ranges[i].Smallest > packetNumber + 1)
        {
            i++;
        }

        // Now either i == _rangeCount, or _ranges[i].Smallest <= packetNumber + 1.
        if (i < _rangeCount && _ranges[i].Largest + 1 >= packetNumber)
        {
            // Adjacent to range i (not inside it: duplicates were filtered). The loop stopped at the
            // first range reaching down to packetNumber + 1, so only the range below can merge.
            ref var range = ref _ranges[i];
            if (packetNumber == range.Largest + 1)
            {
                range = range with { Largest = packetNumber };
            }
            else
            {
                range = range with { Smallest = packetNumber };
                if (i + 1 < _rangeCount && _ranges[i + 1].Largest + 1 == packetNumber)
                {
                    range = range with { Smallest = _ranges[i + 1].Smallest };
                    RemoveAt(i + 1);
                }
            }

            return;
        }

        // A new range at position i (between range i-1 and range i).
        if (_rangeCount == _ranges.Length)
        {
            if (i == _rangeCount)
            {
                // The new packet would itself be the oldest range: drop it and raise the floor.
                _duplicateFloor = Math.Max(_duplicateFloor, packetNumber);
                return;
            }

            // Forget the oldest range (RFC 9000 §13.2.4) and treat everything up to it as seen.
            _duplicateFloor = Math.Max(_duplicateFloor, _ranges[_rangeCount - 1].Largest);
            _rangeCount--;
        }

        Array.Copy(_ranges, i, _ranges, i + 1, _rangeCount - i);
        _ranges[i] = new AckRange(packetNumber, packetNumber);
        _rangeCount++;
    }

    private void RemoveAt(int index)
    {
        Array.Copy(_ranges, index + 1, _ranges, index, _rangeCount - index - 1);
        _rangeCount--;
        _ranges[_rangeCount] = default;
    }
}

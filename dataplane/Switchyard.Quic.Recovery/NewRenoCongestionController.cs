namespace Switchyard.Quic.Recovery;

/// <summary>
/// The NewReno-style congestion controller of RFC 9002 §7 and Appendix B: slow start, a recovery
/// period entered once per congestion event, congestion avoidance, and collapse to the minimum
/// window on persistent congestion.
/// </summary>
public sealed class NewRenoCongestionController : ICongestionController
{
    /// <summary>The loss reduction factor, kLossReductionFactor = 0.5, as a divisor (RFC 9002 §7.3.2).</summary>
    private const int LossReductionDivisor = 2;

    // Bytes acknowledged during congestion avoidance that have not yet earned a full datagram of window.
    private long _bytesAckedInAvoidance;
    private long? _recoveryStartTime;

    /// <summary>Creates a controller in slow start with the initial window.</summary>
    /// <param name="maxDatagramSize">The maximum datagram size in bytes; at least 1200 for QUIC (RFC 9000 §14).</param>
    public NewRenoCongestionController(int maxDatagramSize = 1200)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDatagramSize);
        MaxDatagramSize = maxDatagramSize;
        Reset();
    }

    /// <inheritdoc />
    public int MaxDatagramSize { get; private set; }

    /// <inheritdoc />
    public long CongestionWindow { get; private set; }

    /// <inheritdoc />
    public long BytesInFlight { get; private set; }

    /// <summary>The slow start threshold; <see cref="long.MaxValue"/> until the first congestion event.</summary>
    public long SlowStartThreshold { get; private set; }

    /// <summary>When the current recovery period started, or <see langword="null"/> outside recovery (RFC 9002 §7.3.2).</summary>
    public long? RecoveryStartTime => _recoveryStartTime;

    /// <summary>Whether the controller is in slow start (<c>cwnd &lt; ssthresh</c>, RFC 9002 §7.3.1).</summary>
    public bool InSlowStart => CongestionWindow < SlowStartThreshold;

    /// <inheritdoc />
    public bool IsApplicationLimited { get; set; }

    /// <summary>The initial window, <c>min(10 * mds, max(14720, 2 * mds))</c> (RFC 9002 §7.2).</summary>
    public long InitialWindow => Math.Min(10L * MaxDatagramSize, Math.Max(14_720L, 2L * MaxDatagramSize));

    /// <summary>The minimum window, <c>2 * mds</c> (RFC 9002 §7.2).</summary>
    public long MinimumWindow => 2L * MaxDatagramSize;

    /// <summary>Congestion window bytes not used by bytes in flight, never negative.</summary>
    public long AvailableWindow => Math.Max(0, CongestionWindow - BytesInFlight);

    /// <inheritdoc />
    public bool CanSend(long bytes) => BytesInFlight + bytes <= CongestionWindow;

    /// <summary>
    /// Changes the maximum datagram size after path MTU discovery. The window keeps its byte value but
    /// is raised to the new minimum if needed (RFC 9002 §7.2).
    /// </summary>
    /// <param name="maxDatagramSize">The new maximum datagram size.</param>
    public void SetMaxDatagramSize(int maxDatagramSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDatagramSize);
        MaxDatagramSize = maxDatagramSize;
        CongestionWindow = Math.Max(CongestionWindow, MinimumWindow);
    }

    /// <inheritdoc />
    public void OnPacketSent(long now, int bytes) => BytesInFlight += bytes;

    /// <inheritdoc />
    public void OnPacketsAcked(ReadOnlySpan<SentPacketInfo> packets, long now, RttEstimator rtt)
    {
        foreach (var packet in packets)
        {
            BytesInFlight = Math.Max(0, BytesInFlight - packet.SentBytes);

            // RFC 9002 §7.8: do not grow the window when it is not being used fully.
            if (IsApplicationLimited)
            {
                continue;
            }

            // RFC 9002 §7.3.2: no increase for packets sent before the recovery period began; the
            // first acknowledgement of a packet sent during recovery ends the period.
            if (InRecovery(packet.TimeSent))
            {
                continue;
            }

            _recoveryStartTime = null;
            if (InSlowStart)
            {
                // RFC 9002 §7.3.1: grow by the bytes acknowledged.
                CongestionWindow += packet.SentBytes;
                continue;
            }

            // RFC 9002 §7.3.3: at most one maximum datagram per congestion window acknowledged.
            _bytesAckedInAvoidance += packet.SentBytes;
            if (_bytesAckedInAvoidance >= CongestionWindow)
            {
                _bytesAckedInAvoidance -= CongestionWindow;
                CongestionWindow += MaxDatagramSize;
            }
        }
    }

    /// <inheritdoc />
    public void OnPacketsLost(ReadOnlySpan<SentPacketInfo> packets, long now, bool persistentCongestion)
    {
        long? sentTimeOfLastLoss = null;
        foreach (var packet in packets)
        {
            BytesInFlight = Math.Max(0, BytesInFlight - packet.SentBytes);
            sentTimeOfLastLoss = sentTimeOfLastLoss is { } t ? Math.Max(t, packet.TimeSent) : packet.TimeSent;
        }

        if (sentTimeOfLastLoss is { } sentTime)
        {
            OnCongestionEvent(sentTime, now);
        }

        // RFC 9002 §7.6.2: persistent congestion collapses the window to the minimum. Appendix B.8
        // clears the recovery start time here; keeping it at now instead stops acknowledgements of
        // packets sent before the collapse (often in the same ACK frame) from growing the window
        // straight back, while the first packet sent afterwards still ends recovery.
        if (persistentCongestion)
        {
            CongestionWindow = MinimumWindow;
            _recoveryStartTime = now;
            _bytesAckedInAvoidance = 0;
        }
    }

    /// <inheritdoc />
    public void OnCongestionEvent(long sentTime, long now)
    {
        // RFC 9002 §7.3.2: one reduction per round trip; a packet sent before the current recovery
        // period began does not reduce the window again.
        if (InRecovery(sentTime))
        {
            return;
        }

        _recoveryStartTime = now;
        SlowStartThreshold = CongestionWindow / LossReductionDivisor;
        CongestionWindow = Math.Max(SlowStartThreshold, MinimumWindow);
        _bytesAckedInAvoidance = 0;
    }

    /// <inheritdoc />
    public void OnPacketsDiscarded(long bytes) => BytesInFlight = Math.Max(0, BytesInFlight - bytes);

    /// <inheritdoc />
    public void Reset()
    {
        CongestionWindow = InitialWindow;
        SlowStartThreshold = long.MaxValue;
        _recoveryStartTime = null;
        _bytesAckedInAvoidance = 0;
    }

    private bool InRecovery(long sentTime) => _recoveryStartTime is { } start && sentTime <= start;
}

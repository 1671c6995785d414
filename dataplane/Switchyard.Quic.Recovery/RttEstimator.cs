namespace Switchyard.Quic.Recovery;

/// <summary>
/// Round-trip time estimation as specified by RFC 9002 §5: the latest sample, the minimum, an
/// exponentially weighted smoothed RTT and its mean deviation. All values are in microseconds.
/// </summary>
/// <remarks>
/// Integer arithmetic is used throughout so results are exactly reproducible:
/// <c>rttvar = (3 * rttvar + |smoothed - adjusted|) / 4</c> and
/// <c>smoothed = (7 * smoothed + adjusted) / 8</c>, truncated toward zero.
/// </remarks>
public sealed class RttEstimator
{
    /// <summary>The initial RTT used before any sample is taken: 333 ms (RFC 9002 §6.2.2).</summary>
    public const long DefaultInitialRttMicros = 333_000;

    /// <summary>The system timer granularity, kGranularity: 1 ms (RFC 9002 §6.1.2).</summary>
    public const long GranularityMicros = 1_000;

    private readonly long _initialRtt;

    /// <summary>Creates an estimator with no samples.</summary>
    /// <param name="initialRttMicros">The RTT assumed before the first sample (RFC 9002 §6.2.2); for example a value remembered from a previous connection.</param>
    public RttEstimator(long initialRttMicros = DefaultInitialRttMicros)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(initialRttMicros);
        _initialRtt = initialRttMicros;
        Reset();
    }

    /// <summary>The most recent RTT sample, 0 before the first sample (RFC 9002 §5.1).</summary>
    public long LatestRtt { get; private set; }

    /// <summary>The minimum RTT observed, ignoring ack delay; 0 before the first sample (RFC 9002 §5.2).</summary>
    public long MinRtt { get; private set; }

    /// <summary>The smoothed RTT; the initial RTT before the first sample (RFC 9002 §5.3).</summary>
    public long SmoothedRtt { get; private set; }

    /// <summary>The RTT variation (rttvar); half the initial RTT before the first sample (RFC 9002 §5.3).</summary>
    public long RttVariation { get; private set; }

    /// <summary>Whether at least one RTT sample has been taken.</summary>
    public bool HasSample { get; private set; }

    /// <summary>The time at which the first RTT sample was taken, used by persistent congestion (RFC 9002 §7.6.2).</summary>
    public long FirstSampleTime { get; private set; }

    /// <summary>
    /// The PTO period without backoff: <c>smoothed_rtt + max(4 * rttvar, kGranularity)</c>, plus
    /// <paramref name="maxAckDelayMicros"/> for the Application Data space only (RFC 9002 §6.2.1).
    /// </summary>
    /// <param name="space">The packet number space the probe timeout is computed for.</param>
    /// <param name="maxAckDelayMicros">The peer's max_ack_delay transport parameter, in microseconds.</param>
    /// <returns>The probe timeout duration in microseconds.</returns>
    public long PtoDuration(PacketNumberSpace space, long maxAckDelayMicros)
    {
        long pto = SmoothedRtt + Math.Max(4 * RttVariation, GranularityMicros);
        // RFC 9002 §6.2.1: max_ack_delay is 0 for the Initial and Handshake spaces, since those
        // acknowledgements are sent immediately (RFC 9000 §13.2.1).
        return space == PacketNumberSpace.ApplicationData ? pto + maxAckDelayMicros : pto;
    }

    /// <summary>
    /// Adds an RTT sample (RFC 9002 §5.3). The caller takes the sample only when the largest
    /// acknowledged packet is newly acknowledged and at least one newly acknowledged packet was ack-eliciting.
    /// </summary>
    /// <param name="latestRttMicros">Time between sending the largest acknowledged packet and receiving its acknowledgement.</param>
    /// <param name="ackDelayMicros">The peer's reported acknowledgement delay, already decoded with its ack_delay_exponent.</param>
    /// <param name="maxAckDelayMicros">The peer's max_ack_delay; applied as a cap only once the handshake is confirmed.</param>
    /// <param name="handshakeConfirmed">Whether the handshake is confirmed (RFC 9001 §4.1.2).</param>
    /// <param name="now">The current time.</param>
    public void AddSample(long latestRttMicros, long ackDelayMicros, long maxAckDelayMicros, bool handshakeConfirmed, long now)
    {
        // A clock that is monotonic never yields a negative sample; clamp rather than corrupt the estimate.
        long latest = Math.Max(latestRttMicros, 0);
        long ackDelay = Math.Max(ackDelayMicros, 0);
        LatestRtt = latest;

        if (!HasSample)
        {
            // RFC 9002 §5.3: the first sample initialises the estimator; ack delay is not used.
            HasSample = true;
            FirstSampleTime = now;
            MinRtt = latest;
            SmoothedRtt = latest;
            RttVariation = latest / 2;
            return;
        }

        // RFC 9002 §5.2: min_rtt ignores ack delay.
        MinRtt = Math.Min(MinRtt, latest);

        // RFC 9002 §5.3: the peer's max_ack_delay SHOULD be ignored until the handshake is
        // confirmed, and MUST cap the reported delay afterwards.
        if (handshakeConfirmed)
        {
            ackDelay = Math.Min(ackDelay, maxAckDelayMicros);
        }

        // RFC 9002 §5.3: MUST NOT subtract ack delay if the result would fall below min_rtt.
        long adjusted = latest >= MinRtt + ackDelay ? latest - ackDelay : latest;
        RttVariation = ((3 * RttVariation) + Math.Abs(SmoothedRtt - adjusted)) / 4;
        SmoothedRtt = ((7 * SmoothedRtt) + adjusted) / 8;
    }

    /// <summary>
    /// Sets min_rtt to the newest sample once persistent congestion is established (RFC 9002 §5.2), so
    /// that a path whose RTT grew does not keep declaring persistent congestion.
    /// </summary>
    public void OnPersistentCongestion()
    {
        if (HasSample)
        {
            MinRtt = LatestRtt;
        }
    }

    /// <summary>Forgets every sample and returns to the initial RTT.</summary>
    public void Reset()
    {
        LatestRtt = 0;
        MinRtt = 0;
        SmoothedRtt = _initialRtt;
        RttVariation = _initialRtt / 2;
        HasSample = false;
        FirstSampleTime = 0;
    }
}

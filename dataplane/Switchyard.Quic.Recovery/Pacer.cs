namespace Switchyard.Quic.Recovery;

/// <summary>
/// A token-bucket pacer (RFC 9002 §7.7). Tokens accrue at <c>N * cwnd / smoothed_rtt</c> bytes per
/// microsecond with N = 1.25, up to a burst allowance, so a full window is spread over a little less
/// than one RTT instead of leaving in one burst.
/// </summary>
/// <remarks>
/// The pacer reads the window and the RTT from the controller and estimator it was built with, so
/// its rate follows them without being told. The pacer never blocks anything by itself: the
/// connection asks <see cref="NextSendTime"/> and waits until that time before sending.
/// </remarks>
public sealed class Pacer
{
    /// <summary>N in RFC 9002 §7.7: pace slightly faster than cwnd/RTT so pacing does not limit the window.</summary>
    public const double RateMultiplier = 1.25;

    private readonly ICongestionController _congestion;
    private readonly RttEstimator _rtt;
    private readonly int _burstPackets;
    private readonly long _burstIntervalMicros;
    private double _tokens;
    private long? _lastUpdate;

    /// <summary>Creates a pacer whose bucket starts full.</summary>
    /// <param name="congestion">The congestion controller whose window sets the rate.</param>
    /// <param name="rtt">The RTT estimator whose smoothed RTT sets the rate.</param>
    /// <param name="burstPackets">The bucket size in maximum-size datagrams (capped by the congestion window).</param>
    /// <param name="burstIntervalMicros">
    /// When positive, the bucket also holds what the rate earns in this interval (at most
    /// <see cref="MaxBurstPackets"/> datagrams, and never more than the window). A driver whose timer cannot wake
    /// sooner than this interval then sends what accrued while it slept instead of spinning until the next token.
    /// </param>
    public Pacer(ICongestionController congestion, RttEstimator rtt, int burstPackets = 10, long burstIntervalMicros = 0)
    {
        ArgumentNullException.ThrowIfNull(congestion);
        ArgumentNullException.ThrowIfNull(rtt);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burstPackets);
        ArgumentOutOfRangeException.ThrowIfNegative(burstIntervalMicros);
        _congestion = congestion;
        _rtt = rtt;
        _burstPackets = burstPackets;
        _burstIntervalMicros = burstIntervalMicros;
    }

    /// <summary>The most datagrams the interval-based part of the bucket may hold.</summary>
    public const int MaxBurstPackets = 256;

    /// <summary>The pacing rate in bytes per second.</summary>
    public double RateBytesPerSecond => RateMultiplier * _congestion.CongestionWindow * 1_000_000 / SmoothedRtt;

    /// <summary>
    /// The bucket size in bytes: the burst allowance (the larger of the packet count and what the rate earns in the
    /// burst interval), capped by the window, never below one datagram.
    /// </summary>
    public long Capacity
    {
        get
        {
            long burst = (long)_burstPackets * _congestion.MaxDatagramSize;
            if (_burstIntervalMicros > 0)
            {
                double earned = RateMultiplier * _congestion.CongestionWindow * _burstIntervalMicros / SmoothedRtt;
                burst = Math.Max(burst, (long)Math.Min(earned, (double)MaxBurstPackets * _congestion.MaxDatagramSize));
            }

            return Math.Max(_congestion.MaxDatagramSize, Math.Min(burst, _congestion.CongestionWindow));
        }
    }

    private long SmoothedRtt => Math.Max(_rtt.SmoothedRtt, 1);

    /// <summary>
    /// The earliest time a packet of <paramref name="bytes"/> may be sent: <paramref name="now"/> when
    /// the bucket holds enough tokens, otherwise the time it will. A packet larger than the bucket waits for a full bucket.
    /// </summary>
    /// <param name="now">The current time.</param>
    /// <param name="bytes">The size of the packet about to be sent.</param>
    /// <returns>The time at or after <paramref name="now"/> at which sending conforms to the rate.</returns>
    public long NextSendTime(long now, int bytes)
    {
        double tokens = TokensAt(now);
        double needed = Math.Min(bytes, Capacity);
        if (tokens >= needed)
        {
            return now;
        }

        // Multiply before dividing so whole-byte and whole-microsecond cases come out exact.
        double wait = (needed - tokens) * SmoothedRtt / (RateMultiplier * _congestion.CongestionWindow);
        return now + (long)Math.Ceiling(wait);
    }

    /// <summary>Spends tokens for a packet that was sent. Sending ahead of the rate (a PTO probe) leaves a debt of at most one bucket.</summary>
    /// <param name="now">The send time.</param>
    /// <param name="bytes">The packet's size.</param>
    public void OnPacketSent(long now, int bytes)
    {
        _tokens = Math.Max(TokensAt(now) - bytes, -Capacity);
        _lastUpdate = _lastUpdate is { } last ? Math.Max(last, now) : now;
    }

    private double TokensAt(long now)
    {
        long capacity = Capacity;
        if (_lastUpdate is not { } last)
        {
            return capacity;
        }

        double elapsed = Math.Max(0, now - last);
        return Math.Min(capacity, _tokens + (elapsed * RateMultiplier * _congestion.CongestionWindow / SmoothedRtt));
    }
}

namespace Switchyard.Quic.Recovery;

/// <summary>
/// CUBIC congestion control (RFC 9438) adapted to QUIC's byte-counted window and RFC 9002's
/// recovery period, slow start, minimum window and persistent congestion. After a congestion event
/// the window follows <c>W_cubic(t) = C * (t - K)^3 + W_max</c>: concave up to the previous maximum,
/// flat near it, convex beyond it, and never slower than the Reno-friendly estimate (RFC 9438 §4.3).
/// </summary>
/// <remarks>
/// Omitted: HyStart++ (slow start ends only on loss) and undo of spurious congestion events (RFC 9438 §4.9).
/// </remarks>
public sealed class CubicCongestionController : ICongestionController
{
    /// <summary>The CUBIC constant C, in segments per second cubed (RFC 9438 §5.1).</summary>
    public const double C = 0.4;

    /// <summary>The multiplicative decrease factor β_cubic (RFC 9438 §4.6).</summary>
    public const double Beta = 0.7;

    /// <summary>α_cubic = 3 * (1 - β) / (1 + β), the Reno-friendly additive increase (RFC 9438 §4.3).</summary>
    public static readonly double RenoFriendlyAlpha = 3 * (1 - Beta) / (1 + Beta);

    private double _window;
    private double _renoEstimate;
    private long? _recoveryStartTime;
    private long? _epochStart;

    /// <summary>Creates a controller in slow start with the RFC 9002 initial window.</summary>
    /// <param name="maxDatagramSize">The maximum datagram size (the segment size) in bytes.</param>
    public CubicCongestionController(int maxDatagramSize = 1200)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDatagramSize);
        MaxDatagramSize = maxDatagramSize;
        Reset();
    }

    /// <inheritdoc />
    public int MaxDatagramSize { get; }

    /// <inheritdoc />
    public long CongestionWindow => (long)_window;

    /// <inheritdoc />
    public long BytesInFlight { get; private set; }

    /// <inheritdoc />
    public bool IsApplicationLimited { get; set; }

    /// <summary>Whether fast convergence is on (RFC 9438 §4.7): a flow losing ground releases bandwidth sooner.</summary>
    public bool FastConvergence { get; init; } = true;

    /// <summary>The slow start threshold; <see cref="long.MaxValue"/> until the first congestion event.</summary>
    public long SlowStartThreshold { get; private set; }

    /// <summary>W_max in bytes: the window just before the last reduction, adjusted by fast convergence; 0 before any.</summary>
    public double WindowMax { get; private set; }

    /// <summary>K in seconds: the time from the start of the epoch for W_cubic to return to W_max (RFC 9438 §4.2).</summary>
    public double K { get; private set; }

    /// <summary>When the current recovery period started, or <see langword="null"/> outside recovery.</summary>
    public long? RecoveryStartTime => _recoveryStartTime;

    /// <summary>Whether the controller is in slow start.</summary>
    public bool InSlowStart => _window < SlowStartThreshold;

    /// <summary>The minimum window, <c>2 * mds</c> (RFC 9002 §7.2).</summary>
    public long MinimumWindow => 2L * MaxDatagramSize;

    /// <inheritdoc />
    public bool CanSend(long bytes) => BytesInFlight + bytes <= CongestionWindow;

    /// <inheritdoc />
    public void OnPacketSent(long now, int bytes) => BytesInFlight += bytes;

    /// <inheritdoc />
    public void OnPacketsAcked(ReadOnlySpan<SentPacketInfo> packets, long now, RttEstimator rtt)
    {
        ArgumentNullException.ThrowIfNull(rtt);
        foreach (var packet in packets)
        {
            BytesInFlight = Math.Max(0, BytesInFlight - packet.SentBytes);
            if (IsApplicationLimited || InRecovery(packet.TimeSent))
            {
                continue;
            }

            _recoveryStartTime = null;
            if (InSlowStart)
            {
                _window += packet.SentBytes;
                continue;
            }

            GrowInAvoidance(packet.SentBytes, now, rtt.SmoothedRtt);
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

        if (persistentCongestion)
        {
            // RFC 9002 §7.6.2 and RFC 9438 §4.8: restart from the minimum window with a new epoch.
            _window = MinimumWindow;
            _recoveryStartTime = now;
            _epochStart = null;
        }
    }

    /// <inheritdoc />
    public void OnCongestionEvent(long sentTime, long now)
    {
        if (InRecovery(sentTime))
        {
            return;
        }

        _recoveryStartTime = now;
        _epochStart = null;

        // RFC 9438 §4.7: fast convergence lowers W_max when the window did not regain the last maximum.
        WindowMax = FastConvergence && _window < WindowMax ? _window * (1 + Beta) / 2 : _window;

        // RFC 9438 §4.6: multiplicative decrease by β_cubic, not below the RFC 9002 minimum.
        _window = Math.Max(_window * Beta, MinimumWindow);
        SlowStartThreshold = (long)_window;
    }

    /// <inheritdoc />
    public void OnPacketsDiscarded(long bytes) => BytesInFlight = Math.Max(0, BytesInFlight - bytes);

    /// <inheritdoc />
    public void Reset()
    {
        _window = Math.Min(10L * MaxDatagramSize, Math.Max(14_720L, 2L * MaxDatagramSize));
        SlowStartThreshold = long.MaxValue;
        WindowMax = 0;
        K = 0;
        _renoEstimate = 0;
        _recoveryStartTime = null;
        _epochStart = null;
    }

    /// <summary>W_cubic(t) in bytes for the current epoch (RFC 9438 §4.2), t in seconds since the epoch began.</summary>
    /// <param name="seconds">Time since the start of the congestion avoidance epoch.</param>
    /// <returns>The cubic window in bytes.</returns>
    public double CubicWindow(double seconds)
    {
        double offset = seconds - K;
        return (C * offset * offset * offset * MaxDatagramSize) + WindowMax;
    }

    private void GrowInAvoidance(int ackedBytes, long now, long smoothedRtt)
    {
        if (_epochStart is null)
        {
            // RFC 9438 §4.2: a new congestion avoidance epoch.
            _epochStart = now;
            if (WindowMax < _window)
            {
                WindowMax = _window;
                K = 0;
            }
            else
            {
                K = Math.Cbrt((WindowMax - _window) / MaxDatagramSize / C);
            }

            _renoEstimate = _window;
        }

        double t = (now - _epochStart.Value) / 1e6;
        double rtt = smoothedRtt / 1e6;

        // RFC 9438 §4.2: aim for where the curve will be one RTT from now, within [cwnd, 1.5 * cwnd].
        double target = Math.Clamp(CubicWindow(t + rtt), _window, 1.5 * _window);

        // RFC 9438 §4.3: the Reno-friendly estimate grows by α per window of acknowledged bytes,
        // by one segment per window once it has passed W_max.
        double alpha = _renoEstimate >= WindowMax ? 1.0 : RenoFriendlyAlpha;
        _renoEstimate += alpha * MaxDatagramSize * ackedBytes / _window;

        if (CubicWindow(t) < _renoEstimate)
        {
            // Reno-friendly region (RFC 9438 §4.3).
            _window = Math.Max(_window, _renoEstimate);
        }
        else
        {
            // Concave or convex region (RFC 9438 §4.4, §4.5): close (target - cwnd)/cwnd per segment acknowledged.
            _window += (target - _window) * ackedBytes / _window;
        }
    }

    private bool InRecovery(long sentTime) => _recoveryStartTime is { } start && sentTime <= start;
}

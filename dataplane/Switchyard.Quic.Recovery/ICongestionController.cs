namespace Switchyard.Quic.Recovery;

/// <summary>
/// What the congestion controller needs to know about one in-flight packet that was acknowledged or lost.
/// </summary>
/// <param name="PacketNumber">The packet number.</param>
/// <param name="TimeSent">When the packet was sent, in microseconds.</param>
/// <param name="SentBytes">The packet's size in bytes, as counted in bytes_in_flight.</param>
public readonly record struct SentPacketInfo(long PacketNumber, long TimeSent, int SentBytes);

/// <summary>
/// A window-based congestion controller (RFC 9002 §7). <see cref="LossRecovery"/> drives it; the
/// connection asks <see cref="CanSend"/> before sending an in-flight packet. Only packets that count
/// toward bytes in flight (RFC 9002 §2: ack-eliciting or padding) are reported to it.
/// </summary>
public interface ICongestionController
{
    /// <summary>The congestion window in bytes.</summary>
    long CongestionWindow { get; }

    /// <summary>Bytes sent in in-flight packets that are neither acknowledged, lost nor discarded.</summary>
    long BytesInFlight { get; }

    /// <summary>The maximum datagram size the window is measured in, in bytes.</summary>
    int MaxDatagramSize { get; }

    /// <summary>
    /// Set by the connection when it is application-limited, i.e. it had window to spare but nothing
    /// to send. The window does not grow while application-limited (RFC 9002 §7.8).
    /// </summary>
    bool IsApplicationLimited { get; set; }

    /// <summary>
    /// Whether a packet of <paramref name="bytes"/> may be sent without exceeding the congestion
    /// window (RFC 9002 §7). Probe packets sent on PTO expiry are exempt (RFC 9002 §7.5) and need not ask.
    /// </summary>
    /// <param name="bytes">The size of the packet about to be sent.</param>
    /// <returns><see langword="true"/> when <c>BytesInFlight + bytes &lt;= CongestionWindow</c>.</returns>
    bool CanSend(long bytes);

    /// <summary>Records an in-flight packet as sent (RFC 9002 Appendix B.4).</summary>
    /// <param name="now">The send time.</param>
    /// <param name="bytes">The packet's size.</param>
    void OnPacketSent(long now, int bytes);

    /// <summary>Records newly acknowledged in-flight packets and grows the window (RFC 9002 §7.3, Appendix B.5).</summary>
    /// <param name="packets">The newly acknowledged in-flight packets, in packet number order.</param>
    /// <param name="now">The time the acknowledgement was processed.</param>
    /// <param name="rtt">The connection's RTT estimator, already updated with this acknowledgement.</param>
    void OnPacketsAcked(ReadOnlySpan<SentPacketInfo> packets, long now, RttEstimator rtt);

    /// <summary>
    /// Records in-flight packets declared lost, reduces the window once per recovery period and, when
    /// <paramref name="persistentCongestion"/> is set, collapses it to the minimum (RFC 9002 §7.6, Appendix B.8).
    /// </summary>
    /// <param name="packets">The in-flight packets declared lost, in packet number order.</param>
    /// <param name="now">The time the loss was detected.</param>
    /// <param name="persistentCongestion">Whether <see cref="LossRecovery"/> established persistent congestion.</param>
    void OnPacketsLost(ReadOnlySpan<SentPacketInfo> packets, long now, bool persistentCongestion);

    /// <summary>
    /// A congestion signal caused by a packet sent at <paramref name="sentTime"/> (a loss or an ECN-CE
    /// mark). Enters a recovery period unless one already covers that packet (RFC 9002 §7.3.2, Appendix B.6).
    /// </summary>
    /// <param name="sentTime">The send time of the packet that signalled congestion.</param>
    /// <param name="now">The current time, which starts the recovery period.</param>
    void OnCongestionEvent(long sentTime, long now);

    /// <summary>Removes bytes from flight without a congestion signal, for discarded keys (RFC 9002 §6.4).</summary>
    /// <param name="bytes">The number of bytes to remove.</param>
    void OnPacketsDiscarded(long bytes);

    /// <summary>Returns to the initial state, as after a Retry (RFC 9002 §6.3). Bytes in flight are kept.</summary>
    void Reset();
}

namespace Switchyard.Quic.Recovery;

/// <summary>
/// The three packet number spaces of QUIC (RFC 9000 §12.3). Each space has its own packet numbers,
/// acknowledgements and loss detection state (RFC 9002 §6).
/// </summary>
public enum PacketNumberSpace
{
    /// <summary>Packets carried in Initial long-header packets.</summary>
    Initial = 0,

    /// <summary>Packets carried in Handshake long-header packets.</summary>
    Handshake = 1,

    /// <summary>0-RTT and 1-RTT packets, which share one space (RFC 9000 §12.3).</summary>
    ApplicationData = 2,
}

/// <summary>
/// One contiguous range of acknowledged packet numbers, inclusive at both ends, as carried by an
/// ACK frame (RFC 9000 §19.3.1).
/// </summary>
/// <param name="Smallest">The smallest packet number in the range.</param>
/// <param name="Largest">The largest packet number in the range.</param>
public readonly record struct AckRange(long Smallest, long Largest)
{
    /// <summary>The number of packet numbers the range covers.</summary>
    public long Length => Largest - Smallest + 1;

    /// <summary>Whether <paramref name="packetNumber"/> lies inside the range.</summary>
    /// <param name="packetNumber">The packet number to test.</param>
    /// <returns><see langword="true"/> when <c>Smallest &lt;= packetNumber &lt;= Largest</c>.</returns>
    public bool Contains(long packetNumber) => packetNumber >= Smallest && packetNumber <= Largest;
}

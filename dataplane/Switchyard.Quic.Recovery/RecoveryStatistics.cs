namespace Switchyard.Quic.Recovery;

/// <summary>Counters kept by <see cref="LossRecovery"/> for metrics; monotonic over the connection's life.</summary>
public sealed class RecoveryStatistics
{
    /// <summary>Packets recorded by <see cref="LossRecovery.OnPacketSent"/>, in all spaces.</summary>
    public long PacketsSent { get; internal set; }

    /// <summary>Bytes of in-flight packets sent.</summary>
    public long BytesSent { get; internal set; }

    /// <summary>Packets acknowledged for the first time.</summary>
    public long PacketsAcked { get; internal set; }

    /// <summary>Packets declared lost by the packet or time threshold (RFC 9002 §6.1), or by a Retry.</summary>
    public long PacketsLost { get; internal set; }

    /// <summary>Bytes of in-flight packets declared lost.</summary>
    public long BytesLost { get; internal set; }

    /// <summary>Probe timeouts that expired (RFC 9002 §6.2), including anti-deadlock probes.</summary>
    public long ProbeTimeouts { get; internal set; }

    /// <summary>Times persistent congestion was established (RFC 9002 §7.6).</summary>
    public long PersistentCongestionEvents { get; internal set; }

    /// <summary>ACK frames rejected as malformed or acknowledging unsent packets.</summary>
    public long InvalidAcks { get; internal set; }
}

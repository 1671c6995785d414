namespace Switchyard.Quic.Recovery;

/// <summary>
/// Callbacks from <see cref="LossRecovery"/> to the connection, one per packet. The <c>frames</c>
/// token is the opaque object the connection passed to <see cref="LossRecovery.OnPacketSent"/>; after
/// a callback the recovery state holds no reference to it.
/// </summary>
/// <remarks>
/// Callbacks run after the recovery state is consistent again. A handler may call
/// <see cref="LossRecovery.OnPacketSent"/> and read properties, but must not call
/// <see cref="LossRecovery.OnAckReceived"/>, <see cref="LossRecovery.OnLossDetectionTimeout"/> or
/// <see cref="LossRecovery.DiscardPacketNumberSpace"/> re-entrantly.
/// </remarks>
public interface IRecoveryEvents
{
    /// <summary>A packet was acknowledged for the first time: its frames are delivered (RFC 9000 §13.3).</summary>
    /// <param name="space">The packet number space.</param>
    /// <param name="packetNumber">The packet number.</param>
    /// <param name="frames">The connection's token for the packet's contents.</param>
    void OnPacketAcked(PacketNumberSpace space, long packetNumber, object? frames);

    /// <summary>A packet was declared lost: its retransmittable frames must be sent again in new packets (RFC 9000 §13.3).</summary>
    /// <param name="space">The packet number space.</param>
    /// <param name="packetNumber">The packet number.</param>
    /// <param name="frames">The connection's token for the packet's contents.</param>
    void OnPacketLost(PacketNumberSpace space, long packetNumber, object? frames);

    /// <summary>A packet was dropped from tracking because its keys were discarded (RFC 9002 §6.4); it is neither acknowledged nor lost.</summary>
    /// <param name="space">The packet number space.</param>
    /// <param name="packetNumber">The packet number.</param>
    /// <param name="frames">The connection's token for the packet's contents.</param>
    void OnPacketDiscarded(PacketNumberSpace space, long packetNumber, object? frames);
}

/// <summary>The result of processing an ACK frame with <see cref="LossRecovery.OnAckReceived"/>.</summary>
public enum AckOutcome
{
    /// <summary>The ACK frame was valid and has been processed.</summary>
    Accepted = 0,

    /// <summary>
    /// The ACK frame acknowledged a packet number that was never sent in that space. The connection
    /// closes with PROTOCOL_VIOLATION (RFC 9000 §13.1). No state was changed.
    /// </summary>
    AcknowledgedUnsentPacket,

    /// <summary>
    /// The ranges were empty, inverted, negative or not strictly descending, which a correctly
    /// decoded ACK frame cannot produce (RFC 9000 §19.3.1). The connection closes with
    /// FRAME_ENCODING_ERROR. No state was changed.
    /// </summary>
    MalformedRanges,
}

/// <summary>What <see cref="LossRecovery.OnLossDetectionTimeout"/> did.</summary>
public enum LossTimeoutAction
{
    /// <summary>The timer had not expired, or nothing was armed; nothing happened.</summary>
    None = 0,

    /// <summary>Packets were declared lost by the time threshold (RFC 9002 §6.1.2); the timer was re-armed.</summary>
    PacketsDeclaredLost,

    /// <summary>
    /// The probe timeout expired (RFC 9002 §6.2.4): the connection must now send
    /// <see cref="LossTimeoutResult.ProbeCount"/> ack-eliciting packets in
    /// <see cref="LossTimeoutResult.ProbeSpace"/>, bypassing the congestion window (RFC 9002 §7.5).
    /// New data is preferred, then retransmitted data, else a PING frame.
    /// </summary>
    SendProbes,
}

/// <summary>The outcome of <see cref="LossRecovery.OnLossDetectionTimeout"/>.</summary>
/// <param name="Action">What happened.</param>
/// <param name="ProbeSpace">The space to probe in, meaningful when <paramref name="Action"/> is <see cref="LossTimeoutAction.SendProbes"/>.</param>
/// <param name="ProbeCount">How many ack-eliciting probe packets to send (1 or 2), 0 unless probing.</param>
/// <param name="IsAntiDeadlockProbe">
/// Whether this is a client's anti-deadlock probe (RFC 9002 §6.2.2.1): a padded Initial packet, or
/// a Handshake packet when Handshake keys are available.
/// </param>
public readonly record struct LossTimeoutResult(LossTimeoutAction Action, PacketNumberSpace ProbeSpace, int ProbeCount, bool IsAntiDeadlockProbe);

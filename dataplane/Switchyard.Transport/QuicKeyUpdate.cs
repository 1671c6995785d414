namespace Switchyard.Transport;

/// <summary>
/// An optional capability of an <see cref="IQuicConnection"/>: starting a 1-RTT key update (RFC 9001 §6). Ask for it
/// with <c>connection is IQuicKeyUpdateInitiator</c>. The managed stack offers it; the adapter over
/// <c>System.Net.Quic</c> does not, because msquic updates keys on its own schedule and exposes no call to start one.
/// </summary>
/// <remarks>
/// Either endpoint may start a key update once the handshake is confirmed, and it may not start the next one before a
/// packet sent with the current keys has been acknowledged (RFC 9001 §6.1, §6.5). The peer follows by updating its own
/// keys when it first reads a packet in the new key phase (RFC 9001 §6.2); neither side needs to ask again.
/// </remarks>
public interface IQuicKeyUpdateInitiator
{
    /// <summary>
    /// Starts a key update as soon as RFC 9001 §6.1 allows it: at once when the handshake is confirmed and a packet
    /// sent with the current keys has been acknowledged, otherwise when that becomes true. Completes when packets
    /// leave with the new keys. <see cref="QuicConnectionStatistics.KeyUpdatesInitiated"/> counts these updates, and
    /// <see cref="QuicConnectionStatistics.KeyPhaseChanges"/> shows when the peer followed.
    /// </summary>
    /// <exception cref="QuicException">The connection closed before the update could start.</exception>
    ValueTask RequestKeyUpdateAsync(CancellationToken cancellationToken = default);
}

using System.Net;

namespace Switchyard.Quic.Recovery.Simulation;

/// <summary>
/// A sans-I/O endpoint driven by <see cref="SimulatedNetwork"/>: it receives datagrams, is polled for
/// datagrams to send, and reports the next time it needs to be woken. All times are virtual microseconds.
/// </summary>
public interface ISimulatedEndpoint
{
    /// <summary>The next time the endpoint wants <see cref="OnDeadline"/> called, or <see langword="null"/> for none.</summary>
    long? NextDeadline { get; }

    /// <summary>Delivers one datagram. The span is valid only during the call.</summary>
    /// <param name="datagram">The datagram payload.</param>
    /// <param name="from">The sender's address.</param>
    /// <param name="now">The virtual time of arrival.</param>
    void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now);

    /// <summary>Asks for one datagram to send. The network keeps calling until it returns <see langword="false"/>.</summary>
    /// <param name="buffer">Where to write the datagram.</param>
    /// <param name="length">The number of bytes written.</param>
    /// <param name="to">The destination address.</param>
    /// <param name="now">The current virtual time.</param>
    /// <returns><see langword="true"/> when a datagram was written.</returns>
    bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now);

    /// <summary>Called once <see cref="NextDeadline"/> is reached. The endpoint must move or clear its deadline.</summary>
    /// <param name="now">The current virtual time.</param>
    void OnDeadline(long now);
}

namespace Switchyard.Transport.InMemory;

/// <summary>
/// The knobs of one side of an in-memory connection: what it advertises to its peer, as the QUIC
/// transport parameters of RFC 9000 §18.2 would.
/// </summary>
public sealed class InMemoryQuicConnectionOptions
{
    /// <summary>How many bidirectional streams the peer may have open at once (<c>initial_max_streams_bidi</c>).</summary>
    public int MaxInboundBidirectionalStreams { get; init; } = 100;

    /// <summary>How many unidirectional streams the peer may have open at once (<c>initial_max_streams_uni</c>).</summary>
    public int MaxInboundUnidirectionalStreams { get; init; } = 100;

    /// <summary>Largest DATAGRAM payload accepted (<c>max_datagram_frame_size</c>, RFC 9221 §3); 0 disables datagrams.</summary>
    public int MaxDatagramFrameSize { get; init; } = 65535;

    /// <summary>
    /// Bytes of unread data a stream may hold on this side before the peer's writer waits: the in-memory
    /// equivalent of the stream flow-control window (RFC 9000 §4.1).
    /// </summary>
    public int StreamReceiveWindow { get; init; } = 64 * 1024;

    /// <summary>How many received datagrams may wait unread before further ones are dropped.</summary>
    public int DatagramReceiveQueueLength { get; init; } = 256;

    /// <summary>The largest datagram payload the simulated path carries, whatever the peer accepts.</summary>
    public int PathMaxDatagramPayload { get; init; } = 1200;

    /// <summary>The application protocol reported as negotiated.</summary>
    public string ApplicationProtocol { get; init; } = "h3";

    /// <summary>
    /// The error code used for STOP_SENDING when a stream is disposed before its read half finished,
    /// as <c>System.Net.Quic</c>'s <c>DefaultStreamErrorCode</c>.
    /// </summary>
    public long DefaultStreamErrorCode { get; init; }

    /// <summary>The error code used when a connection is disposed without having been closed.</summary>
    public long DefaultCloseErrorCode { get; init; }
}

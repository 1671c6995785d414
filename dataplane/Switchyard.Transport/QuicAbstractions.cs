using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Transport;

/// <summary>
/// The QUIC transport seam of the data plane. Two implementations exist: the managed stack in
/// <c>Switchyard.Quic</c> (the one tested here), and a thin adapter over <c>System.Net.Quic</c> used
/// where <c>QuicListener.IsSupported</c> is true (libmsquic installed).
/// </summary>
/// <remarks>The shape follows <c>System.Net.Quic</c> so that code above it reads the same on either stack.</remarks>
public interface IQuicTransport
{
    /// <summary>A short name for logs and metrics, for example <c>managed</c> or <c>msquic</c>.</summary>
    string Name { get; }

    /// <summary>True when this implementation can run on this machine.</summary>
    bool IsSupported { get; }

    /// <summary>True when connections of this transport carry QUIC DATAGRAM frames (RFC 9221).</summary>
    bool SupportsDatagrams { get; }

    /// <summary>Binds a UDP socket and starts accepting connections.</summary>
    ValueTask<IQuicListener> ListenAsync(QuicServerOptions options, CancellationToken cancellationToken = default);

    /// <summary>Connects to a server and completes the handshake.</summary>
    ValueTask<IQuicConnection> ConnectAsync(QuicClientOptions options, CancellationToken cancellationToken = default);
}

/// <summary>Accepts incoming QUIC connections on one UDP endpoint.</summary>
public interface IQuicListener : IAsyncDisposable
{
    /// <summary>The bound local endpoint (the port is the real one when 0 was asked for).</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Waits for the next connection whose handshake has completed.</summary>
    /// <exception cref="ObjectDisposedException">The listener was disposed.</exception>
    ValueTask<IQuicConnection> AcceptConnectionAsync(CancellationToken cancellationToken = default);
}

/// <summary>One established QUIC connection (RFC 9000 §5).</summary>
public interface IQuicConnection : IAsyncDisposable
{
    /// <summary>The peer's current address; it changes when the peer migrates (RFC 9000 §9).</summary>
    IPEndPoint RemoteEndPoint { get; }

    /// <summary>The local address.</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>The ALPN protocol chosen during the handshake, for example <c>h3</c>.</summary>
    string NegotiatedApplicationProtocol { get; }

    /// <summary>The TLS server_name the client asked for, or null.</summary>
    string? TargetHostName { get; }

    /// <summary>The peer's certificate, when it presented one.</summary>
    X509Certificate2? RemoteCertificate { get; }

    /// <summary>
    /// The largest DATAGRAM payload the peer accepts and the path can carry right now, or 0 when
    /// the peer did not advertise <c>max_datagram_frame_size</c> (RFC 9221 §3).
    /// </summary>
    int MaxDatagramPayloadSize { get; }

    /// <summary>Completes when the connection has closed, for whatever reason.</summary>
    Task Closed { get; }

    /// <summary>Opens a stream initiated by this endpoint. Waits while the peer's MAX_STREAMS limit is reached.</summary>
    ValueTask<IQuicStream> OpenOutboundStreamAsync(QuicStreamType type, CancellationToken cancellationToken = default);

    /// <summary>Waits for the next stream the peer opens.</summary>
    /// <exception cref="QuicException">The connection closed.</exception>
    ValueTask<IQuicStream> AcceptInboundStreamAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Queues one unreliable DATAGRAM frame (RFC 9221). Returns false when the payload does not fit
    /// <see cref="MaxDatagramPayloadSize"/> or the send queue is full: datagrams are never buffered without bound.
    /// </summary>
    bool TrySendDatagram(ReadOnlySpan<byte> payload);

    /// <summary>
    /// Waits for the next DATAGRAM payload received. The returned memory is owned by the caller.
    /// </summary>
    /// <exception cref="QuicException">The connection closed.</exception>
    ValueTask<ReadOnlyMemory<byte>> ReceiveDatagramAsync(CancellationToken cancellationToken = default);

    /// <summary>Closes the connection with an application error code (CONNECTION_CLOSE type 0x1d, RFC 9000 §19.19).</summary>
    ValueTask CloseAsync(long applicationErrorCode, CancellationToken cancellationToken = default);

    /// <summary>A point-in-time copy of the connection's statistics.</summary>
    QuicConnectionStatistics GetStatistics();
}

/// <summary>The two stream types of RFC 9000 §2.1.</summary>
public enum QuicStreamType
{
    /// <summary>Data flows from the initiator only.</summary>
    Unidirectional,

    /// <summary>Data flows both ways.</summary>
    Bidirectional,
}

/// <summary>Which half of a stream to abort.</summary>
[Flags]
public enum QuicAbortDirection
{
    /// <summary>Stop reading: sends STOP_SENDING (RFC 9000 §19.5).</summary>
    Read = 1,

    /// <summary>Stop writing: sends RESET_STREAM (RFC 9000 §19.4).</summary>
    Write = 2,

    /// <summary>Both halves.</summary>
    Both = Read | Write,
}

/// <summary>One QUIC stream. Reads and writes may run concurrently; two concurrent reads (or writes) may not.</summary>
public interface IQuicStream : IAsyncDisposable
{
    /// <summary>The stream ID (RFC 9000 §2.1): its two low bits encode initiator and direction.</summary>
    long Id { get; }

    /// <summary>The stream's type.</summary>
    QuicStreamType Type { get; }

    /// <summary>True when this endpoint can read from the stream.</summary>
    bool CanRead { get; }

    /// <summary>True when this endpoint can write to the stream.</summary>
    bool CanWrite { get; }

    /// <summary>
    /// Reads into <paramref name="buffer"/>. Returns 0 once the peer's FIN has been read. Reading
    /// is what opens the flow-control window again, so a reader that stops pushes back on the peer.
    /// </summary>
    /// <exception cref="QuicException">The peer reset the stream (<see cref="QuicError.StreamAborted"/>) or the connection closed.</exception>
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes <paramref name="buffer"/>, waiting while the send buffer is full, and sends FIN after it when
    /// <paramref name="completeWrites"/> is true.
    /// </summary>
    /// <exception cref="QuicException">The peer sent STOP_SENDING (<see cref="QuicError.StreamAborted"/>) or the connection closed.</exception>
    ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, bool completeWrites, CancellationToken cancellationToken = default);

    /// <summary>Sends FIN after what has been written.</summary>
    void CompleteWrites();

    /// <summary>Aborts one or both halves with an application error code.</summary>
    void Abort(QuicAbortDirection direction, long errorCode);

    /// <summary>Completes when the read half is finished: FIN read, reset by the peer, or aborted locally.</summary>
    Task ReadsClosed { get; }

    /// <summary>Completes when the write half is finished: all data acknowledged, or stopped, or aborted.</summary>
    Task WritesClosed { get; }
}

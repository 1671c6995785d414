using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Transport;

/// <summary>Options shared by both ends of a connection.</summary>
public abstract class QuicConnectionOptions
{
    /// <summary>ALPN protocols in preference order, for example <c>h3</c>.</summary>
    public IList<string> ApplicationProtocols { get; init; } = new List<string>();

    /// <summary>Idle timeout advertised as <c>max_idle_timeout</c> (RFC 9000 §10.1).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many bidirectional streams the peer may open at once (<c>initial_max_streams_bidi</c>).</summary>
    public int MaxInboundBidirectionalStreams { get; init; } = 100;

    /// <summary>How many unidirectional streams the peer may open at once (<c>initial_max_streams_uni</c>).</summary>
    public int MaxInboundUnidirectionalStreams { get; init; } = 100;

    /// <summary>
    /// Largest DATAGRAM frame accepted, advertised as <c>max_datagram_frame_size</c> (RFC 9221 §3). 0 disables datagrams.
    /// </summary>
    public int MaxDatagramFrameSize { get; init; } = 65535;

    /// <summary>Per-stream receive window: bounds the memory a stream's unread data may take.</summary>
    public int StreamReceiveWindow { get; init; } = 1 << 20;

    /// <summary>Connection receive window (<c>initial_max_data</c>).</summary>
    public int ConnectionReceiveWindow { get; init; } = 16 << 20;

    /// <summary>
    /// When set, TLS secrets are appended here in the NSS key log format, as <c>SSLKEYLOGFILE</c> asks.
    /// </summary>
    public string? KeyLogFile { get; init; }
}

/// <summary>Options for a listening endpoint.</summary>
public sealed class QuicServerOptions : QuicConnectionOptions
{
    /// <summary>Where to bind.</summary>
    public required IPEndPoint ListenEndPoint { get; init; }

    /// <summary>The certificate (with its private key) and any chain to present. ECDSA P-256 or RSA.</summary>
    public required X509Certificate2 ServerCertificate { get; init; }

    /// <summary>Intermediate certificates sent after the leaf.</summary>
    public IList<X509Certificate2> CertificateChain { get; init; } = new List<X509Certificate2>();

    /// <summary>
    /// Picks a certificate by SNI. Returns null to use <see cref="ServerCertificate"/>.
    /// </summary>
    public Func<string?, X509Certificate2?>? ServerCertificateSelector { get; init; }

    /// <summary>
    /// When true, every new client is sent a Retry first and must echo its token (RFC 9000 §8.1.2).
    /// </summary>
    public bool RequireRetry { get; init; }

    /// <summary>Accept queue length: connections past it are refused rather than queued without bound.</summary>
    public int ListenBacklog { get; init; } = 512;
}

/// <summary>Options for a client connection.</summary>
public sealed class QuicClientOptions : QuicConnectionOptions
{
    /// <summary>The server's address.</summary>
    public required EndPoint RemoteEndPoint { get; init; }

    /// <summary>The TLS server_name to send; also the name checked against the certificate.</summary>
    public string? TargetHostName { get; init; }

    /// <summary>Trust only certificates chaining to this root.</summary>
    public X509Certificate2? TrustedRoot { get; init; }

    /// <summary>Trust a server certificate whose DER encoding has this SHA-256 (as WebTransport's serverCertificateHashes).</summary>
    public byte[]? PinnedCertificateSha256 { get; init; }

    /// <summary>Accept any certificate. For interop test tools only; never the default.</summary>
    public bool SkipCertificateValidation { get; init; }

    /// <summary>Local address to bind, or null for any.</summary>
    public IPEndPoint? LocalEndPoint { get; init; }
}

/// <summary>A copy of a connection's counters and recovery state (RFC 9002).</summary>
public readonly record struct QuicConnectionStatistics
{
    /// <summary>The smoothed RTT (RFC 9002 §5.3).</summary>
    public TimeSpan SmoothedRtt { get; init; }

    /// <summary>The minimum RTT seen.</summary>
    public TimeSpan MinRtt { get; init; }

    /// <summary>The congestion window in bytes.</summary>
    public long CongestionWindow { get; init; }

    /// <summary>Bytes in flight.</summary>
    public long BytesInFlight { get; init; }

    /// <summary>Packets sent.</summary>
    public long PacketsSent { get; init; }

    /// <summary>Packets received.</summary>
    public long PacketsReceived { get; init; }

    /// <summary>Packets declared lost.</summary>
    public long PacketsLost { get; init; }

    /// <summary>Bytes sent in UDP payloads.</summary>
    public long BytesSent { get; init; }

    /// <summary>Bytes received in UDP payloads.</summary>
    public long BytesReceived { get; init; }

    /// <summary>Key updates this endpoint started (RFC 9001 §6.1). 0 where the transport does not count them.</summary>
    public long KeyUpdatesInitiated { get; init; }

    /// <summary>
    /// Times the peer's 1-RTT packets moved to a new key phase (RFC 9001 §6.2, §6.3), whoever started the update: the
    /// proof that the peer really changed its keys. 0 where the transport does not count them.
    /// </summary>
    public long KeyPhaseChanges { get; init; }

    /// <summary>
    /// Server: bytes received from the client before its address was validated (RFC 9000 §8.1). 0 on a client, and
    /// where the transport does not count them.
    /// </summary>
    public long UnvalidatedBytesReceived { get; init; }

    /// <summary>
    /// Server: bytes sent before the client's address was validated; never more than three times
    /// <see cref="UnvalidatedBytesReceived"/> (RFC 9000 §8.1).
    /// </summary>
    public long UnvalidatedBytesSent { get; init; }

    /// <summary>Server: times the anti-amplification limit held back a datagram that was ready to go (RFC 9000 §8.1).</summary>
    public long AmplificationLimitedCount { get; init; }
}

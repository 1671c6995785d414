using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Tls;

/// <summary>The QUIC encryption levels (RFC 9001 §4.1.4). Each maps to a packet-number space, except 0-RTT.</summary>
public enum EncryptionLevel
{
    /// <summary>Initial packets; keys derived from the client's first destination connection ID (RFC 9001 §5.2).</summary>
    Initial = 0,

    /// <summary>0-RTT packets (not offered by this stack yet).</summary>
    EarlyData = 1,

    /// <summary>Handshake packets.</summary>
    Handshake = 2,

    /// <summary>1-RTT (application data) packets.</summary>
    Application = 3,
}

/// <summary>The TLS 1.3 cipher suites QUIC can use (RFC 9001 §5.3).</summary>
public enum TlsCipherSuite : ushort
{
    /// <summary>TLS_AES_128_GCM_SHA256.</summary>
    Aes128GcmSha256 = 0x1301,

    /// <summary>TLS_AES_256_GCM_SHA384.</summary>
    Aes256GcmSha384 = 0x1302,

    /// <summary>TLS_CHACHA20_POLY1305_SHA256.</summary>
    ChaCha20Poly1305Sha256 = 0x1303,
}

/// <summary>
/// What the TLS handshake hands to QUIC, in the manner of quictls' <c>SSL_QUIC_METHOD</c> (RFC 9001 §4.1.1).
/// The QUIC connection implements it; calls arrive synchronously from within <see cref="IQuicTlsHandshake.Start"/>
/// and <see cref="IQuicTlsHandshake.ProcessCryptoData"/>.
/// </summary>
public interface IQuicTlsCallbacks
{
    /// <summary>Handshake bytes to send in CRYPTO frames at <paramref name="level"/>. The span is only valid during the call.</summary>
    void WriteCryptoData(EncryptionLevel level, ReadOnlySpan<byte> data);

    /// <summary>
    /// A traffic secret is ready. Read secrets decrypt what the peer sends; write secrets protect what we send.
    /// QUIC derives its packet keys from it with "quic key", "quic iv" and "quic hp" (RFC 9001 §5.1).
    /// The span is only valid during the call.
    /// </summary>
    void SetSecret(EncryptionLevel level, bool isWrite, TlsCipherSuite cipherSuite, ReadOnlySpan<byte> secret);

    /// <summary>The handshake has completed (RFC 9001 §4.1.1).</summary>
    /// <remarks>
    /// Server: called once the client's Finished has been verified. Client: called once the server's Finished has
    /// been verified and the client's Finished written.
    /// </remarks>
    void OnHandshakeCompleted();
}

/// <summary>
/// A sans-I/O TLS 1.3 handshake for QUIC (RFC 8446 carried as RFC 9001 says). It owns no socket and no timer:
/// QUIC feeds it CRYPTO data and it answers through <see cref="IQuicTlsCallbacks"/>.
/// </summary>
public interface IQuicTlsHandshake : IDisposable
{
    /// <summary>Starts the handshake. The client writes its ClientHello now; the server does nothing.</summary>
    void Start();

    /// <summary>
    /// Feeds CRYPTO stream bytes received at <paramref name="level"/>, in order (QUIC reassembles the CRYPTO stream).
    /// Any number of bytes may be given: a message may span calls and one call may hold several messages.
    /// </summary>
    /// <exception cref="TlsAlertException">The handshake failed; QUIC closes with CRYPTO_ERROR 0x100 + alert (RFC 9001 §4.8).</exception>
    void ProcessCryptoData(EncryptionLevel level, ReadOnlySpan<byte> data);

    /// <summary>True once the handshake has completed.</summary>
    bool IsHandshakeComplete { get; }

    /// <summary>The negotiated ALPN protocol, or null before it is known.</summary>
    string? NegotiatedApplicationProtocol { get; }

    /// <summary>The peer's <c>quic_transport_parameters</c> extension body (RFC 9001 §8.2), or null before it is known.</summary>
    ReadOnlyMemory<byte>? PeerTransportParameters { get; }

    /// <summary>The server_name from the ClientHello (server side), or the name asked for (client side).</summary>
    string? ServerName { get; }

    /// <summary>The peer's leaf certificate, once received.</summary>
    X509Certificate2? PeerCertificate { get; }

    /// <summary>The negotiated cipher suite, once known.</summary>
    TlsCipherSuite? CipherSuite { get; }
}

/// <summary>A TLS alert (RFC 8446 §6). In QUIC it becomes CRYPTO_ERROR 0x100 + <see cref="Alert"/> (RFC 9001 §4.8).</summary>
public sealed class TlsAlertException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TlsAlertException(TlsAlert alert, string message, Exception? innerException = null)
        : base(message, innerException) => Alert = alert;

    /// <summary>The alert description.</summary>
    public TlsAlert Alert { get; }

    /// <summary>The QUIC transport error code for this alert (RFC 9001 §4.8).</summary>
    public long QuicErrorCode => 0x100 + (byte)Alert;
}

/// <summary>TLS alert descriptions used by a TLS 1.3 handshake (RFC 8446 §6).</summary>
public enum TlsAlert : byte
{
    /// <summary>close_notify.</summary>
    CloseNotify = 0,
    /// <summary>unexpected_message.</summary>
    UnexpectedMessage = 10,
    /// <summary>bad_record_mac.</summary>
    BadRecordMac = 20,
    /// <summary>record_overflow.</summary>
    RecordOverflow = 22,
    /// <summary>handshake_failure.</summary>
    HandshakeFailure = 40,
    /// <summary>bad_certificate.</summary>
    BadCertificate = 42,
    /// <summary>unsupported_certificate.</summary>
    UnsupportedCertificate = 43,
    /// <summary>certificate_revoked.</summary>
    CertificateRevoked = 44,
    /// <summary>certificate_expired.</summary>
    CertificateExpired = 45,
    /// <summary>certificate_unknown.</summary>
    CertificateUnknown = 46,
    /// <summary>illegal_parameter.</summary>
    IllegalParameter = 47,
    /// <summary>unknown_ca.</summary>
    UnknownCa = 48,
    /// <summary>access_denied.</summary>
    AccessDenied = 49,
    /// <summary>decode_error.</summary>
    DecodeError = 50,
    /// <summary>decrypt_error.</summary>
    DecryptError = 51,
    /// <summary>protocol_version.</summary>
    ProtocolVersion = 70,
    /// <summary>insufficient_security.</summary>
    InsufficientSecurity = 71,
    /// <summary>internal_error.</summary>
    InternalError = 80,
    /// <summary>inappropriate_fallback.</summary>
    InappropriateFallback = 86,
    /// <summary>user_canceled.</summary>
    UserCanceled = 90,
    /// <summary>missing_extension.</summary>
    MissingExtension = 109,
    /// <summary>unsupported_extension.</summary>
    UnsupportedExtension = 110,
    /// <summary>unrecognized_name.</summary>
    UnrecognizedName = 112,
    /// <summary>bad_certificate_status_response.</summary>
    BadCertificateStatusResponse = 113,
    /// <summary>unknown_psk_identity.</summary>
    UnknownPskIdentity = 115,
    /// <summary>certificate_required.</summary>
    CertificateRequired = 116,
    /// <summary>no_application_protocol.</summary>
    NoApplicationProtocol = 120,
}

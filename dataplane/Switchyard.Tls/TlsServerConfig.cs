using System.Security.Cryptography.X509Certificates;
using Switchyard.Tls.Messages;

namespace Switchyard.Tls;

/// <summary>What a TLS 1.3 server for QUIC needs: its certificate, ALPN preference and diagnostics.</summary>
public sealed class TlsServerConfig
{
    /// <summary>
    /// The default certificate, with its private key: ECDSA P-256 (signs ecdsa_secp256r1_sha256) or RSA
    /// (signs rsa_pss_rsae_sha256, or _sha384/_sha512 if the client offers only those) (RFC 8446 §4.4.3).
    /// Must be set before <see cref="QuicTls.CreateServer"/>.
    /// </summary>
    public X509Certificate2 Certificate { get; set; } = null!;

    /// <summary>Intermediate certificates sent after <see cref="Certificate"/>, leaf-most first (RFC 8446 §4.4.2).</summary>
    /// <remarks>Sent only with <see cref="Certificate"/>; a certificate from <see cref="CertificateSelector"/> goes alone.</remarks>
    public IList<X509Certificate2> Chain { get; set; } = new List<X509Certificate2>();

    /// <summary>ALPN protocol IDs in server preference order (RFC 7301 §3.2); at least one (RFC 9001 §8.1).</summary>
    public IList<string> ApplicationProtocols { get; set; } = new List<string>();

    /// <summary>
    /// Picks a certificate by the ClientHello's server_name (null when the client sent none). Returning null uses
    /// <see cref="Certificate"/>. The returned certificate must carry its private key.
    /// </summary>
    public Func<string?, X509Certificate2?>? CertificateSelector { get; set; }

    /// <summary>Receives NSS key-log lines (SSLKEYLOGFILE format) for Wireshark; exceptions it throws are ignored.</summary>
    public Action<string>? KeyLog { get; set; }

    /// <summary>Cipher suites the server accepts; it picks the first of the client's list that appears here (RFC 8446 §4.1.1).</summary>
    public IList<TlsCipherSuite> CipherSuites { get; set; } = new List<TlsCipherSuite>(DefaultCipherSuites);

    internal static TlsCipherSuite[] DefaultCipherSuites =>
        [TlsCipherSuite.Aes128GcmSha256, TlsCipherSuite.Aes256GcmSha384, TlsCipherSuite.ChaCha20Poly1305Sha256];

    /// <summary>Sends a CertificateRequest and accepts only an empty client Certificate; exercises the client's answer in tests.</summary>
    internal bool RequestClientCertificate { get; set; }

    /// <summary>Named groups in server preference order; the server asks for a better group by HelloRetryRequest.</summary>
    internal IList<NamedGroup> Groups { get; set; } = new List<NamedGroup> { NamedGroup.X25519, NamedGroup.Secp256r1 };
}

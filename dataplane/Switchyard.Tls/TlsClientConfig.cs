using System.Security.Cryptography.X509Certificates;
using Switchyard.Tls.Messages;

namespace Switchyard.Tls;

/// <summary>What a TLS 1.3 client for QUIC needs: the name to ask for, ALPN, and how to trust the server.</summary>
/// <remarks>
/// Server authentication, in order: <see cref="SkipCertificateValidation"/>; else <see cref="PinnedCertificateSha256"/>;
/// else an X509 chain to <see cref="TrustedRoot"/> (or to the system roots when it is null) plus a hostname match of
/// <see cref="ServerName"/> against the leaf's subjectAltName.
/// </remarks>
public sealed class TlsClientConfig
{
    /// <summary>The server's name: sent as server_name (RFC 6066 §3) unless it is an IP literal, and matched against the certificate.</summary>
    public string? ServerName { get; set; }

    /// <summary>ALPN protocol IDs to offer (RFC 7301); at least one (RFC 9001 §8.1).</summary>
    public IList<string> ApplicationProtocols { get; set; } = new List<string>();

    /// <summary>The only root the server's chain may end in; null uses the system's trusted roots.</summary>
    public X509Certificate2? TrustedRoot { get; set; }

    /// <summary>SHA-256 of the expected leaf certificate's DER; when set, the leaf must match it and nothing else is checked.</summary>
    public byte[]? PinnedCertificateSha256 { get; set; }

    /// <summary>Accepts any server certificate (its CertificateVerify signature is still checked). For tests only.</summary>
    public bool SkipCertificateValidation { get; set; }

    /// <summary>Receives NSS key-log lines (SSLKEYLOGFILE format) for Wireshark; exceptions it throws are ignored.</summary>
    public Action<string>? KeyLog { get; set; }

    /// <summary>Cipher suites to offer, in preference order.</summary>
    public IList<TlsCipherSuite> CipherSuites { get; set; } = new List<TlsCipherSuite>(TlsServerConfig.DefaultCipherSuites);

    /// <summary>supported_groups, in preference order (RFC 8446 §4.2.7).</summary>
    internal IList<NamedGroup> SupportedGroups { get; set; } = new List<NamedGroup> { NamedGroup.X25519, NamedGroup.Secp256r1 };

    /// <summary>The groups the first ClientHello carries a key_share for (RFC 8446 §4.2.8).</summary>
    internal IList<NamedGroup> KeyShareGroups { get; set; } = new List<NamedGroup> { NamedGroup.X25519 };
}

using System.Text;
using Switchyard.Tls.Crypto;
using Switchyard.Tls.Handshake;

namespace Switchyard.Tls;

/// <summary>Creates sans-I/O TLS 1.3 handshakes for QUIC (RFC 8446 carried as RFC 9001 §4 says).</summary>
/// <remarks>
/// A handshake is not thread-safe: like the QUIC connection that owns it, only one worker may touch it at a time.
/// X25519 comes from the platform's libcrypto.so.3; where it cannot be loaded, only secp256r1 is offered and chosen.
/// </remarks>
public static class QuicTls
{
    /// <summary>Creates a server handshake. It waits for the ClientHello in Initial CRYPTO data.</summary>
    /// <param name="config">Certificate, ALPN and options; read at creation and during the handshake.</param>
    /// <param name="callbacks">Receives CRYPTO data to send, secrets and completion.</param>
    /// <param name="localTransportParameters">The encoded quic_transport_parameters to send (RFC 9001 §8.2, RFC 9000 §18).</param>
    /// <exception cref="ArgumentException">The configuration is unusable (no certificate, no private key, no ALPN, …).</exception>
    public static IQuicTlsHandshake CreateServer(TlsServerConfig config, IQuicTlsCallbacks callbacks, ReadOnlySpan<byte> localTransportParameters)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(callbacks);
        if (config.Certificate is null)
        {
            throw new ArgumentException("TlsServerConfig.Certificate is required.", nameof(config));
        }

        if (!config.Certificate.HasPrivateKey || !Signatures.CanSign(config.Certificate))
        {
            throw new ArgumentException("TlsServerConfig.Certificate needs an ECDSA P-256 or RSA private key.", nameof(config));
        }

        ValidateProtocols(config.ApplicationProtocols, nameof(config));
        ValidateSuites(config.CipherSuites, nameof(config));
        return new ServerHandshake(config, callbacks, localTransportParameters.ToArray());
    }

    /// <summary>Creates a client handshake; <see cref="IQuicTlsHandshake.Start"/> writes the ClientHello.</summary>
    /// <param name="config">Server name, ALPN and trust options.</param>
    /// <param name="callbacks">Receives CRYPTO data to send, secrets and completion.</param>
    /// <param name="localTransportParameters">The encoded quic_transport_parameters to send (RFC 9001 §8.2, RFC 9000 §18).</param>
    /// <exception cref="ArgumentException">The configuration is unusable (no ALPN, bad pin length, …).</exception>
    public static IQuicTlsHandshake CreateClient(TlsClientConfig config, IQuicTlsCallbacks callbacks, ReadOnlySpan<byte> localTransportParameters)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(callbacks);
        ValidateProtocols(config.ApplicationProtocols, nameof(config));
        ValidateSuites(config.CipherSuites, nameof(config));
        if (config.PinnedCertificateSha256 is { Length: not 32 })
        {
            throw new ArgumentException("PinnedCertificateSha256 must be 32 bytes.", nameof(config));
        }

        if (!config.SupportedGroups.Any(KeyShare.IsSupported) || config.KeyShareGroups.Any(g => !config.SupportedGroups.Contains(g)))
        {
            throw new ArgumentException("Key shares must be for supported groups, and one group must be usable.", nameof(config));
        }

        if (config.ServerName is { } name && (name.Length == 0 || !Ascii.IsValid(name)))
        {
            throw new ArgumentException("ServerName must be a non-empty ASCII name (an IDN in its A-label form) or an IP literal.", nameof(config));
        }

        return new ClientHandshake(config, callbacks, localTransportParameters.ToArray());
    }

    private static void ValidateProtocols(IList<string>? protocols, string parameter)
    {
        if (protocols is null || protocols.Count == 0)
        {
            throw new ArgumentException("At least one ALPN protocol is required (RFC 9001 §8.1).", parameter);
        }

        foreach (var protocol in protocols)
        {
            var length = protocol is null ? 0 : Encoding.UTF8.GetByteCount(protocol);
            if (length is 0 or > 255)
            {
                throw new ArgumentException("ALPN protocol IDs are 1 to 255 bytes (RFC 7301 §3.1).", parameter);
            }
        }
    }

    private static void ValidateSuites(IList<TlsCipherSuite>? suites, string parameter)
    {
        if (suites is null || suites.Count == 0 || suites.Any(s => !Enum.IsDefined(s)))
        {
            throw new ArgumentException("At least one TLS 1.3 cipher suite is required.", parameter);
        }
    }
}

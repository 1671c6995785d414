using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Ir;

namespace Switchyard.Proxy.Listeners;

/// <summary>
/// The client certificate validation of one HTTPS port (Gateway <c>spec.tls.frontend</c>), loaded from a
/// <see cref="ClientValidationIr"/>: the TLS handshake asks every client for a certificate (RFC 8446 §4.3.2
/// CertificateRequest) and checks it chains to one of the configured CAs, for client authentication (EKU
/// id-kp-clientAuth, RFC 5280 §4.2.1.12). Immutable: a snapshot with other CAs builds a new validator.
/// </summary>
internal sealed class ClientCertificateValidator
{
    /// <summary>id-kp-clientAuth (RFC 5280 §4.2.1.12).</summary>
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly X509Certificate2Collection _anchors;

    private ClientCertificateValidator(FrontendValidationMode mode, X509Certificate2Collection anchors)
    {
        Mode = mode;
        _anchors = anchors;
    }

    /// <summary>Whether a client without a valid certificate is refused (AllowValidOnly) or let through.</summary>
    public FrontendValidationMode Mode { get; }

    /// <summary>Loads the CA certificates of <paramref name="validation"/>.</summary>
    /// <exception cref="ArgumentException">A CA bundle holds no certificate or does not parse; the message names its source.</exception>
    public static ClientCertificateValidator Load(ClientValidationIr validation)
    {
        ArgumentNullException.ThrowIfNull(validation);
        var anchors = new X509Certificate2Collection();
        foreach (var ca in validation.CaCertificates)
        {
            var bundle = new X509Certificate2Collection();
            try
            {
                bundle.ImportFromPem(System.Text.Encoding.ASCII.GetString(ca.CertificatePem.AsSpan()));
            }
            catch (CryptographicException ex)
            {
                throw new ArgumentException($"{ca.Name}: CA certificate PEM is unusable ({ex.Message})", nameof(validation), ex);
            }

            if (bundle.Count == 0)
            {
                throw new ArgumentException($"{ca.Name}: CA bundle holds no PEM certificate", nameof(validation));
            }

            anchors.AddRange(bundle);
        }

        return new ClientCertificateValidator(validation.Mode, anchors);
    }

    /// <summary>
    /// The chain policy a handshake validates the client certificate with: only the configured CAs are trusted (not
    /// the machine's store), revocation is not checked (no CRL or OCSP source is configured), and the certificate
    /// must be usable for client authentication. A new policy per handshake, as the TLS stack may keep it.
    /// </summary>
    public X509ChainPolicy CreateChainPolicy()
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(_anchors);
        policy.ApplicationPolicy.Add(ClientAuthentication);
        return policy;
    }

    /// <summary>
    /// The handshake's verdict on the client (the TLS stack built the chain with <see cref="CreateChainPolicy"/>):
    /// AllowValidOnly accepts only a presented certificate without errors; AllowInsecureFallback accepts every
    /// client, leaving authorization to the backend (Gateway API FrontendValidationModeType).
    /// </summary>
    /// <param name="certificate">The client's certificate, or null when it sent none.</param>
    /// <param name="errors">What the TLS stack found wrong with it.</param>
    /// <returns>True to complete the handshake.</returns>
    public bool Accept(X509Certificate? certificate, SslPolicyErrors errors) =>
        Mode == FrontendValidationMode.AllowInsecureFallback || (certificate is not null && errors == SslPolicyErrors.None);
}

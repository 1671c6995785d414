using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Tls.Handshake;

/// <summary>How the client decides to trust the server's certificate (RFC 8446 §4.4.2.4, RFC 9525 for names).</summary>
internal static class CertificateValidator
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <exception cref="TlsAlertException">bad_certificate, unknown_ca or certificate_expired.</exception>
    public static void Validate(TlsClientConfig config, X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates)
    {
        if (config.SkipCertificateValidation)
        {
            return;
        }

        if (config.PinnedCertificateSha256 is { } pin)
        {
            Span<byte> actual = stackalloc byte[32];
            SHA256.HashData(leaf.RawDataMemory.Span, actual);
            if (!CryptographicOperations.FixedTimeEquals(actual, pin))
            {
                throw new TlsAlertException(TlsAlert.BadCertificate, "The server certificate does not match the pinned SHA-256 (RFC 8446 §4.4.2.4)");
            }

            return;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ServerAuthentication));
        if (config.TrustedRoot is { } root)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(root);
        }

        foreach (var intermediate in intermediates)
        {
            chain.ChainPolicy.ExtraStore.Add(intermediate);
        }

        if (!chain.Build(leaf))
        {
            var flags = X509ChainStatusFlags.NoError;
            foreach (var status in chain.ChainStatus)
            {
                flags |= status.Status;
            }

            var alert = (flags & X509ChainStatusFlags.NotTimeValid) != 0 ? TlsAlert.CertificateExpired
                : (flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0 ? TlsAlert.UnknownCa
                : TlsAlert.BadCertificate;
            throw new TlsAlertException(alert, $"The server certificate chain does not validate: {flags} (RFC 8446 §4.4.2.4)");
        }

        // The name asked for must be in the leaf's subjectAltName (dNSName with wildcards, or iPAddress); the
        // subject CN is not consulted (RFC 9525 §6.3).
        if (config.ServerName is { Length: > 0 } name && !leaf.MatchesHostname(name.TrimEnd('.'), allowWildcards: true, allowCommonName: false))
        {
            throw new TlsAlertException(TlsAlert.BadCertificate, $"The server certificate is not valid for '{name}' (RFC 9525 §6)");
        }
    }
}

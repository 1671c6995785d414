using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Switchyard.Tls.Messages;

namespace Switchyard.Tls.Crypto;

/// <summary>CertificateVerify signing and checking (RFC 8446 §4.4.3).</summary>
internal static class Signatures
{
    /// <summary>What the client offers, in its preference order.</summary>
    public static readonly SignatureScheme[] ClientOffered =
    [
        SignatureScheme.EcdsaSecp256r1Sha256,
        SignatureScheme.RsaPssRsaeSha256,
        SignatureScheme.EcdsaSecp384r1Sha384,
        SignatureScheme.RsaPssRsaeSha384,
        SignatureScheme.RsaPssRsaeSha512,
    ];

    /// <summary>
    /// The signed content: 64 spaces, the context string, a zero byte and the transcript hash (RFC 8446 §4.4.3).
    /// </summary>
    public static byte[] Content(bool server, ReadOnlySpan<byte> transcriptHash)
    {
        var context = server ? "TLS 1.3, server CertificateVerify" : "TLS 1.3, client CertificateVerify";
        var content = new byte[64 + context.Length + 1 + transcriptHash.Length];
        content.AsSpan(0, 64).Fill(0x20);
        Encoding.ASCII.GetBytes(context, content.AsSpan(64));
        transcriptHash.CopyTo(content.AsSpan(64 + context.Length + 1));
        return content;
    }

    /// <summary>Whether the server can sign with <paramref name="certificate"/> at all (ECDSA P-256 or RSA).</summary>
    public static bool CanSign(X509Certificate2 certificate)
    {
        using var ecdsa = certificate.GetECDsaPrivateKey();
        if (ecdsa is not null)
        {
            return ecdsa.KeySize == 256;
        }

        using var rsa = certificate.GetRSAPrivateKey();
        return rsa is not null;
    }

    /// <summary>Picks the scheme the server signs with, given the client's signature_algorithms; null if none fits.</summary>
    public static SignatureScheme? ChooseServerScheme(X509Certificate2 certificate, IReadOnlyCollection<ushort> offered)
    {
        using var ecdsa = certificate.GetECDsaPublicKey();
        if (ecdsa is not null)
        {
            return ecdsa.KeySize == 256 && offered.Contains((ushort)SignatureScheme.EcdsaSecp256r1Sha256)
                ? SignatureScheme.EcdsaSecp256r1Sha256
                : null;
        }

        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is not null)
        {
            foreach (var scheme in (ReadOnlySpan<SignatureScheme>)[SignatureScheme.RsaPssRsaeSha256, SignatureScheme.RsaPssRsaeSha384, SignatureScheme.RsaPssRsaeSha512])
            {
                if (offered.Contains((ushort)scheme))
                {
                    return scheme;
                }
            }
        }

        return null;
    }

    public static byte[] Sign(X509Certificate2 certificate, SignatureScheme scheme, byte[] content)
    {
        switch (scheme)
        {
            case SignatureScheme.EcdsaSecp256r1Sha256:
                using (var ecdsa = certificate.GetECDsaPrivateKey() ?? throw new CryptographicException("The certificate has no ECDSA private key."))
                {
                    // ECDSA signatures in TLS are DER-encoded Ecdsa-Sig-Value (RFC 8446 §4.2.3).
                    return ecdsa.SignData(content, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
                }

            case SignatureScheme.RsaPssRsaeSha256 or SignatureScheme.RsaPssRsaeSha384 or SignatureScheme.RsaPssRsaeSha512:
                using (var rsa = certificate.GetRSAPrivateKey() ?? throw new CryptographicException("The certificate has no RSA private key."))
                {
                    // RSASSA-PSS with salt length equal to the hash length (RFC 8446 §4.2.3), which is .NET's Pss.
                    return rsa.SignData(content, HashOf(scheme), RSASignaturePadding.Pss);
                }

            default:
                throw new CryptographicException($"Cannot sign with scheme 0x{(ushort)scheme:x4}.");
        }
    }

    /// <summary>Verifies a CertificateVerify signature; false on any mismatch, including a key of the wrong kind.</summary>
    public static bool Verify(X509Certificate2 certificate, SignatureScheme scheme, byte[] content, ReadOnlySpan<byte> signature)
    {
        try
        {
            switch (scheme)
            {
                case SignatureScheme.EcdsaSecp256r1Sha256 or SignatureScheme.EcdsaSecp384r1Sha384:
                    {
                        using var ecdsa = certificate.GetECDsaPublicKey();
                        var keySize = scheme == SignatureScheme.EcdsaSecp256r1Sha256 ? 256 : 384;
                        return ecdsa is not null && ecdsa.KeySize == keySize
                            && ecdsa.VerifyData(content, signature, HashOf(scheme), DSASignatureFormat.Rfc3279DerSequence);
                    }

                case SignatureScheme.RsaPssRsaeSha256 or SignatureScheme.RsaPssRsaeSha384 or SignatureScheme.RsaPssRsaeSha512:
                    {
                        using var rsa = certificate.GetRSAPublicKey();
                        return rsa is not null && rsa.VerifyData(content, signature, HashOf(scheme), RSASignaturePadding.Pss);
                    }

                default:
                    return false;
            }
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static HashAlgorithmName HashOf(SignatureScheme scheme) => scheme switch
    {
        SignatureScheme.EcdsaSecp256r1Sha256 or SignatureScheme.RsaPssRsaeSha256 => HashAlgorithmName.SHA256,
        SignatureScheme.EcdsaSecp384r1Sha384 or SignatureScheme.RsaPssRsaeSha384 => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };
}

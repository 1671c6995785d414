using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Tls;

/// <summary>Certificate helpers for the QUIC/TLS stack: self-signed certificates, PEM files and pins.</summary>
public static class TlsCertificates
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>
    /// Creates a self-signed ECDSA P-256 server certificate whose subjectAltName lists <paramref name="dnsNamesOrIps"/>
    /// (IP literals become iPAddress entries). It is valid from one minute ago for <paramref name="validity"/>, which
    /// may be short: WebTransport's serverCertificateHashes accept at most 14 days.
    /// </summary>
    /// <returns>The certificate with its private key, usable for signing.</returns>
    /// <exception cref="ArgumentException">No names, or a non-positive validity.</exception>
    public static X509Certificate2 CreateSelfSignedEcdsaP256(IEnumerable<string> dnsNamesOrIps, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(dnsNamesOrIps);
        var names = dnsNamesOrIps.ToList();
        if (names.Count == 0 || names.Exists(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("At least one non-empty DNS name or IP address is required.", nameof(dnsNamesOrIps));
        }

        if (validity <= TimeSpan.Zero)
        {
            throw new ArgumentException("The validity must be positive.", nameof(validity));
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedName("CN=" + names[0].Replace(",", string.Empty, StringComparison.Ordinal));
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                san.AddIpAddress(address);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthentication)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var notBefore = DateTimeOffset.UtcNow.AddMinutes(-1);
        using var created = request.CreateSelfSigned(notBefore, notBefore + validity);

        // Round-trip through PKCS#12 so the key is a persisted, exportable one on every platform.
        var pfx = created.Export(X509ContentType.Pkcs12);
        try
        {
            return X509CertificateLoader.LoadPkcs12(pfx, password: null, X509KeyStorageFlags.Exportable);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pfx);
        }
    }

    /// <summary>Loads a certificate and its private key (PKCS#8, SEC1 or PKCS#1 PEM) from two PEM files.</summary>
    /// <remarks>Only the first certificate of <paramref name="certPath"/> is returned; see <see cref="LoadPemChain"/>.</remarks>
    public static X509Certificate2 LoadPem(string certPath, string keyPath)
    {
        using var loaded = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        var pfx = loaded.Export(X509ContentType.Pkcs12);
        try
        {
            return X509CertificateLoader.LoadPkcs12(pfx, password: null, X509KeyStorageFlags.Exportable);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pfx);
        }
    }

    /// <summary>The certificates after the first in a PEM file: the intermediates for <see cref="TlsServerConfig.Chain"/>.</summary>
    public static IList<X509Certificate2> LoadPemChain(string certPath)
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPemFile(certPath);
        return collection.Skip(1).ToList();
    }

    /// <summary>Writes the certificate as PEM and its private key as PKCS#8 PEM (the key file readable by its owner only).</summary>
    /// <exception cref="ArgumentException">The certificate has no exportable ECDSA or RSA private key.</exception>
    public static void WritePem(X509Certificate2 certificate, string certPath, string keyPath)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        string keyPem;
        using (var ecdsa = certificate.GetECDsaPrivateKey())
        using (var rsa = ecdsa is null ? certificate.GetRSAPrivateKey() : null)
        {
            keyPem = ecdsa?.ExportPkcs8PrivateKeyPem() ?? rsa?.ExportPkcs8PrivateKeyPem()
                ?? throw new ArgumentException("The certificate has no ECDSA or RSA private key.", nameof(certificate));
        }

        File.WriteAllText(certPath, certificate.ExportCertificatePem() + "\n");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(keyPath, options);
        using var writer = new StreamWriter(stream);
        writer.Write(keyPem);
        writer.Write('\n');
    }

    /// <summary>SHA-256 of the certificate's DER: the value for pins and WebTransport serverCertificateHashes.</summary>
    public static byte[] Sha256OfDer(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return SHA256.HashData(certificate.RawDataMemory.Span);
    }
}

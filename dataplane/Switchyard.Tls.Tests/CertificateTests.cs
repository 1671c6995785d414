using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Tls.Tests;

public class CertificateTests
{
    private static TlsClientConfig ChainClient(X509Certificate2 root, string serverName) => new()
    {
        ServerName = serverName,
        ApplicationProtocols = ["h3"],
        TrustedRoot = root,
    };

    [Fact]
    public void ChainToTrustedRoot_WithMatchingName_Completes()
    {
        using var root = TestCertificates.CreateRoot("Test Root");
        using var leaf = TestCertificates.IssueLeaf(root, "example.test");
        using var pair = new TlsPair(ChainClient(root, "example.test"), TestCertificates.Server(leaf));
        pair.RunToCompletion();
        Assert.True(pair.Client.IsHandshakeComplete);
        Assert.True(pair.Server.IsHandshakeComplete);
    }

    [Fact]
    public void ChainWithIntermediate_SentByServer_Completes()
    {
        using var root = TestCertificates.CreateRoot("Test Root");
        using var intermediate = IssueIntermediate(root, "Test Intermediate");
        using var leaf = TestCertificates.IssueLeaf(intermediate, "example.test");
        var server = TestCertificates.Server(leaf);
        using var intermediatePublic = X509CertificateLoader.LoadCertificate(intermediate.RawData);
        server.Chain = [intermediatePublic];
        using var pair = new TlsPair(ChainClient(root, "example.test"), server);
        pair.RunToCompletion();
        Assert.True(pair.Client.IsHandshakeComplete);
    }

    [Fact]
    public void ChainWithoutTheIntermediate_IsUnknownCa()
    {
        using var root = TestCertificates.CreateRoot("Test Root");
        using var intermediate = IssueIntermediate(root, "Test Intermediate");
        using var leaf = TestCertificates.IssueLeaf(intermediate, "example.test");
        using var pair = new TlsPair(ChainClient(root, "example.test"), TestCertificates.Server(leaf));
        Assert.Equal(TlsAlert.UnknownCa, Assert.Throws<TlsAlertException>(() => pair.Run()).Alert);
    }

    [Fact]
    public void HostnameMismatch_IsBadCertificate()
    {
        using var root = TestCertificates.CreateRoot("Test Root");
        using var leaf = TestCertificates.IssueLeaf(root, "example.test");
        using var pair = new TlsPair(ChainClient(root, "other.test"), TestCertificates.Server(leaf));
        var e = Assert.Throws<TlsAlertException>(() => pair.Run());
        Assert.Equal(TlsAlert.BadCertificate, e.Alert);
        Assert.False(pair.Client.IsHandshakeComplete);
    }

    [Fact]
    public void UntrustedRoot_IsUnknownCa()
    {
        using var root = TestCertificates.CreateRoot("Test Root");
        using var otherRoot = TestCertificates.CreateRoot("Other Root");
        using var leaf = TestCertificates.IssueLeaf(root, "example.test");
        using var pair = new TlsPair(ChainClient(otherRoot, "example.test"), TestCertificates.Server(leaf));
        Assert.Equal(TlsAlert.UnknownCa, Assert.Throws<TlsAlertException>(() => pair.Run()).Alert);
    }

    [Fact]
    public void ExpiredLeaf_IsCertificateExpired()
    {
        using var root = TestCertificates.CreateRoot("Test Root");
        using var leaf = TestCertificates.IssueLeaf(root, "example.test", notBefore: DateTimeOffset.UtcNow.AddHours(-20), notAfter: DateTimeOffset.UtcNow.AddHours(-10));
        using var pair = new TlsPair(ChainClient(root, "example.test"), TestCertificates.Server(leaf));
        Assert.Equal(TlsAlert.CertificateExpired, Assert.Throws<TlsAlertException>(() => pair.Run()).Alert);
    }

    [Fact]
    public void RsaLeaf_SignsWithRsaPssAndCompletes()
    {
        using var root = TestCertificates.CreateRoot("Test Root");
        using var leaf = TestCertificates.IssueLeaf(root, "rsa.test", rsa: true);
        using var pair = new TlsPair(ChainClient(root, "rsa.test"), TestCertificates.Server(leaf));
        pair.RunToCompletion();
        Assert.True(pair.Client.IsHandshakeComplete);
        var flight = pair.ServerCallbacks.Written.Single(w => w.Level == EncryptionLevel.Handshake).Data;
        var verify = TlsPair.SplitMessages(flight).Single(m => m[0] == 15);
        Assert.Equal(0x0804, (verify[4] << 8) | verify[5]);
    }

    [Fact]
    public void PinnedHashMismatch_IsBadCertificate()
    {
        var client = TestCertificates.PinnedClient();
        client.PinnedCertificateSha256 = SHA256.HashData("not the certificate"u8);
        using var pair = new TlsPair(client, TestCertificates.Server());
        var e = Assert.Throws<TlsAlertException>(() => pair.Run());
        Assert.Equal(TlsAlert.BadCertificate, e.Alert);
        Assert.Equal(0x100 + 42, e.QuicErrorCode);
    }

    [Fact]
    public void SelfSignedWithoutPinOrRoot_IsRejected_UnlessValidationIsSkipped()
    {
        var client = new TlsClientConfig { ServerName = "localhost", ApplicationProtocols = ["h3"] };
        using (var pair = new TlsPair(client, TestCertificates.Server()))
        {
            var e = Assert.Throws<TlsAlertException>(() => pair.Run());
            Assert.Contains(e.Alert, new[] { TlsAlert.UnknownCa, TlsAlert.BadCertificate });
        }

        client.SkipCertificateValidation = true;
        using (var pair = new TlsPair(client, TestCertificates.Server()))
        {
            pair.RunToCompletion();
            Assert.True(pair.Client.IsHandshakeComplete);
        }
    }

    [Fact]
    public void SelfSignedAsTrustedRoot_MatchesIpAddressSan()
    {
        var client = new TlsClientConfig { ServerName = "127.0.0.1", ApplicationProtocols = ["h3"], TrustedRoot = TestCertificates.Localhost };
        using var pair = new TlsPair(client, TestCertificates.Server());
        pair.RunToCompletion();
        Assert.True(pair.Client.IsHandshakeComplete);

        var wrongIp = new TlsClientConfig { ServerName = "10.0.0.1", ApplicationProtocols = ["h3"], TrustedRoot = TestCertificates.Localhost };
        using var wrong = new TlsPair(wrongIp, TestCertificates.Server());
        Assert.Equal(TlsAlert.BadCertificate, Assert.Throws<TlsAlertException>(() => wrong.Run()).Alert);
    }

    [Fact]
    public void CreateSelfSigned_HasNamesShortValidityAndUsableKey()
    {
        using var certificate = TlsCertificates.CreateSelfSignedEcdsaP256(["gateway.test", "::1", "10.1.2.3"], TimeSpan.FromDays(13));
        Assert.True(certificate.HasPrivateKey);
        Assert.True(certificate.NotAfter - certificate.NotBefore <= TimeSpan.FromDays(14));
        Assert.True(certificate.MatchesHostname("gateway.test"));
        Assert.True(certificate.MatchesHostname("10.1.2.3"));
        Assert.True(certificate.MatchesHostname("::1"));
        Assert.False(certificate.MatchesHostname("other.test"));
        using var key = certificate.GetECDsaPrivateKey()!;
        var signature = key.SignData("x"u8, HashAlgorithmName.SHA256);
        using var publicKey = certificate.GetECDsaPublicKey()!;
        Assert.True(publicKey.VerifyData("x"u8, signature, HashAlgorithmName.SHA256));
        Assert.Throws<ArgumentException>(() => TlsCertificates.CreateSelfSignedEcdsaP256([], TimeSpan.FromDays(1)));
        Assert.Throws<ArgumentException>(() => TlsCertificates.CreateSelfSignedEcdsaP256(["a"], TimeSpan.Zero));
    }

    [Fact]
    public void PemRoundTrip_KeepsCertificateAndKey()
    {
        var directory = Directory.CreateTempSubdirectory("switchyard-tls-");
        try
        {
            var certPath = Path.Combine(directory.FullName, "cert.pem");
            var keyPath = Path.Combine(directory.FullName, "key.pem");
            TlsCertificates.WritePem(TestCertificates.Localhost, certPath, keyPath);
            Assert.StartsWith("-----BEGIN CERTIFICATE-----", File.ReadAllText(certPath), StringComparison.Ordinal);
            Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(keyPath), StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
            }

            using var loaded = TlsCertificates.LoadPem(certPath, keyPath);
            Assert.Equal(TlsCertificates.Sha256OfDer(TestCertificates.Localhost), TlsCertificates.Sha256OfDer(loaded));
            Assert.Empty(TlsCertificates.LoadPemChain(certPath));

            // The loaded certificate serves a handshake, so its key signs.
            using var pair = new TlsPair(TestCertificates.PinnedClient(loaded), TestCertificates.Server(loaded));
            pair.RunToCompletion();
            Assert.True(pair.Client.IsHandshakeComplete);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Sha256OfDer_IsTheHashOfRawData()
    {
        Assert.Equal(SHA256.HashData(TestCertificates.Localhost.RawData), TlsCertificates.Sha256OfDer(TestCertificates.Localhost));
    }

    private static X509Certificate2 IssueIntermediate(X509Certificate2 root, string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var publicOnly = request.Create(root, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(60), [1, 2, 3, 4]);
        using var withKey = publicOnly.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}

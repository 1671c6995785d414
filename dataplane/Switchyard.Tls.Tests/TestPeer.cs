using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Tls.Handshake;

namespace Switchyard.Tls.Tests;

/// <summary>The QUIC side of one endpoint in tests: records what TLS writes and which secrets it installs.</summary>
internal sealed class RecordingCallbacks : IQuicTlsCallbacks
{
    public List<(EncryptionLevel Level, byte[] Data)> Outgoing { get; } = [];

    /// <summary>Everything written, never drained.</summary>
    public List<(EncryptionLevel Level, byte[] Data)> Written { get; } = [];

    public Dictionary<(EncryptionLevel Level, bool IsWrite), byte[]> Secrets { get; } = [];

    public List<string> Events { get; } = [];

    public int CompletedCount { get; private set; }

    public void WriteCryptoData(EncryptionLevel level, ReadOnlySpan<byte> data)
    {
        Outgoing.Add((level, data.ToArray()));
        Written.Add((level, data.ToArray()));
        Events.Add($"write {level}");
    }

    public void SetSecret(EncryptionLevel level, bool isWrite, TlsCipherSuite cipherSuite, ReadOnlySpan<byte> secret)
    {
        Assert.False(Secrets.ContainsKey((level, isWrite)), $"secret {level}/{isWrite} installed twice");
        Secrets[(level, isWrite)] = secret.ToArray();
        Events.Add($"secret {level} {(isWrite ? "write" : "read")}");
    }

    public void OnHandshakeCompleted()
    {
        CompletedCount++;
        Events.Add("completed");
    }

    public List<(EncryptionLevel Level, byte[] Data)> Drain()
    {
        var drained = Outgoing.ToList();
        Outgoing.Clear();
        return drained;
    }
}

/// <summary>A client and a server wired back to back in memory.</summary>
internal sealed class TlsPair : IDisposable
{
    public TlsPair(TlsClientConfig client, TlsServerConfig server, byte[]? clientParameters = null, byte[]? serverParameters = null)
    {
        ClientParameters = clientParameters ?? [0x01, 0x02, 0x03];
        ServerParameters = serverParameters ?? [0x0a, 0x0b];
        Client = QuicTls.CreateClient(client, ClientCallbacks, ClientParameters);
        Server = QuicTls.CreateServer(server, ServerCallbacks, ServerParameters);
    }

    private bool _started;

    public RecordingCallbacks ClientCallbacks { get; } = new();

    public RecordingCallbacks ServerCallbacks { get; } = new();

    public IQuicTlsHandshake Client { get; }

    public IQuicTlsHandshake Server { get; }

    public byte[] ClientParameters { get; }

    public byte[] ServerParameters { get; }

    public TlsHandshake ClientCore => (TlsHandshake)Client;

    public TlsHandshake ServerCore => (TlsHandshake)Server;

    /// <summary>Runs the handshake to quiescence; <paramref name="chunk"/> &gt; 0 delivers CRYPTO data in pieces of that size.</summary>
    public void Run(int chunk = 0)
    {
        if (!_started)
        {
            _started = true;
            Client.Start();
        }

        Server.Start();
        for (var rounds = 0; rounds < 20; rounds++)
        {
            var toServer = ClientCallbacks.Drain();
            var toClient = ServerCallbacks.Drain();
            if (toServer.Count == 0 && toClient.Count == 0)
            {
                return;
            }

            Deliver(Server, toServer, chunk);
            Deliver(Client, toClient, chunk);
        }

        throw new InvalidOperationException("The handshake did not settle.");
    }

    /// <summary>Runs the handshake and requires both sides to finish.</summary>
    public void RunToCompletion(int chunk = 0)
    {
        Run(chunk);
        Assert.True(Client.IsHandshakeComplete && Server.IsHandshakeComplete, "the handshake did not complete");
    }

    public List<(EncryptionLevel Level, byte[] Data)> StartClient()
    {
        if (!_started)
        {
            _started = true;
            Client.Start();
        }

        return ClientCallbacks.Drain();
    }

    /// <summary>Cuts a flight into its handshake messages.</summary>
    public static List<byte[]> SplitMessages(byte[] flight)
    {
        var messages = new List<byte[]>();
        for (var offset = 0; offset < flight.Length;)
        {
            var length = 4 + ((flight[offset + 1] << 16) | (flight[offset + 2] << 8) | flight[offset + 3]);
            messages.Add(flight.AsSpan(offset, length).ToArray());
            offset += length;
        }

        return messages;
    }

    public static void Deliver(IQuicTlsHandshake target, List<(EncryptionLevel Level, byte[] Data)> writes, int chunk)
    {
        foreach (var (level, data) in writes)
        {
            if (chunk <= 0)
            {
                target.ProcessCryptoData(level, data);
                continue;
            }

            for (var i = 0; i < data.Length; i += chunk)
            {
                target.ProcessCryptoData(level, data.AsSpan(i, Math.Min(chunk, data.Length - i)));
            }
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }
}

/// <summary>Certificates and configurations shared by the tests.</summary>
internal static class TestCertificates
{
    private static readonly Lazy<X509Certificate2> s_localhost =
        new(() => TlsCertificates.CreateSelfSignedEcdsaP256(["localhost", "127.0.0.1"], TimeSpan.FromDays(10)));

    public static X509Certificate2 Localhost => s_localhost.Value;

    public static TlsServerConfig Server(X509Certificate2? certificate = null, params string[] protocols) => new()
    {
        Certificate = certificate ?? Localhost,
        ApplicationProtocols = protocols.Length == 0 ? ["h3"] : protocols,
    };

    public static TlsClientConfig PinnedClient(X509Certificate2? certificate = null, params string[] protocols) => new()
    {
        ServerName = "localhost",
        ApplicationProtocols = protocols.Length == 0 ? ["h3"] : protocols,
        PinnedCertificateSha256 = TlsCertificates.Sha256OfDer(certificate ?? Localhost),
    };

    /// <summary>A CA certificate (with key) able to sign leaves.</summary>
    public static X509Certificate2 CreateRoot(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var root = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return X509CertificateLoader.LoadPkcs12(root.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A server leaf for <paramref name="dnsName"/> issued by <paramref name="issuer"/>, with its private key.</summary>
    public static X509Certificate2 IssueLeaf(X509Certificate2 issuer, string dnsName, bool rsa = false, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var ecdsa = rsa ? null : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsaKey = rsa ? RSA.Create(2048) : null;
        var request = ecdsa is not null
            ? new CertificateRequest("CN=" + dnsName, ecdsa, HashAlgorithmName.SHA256)
            : new CertificateRequest("CN=" + dnsName, rsaKey!, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var from = notBefore ?? DateTimeOffset.UtcNow.AddHours(-1);
        var to = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using var issuerKey = issuer.GetECDsaPrivateKey()!;
        using var publicOnly = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), from, to, serial);
        using var withKey = ecdsa is not null ? publicOnly.CopyWithPrivateKey(ecdsa) : publicOnly.CopyWithPrivateKey(rsaKey!);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}

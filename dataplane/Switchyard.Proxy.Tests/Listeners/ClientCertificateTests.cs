using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Switchyard.Ir;

namespace Switchyard.Proxy.Tests.Listeners;

/// <summary>Client certificate validation on HTTPS ports (Gateway spec.tls.frontend), over real TLS 1.3 handshakes.</summary>
public sealed class ClientCertificateTests : IDisposable
{
    private readonly (X509Certificate2 Ca, ECDsa Key) _trusted = CreateCa("CN=trusted client CA");
    private readonly (X509Certificate2 Ca, ECDsa Key) _other = CreateCa("CN=other client CA");
    private readonly X509Certificate2 _trustedClient;
    private readonly X509Certificate2 _otherClient;
    private readonly X509Certificate2 _serverOnlyClient;

    public ClientCertificateTests()
    {
        _trustedClient = Issue(_trusted, "CN=trusted client", "1.3.6.1.5.5.7.3.2");
        _otherClient = Issue(_other, "CN=other client", "1.3.6.1.5.5.7.3.2");

        // Signed by the trusted CA, but only for server authentication: not a client certificate (RFC 5280 §4.2.1.12).
        _serverOnlyClient = Issue(_trusted, "CN=server only", "1.3.6.1.5.5.7.3.1");
    }

    public void Dispose()
    {
        foreach (var c in new[] { _trusted.Ca, _other.Ca, _trustedClient, _otherClient, _serverOnlyClient })
        {
            c.Dispose();
        }

        _trusted.Key.Dispose();
        _other.Key.Dispose();
    }

    [Fact]
    public async Task AllowValidOnly_OnlyAClientCertificateFromTheConfiguredCaGetsThrough()
    {
        await using var backend = await TestBackend.StartAsync("a");
        await using var proxy = await ProxyHarness.StartAsync(Ir.Snapshot(Listener(FrontendValidationMode.AllowValidOnly, backend)));
        var port = proxy.Server.BoundEndPoints[Ir.HttpsPort].Port;

        var trusted = await ExchangeAsync(port, _trustedClient);
        Assert.True(trusted.ClientCertificateSent, "the server did not ask for a client certificate");
        Assert.StartsWith("HTTP/1.1 200", trusted.Response);

        // The client would resume its TLS 1.3 session; the server refuses resumption and asks again.
        var again = await ExchangeAsync(port, _trustedClient);
        Assert.True(again.ClientCertificateSent, "a later connection was not asked for a client certificate");
        Assert.StartsWith("HTTP/1.1 200", again.Response);

        // A port that validates clients is not advertised for HTTP/3: the managed QUIC stack cannot validate them.
        Assert.DoesNotContain("Alt-Svc", trusted.Response, StringComparison.OrdinalIgnoreCase);

        Assert.Null((await ExchangeAsync(port, _otherClient)).Response);
        Assert.Null((await ExchangeAsync(port, _serverOnlyClient)).Response);
        Assert.Null((await ExchangeAsync(port, null)).Response);
        Assert.Equal(2, backend.Requests.Count);
    }

    [Fact]
    public async Task AllowInsecureFallback_AsksForACertificateButLetsEveryClientThrough()
    {
        await using var backend = await TestBackend.StartAsync("a");
        await using var proxy = await ProxyHarness.StartAsync(Ir.Snapshot(Listener(FrontendValidationMode.AllowInsecureFallback, backend)));
        var port = proxy.Server.BoundEndPoints[Ir.HttpsPort].Port;

        foreach (var client in new[] { _trustedClient, _otherClient, null })
        {
            var result = await ExchangeAsync(port, client);
            Assert.StartsWith("HTTP/1.1 200", result.Response);
            Assert.Equal(client is not null, result.ClientCertificateSent);
        }
    }

    [Fact]
    public async Task NewSnapshot_TurnsValidationOnAndOffForNewConnections()
    {
        await using var backend = await TestBackend.StartAsync("a");
        var open = Listener(null, backend);
        await using var proxy = await ProxyHarness.StartAsync(Ir.Snapshot(open));
        var port = proxy.Server.BoundEndPoints[Ir.HttpsPort].Port;
        var first = await ExchangeAsync(port, null);
        Assert.StartsWith("HTTP/1.1 200", first.Response);
        Assert.Contains("Alt-Svc: h3=", first.Response, StringComparison.Ordinal);

        await proxy.Server.ApplyAsync(Ir.Snapshot(Listener(FrontendValidationMode.AllowValidOnly, backend)));
        Assert.Equal(port, proxy.Server.BoundEndPoints[Ir.HttpsPort].Port);
        Assert.Null((await ExchangeAsync(port, null)).Response);
        Assert.StartsWith("HTTP/1.1 200", (await ExchangeAsync(port, _trustedClient)).Response);

        await proxy.Server.ApplyAsync(Ir.Snapshot(open));
        Assert.StartsWith("HTTP/1.1 200", (await ExchangeAsync(port, null)).Response);
    }

    [Fact]
    public async Task CaBundleThatDoesNotParse_IsRefusedAndChangesNothing()
    {
        await using var backend = await TestBackend.StartAsync("a");
        await using var proxy = await ProxyHarness.StartAsync(Ir.Snapshot(Listener(FrontendValidationMode.AllowValidOnly, backend)));
        var port = proxy.Server.BoundEndPoints[Ir.HttpsPort].Port;
        var broken = Listener(FrontendValidationMode.AllowValidOnly, backend) with
        {
            Tls = new TlsIr
            {
                SuppliedByDataPlane = true,
                ClientValidation = new ClientValidationIr
                {
                    Mode = FrontendValidationMode.AllowValidOnly,
                    CaCertificates = [new CaCertificateIr { Name = "configmap/default/broken", CertificatePem = [.. "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"u8] }],
                },
            },
        };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => proxy.Server.ApplyAsync(Ir.Snapshot(broken)));
        Assert.Contains("configmap/default/broken", error.Message, StringComparison.Ordinal);
        Assert.Null((await ExchangeAsync(port, _otherClient)).Response);
        Assert.StartsWith("HTTP/1.1 200", (await ExchangeAsync(port, _trustedClient)).Response);
    }

    private ListenerIr Listener(FrontendValidationMode? mode, TestBackend backend) => new()
    {
        Name = "listener/default/gw/https",
        Protocol = ListenerProtocol.Https,
        Port = Ir.HttpsPort,
        Tls = new TlsIr
        {
            SuppliedByDataPlane = true,
            ClientValidation = mode is not { } m ? null : new ClientValidationIr
            {
                Mode = m,
                CaCertificates = [new CaCertificateIr { Name = "configmap/default/client-ca", CertificatePem = [.. Encoding.ASCII.GetBytes(_trusted.Ca.ExportCertificatePem())] }],
            },
        },
        VirtualHosts = [Ir.VHost("*", Ir.Route("r", [Ir.To(backend)]))],
    };

    /// <summary>One HTTP/1.1 request over TLS 1.3; the response text, or null when the handshake or exchange failed.</summary>
    private static async Task<(string? Response, bool ClientCertificateSent)> ExchangeAsync(int port, X509Certificate2? clientCertificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "gw.test",
                ApplicationProtocols = [SslApplicationProtocol.Http11],
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            });

            // TLS 1.3 finishes the client's side of the handshake before the server has judged its certificate: a
            // refusal arrives as an alert on the first read.
            await tls.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n"));
            using var reader = new StreamReader(tls, leaveOpen: true);
            var response = await reader.ReadToEndAsync();
            return (response.Length == 0 ? null : response, tls.LocalCertificate is not null);
        }
        catch (Exception ex) when (ex is IOException or AuthenticationException)
        {
            return (null, tls.LocalCertificate is not null);
        }
    }

    private static (X509Certificate2, ECDsa) CreateCa(string subject)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return (request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1)), key);
    }

    private static X509Certificate2 Issue((X509Certificate2 Ca, ECDsa Key) issuer, string subject, string usage)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer.Ca, true, false));
        using var signed = request.Create(issuer.Ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(12));
        using var withKey = signed.CopyWithPrivateKey(key);

        // A PKCS#12 round trip gives a key the TLS stack on Linux can use for the client's CertificateVerify.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Switchyard.Ir;

namespace Switchyard.Proxy.Tests.Forwarding;

/// <summary>TLS to backends under a BackendTLSPolicy, through a real proxy and a real TLS backend.</summary>
public sealed class BackendTlsTests : IAsyncLifetime
{
    private readonly RSA _caKey = RSA.Create(2048);
    private X509Certificate2 _ca = null!;
    private WebApplication _backend = null!;
    private int _port;
    private string? _seenSni;
    private string? _seenClient;
    private int _requests;

    public async Task InitializeAsync()
    {
        var request = new CertificateRequest("CN=test-ca", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var serving = Issue("backend.example.com", san =>
        {
            san.AddDnsName("backend.example.com");
            san.AddUri(new Uri("spiffe://example.com/backend"));
        });

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddLogging();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serving,
            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (_, _, _) => true,
        })));
        _backend = builder.Build();
        ((IApplicationBuilder)_backend).Run(context =>
        {
            _seenSni = context.Features.Get<ISslStreamFeature>()?.SslStream.TargetHostName;
            _seenClient = context.Connection.ClientCertificate?.Subject;
            Interlocked.Increment(ref _requests);
            return Task.CompletedTask;
        });
        await _backend.StartAsync();
        _port = new Uri(_backend.Urls.First()).Port;
    }

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        _ca.Dispose();
        _caKey.Dispose();
    }

    [Theory]
    // The certificate carries the policy's hostname and chains to its CA: forwarded with that SNI.
    [InlineData("backend.example.com", null, HttpStatusCode.OK)]
    // The hostname is not in the certificate: the handshake is refused (502).
    [InlineData("other.example.com", null, HttpStatusCode.BadGateway)]
    // A URI SAN the certificate carries replaces the hostname check.
    [InlineData("other.example.com", "spiffe://example.com/backend", HttpStatusCode.OK)]
    // A URI SAN it does not carry is refused even though the hostname would match.
    [InlineData("backend.example.com", "spiffe://example.com/elsewhere", HttpStatusCode.BadGateway)]
    public async Task PolicyNames_DecideWhetherTheBackendIsReached(string hostname, string? uri, HttpStatusCode expected)
    {
        var tls = Policy(hostname, _ca) with { SubjectAltNames = uri is null ? [] : [new SubjectAltNameIr(SubjectAltNameType.Uri, uri)] };
        await using var proxy = await ProxyHarness.StartAsync(Snapshot(tls, null));
        using var response = await proxy.GetAsync("/");
        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.OK)
        {
            Assert.Equal(hostname, _seenSni);
        }
    }

    [Fact]
    public async Task UntrustedCa_Answers502()
    {
        using var otherKey = RSA.Create(2048);
        var other = new CertificateRequest("CN=other-ca", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        other.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var otherCa = other.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        await using var proxy = await ProxyHarness.StartAsync(Snapshot(Policy("backend.example.com", otherCa), null));
        using var response = await proxy.GetAsync("/");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task GatewayClientCertificate_IsPresentedToTheBackend()
    {
        using var client = Issue("gateway-client", san => san.AddDnsName("gateway.example.com"));
        var certificate = new CertificateIr
        {
            Name = "secret/default/client",
            CertificatePem = [.. Encoding.ASCII.GetBytes(client.ExportCertificatePem())],
            PrivateKeyPem = [.. Encoding.ASCII.GetBytes(client.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem())],
        };
        await using var proxy = await ProxyHarness.StartAsync(Snapshot(Policy("backend.example.com", _ca), certificate));
        using var response = await proxy.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("CN=gateway-client", _seenClient);
    }

    [Fact]
    public async Task Mirror_UnderPolicy_IsSentOverTls()
    {
        // Before mirrors honoured BackendTLSPolicy, this copy went in the clear and the TLS backend never saw a request.
        await using var main = await TestBackend.StartAsync("main");
        var mirror = new MirrorIr { Backend = Ir.Backend("tls", 1, new EndpointIr { Host = "127.0.0.1", Port = _port }) with { Tls = Policy("backend.example.com", _ca) } };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(main)]) with { Mirrors = [mirror] }));
        using var response = await proxy.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        for (var i = 0; i < 100 && Volatile.Read(ref _requests) == 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(1, Volatile.Read(ref _requests));
        Assert.Equal("backend.example.com", _seenSni);
        Assert.Single(main.Requests);
    }

    private static BackendTlsIr Policy(string hostname, X509Certificate2 ca) => new()
    {
        Name = "backendtlspolicy/default/test",
        Hostname = hostname,
        CaCertificatesPem = [.. Encoding.ASCII.GetBytes(ca.ExportCertificatePem())],
    };

    private GatewaySnapshot Snapshot(BackendTlsIr tls, CertificateIr? client)
    {
        var backend = new HttpBackendIr { Backend = Ir.Backend("tls", 1, new EndpointIr { Host = "127.0.0.1", Port = _port }) with { Tls = tls } };
        return Ir.HttpSnapshot(Ir.Route("r", [backend])) with { BackendClientCertificate = client };
    }

    private X509Certificate2 Issue(string commonName, Action<SubjectAlternativeNameBuilder> names)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        names(san);
        request.CertificateExtensions.Add(san.Build());
        using var issued = request.Create(_ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), [1, 2, 3, 4]);
        return issued.CopyWithPrivateKey(key);
    }
}

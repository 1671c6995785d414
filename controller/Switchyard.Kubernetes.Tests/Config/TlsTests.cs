using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Config;

namespace Switchyard.Kubernetes.Tests.Config;

/// <summary>The kubeconfig TLS settings against a real HTTPS listener: custom CA trust, bearer token, client certificate.</summary>
public sealed class TlsTests : IAsyncLifetime
{
    private X509Certificate2 _ca = null!;
    private X509Certificate2 _otherCa = null!;
    private X509Certificate2 _client = null!;
    private WebApplication _app = null!;
    private Uri _address = null!;
    private string? _seenAuthorization;
    private string? _seenClientSubject;

    private static X509Certificate2 MakeCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        return req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string cn, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            req.CertificateExtensions.Add(san.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(8);
        using var cert = req.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), serial);
        using var withKey = cert.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    public async Task InitializeAsync()
    {
        _ca = MakeCa("test-ca");
        _otherCa = MakeCa("other-ca");
        var serverCert = Issue(_ca, "apiserver", server: true);
        _client = Issue(_ca, "switchyard-controller", server: false);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serverCert,
            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (_, _, _) => true,
        })));
        _app = builder.Build();
        _app.Run(async ctx =>
        {
            _seenAuthorization = ctx.Request.Headers.Authorization;
            _seenClientSubject = ctx.Connection.ClientCertificate?.Subject;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync("""{"major":"1","minor":"32"}""");
        });
        await _app.StartAsync();
        _address = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _ca.Dispose();
        _otherCa.Dispose();
        _client.Dispose();
    }

    private static string B64(string pem) => Convert.ToBase64String(Encoding.UTF8.GetBytes(pem));

    private string Kubeconfig(X509Certificate2 ca, bool withClientCert) =>
        $$"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster:
            server: {{_address.GetLeftPart(UriPartial.Authority)}}
            certificate-authority-data: {{B64(ca.ExportCertificatePem())}}
        users:
        - name: u
          user:
            token: sekrit
        {{(withClientCert ? $"    client-certificate-data: {B64(_client.ExportCertificatePem())}\n    client-key-data: {B64(_client.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem())}" : "")}}
        contexts:
        - name: x
          context: {cluster: c, user: u}
        current-context: x
        """;

    [Fact]
    public async Task CustomCa_TrustsServerAndSendsTokenAndClientCertificate()
    {
        var config = KubernetesClientConfiguration.FromKubeconfigText(Kubeconfig(_ca, withClientCert: true));
        using var client = new KubernetesClient(config);
        var version = await client.GetJsonAsync("/version");
        Assert.Equal("32", version.Str("minor"));
        Assert.Equal("Bearer sekrit", _seenAuthorization);
        Assert.Equal("CN=switchyard-controller", _seenClientSubject);
    }

    [Fact]
    public async Task WrongCa_RejectsServerCertificate()
    {
        var config = KubernetesClientConfiguration.FromKubeconfigText(Kubeconfig(_otherCa, withClientCert: false));
        using var client = new KubernetesClient(config);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetJsonAsync("/version"));
    }
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Switchyard.Controller.Providers;
using Switchyard.Controller.Translation;
using Switchyard.Gateway.DataPlane;
using Switchyard.Http3;
using Switchyard.Http3.Client;
using Switchyard.Ir;
using Switchyard.Quic.Udp;
using Switchyard.Tests.EndToEnd;
using Switchyard.Tls;
using Switchyard.Transport;
using Xunit.Abstractions;

namespace Switchyard.Tests.DataPlane;

/// <summary>
/// <see cref="DataPlaneHost"/> in-process over real sockets, with snapshots translated from YAML: HTTP/3 requests
/// with and without bodies go through the HTTPRoute pipeline, and snapshot swaps change routes without rebinding.
/// </summary>
public sealed class DataPlaneHostTests(ITestOutputHelper output)
{
    private const string Gateway = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata:
          name: switchyard
        spec:
          controllerName: switchyard.dev/gateway-controller
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: web
          namespace: default
        spec:
          gatewayClassName: switchyard
          listeners:
          - name: https
            port: 8443
            protocol: HTTPS
        """;

    private const string Route = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: echo
          namespace: default
        spec:
          parentRefs:
          - name: web
          rules:
          - matches:
            - path:
                type: PathPrefix
                value: /h3
            backendRefs:
            - name: echo
              port: 80
        """;

    [Fact]
    public async Task Http3Requests_WithAndWithoutBody_GoThroughTheHttpRoute()
    {
        await using var echo = await EchoBackend.StartAsync();
        await using var fixture = await HostFixture.StartAsync(output, Snapshot(echo, withRoute: true));
        await using var client = await fixture.ConnectAsync();

        // A GET whose HEADERS end the stream: forwarded without a body.
        var get = await client.SendAsync(new Http3RequestHead { Method = "GET", Authority = fixture.Authority, Path = "/h3/get" });
        Assert.Equal(200, get.StatusCode);
        var getEcho = JsonNode.Parse(get.Body.Span)!;
        Assert.Equal(echo.Name, (string?)getEcho["backend"]);
        Assert.Equal("/h3/get", (string?)getEcho["path"]);
        Assert.Equal(string.Empty, (string?)getEcho["chunked"]);
        Assert.Equal("application/json", get.Head.GetHeader("content-type"));

        // A POST streamed in two DATA frames without content-length: the body arrives whole.
        var stream = await client.SendRequestHeadersAsync(new Http3RequestHead { Method = "POST", Authority = fixture.Authority, Path = "/h3/post" });
        await stream.WriteAsync("hello, "u8.ToArray());
        await Task.Delay(50);
        await stream.WriteAsync("backend"u8.ToArray());
        await stream.CompleteAsync();
        var head = await stream.ReadResponseAsync();
        Assert.Equal(200, head.StatusCode);
        var post = JsonNode.Parse(await ReadToEndAsync(stream))!;
        Assert.Equal("POST", (string?)post["method"]);
        Assert.Equal("hello, backend", (string?)post["body"]);

        // A POST with content-length.
        var sized = new Http3RequestHead { Method = "POST", Authority = fixture.Authority, Path = "/h3/sized" };
        sized.Headers.Add(new HeaderField("content-length", "3"));
        var sizedResponse = await client.SendAsync(sized, "abc"u8.ToArray());
        Assert.Equal("abc", (string?)JsonNode.Parse(sizedResponse.Body.Span)!["body"]);
    }

    [Fact]
    public async Task SnapshotSwap_RemovedRouteIs404OnTheSameConnection_AndRemoveReleasesThePort()
    {
        await using var echo = await EchoBackend.StartAsync();
        await using var fixture = await HostFixture.StartAsync(output, Snapshot(echo, withRoute: true));
        var udp = fixture.Listener.UdpEndPoint;
        await using var client = await fixture.ConnectAsync();
        Assert.Equal(200, (await client.SendAsync(new Http3RequestHead { Authority = fixture.Authority, Path = "/h3/a" })).StatusCode);

        // The same Gateway without the route: same sockets, same connection, now 404.
        await fixture.Host.ApplyAsync(Snapshot(echo, withRoute: false));
        Assert.Equal(udp, Assert.Single(fixture.Host.Listeners).UdpEndPoint);
        Assert.Equal(404, (await client.SendAsync(new Http3RequestHead { Authority = fixture.Authority, Path = "/h3/a" })).StatusCode);

        // And back.
        await fixture.Host.ApplyAsync(Snapshot(echo, withRoute: true));
        Assert.Equal(200, (await client.SendAsync(new Http3RequestHead { Authority = fixture.Authority, Path = "/h3/b" })).StatusCode);

        // Removing the Gateway releases its TCP port.
        var tcp = fixture.Listener.TcpEndPoint;
        await fixture.Host.RemoveAsync("default/web");
        Assert.Empty(fixture.Host.Listeners);
        using var probe = new System.Net.Sockets.TcpListener(tcp);
        probe.Start();
        probe.Stop();
    }

    [Fact]
    public async Task InvalidSnapshot_IsRefused_AndTheLastGoodOneKeepsServing()
    {
        await using var echo = await EchoBackend.StartAsync();
        await using var fixture = await HostFixture.StartAsync(output, Snapshot(echo, withRoute: true));
        var good = Snapshot(echo, withRoute: true);
        var invalid = good with { Listeners = [good.Listeners[0] with { Port = 0 }] };
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Host.ApplyAsync(invalid));
        await using var client = await fixture.ConnectAsync();
        Assert.Equal(200, (await client.SendAsync(new Http3RequestHead { Authority = fixture.Authority, Path = "/h3/still" })).StatusCode);
    }

    [Fact]
    public async Task ClientCertificateValidation_ServesThePortOnTcpOnly_AndHttp3ComesBackWithoutIt()
    {
        await using var echo = await EchoBackend.StartAsync();
        var open = Snapshot(echo, withRoute: true);
        await using var fixture = await HostFixture.StartAsync(output, open);
        var tcp = fixture.Listener.TcpEndPoint;
        Assert.NotNull(fixture.Listener.UdpEndPoint);

        // The managed QUIC stack cannot ask for a client certificate: the port keeps its TCP socket and loses its UDP one.
        using var caKey = System.Security.Cryptography.ECDsa.Create();
        var caRequest = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=client CA", caKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var validation = new ClientValidationIr
        {
            Mode = FrontendValidationMode.AllowValidOnly,
            CaCertificates = [new CaCertificateIr { Name = "configmap/default/client-ca", CertificatePem = [.. Encoding.ASCII.GetBytes(ca.ExportCertificatePem())] }],
        };
        var validating = open with { Listeners = [.. open.Listeners.Select(l => l with { Tls = l.Tls! with { ClientValidation = validation } })] };
        await fixture.Host.ApplyAsync(validating);
        Assert.Equal(tcp, fixture.Listener.TcpEndPoint);
        Assert.Null(fixture.Listener.UdpEndPoint);
        Assert.Null(fixture.Host.GetWebTransportGateway("default/web", 8443));

        await fixture.Host.ApplyAsync(open);
        Assert.NotNull(fixture.Listener.UdpEndPoint);
        await using var client = await fixture.ConnectAsync();
        Assert.Equal(200, (await client.SendAsync(new Http3RequestHead { Authority = fixture.Authority, Path = "/h3/again" })).StatusCode);
    }

    private static GatewaySnapshot Snapshot(EchoBackend echo, bool withRoute)
    {
        var directory = Directory.CreateTempSubdirectory("switchyard-dp-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "gateway.yaml"), Gateway);
            File.WriteAllText(Path.Combine(directory, "backend.yaml"), echo.Manifests("echo"));
            if (withRoute)
            {
                File.WriteAllText(Path.Combine(directory, "route.yaml"), Route);
            }

            var load = FileProvider.LoadDirectory(directory);
            Assert.True(load.Succeeded, string.Join('\n', load.Errors));
            var result = Translator.Translate(load.Snapshot!, new TranslatorOptions { DataPlaneSuppliesMissingCertificates = true });
            return Assert.Single(result.Snapshots);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<string> ReadToEndAsync(Http3ClientStream stream)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        int n;
        while ((n = await stream.ReadBodyAsync(buffer)) > 0)
        {
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }

        return text.ToString();
    }

    private sealed class HostFixture : IAsyncDisposable
    {
        private readonly ILoggerFactory _logging;
        private readonly System.Security.Cryptography.X509Certificates.X509Certificate2 _certificate;

        private HostFixture(DataPlaneHost host, ILoggerFactory logging, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
        {
            Host = host;
            _logging = logging;
            _certificate = certificate;
        }

        public DataPlaneHost Host { get; }

        public DataPlaneListener Listener => Assert.Single(Host.Listeners);

        public string Authority => $"127.0.0.1:{Listener.UdpEndPoint!.Port}";

        public static async Task<HostFixture> StartAsync(ITestOutputHelper output, GatewaySnapshot snapshot)
        {
            var logging = LoggerFactory.Create(b => b.AddProvider(new TestOutputLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));
            var certificate = TlsCertificates.CreateSelfSignedEcdsaP256(["127.0.0.1", "localhost"], TimeSpan.FromDays(1));
            var host = new DataPlaneHost(ManagedQuicTransport.Instance, new DataPlaneHostOptions
            {
                DataPlaneCertificate = certificate,
                EndPointFor = (_, _, _) => new IPEndPoint(IPAddress.Loopback, 0),
                ShutdownTimeout = TimeSpan.FromSeconds(1),
            }, logging);
            await host.ApplyAsync(snapshot);
            return new HostFixture(host, logging, certificate);
        }

        public async Task<H3Client> ConnectAsync()
        {
            var quic = await ManagedQuicTransport.Instance.ConnectAsync(new QuicClientOptions
            {
                RemoteEndPoint = Listener.UdpEndPoint!,
                TargetHostName = "localhost",
                ApplicationProtocols = ["h3"],
                PinnedCertificateSha256 = TlsCertificates.Sha256OfDer(_certificate),
            });
            return new H3Client(quic, await Http3ClientConnection.ConnectAsync(quic));
        }

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            _certificate.Dispose();
            _logging.Dispose();
        }
    }

    private sealed class H3Client(IQuicConnection quic, Http3ClientConnection h3) : IAsyncDisposable
    {
        public Task<Http3ResponseMessage> SendAsync(Http3RequestHead head, ReadOnlyMemory<byte> body = default) => h3.SendAsync(head, body);

        public ValueTask<Http3ClientStream> SendRequestHeadersAsync(Http3RequestHead head) => h3.SendRequestHeadersAsync(head);

        public async ValueTask DisposeAsync()
        {
            await h3.DisposeAsync();
            await quic.DisposeAsync();
        }
    }
}

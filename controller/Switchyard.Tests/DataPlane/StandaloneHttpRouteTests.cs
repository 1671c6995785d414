using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Switchyard.Controller.Tests.Integration;
using Switchyard.Tls;

namespace Switchyard.Tests.DataPlane;

/// <summary>
/// <c>switchyard run --manifests DIR</c> as a process, with a Gateway holding an HTTP and an HTTPS listener, an
/// HTTPRoute to an echo backend named by a Service and an EndpointSlice: the route is served on HTTP/1.1, on HTTP/2
/// over TLS with <c>Alt-Svc</c>, and on HTTP/3 to ngtcp2's <c>gtlsclient</c>.
/// </summary>
public sealed class StandaloneHttpRouteTests(StandaloneHttpRouteTests.RunFixture run) : IClassFixture<StandaloneHttpRouteTests.RunFixture>
{
    [Fact]
    public async Task Http11GetOnHttpListener_ReturnsTheBackendsAnswer()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{run.Http}/plain/hello") { Version = HttpVersion.Version11 };
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}\n{run.Process.Describe()}");
        var echo = JsonNode.Parse(body)!;
        Assert.Equal(run.Echo.Name, (string?)echo["backend"]);
        Assert.Equal("/plain/hello", (string?)echo["path"]);
        Assert.Equal("GET", (string?)echo["method"]);

        // Plain HTTP listeners do not advertise HTTP/3.
        Assert.False(response.Headers.Contains("Alt-Svc"));
    }

    [Fact]
    public async Task Http2OverTlsOnHttpsListener_ReturnsTheBackendsAnswerAndAdvertisesHttp3()
    {
        using var http = run.CreateHttpsClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://127.0.0.1:{run.Https.Port}/tls/h2")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}\n{run.Process.Describe()}");
        Assert.Equal(HttpVersion.Version20, response.Version);
        var echo = JsonNode.Parse(body)!;
        Assert.Equal(run.Echo.Name, (string?)echo["backend"]);
        Assert.Equal("/tls/h2", (string?)echo["path"]);

        // RFC 7838: HTTP/3 is on the UDP port the HTTPS listener is bound to.
        // (HttpClient consumes Alt-Svc and re-renders it without "ma"; the raw field is checked over HTTP/1.1 below.)
        Assert.True(response.Headers.TryGetValues("Alt-Svc", out var altSvc), "no Alt-Svc on an HTTPS response");
        Assert.Equal($"h3=\":{run.Https.Port}\"", Assert.Single(altSvc));
        Assert.Equal(run.Https.Port, run.Quic.Port);
    }

    [Fact]
    public async Task Http11OverTlsOnHttpsListener_AlsoServedWithRawAltSvc()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, run.Https.Port);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString(HashAlgorithmName.SHA256) == run.Certificate.GetCertHashString(HashAlgorithmName.SHA256));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", ApplicationProtocols = [SslApplicationProtocol.Http11] });
        await tls.WriteAsync(Encoding.ASCII.GetBytes("POST /tls/h1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"));
        using var reader = new StreamReader(tls);
        var response = await reader.ReadToEndAsync();
        Assert.True(response.StartsWith("HTTP/1.1 200", StringComparison.Ordinal), response + "\n" + run.Process.Describe());
        Assert.Contains($"\r\nAlt-Svc: h3=\":{run.Quic.Port}\"; ma=86400\r\n", response, StringComparison.Ordinal);
        // The body may come chunked: the JSON object is between the first '{' and the last '}'.
        var json = response[response.IndexOf('{', StringComparison.Ordinal)..(response.LastIndexOf('}') + 1)];
        var echo = JsonNode.Parse(json)!;
        Assert.Equal(run.Echo.Name, (string?)echo["backend"]);
        Assert.Equal("POST", (string?)echo["method"]);
        Assert.Equal("/tls/h1", (string?)echo["path"]);
    }

    [Fact]
    public async Task GtlsclientGetOverHttp3_ReturnsTheBackendsAnswer()
    {
        var gtlsclient = new[] { "/usr/bin/gtlsclient", "/usr/local/bin/gtlsclient" }.FirstOrDefault(File.Exists);
        Assert.True(gtlsclient is not null, "gtlsclient is not installed (Debian package ngtcp2-client)");
        var downloads = Directory.CreateTempSubdirectory("switchyard-h3-").FullName;
        try
        {
            var before = run.Echo.Requests;
            var url = $"https://127.0.0.1:{run.Quic.Port}/h3-echo";
            var (code, output) = await Task.Run(() => Repo.Run(gtlsclient!, ["--exit-on-all-streams-close", "--no-quic-dump", "--download=" + downloads, "127.0.0.1", run.Quic.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), url], TimeSpan.FromSeconds(60)));
            var context = $"gtlsclient exited {code}\n{output}\n{run.Process.Describe()}";
            var file = Path.Combine(downloads, "h3-echo");
            Assert.True(File.Exists(file), $"nothing was downloaded\n{context}");
            var echo = JsonNode.Parse(await File.ReadAllTextAsync(file))!;
            Assert.Equal(run.Echo.Name, (string?)echo["backend"]);
            Assert.Equal("/h3-echo", (string?)echo["path"]);
            Assert.Equal("GET", (string?)echo["method"]);
            Assert.Equal($"127.0.0.1:{run.Quic.Port}", (string?)echo["host"]);
            Assert.True(run.Echo.Requests > before, context);
        }
        finally
        {
            Directory.Delete(downloads, recursive: true);
        }
    }

    [Fact]
    public async Task PathWithoutRoute_Is404OnEveryProtocol()
    {
        using var http = new HttpClient();
        using var plain = await http.GetAsync(new Uri($"http://{run.Http}/not-routed"));
        Assert.Equal(HttpStatusCode.NotFound, plain.StatusCode);
        using var https = run.CreateHttpsClient();
        using var tls = await https.GetAsync(new Uri($"https://127.0.0.1:{run.Https.Port}/not-routed"));
        Assert.Equal(HttpStatusCode.NotFound, tls.StatusCode);
    }

    /// <summary>One <c>switchyard run</c> process for the class, with its manifests, certificate and echo backend.</summary>
    public sealed class RunFixture : IAsyncLifetime
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("switchyard-run-").FullName;

        internal CliProcess Process { get; private set; } = null!;

        internal EchoBackend Echo { get; private set; } = null!;

        public X509Certificate2 Certificate { get; private set; } = null!;

        public IPEndPoint Http { get; private set; } = null!;

        public IPEndPoint Https { get; private set; } = null!;

        public IPEndPoint Quic { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Echo = await EchoBackend.StartAsync();
            var manifests = Path.Combine(_directory, "manifests");
            Directory.CreateDirectory(manifests);
            await File.WriteAllTextAsync(Path.Combine(manifests, "gateway.yaml"), """
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
                  - name: http
                    port: 8080
                    protocol: HTTP
                  - name: https
                    port: 8443
                    protocol: HTTPS
                ---
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
                        value: /plain
                    - path:
                        type: PathPrefix
                        value: /tls
                    - path:
                        type: Exact
                        value: /h3-echo
                    backendRefs:
                    - name: echo
                      port: 80
                """);
            await File.WriteAllTextAsync(Path.Combine(manifests, "backend.yaml"), Echo.Manifests("echo"));

            // The test's own certificate, so the client can check it is talking to this gateway.
            Certificate = TlsCertificates.CreateSelfSignedEcdsaP256(["127.0.0.1", "localhost"], TimeSpan.FromDays(2));
            var cert = Path.Combine(_directory, "cert.pem");
            var key = Path.Combine(_directory, "key.pem");
            await File.WriteAllTextAsync(cert, Certificate.ExportCertificatePem());
            using (var ecdsa = Certificate.GetECDsaPrivateKey()!)
            {
                await File.WriteAllTextAsync(key, ecdsa.ExportPkcs8PrivateKeyPem());
            }

            Process = new CliProcess("switchyard run", "run", "--manifests", manifests, "--cert", cert, "--key", key,
                "--bind", "8080=127.0.0.1:0", "--bind", "8443=127.0.0.1:0", "--admin", "127.0.0.1:0");
            var http = await Process.WaitForLineAsync(ServingLine.For("default/web", 8080), TimeSpan.FromSeconds(90));
            var https = await Process.WaitForLineAsync(ServingLine.For("default/web", 8443), TimeSpan.FromSeconds(30));
            Http = ServingLine.Parse(http).Tcp;
            (Https, var udp) = ServingLine.Parse(https);
            Quic = udp ?? throw new InvalidOperationException($"the HTTPS listener serves no UDP: {https}");
        }

        public HttpClient CreateHttpsClient()
        {
            var thumbprint = Certificate.GetCertHashString(HashAlgorithmName.SHA256);
            return new HttpClient(new SocketsHttpHandler
            {
                SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString(HashAlgorithmName.SHA256) == thumbprint },
            });
        }

        public async Task DisposeAsync()
        {
            Process?.Dispose();
            if (Echo is not null)
            {
                await Echo.DisposeAsync();
            }

            Certificate?.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }
}

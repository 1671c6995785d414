using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Switchyard.Ir;
using Switchyard.Proxy.Listeners;

namespace Switchyard.Proxy.Tests.Listeners;

public class ListenerTests
{
    private static CertificateIr MakeCertificate(string name, params string[] dnsNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + dnsNames[0], key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var dns in dnsNames)
        {
            san.AddDnsName(dns);
        }

        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return new CertificateIr
        {
            Name = "secret/default/" + name,
            CertificatePem = [.. Encoding.ASCII.GetBytes(cert.ExportCertificatePem())],
            PrivateKeyPem = [.. Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem())],
        };
    }

    private static ListenerIr Https(string name, string? hostname, CertificateIr[] certificates, params HttpRouteIr[] routes) => new()
    {
        Name = "listener/default/gw/" + name,
        Protocol = ListenerProtocol.Https,
        Port = Ir.HttpsPort,
        Hostname = hostname,
        Tls = new TlsIr { Certificates = [.. certificates] },
        VirtualHosts = [Ir.VHost(hostname ?? "*", routes)],
    };

    /// <summary>A client that connects to 127.0.0.1:<paramref name="port"/> whatever the URL's host, records the server certificate, and trusts it.</summary>
    private static HttpClient TlsClient(int port, ConcurrentQueue<string> subjects) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
        SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                subjects.Enqueue(certificate!.Subject);
                return true;
            },
        },
    });

    [Fact]
    public async Task HttpsListeners_SniSelectsCertificate_Http2AndAltSvc()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        var certA = MakeCertificate("a", "a.test");
        var certB = MakeCertificate("b", "b.test");
        var certWild = MakeCertificate("w", "*.wild.test");
        var snapshot = Ir.Snapshot(
            Https("a", "a.test", [certA], Ir.Route("ra", [Ir.To(a)])),
            Https("b", "b.test", [certB], Ir.Route("rb", [Ir.To(b)])),
            // One listener with two certificates: the one whose name covers the SNI is chosen.
            Https("w", "*.wild.test", [certA, certWild], Ir.Route("rw", [Ir.To(a)])));
        await using var proxy = await ProxyHarness.StartAsync(snapshot);
        var port = proxy.Server.BoundEndPoints[Ir.HttpsPort].Port;
        var subjects = new ConcurrentQueue<string>();
        using var client = TlsClient(port, subjects);

        foreach (var (host, backend, subject) in new[] { ("a.test", "a", "CN=a.test"), ("b.test", "b", "CN=b.test"), ("x.wild.test", "a", "CN=*.wild.test") })
        {
            subjects.Clear();
            using var request = new HttpRequestMessage(HttpMethod.Get, $"https://{host}:{port}/") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HttpVersion.Version20, response.Version);
            Assert.Equal(backend, response.Header("X-Backend"));
            // HttpClient consumes Alt-Svc itself and re-renders it without "ma"; the raw text is checked in the 421 test.
            Assert.StartsWith($"h3=\":{Ir.HttpsPort}\"", response.Header("Alt-Svc"));
            Assert.Equal(subject, Assert.Single(subjects));
        }

        // HTTP/1.1 over TLS works too.
        using var h1 = new HttpRequestMessage(HttpMethod.Get, $"https://a.test:{port}/") { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var h1Response = await client.SendAsync(h1);
        Assert.Equal(HttpVersion.Version11, h1Response.Version);
        Assert.Equal("a", h1Response.Header("X-Backend"));
    }

    [Fact]
    public async Task HostForOtherListenerThanSni_Answers421()
    {
        await using var a = await TestBackend.StartAsync("a");
        var snapshot = Ir.Snapshot(
            Https("a", "a.test", [MakeCertificate("a", "a.test")], Ir.Route("ra", [Ir.To(a)])),
            Https("b", "b.test", [MakeCertificate("b", "b.test")], Ir.Route("rb", [Ir.To(a)])));
        await using var proxy = await ProxyHarness.StartAsync(snapshot);
        var port = proxy.Server.BoundEndPoints[Ir.HttpsPort].Port;

        // SocketsHttpHandler sends the Host header as SNI, so speak HTTP/1.1 over a raw SslStream to make them differ.
        async Task<string> StatusLineAsync(string sni, string host)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = sni, ApplicationProtocols = [SslApplicationProtocol.Http11] });
            await tls.WriteAsync(Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"));
            using var reader = new StreamReader(tls);
            return await reader.ReadToEndAsync();
        }

        Assert.StartsWith("HTTP/1.1 421", await StatusLineAsync("a.test", "b.test"));
        var ok = await StatusLineAsync("a.test", "a.test");
        Assert.StartsWith("HTTP/1.1 200", ok);
        Assert.Contains($"\r\nAlt-Svc: h3=\":{Ir.HttpsPort}\"; ma=86400\r\n", ok);
    }

    [Fact]
    public async Task NewCertificateBytes_ApplyToNewConnectionsWithoutRestart()
    {
        await using var a = await TestBackend.StartAsync("a");
        var first = MakeCertificate("a", "a.test");
        await using var proxy = await ProxyHarness.StartAsync(Ir.Snapshot(Https("a", "a.test", [first], Ir.Route("ra", [Ir.To(a)]))));
        var port = proxy.Server.BoundEndPoints[Ir.HttpsPort].Port;

        async Task<string> ThumbprintAsync()
        {
            string? thumbprint = null;
            using var client = new HttpClient(new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                },
                SslOptions = new SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, c, _, _) =>
                    {
                        thumbprint = c!.GetCertHashString();
                        return true;
                    },
                },
            });
            using var response = await client.GetAsync($"https://a.test:{port}/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return thumbprint!;
        }

        var before = await ThumbprintAsync();
        var second = MakeCertificate("a", "a.test");
        await proxy.Server.ApplyAsync(Ir.Snapshot(Https("a", "a.test", [second], Ir.Route("ra", [Ir.To(a)]))));
        var after = await ThumbprintAsync();
        Assert.NotEqual(before, after);
        Assert.Equal(port, proxy.Server.BoundEndPoints[Ir.HttpsPort].Port);
    }

    [Fact]
    public async Task RouteSwapsUnderLoad_FailNoRequest()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(a)])));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var failures = 0;
        var served = new ConcurrentDictionary<string, int>();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await proxy.GetAsync("/");
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }

                served.AddOrUpdate(response.Header("X-Backend") ?? "?", 1, (_, n) => n + 1);
            }
        })).ToArray();

        var swaps = 0;
        while (!stop.IsCancellationRequested)
        {
            var target = swaps++ % 2 == 0 ? b : a;
            await proxy.Server.ApplyAsync(Ir.HttpSnapshot(Ir.Route("r" + swaps, [Ir.To(target)])));
            await Task.Delay(20);
        }

        await Task.WhenAll(load);
        Assert.Equal(0, failures);
        Assert.True(swaps > 10);
        Assert.True(served.ContainsKey("a") && served.ContainsKey("b"));
    }

    [Fact]
    public async Task PortSetChanges_RestartOnlyAffectedPorts()
    {
        await using var a = await TestBackend.StartAsync("a");
        var http = Ir.Http(Ir.VHost("*", Ir.Route("r", [Ir.To(a)])));
        await using var proxy = await ProxyHarness.StartAsync(Ir.Snapshot(http));
        var original = proxy.Server.BoundEndPoints[Ir.HttpPort];

        var extra = http with { Name = "listener/default/gw/extra", Port = 9090 };
        await proxy.Server.ApplyAsync(Ir.Snapshot(http, extra));
        Assert.Equal(original, proxy.Server.BoundEndPoints[Ir.HttpPort]);
        using (var response = await proxy.Client.GetAsync(proxy.Url("/", 9090)))
        {
            Assert.Equal("a", response.Header("X-Backend"));
        }

        var extraEndPoint = proxy.Server.BoundEndPoints[9090];
        await proxy.Server.ApplyAsync(Ir.Snapshot(http));
        Assert.False(proxy.Server.BoundEndPoints.ContainsKey(9090));
        Assert.Equal(original, proxy.Server.BoundEndPoints[Ir.HttpPort]);
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync(extraEndPoint));
    }

    [Fact]
    public async Task InvalidSnapshot_IsRejectedAndOldOneKeepsServing()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(a)])));
        var bad = Ir.HttpSnapshot(Ir.Route("r") with { Redirect = new RedirectIr { StatusCode = 299 } });
        await Assert.ThrowsAsync<ArgumentException>(() => proxy.Server.ApplyAsync(bad));
        var badCert = Ir.Snapshot(Https("x", null, [new CertificateIr { Name = "secret/default/bad", CertificatePem = [1, 2], PrivateKeyPem = [3] }], Ir.Route("r", [Ir.To(a)])));
        await Assert.ThrowsAsync<ArgumentException>(() => proxy.Server.ApplyAsync(badCert));
        using var response = await proxy.GetAsync("/");
        Assert.Equal("a", response.Header("X-Backend"));
    }

    [Fact]
    public async Task AltSvcPortFor_NamesTheHttp3SocketsPort_OrSilencesTheAdvertisement()
    {
        await using var a = await TestBackend.StartAsync("a");
        var snapshot = Ir.Snapshot(Https("a", "a.test", [MakeCertificate("a", "a.test")], Ir.Route("ra", [Ir.To(a)])));

        async Task<string> ResponseAsync(Func<int, int?> altSvcPortFor)
        {
            await using var server = new ProxyServer(new ProxyServerOptions
            {
                EndPointFor = _ => new IPEndPoint(IPAddress.Loopback, 0),
                AltSvcPortFor = altSvcPortFor,
                ShutdownTimeout = TimeSpan.FromSeconds(2),
            });
            await server.ApplyAsync(snapshot);
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, server.BoundEndPoints[Ir.HttpsPort].Port);
            await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "a.test", ApplicationProtocols = [SslApplicationProtocol.Http11] });
            await tls.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"));
            using var reader = new StreamReader(tls);
            return await reader.ReadToEndAsync();
        }

        // A data plane whose UDP socket for listener port 8443 is bound on 40001 advertises that port (RFC 7838 §3).
        var mapped = await ResponseAsync(port => port == Ir.HttpsPort ? 40001 : null);
        Assert.StartsWith("HTTP/1.1 200", mapped);
        Assert.Contains("\r\nAlt-Svc: h3=\":40001\"; ma=86400\r\n", mapped);

        // A port with no HTTP/3 socket is not advertised at all.
        var silent = await ResponseAsync(_ => null);
        Assert.StartsWith("HTTP/1.1 200", silent);
        Assert.DoesNotContain("Alt-Svc", silent, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SelectCertificate_FollowsSniAndSnapshots_NullForPortsWithoutTls()
    {
        await using var a = await TestBackend.StartAsync("a");
        var certA = MakeCertificate("a", "a.test");
        var certB = MakeCertificate("b", "b.test");
        await using var proxy = await ProxyHarness.StartAsync(Ir.Snapshot(
            Ir.Http(Ir.VHost("*", Ir.Route("plain", [Ir.To(a)]))),
            Https("a", "a.test", [certA], Ir.Route("ra", [Ir.To(a)])),
            Https("b", "b.test", [certB], Ir.Route("rb", [Ir.To(a)]))));

        // The HTTP/3 listener on the HTTPS port's UDP asks per handshake, and gets what TCP would present.
        Assert.Equal("CN=a.test", proxy.Server.SelectCertificate(Ir.HttpsPort, "a.test")?.Subject);
        Assert.Equal("CN=b.test", proxy.Server.SelectCertificate(Ir.HttpsPort, "b.test")?.Subject);
        Assert.True(proxy.Server.SelectCertificate(Ir.HttpsPort, "a.test")!.HasPrivateKey);
        Assert.Null(proxy.Server.SelectCertificate(Ir.HttpPort, "a.test"));
        Assert.Null(proxy.Server.SelectCertificate(9999, "a.test"));

        // New certificate bytes for b.test reach the next handshake.
        var renewed = MakeCertificate("b", "b.test");
        var before = proxy.Server.SelectCertificate(Ir.HttpsPort, "b.test")!.Thumbprint;
        await proxy.Server.ApplyAsync(Ir.Snapshot(
            Ir.Http(Ir.VHost("*", Ir.Route("plain", [Ir.To(a)]))),
            Https("a", "a.test", [certA], Ir.Route("ra", [Ir.To(a)])),
            Https("b", "b.test", [renewed], Ir.Route("rb", [Ir.To(a)]))));
        Assert.NotEqual(before, proxy.Server.SelectCertificate(Ir.HttpsPort, "b.test")!.Thumbprint);
    }

    private sealed class RecordingWriter : IHttpResponseWriter
    {
        public int Status { get; private set; }

        public List<KeyValuePair<string, string>> Headers { get; } = [];

        public MemoryStream Body { get; } = new();

        public bool Completed { get; private set; }

        public bool Aborted { get; private set; }

        public ValueTask StartAsync(int statusCode, IReadOnlyList<KeyValuePair<string, string>> headers, CancellationToken cancellationToken)
        {
            Status = statusCode;
            Headers.AddRange(headers);
            return ValueTask.CompletedTask;
        }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            Body.Write(data.Span);
            return ValueTask.CompletedTask;
        }

        public ValueTask CompleteAsync(IReadOnlyList<KeyValuePair<string, string>> trailers, CancellationToken cancellationToken)
        {
            Completed = true;
            return ValueTask.CompletedTask;
        }

        public void Abort() => Aborted = true;
    }

    [Fact]
    public async Task Http3Seam_RunsSamePipeline()
    {
        await using var a = await TestBackend.StartAsync("a");
        var route = Ir.Route("r", [Ir.To(a)], path: "/api") with
        {
            Rewrite = new UrlRewriteIr { Path = new PathModifierIr { Type = PathModifierType.ReplacePrefixMatch, Value = "/v2" } },
        };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));
        var handler = proxy.Server.GetRequestHandler(Ir.HttpPort);

        var writer = new RecordingWriter();
        await handler.HandleAsync(
            new ProxiedHttpRequest
            {
                Method = "POST",
                Scheme = "https",
                Authority = "h3.example",
                PathAndQuery = "/api/items?x=1",
                Headers = [new("content-length", "5"), new("x-client", "h3")],
                Body = new MemoryStream("hello"u8.ToArray()),
                RemoteEndPoint = new IPEndPoint(IPAddress.Parse("192.0.2.7"), 5555),
            },
            writer,
            CancellationToken.None);
        Assert.Equal(200, writer.Status);
        Assert.True(writer.Completed);
        Assert.False(writer.Aborted);
        Assert.Equal("a", Encoding.ASCII.GetString(writer.Body.ToArray()));
        var seen = Assert.Single(a.Requests);
        Assert.Equal("/v2/items?x=1", seen.PathAndQuery);
        Assert.Equal(5, seen.BodyLength);
        Assert.Equal("h3", seen.Headers["x-client"]);
        Assert.Equal("h3.example", seen.Headers["Host"]);
        Assert.Equal("192.0.2.7", seen.Headers["X-Forwarded-For"]);

        var missing = new RecordingWriter();
        await handler.HandleAsync(new ProxiedHttpRequest { Method = "GET", Scheme = "https", Authority = "h3.example", PathAndQuery = "/nothing" }, missing, CancellationToken.None);
        Assert.Equal(404, missing.Status);
        Assert.True(missing.Completed);
    }
}

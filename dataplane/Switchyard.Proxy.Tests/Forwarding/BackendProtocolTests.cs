using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Switchyard.Ir;
using Switchyard.Proxy.Listeners;

namespace Switchyard.Proxy.Tests.Forwarding;

public class BackendProtocolTests
{
    private static HttpRouteIr RouteTo(TestBackend backend, BackendProtocol protocol, CorsIr? cors = null) => RouteTo(backend.Endpoint, protocol, cors);

    private static HttpRouteIr RouteTo(EndpointIr endpoint, BackendProtocol protocol, CorsIr? cors = null) => Ir.Route("r") with
    {
        Backends = [new HttpBackendIr { Backend = Ir.Backend("b", 1, endpoint) with { Protocol = protocol } }],
        Cors = cors,
    };

    private static Func<HttpContext, Task> ProtocolEcho => context => context.Response.WriteAsync(context.Request.Protocol);

    [Fact]
    public async Task H2cBackend_IsSpokenToWithPriorKnowledge()
    {
        // An HTTP/2-only cleartext Kestrel endpoint accepts nothing but prior knowledge.
        await using var backend = await TestBackend.StartAsync("h2c", ProtocolEcho, HttpProtocols.Http2);
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(RouteTo(backend, BackendProtocol.H2c)));

        using var response = await proxy.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("HTTP/2", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task H2cOnlyBackend_DeclaredHttp1_Fails()
    {
        await using var backend = await TestBackend.StartAsync("h2c", ProtocolEcho, HttpProtocols.Http2);
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(RouteTo(backend, BackendProtocol.Http1)));

        // Kestrel answers HTTP/1.1 on its HTTP/2-only endpoint with a 400, which the gateway relays: never the echo.
        using var response = await proxy.GetAsync("/");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotEqual("HTTP/2", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HttpListener_ServesHttp11AndH2cPriorKnowledge()
    {
        await using var backend = await TestBackend.StartAsync("b", ProtocolEcho);
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(RouteTo(backend, BackendProtocol.Http1)));

        foreach (var version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, proxy.Url("/")) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var response = await proxy.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(version, response.Version);
            Assert.Equal("HTTP/1.1", await response.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    // The preface in one piece, and a prefix of it that needs more bytes.
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", true, true)]
    [InlineData("PRI * HTTP/2.0\r\n", false, false)]
    // HTTP/1.1 diverges at the first byte, even when shorter than the preface.
    [InlineData("GET / HTTP/1.1\r\n\r\n", true, false)]
    [InlineData("P", false, false)]
    [InlineData("POST", true, false)]
    public void PrefaceDetection_DecidesAsSoonAsTheBytesTell(string received, bool decided, bool prefaced)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(received));
        Assert.Equal(decided, H2cPriorKnowledge.TryDecide(buffer, out var isPreface));
        Assert.Equal(prefaced, isPreface);
    }

    [Theory]
    // Declared ws, and plain HTTP/1.1 (an upgrade needs no appProtocol), both tunnel.
    [InlineData(BackendProtocol.WebSocket)]
    [InlineData(BackendProtocol.Http1)]
    public async Task WebSocketUpgrade_IsTunnelled(BackendProtocol protocol)
    {
        await using var backend = await StartWebSocketEchoAsync();
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(RouteTo(backend.Endpoint, protocol)));

        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{proxy.Server.BoundEndPoints[Ir.HttpPort].Port}/ws"), CancellationToken.None);
        await AssertEchoesAsync(ws);
        Assert.Equal("HTTP/1.1", backend.Requests.Single().Headers["X-Seen-Protocol"]);
    }

    [Fact]
    public async Task WebSocketOverH2cExtendedConnect_BecomesAnHttp11UpgradeToTheBackend()
    {
        await using var backend = await StartWebSocketEchoAsync();
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(RouteTo(backend.Endpoint, BackendProtocol.WebSocket)));

        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler { UseProxy = false });
        using var ws = new ClientWebSocket();
        ws.Options.HttpVersion = HttpVersion.Version20;
        ws.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{proxy.Server.BoundEndPoints[Ir.HttpPort].Port}/ws"), invoker, CancellationToken.None);
        await AssertEchoesAsync(ws);

        // RFC 8441 carries no key; the gateway made one for the HTTP/1.1 handshake and checked the backend's answer.
        var seen = backend.Requests.Single();
        Assert.Equal("HTTP/1.1", seen.Headers["X-Seen-Protocol"]);
        Assert.Equal(24, seen.Headers["Sec-WebSocket-Key"].Length);
    }

    [Fact]
    public async Task Cors_PreflightIsAnsweredByTheGateway_ActualRequestGetsHeaders()
    {
        await using var backend = await TestBackend.StartAsync("b");
        var cors = new CorsIr { AllowOrigins = ["https://*.example.com"], AllowMethods = ["PUT"], AllowCredentials = true };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(RouteTo(backend, BackendProtocol.Http1, cors)));

        using var preflight = new HttpRequestMessage(HttpMethod.Options, proxy.Url("/x"));
        preflight.Headers.Add("Origin", "https://app.example.com");
        preflight.Headers.Add("Access-Control-Request-Method", "PUT");
        using (var response = await proxy.Client.SendAsync(preflight))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("https://app.example.com", response.Header("Access-Control-Allow-Origin"));
            Assert.Equal("PUT", response.Header("Access-Control-Allow-Methods"));
            Assert.Equal("5", response.Header("Access-Control-Max-Age"));
        }

        Assert.Empty(backend.Requests);

        using (var response = await proxy.GetAsync("/x", configure: r => r.Headers.Add("Origin", "https://app.example.com")))
        {
            Assert.Equal("b", response.Header("X-Backend"));
            Assert.Equal("https://app.example.com", response.Header("Access-Control-Allow-Origin"));
            Assert.Equal("true", response.Header("Access-Control-Allow-Credentials"));
        }

        using (var response = await proxy.GetAsync("/x", configure: r => r.Headers.Add("Origin", "https://example.org")))
        {
            Assert.Equal("b", response.Header("X-Backend"));
            Assert.Null(response.Header("Access-Control-Allow-Origin"));
        }
    }

    private static async Task AssertEchoesAsync(ClientWebSocket ws)
    {
        foreach (var (type, payload) in new[] { (WebSocketMessageType.Text, Encoding.UTF8.GetBytes("hello")), (WebSocketMessageType.Binary, new byte[] { 1, 2, 3, 4, 5, 6, 7 }) })
        {
            await ws.SendAsync(payload, type, endOfMessage: true, CancellationToken.None);
            var reply = new byte[64];
            var received = await ws.ReceiveAsync(reply.AsMemory(), CancellationToken.None);
            Assert.Equal(type, received.MessageType);
            Assert.Equal(payload, reply[..received.Count]);
        }

        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
    }

    /// <summary>An HTTP/1.1 WebSocket echo backend; it records each handshake with the protocol it arrived over.</summary>
    private static async Task<WebSocketEcho> StartWebSocketEchoAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddLogging();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        var echo = new WebSocketEcho(app);
        app.UseWebSockets();
        ((IApplicationBuilder)app).Run(async context =>
        {
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            headers["X-Seen-Protocol"] = context.Request.Protocol;
            echo.Requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "/", headers, 0));
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[1024];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, CancellationToken.None);
            }
        });
        await app.StartAsync();
        echo.Port = new Uri(app.Urls.First()).Port;
        return echo;
    }

    private sealed class WebSocketEcho(WebApplication app) : IAsyncDisposable
    {
        public System.Collections.Concurrent.ConcurrentQueue<RecordedRequest> Requests { get; } = new();

        public int Port { get; set; }

        public EndpointIr Endpoint => new() { Host = "127.0.0.1", Port = Port };

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}

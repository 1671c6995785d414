using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchyard.Ir;
using Switchyard.Proxy.Listeners;

namespace Switchyard.Proxy.Tests;

/// <summary>What a backend saw.</summary>
internal sealed record RecordedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, long BodyLength);

/// <summary>A real Kestrel backend on 127.0.0.1:0 that records requests and echoes them.</summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestBackend(WebApplication app, string name)
    {
        _app = app;
        Name = name;
    }

    public string Name { get; }

    public int Port { get; private set; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public EndpointIr Endpoint => new() { Host = "127.0.0.1", Port = Port };

    /// <summary>Starts a backend. The default handler answers 200 with <c>X-Backend: name</c> and echoes the path in <c>X-Echo-Path</c>.</summary>
    public static async Task<TestBackend> StartAsync(string name, Func<HttpContext, Task>? handler = null, HttpProtocols protocols = HttpProtocols.Http1)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddLogging();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.Listen(IPAddress.Loopback, 0, l => l.Protocols = protocols);
        });
        var app = builder.Build();
        var backend = new TestBackend(app, name);
        ((IApplicationBuilder)app).Run(async context =>
        {
            long length = 0;
            var buffer = new byte[64 * 1024];
            if (handler is null)
            {
                int n;
                while ((n = await context.Request.Body.ReadAsync(buffer)) > 0)
                {
                    length += n;
                }
            }

            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (k, v) in context.Request.Headers)
            {
                headers[k] = v.ToString();
            }

            backend.Requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path.ToUriComponent() + context.Request.QueryString, headers, length));
            context.Response.Headers["X-Backend"] = name;
            context.Response.Headers["X-Echo-Path"] = context.Request.Path.ToUriComponent() + context.Request.QueryString;
            if (handler is not null)
            {
                await handler(context);
            }
            else
            {
                context.Response.Headers["X-Echo-Length"] = length.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await context.Response.WriteAsync(name);
            }
        });
        await app.StartAsync();
        var address = app.Urls.First();
        backend.Port = new Uri(address).Port;
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>IR builders for tests.</summary>
internal static class Ir
{
    public const int HttpPort = 8080;
    public const int HttpsPort = 8443;

    public static WeightedBackendIr Backend(string name, int weight, params EndpointIr[] endpoints) =>
        new() { Name = "service/default/" + name + "/port/80", Weight = weight, Endpoints = [.. endpoints] };

    public static HttpBackendIr To(TestBackend backend, int weight = 1) => new() { Backend = Backend(backend.Name, weight, backend.Endpoint) };

    public static HttpRouteIr Route(string name, HttpBackendIr[]? backends = null, PathMatchType type = PathMatchType.PathPrefix, string path = "/") => new()
    {
        Name = "httproute/default/" + name + "/rule/0/match/0",
        Match = new HttpMatchIr { Path = new PathMatchIr { Type = type, Value = path } },
        Backends = backends is null ? [] : [.. backends],
    };

    public static VirtualHostIr VHost(string hostname, params HttpRouteIr[] routes) =>
        new() { Name = "vhost/" + hostname, Hostname = hostname, Routes = [.. routes] };

    public static ListenerIr Http(params VirtualHostIr[] vhosts) => new()
    {
        Name = "listener/default/gw/http",
        Protocol = ListenerProtocol.Http,
        Port = HttpPort,
        VirtualHosts = [.. vhosts],
    };

    public static GatewaySnapshot Snapshot(params ListenerIr[] listeners) => new() { Name = "default/gw", Listeners = [.. listeners] };

    public static GatewaySnapshot HttpSnapshot(params HttpRouteIr[] routes) => Snapshot(Http(VHost("*", routes)));
}

/// <summary>A proxy on 127.0.0.1 ephemeral ports with a client per port.</summary>
internal sealed class ProxyHarness : IAsyncDisposable
{
    private ProxyHarness(ProxyServer server) => Server = server;

    public ProxyServer Server { get; }

    public HttpClient Client { get; } = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(60) };

    public static async Task<ProxyHarness> StartAsync(GatewaySnapshot snapshot, ProxyServerOptions? options = null, ILoggerFactory? logging = null)
    {
        options ??= new ProxyServerOptions();
        var server = new ProxyServer(
            new ProxyServerOptions
            {
                EndPointFor = _ => new IPEndPoint(IPAddress.Loopback, 0),
                AdvertiseHttp3 = options.AdvertiseHttp3,
                DataPlaneCertificate = options.DataPlaneCertificate,
                ShutdownTimeout = TimeSpan.FromSeconds(5),
                SslProtocols = options.SslProtocols,
            },
            logging);
        await server.ApplyAsync(snapshot);
        return new ProxyHarness(server);
    }

    public Uri Url(string pathAndQuery, int port = Ir.HttpPort, string scheme = "http") =>
        new($"{scheme}://127.0.0.1:{Server.BoundEndPoints[port].Port}{pathAndQuery}");

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery, string? host = null, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Url(pathAndQuery));
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        configure?.Invoke(request);
        return Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

internal static class HeaderExtensions
{
    public static string? Header(this HttpResponseMessage response, string name) =>
        response.Headers.NonValidated.TryGetValues(name, out var v) ? string.Join(",", v)
        : response.Content.Headers.TryGetValues(name, out var c) ? string.Join(",", c) : null;

    public static ImmutableArray<T> Arr<T>(params T[] items) => [.. items];
}

using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Switchyard.Tests.DataPlane;

/// <summary>
/// A Kestrel backend on a free loopback port that answers every request with JSON naming itself (a fresh random
/// name per instance, so no other server can produce the answer) and echoing the method, path, host and protocol.
/// </summary>
internal sealed class EchoBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private EchoBackend(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public string Name { get; } = "echo-" + Guid.NewGuid().ToString("N")[..12];

    public int Port { get; }

    public int Requests => Volatile.Read(ref _requests);

    public static async Task<EchoBackend> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        EchoBackend? self = null;
        app.Run(async context =>
        {
            Interlocked.Increment(ref self!._requests);
            using var reader = new StreamReader(context.Request.Body);
            var received = await reader.ReadToEndAsync();
            var body = new JsonObject
            {
                ["backend"] = self.Name,
                ["method"] = context.Request.Method,
                ["path"] = context.Request.Path.Value,
                ["host"] = context.Request.Host.Value,
                ["protocol"] = context.Request.Protocol,
                ["body"] = received,
                ["chunked"] = context.Request.Headers.TransferEncoding.ToString(),
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body.ToJsonString());
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        self = new EchoBackend(app, address.Port);
        return self;
    }

    /// <summary>The Service (without selector) and EndpointSlice that name this backend, as a cluster would.</summary>
    public string Manifests(string service) => $"""
        apiVersion: v1
        kind: Service
        metadata:
          name: {service}
          namespace: default
        spec:
          ports:
          - name: http
            port: 80
            targetPort: {Port}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: {service}-local
          namespace: default
          labels:
            kubernetes.io/service-name: {service}
        addressType: IPv4
        endpoints:
        - addresses:
          - 127.0.0.1
        ports:
        - name: http
          port: {Port}
        """;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Switchyard.Benchmarks.Harness;

/// <summary>A minimal Kestrel server (HTTP/1.1, no logging, no middleware) on loopback ports, for benchmark backends.</summary>
internal sealed class KestrelBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KestrelBackend(WebApplication app, IReadOnlyList<int> ports)
    {
        _app = app;
        Ports = ports;
    }

    /// <summary>The bound ports, in the order asked for.</summary>
    public IReadOnlyList<int> Ports { get; }

    /// <summary>Starts one server listening on <paramref name="ports"/> (0 picks a free port) with one handler for all.</summary>
    public static async Task<KestrelBackend> StartAsync(IReadOnlyList<int> ports, RequestDelegate handler)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.Services.AddLogging();
        builder.WebHost.UseKestrelCore();
        var chosen = ports.Select(p => p == 0 ? Peers.FreeTcpPort() : p).ToList();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            foreach (var port in chosen)
            {
                k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1);
            }
        });
        var app = builder.Build();
        ((IApplicationBuilder)app).Run(handler);
        await app.StartAsync().ConfigureAwait(false);
        return new KestrelBackend(app, chosen);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

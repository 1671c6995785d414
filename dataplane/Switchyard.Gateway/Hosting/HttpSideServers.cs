using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Switchyard.Gateway.Metrics;

namespace Switchyard.Gateway.Hosting;

/// <summary>A started Kestrel server on one endpoint; disposing stops it.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    internal RunningServer(WebApplication app, IPEndPoint endpoint)
    {
        _app = app;
        EndPoint = endpoint;
    }

    /// <summary>The bound endpoint (the real port when 0 was asked for).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Base address, e.g. <c>http://127.0.0.1:8080</c>.</summary>
    public Uri BaseAddress => new($"http://{EndPoint}");

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    internal static async Task<RunningServer> StartAsync(IPEndPoint listen, ILoggerFactory? loggerFactory, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        builder.WebHost.ConfigureKestrel(k => k.Listen(listen));
        var app = builder.Build();
        map(app);
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var uri = new Uri(address);
        return new RunningServer(app, new IPEndPoint(IPAddress.Parse(uri.Host.Trim('[', ']')), uri.Port));
    }
}

/// <summary>
/// The operator's side door: <c>/metrics</c> (Prometheus text), <c>/healthz</c> (the process is alive) and
/// <c>/readyz</c> (a configuration is loaded and the QUIC listener is bound).
/// </summary>
public static class AdminServer
{
    /// <summary>Starts the admin endpoints on <paramref name="listen"/>.</summary>
    public static Task<RunningServer> StartAsync(IPEndPoint listen, PrometheusExporter exporter, Func<bool> isReady, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        ArgumentNullException.ThrowIfNull(isReady);
        return RunningServer.StartAsync(listen, loggerFactory, app =>
        {
            app.MapGet("/metrics", () => Results.Text(exporter.Scrape(), PrometheusExporter.ContentType));
            app.MapGet("/healthz", () => Results.Text("ok\n"));
            app.MapGet("/readyz", () => isReady() ? Results.Text("ready\n") : Results.Text("not ready\n", statusCode: 503));
        });
    }
}

/// <summary>
/// Serves the live client page over plain HTTP, and <c>GET /cert-hash</c>: the SHA-256 of the gateway's DER certificate,
/// which the page passes to <c>serverCertificateHashes</c> so Chromium accepts the self-signed certificate with no flags.
/// </summary>
/// <remarks>A page on <c>http://127.0.0.1</c> is a secure context, so WebTransport and getUserMedia work from it.</remarks>
public static class PageServer
{
    /// <summary>Starts the page server.</summary>
    /// <param name="listen">Where to listen.</param>
    /// <param name="contentRoot">The folder holding <c>index.html</c> and its assets.</param>
    /// <param name="certificateHash">Returns the current certificate's SHA-256 (it changes when the certificate does).</param>
    /// <param name="loggerFactory">Optional logging.</param>
    public static Task<RunningServer> StartAsync(IPEndPoint listen, string contentRoot, Func<byte[]> certificateHash, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(certificateHash);
        if (!File.Exists(Path.Combine(contentRoot, "index.html")))
        {
            throw new DirectoryNotFoundException($"The live client page is missing: no index.html in '{contentRoot}'.");
        }

        return RunningServer.StartAsync(listen, loggerFactory, app =>
        {
            app.MapGet("/cert-hash", (HttpContext context) =>
            {
                context.Response.Headers.AccessControlAllowOrigin = "*";
                context.Response.Headers.CacheControl = "no-store";
                return Results.Json(new CertificateHash("sha-256", Convert.ToBase64String(certificateHash())), GatewayJsonContext.Default.CertificateHash);
            });
            var files = new PhysicalFileProvider(Path.GetFullPath(contentRoot));
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = files,
                OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-store",
            });
        });
    }
}

/// <summary>The <c>/cert-hash</c> answer.</summary>
/// <param name="Algorithm">Always <c>sha-256</c>.</param>
/// <param name="Value">Base64 of the hash.</param>
public sealed record CertificateHash(
    [property: System.Text.Json.Serialization.JsonPropertyName("algorithm")] string Algorithm,
    [property: System.Text.Json.Serialization.JsonPropertyName("value")] string Value);

[System.Text.Json.Serialization.JsonSerializable(typeof(CertificateHash))]
internal sealed partial class GatewayJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

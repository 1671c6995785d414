using System.CommandLine;
using Microsoft.Extensions.Logging;
using Switchyard.Cli.Hosting;
using Switchyard.Cli.Standalone;
using Switchyard.Controller.Providers;

namespace Switchyard.Cli;

/// <summary><c>switchyard run --manifests DIR</c>: standalone mode, the cluster's pipeline on one machine.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var manifests = new Option<DirectoryInfo>("--manifests") { Description = "Folder of Gateway, HTTPRoute and WebTransportRoute YAML (Services and EndpointSlices name the backends).", Required = true };
        var address = DataPlaneBindings.AddressOption("--address");
        var bind = DataPlaneBindings.BindOption("--bind");
        var quic = new Option<string?>("--quic")
        {
            Description = "Bind HTTPS listener ports not named by --bind on this ADDRESS:PORT instead (TCP and UDP; the quickstart's single HTTPS listener).",
        };
        var admin = Endpoints.Option("--admin", "Address for /metrics, /healthz and /readyz", "127.0.0.1:9090");
        var page = new Option<string?>("--page") { Description = "Serve the live client page and /cert-hash on this ADDRESS:PORT." };
        var cert = new Option<FileInfo?>("--cert") { Description = "PEM certificate; a fresh self-signed ECDSA P-256 one (13 days) is made when absent." };
        var key = new Option<FileInfo?>("--key") { Description = "PEM private key for --cert." };
        var allowedOrigins = DataPlaneBindings.AllowedOriginOption();
        var command = new Command("run", "Run the gateway standalone from a folder of the YAML a cluster would get; reloads when a file changes.")
        {
            manifests, address, bind, quic, admin, page, cert, key, allowedOrigins,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(new StandaloneOptions
        {
            ManifestDirectory = parseResult.GetValue(manifests)!.FullName,
            Bindings = DataPlaneBindings.From(parseResult.GetValue(address)!, parseResult.GetValue(bind)),
            QuicEndPoint = parseResult.GetValue(quic) is { } q ? Endpoints.Parse(q) : null,
            AdminEndPoint = parseResult.GetValue(admin)!,
            PageEndPoint = parseResult.GetValue(page) is { } p ? Endpoints.Parse(p) : null,
            PageRoot = Path.Combine(AppContext.BaseDirectory, "live-client"),
            CertificatePath = parseResult.GetValue(cert)?.FullName,
            KeyPath = parseResult.GetValue(key)?.FullName,
            AllowedOrigins = parseResult.GetValue(allowedOrigins) ?? [],
        }, parseResult.InvocationConfiguration.Error, extra: null, cancellationToken));
        return command;
    }

    /// <summary>Starts standalone mode and serves until cancelled. Returns the process exit code.</summary>
    public static async Task<int> RunAsync(StandaloneOptions options, TextWriter error, Func<StandaloneGateway, ILoggerFactory, Task<IAsyncDisposable?>>? extra, CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggerFactory.Create(b => b
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
            .SetMinimumLevel(Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("SWITCHYARD_LOG_LEVEL"), true, out var level) ? level : LogLevel.Information));
        await using var gateway = new StandaloneGateway(options, loggerFactory);
        IAsyncDisposable? companion = null;
        try
        {
            if (extra is not null)
            {
                companion = await extra(gateway, loggerFactory).ConfigureAwait(false);
            }

            await gateway.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ManifestException ex)
        {
            foreach (var e in ex.Errors)
            {
                await error.WriteLineAsync($"switchyard: {e}").ConfigureAwait(false);
            }

            return 1;
        }

        try
        {
            foreach (var listener in gateway.Listeners)
            {
                await Console.Out.WriteLineAsync($"switchyard: serving {listener}").ConfigureAwait(false);
            }

            gateway.DataPlane.ListenerStarted += listener => Console.Out.WriteLine($"switchyard: serving {listener}");
            gateway.DataPlane.ListenerStopped += listener => Console.Out.WriteLine($"switchyard: stopped {listener}");
            var quicEndPoint = gateway.Listeners.FirstOrDefault(l => l.UdpEndPoint is not null)?.UdpEndPoint;
            await Console.Out.WriteLineAsync((quicEndPoint is null ? "switchyard: no HTTPS listener, so no QUIC" : $"switchyard: QUIC on udp://{quicEndPoint}") +
                $", admin on {gateway.AdminAddress}" + (gateway.PageAddress is { } page ? $", live client on {page}" : string.Empty)).ConfigureAwait(false);
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return 0;
        }
        finally
        {
            if (companion is not null)
            {
                await companion.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

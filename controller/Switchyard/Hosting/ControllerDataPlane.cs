using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Switchyard.Controller.Hosting;
using Switchyard.Gateway.DataPlane;
using Switchyard.Quic.Udp;
using Switchyard.Tls;

namespace Switchyard.Cli.Hosting;

/// <summary>
/// The data plane of <c>switchyard controller</c>, in the same process: every programmed Gateway's snapshot from
/// <see cref="ControllerHost.Snapshots"/> is applied to one <see cref="DataPlaneHost"/>, whose listener ports bind on
/// this machine (<see cref="DataPlaneBindings"/>). A refused snapshot is logged and the Gateway keeps its last good
/// configuration; a Gateway that stops being programmed stops being served.
/// </summary>
internal static class ControllerDataPlane
{
    /// <summary>Creates the attachment.</summary>
    /// <param name="bindings">Where listener ports bind.</param>
    /// <param name="allowedOrigins">Origins allowed to open WebTransport sessions; empty accepts any.</param>
    /// <param name="log">The controller's log at information level (one line per event on stderr).</param>
    /// <param name="error">The controller's log at error level.</param>
    public static DataPlaneAttachment Create(DataPlaneBindings bindings, IReadOnlyList<string> allowedOrigins, Action<string, Exception?> log, Action<string, Exception?> error) =>
        (host, cancellationToken) => RunAsync(host, bindings, allowedOrigins, log, error, cancellationToken);

    /// <remarks>
    /// 1. Make the certificate for HTTPS listeners the data plane supplies (<c>--dev-certificates</c>).
    /// 2. Subscribe before the control plane runs; notifications are handed to one applying loop, because the
    ///    publisher delivers them on the controller's provider loop and binding ports must not block it.
    /// 3. Apply each change in order until cancelled, then release every port.
    /// </remarks>
    private static async Task RunAsync(ControllerHost host, DataPlaneBindings bindings, IReadOnlyList<string> allowedOrigins, Action<string, Exception?> log, Action<string, Exception?> error, CancellationToken cancellationToken)
    {
        // :: Step 1
        using var certificate = TlsCertificates.CreateSelfSignedEcdsaP256(["127.0.0.1", "localhost", "::1"], TimeSpan.FromDays(13));
        using var loggerFactory = LoggerFactory.Create(b => b
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
            .AddFilter((category, level) => level >= LogLevel.Warning && category is not null && category.StartsWith("Switchyard", StringComparison.Ordinal)));
        await using var dataPlane = new DataPlaneHost(ManagedQuicTransport.Instance, new DataPlaneHostOptions
        {
            DataPlaneCertificate = certificate,
            EndPointFor = (_, port, _) => bindings.EndPointFor(port),
            ShutdownTimeout = TimeSpan.FromSeconds(2),
            AllowedOrigins = allowedOrigins,
        }, loggerFactory);
        dataPlane.ListenerStarted += l => log($"data plane: serving {l}", null);
        dataPlane.ListenerStopped += l => log($"data plane: stopped {l}", null);

        // :: Step 2
        var changes = Channel.CreateUnbounded<GatewaySnapshotChange>(new UnboundedChannelOptions { SingleReader = true });
        using var subscription = host.Snapshots.Subscribe(new Forwarder(changes.Writer));
        using var stop = cancellationToken.Register(() => changes.Writer.TryComplete());

        // :: Step 3
        await foreach (var change in changes.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            try
            {
                if (change.Snapshot is null)
                {
                    await dataPlane.RemoveAsync(change.Gateway, CancellationToken.None).ConfigureAwait(false);
                    log($"data plane: gateway {change.Gateway} is no longer programmed", null);
                }
                else
                {
                    await dataPlane.ApplyAsync(change.Snapshot, CancellationToken.None).ConfigureAwait(false);
                    log($"data plane: gateway {change.Gateway} applied", null);
                }
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or InvalidOperationException or Transport.QuicException)
            {
                error($"data plane: gateway {change.Gateway} keeps its last good configuration", ex);
            }
        }
    }

    private sealed class Forwarder(ChannelWriter<GatewaySnapshotChange> writer) : IObserver<GatewaySnapshotChange>
    {
        public void OnCompleted() => writer.TryComplete();

        public void OnError(Exception error) => writer.TryComplete();

        public void OnNext(GatewaySnapshotChange value) => writer.TryWrite(value);
    }
}

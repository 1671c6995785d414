using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Controller.Hosting;
using Switchyard.Gateway.DataPlane;
using Switchyard.Ir;
using Switchyard.Quic.Udp;
using Switchyard.Tls;

namespace Switchyard.Conformance.Environments;

/// <summary>
/// The in-process data plane: one <see cref="DataPlaneHost"/> (the one <c>switchyard controller</c> runs) fed by the
/// controller's snapshots. It serves every listener of every programmed Gateway: HTTP and HTTPS on Kestrel, and on an
/// HTTPS port's UDP socket HTTP/3 and WebTransport sessions routed by WebTransportRoutes. Each Gateway listener port
/// (80, 443, …) is bound to a free port on the Gateway's address: the first address the load balancer assigned it
/// (<see cref="GatewaySnapshot.Addresses"/>) when that is a loopback address, such as a static 127.0.0.2, otherwise
/// 127.0.0.1. The suite asks <see cref="TryGetEndPoint"/> and <see cref="TryGetUdpEndPoint"/> where a Gateway's port
/// went, which is what a Gateway address is upstream.
/// </summary>
internal sealed class GatewayDataPlane : IObserver<GatewaySnapshotChange>, IAsyncDisposable
{
    private readonly Channel<GatewaySnapshotChange> changes = Channel.CreateUnbounded<GatewaySnapshotChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly X509Certificate2 certificate;
    private readonly DataPlaneHost host;
    private readonly Action<string> log;
    private readonly Task loop;
    private readonly ConcurrentDictionary<string, IPAddress> boundAt = new(StringComparer.Ordinal);

    public GatewayDataPlane(Action<string> log, ILoggerFactory? loggerFactory = null)
    {
        this.log = log;
        certificate = TlsCertificates.CreateSelfSignedEcdsaP256(["127.0.0.1", "localhost"], TimeSpan.FromDays(1));
        host = new DataPlaneHost(ManagedQuicTransport.Instance, new DataPlaneHostOptions
        {
            DataPlaneCertificate = certificate,
            EndPointFor = (gateway, _, _) => new IPEndPoint(boundAt.GetValueOrDefault(gateway, IPAddress.Loopback), 0),
            ShutdownTimeout = TimeSpan.FromSeconds(1),
        }, loggerFactory ?? NullLoggerFactory.Instance);
        loop = Task.Run(RunAsync);
    }

    /// <summary>The TCP socket serving a Gateway's listener port, or null.</summary>
    public IPEndPoint? TryGetEndPoint(string gateway, int listenerPort) =>
        host.Listeners.FirstOrDefault(l => l.Gateway == gateway && l.Port == listenerPort)?.TcpEndPoint;

    /// <summary>The UDP socket serving HTTP/3 and WebTransport on a Gateway's HTTPS listener port, or null.</summary>
    public IPEndPoint? TryGetUdpEndPoint(string gateway, int listenerPort) =>
        host.Listeners.FirstOrDefault(l => l.Gateway == gateway && l.Port == listenerPort && l.Protocol == ListenerProtocol.Https)?.UdpEndPoint;

    public void OnNext(GatewaySnapshotChange value) => changes.Writer.TryWrite(value);

    public void OnCompleted() => changes.Writer.TryComplete();

    public void OnError(Exception error) => changes.Writer.TryComplete(error);

    public async ValueTask DisposeAsync()
    {
        changes.Writer.TryComplete();
        try
        {
            await loop.ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
        }

        await host.DisposeAsync().ConfigureAwait(false);
        certificate.Dispose();
    }

    /// <summary>Where a Gateway's ports bind: its first assigned address when this machine can bind it (loopback).</summary>
    private static IPAddress AddressOf(GatewaySnapshot snapshot) =>
        snapshot.Addresses.Select(a => IPAddress.TryParse(a, out var ip) ? ip : null).FirstOrDefault(ip => ip is not null && IPAddress.IsLoopback(ip)) ?? IPAddress.Loopback;

    private async Task RunAsync()
    {
        await foreach (var change in changes.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                if (change.Snapshot is null)
                {
                    boundAt.TryRemove(change.Gateway, out _);
                    await host.RemoveAsync(change.Gateway).ConfigureAwait(false);
                    continue;
                }

                // Ports stay bound across snapshots, so a Gateway whose address changed is served anew on the new one.
                var address = AddressOf(change.Snapshot);
                if (boundAt.TryGetValue(change.Gateway, out var previous) ? !previous.Equals(address) : !address.Equals(IPAddress.Loopback))
                {
                    boundAt[change.Gateway] = address;
                    await host.RemoveAsync(change.Gateway).ConfigureAwait(false);
                    log($"data plane: serving {change.Gateway} on {address}");
                }

                await host.ApplyAsync(change.Snapshot).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A snapshot the data plane rejects is reported, and the next one is applied.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                log($"data plane: applying {change.Gateway} failed: {ex.Message}");
            }
        }
    }
}

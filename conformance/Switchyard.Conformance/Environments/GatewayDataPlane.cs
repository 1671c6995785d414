using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Switchyard.Controller.Hosting;
using Switchyard.Proxy.Listeners;

namespace Switchyard.Conformance.Environments;

/// <summary>
/// The in-process data plane: one <see cref="ProxyServer"/> per programmed Gateway, fed by the controller's
/// snapshots. Each Gateway listener port (80, 443, …) is bound to a free port on 127.0.0.1; the suite asks
/// <see cref="TryGetEndPoint"/> where a Gateway's port went, which is what a Gateway address is upstream.
/// </summary>
internal sealed class GatewayDataPlane : IObserver<GatewaySnapshotChange>, IAsyncDisposable
{
    private readonly Channel<GatewaySnapshotChange> changes = Channel.CreateUnbounded<GatewaySnapshotChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, ProxyServer> servers = new(StringComparer.Ordinal);
    private readonly ILoggerFactory? loggerFactory;
    private readonly Action<string> log;
    private readonly Task loop;

    public GatewayDataPlane(Action<string> log, ILoggerFactory? loggerFactory = null)
    {
        this.log = log;
        this.loggerFactory = loggerFactory;
        loop = Task.Run(RunAsync);
    }

    public IPEndPoint? TryGetEndPoint(string gateway, int listenerPort) =>
        servers.TryGetValue(gateway, out var server) && server.BoundEndPoints.TryGetValue(listenerPort, out var ep) ? ep : null;

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

        foreach (var server in servers.Values)
        {
            await server.DisposeAsync().ConfigureAwait(false);
        }

        servers.Clear();
    }

    private async Task RunAsync()
    {
        await foreach (var change in changes.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                if (change.Snapshot is null)
                {
                    if (servers.TryRemove(change.Gateway, out var gone))
                    {
                        await gone.DisposeAsync().ConfigureAwait(false);
                    }

                    continue;
                }

                var server = servers.GetOrAdd(change.Gateway, _ => new ProxyServer(
                    new ProxyServerOptions
                    {
                        EndPointFor = _ => new IPEndPoint(IPAddress.Loopback, 0),
                        ShutdownTimeout = TimeSpan.FromSeconds(1),
                        AdvertiseHttp3 = false,
                    },
                    loggerFactory));
                await server.ApplyAsync(change.Snapshot).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // A snapshot the proxy rejects is reported, and the next one is applied.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                log($"data plane: applying {change.Gateway} failed: {ex.Message}");
            }
        }
    }
}

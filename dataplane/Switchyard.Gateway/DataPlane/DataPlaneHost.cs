using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Switchyard.Gateway.Hosting;
using Switchyard.Gateway.Metrics;
using Switchyard.Ir;
using Switchyard.Proxy.Listeners;
using Switchyard.Transport;

namespace Switchyard.Gateway.DataPlane;

/// <summary>
/// The whole data plane of any number of Gateways, fed with their <see cref="GatewaySnapshot"/>s: for each Gateway, a
/// <see cref="ProxyServer"/> serves its HTTP and HTTPS listener ports on TCP (HTTP/1.1, HTTP/2, TLS by SNI), and each
/// HTTPS port also gets a <see cref="WebTransportGateway"/> on the same port's UDP, where WebTransport CONNECTs go to
/// the track router and every other HTTP/3 request goes through the port's HTTPRoute pipeline. HTTPS responses carry
/// <c>Alt-Svc: h3=":PORT"</c>. An HTTPS port that validates client certificates is the exception: the managed QUIC
/// stack cannot ask for one, so that port has no UDP listener and no <c>Alt-Svc</c>.
/// </summary>
/// <remarks>
/// A snapshot swaps routes and certificates of the ports that stay (live sessions and requests are untouched); only
/// ports that appear, disappear or change protocol are bound or released. A snapshot that fails validation or
/// certificate loading changes nothing that was being served. Calls are serialized.
/// </remarks>
public sealed partial class DataPlaneHost : IAsyncDisposable
{
    [ThreadStatic]
    private static DataPlaneHost? t_constructing;

    private readonly IQuicTransport _transport;
    private readonly DataPlaneHostOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, GatewayHost> _gateways = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Meter, bool> _meters = new();
    private ImmutableArray<DataPlaneListener> _listeners = [];
    private int _applied;
    private int _disposed;

    /// <summary>Creates a host serving nothing; <see cref="ApplyAsync"/> starts listeners.</summary>
    /// <param name="transport">The QUIC implementation for HTTP/3 (the managed stack, or System.Net.Quic where supported).</param>
    /// <param name="options">Settings.</param>
    /// <param name="loggerFactory">Logging.</param>
    public DataPlaneHost(IQuicTransport transport, DataPlaneHostOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _transport = transport;
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<DataPlaneHost>();
    }

    /// <summary>Raised after a listener port was bound (on the applying task; handlers must not block).</summary>
    public event Action<DataPlaneListener>? ListenerStarted;

    /// <summary>Raised after a listener port was released.</summary>
    public event Action<DataPlaneListener>? ListenerStopped;

    /// <summary>Every listener port served now, sorted by Gateway then port.</summary>
    public ImmutableArray<DataPlaneListener> Listeners => ImmutableInterlocked.InterlockedCompareExchange(ref _listeners, [], []);

    /// <summary>True once a configuration has been applied and every HTTPS port's UDP listener has routes.</summary>
    public bool IsReady
    {
        get
        {
            if (Volatile.Read(ref _applied) == 0)
            {
                return false;
            }

            lock (_gateways)
            {
                return _gateways.Values.SelectMany(g => g.Quic.Values).All(q => q.IsReady);
            }
        }
    }

    /// <summary>
    /// Selects the meters of this host's WebTransport listeners, for a <see cref="PrometheusExporter"/>, so two hosts in
    /// one process never mix their counts. It also accepts listeners created after the exporter.
    /// </summary>
    /// <param name="meter">A published meter.</param>
    /// <returns>True when the meter belongs to one of this host's listeners.</returns>
    public bool OwnsMeter(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);

        // Instruments are published synchronously on the thread constructing the listener, before its meter is recorded.
        return _meters.ContainsKey(meter) || (ReferenceEquals(t_constructing, this) && meter.Name == GatewayMetrics.MeterName);
    }

    /// <summary>The WebTransport listener of one Gateway's HTTPS port, or null.</summary>
    /// <param name="gateway"><c>namespace/name</c>.</param>
    /// <param name="port">The listener port as the Gateway declares it.</param>
    /// <returns>The listener, or null when that port serves no HTTP/3.</returns>
    public WebTransportGateway? GetWebTransportGateway(string gateway, int port)
    {
        lock (_gateways)
        {
            return _gateways.TryGetValue(gateway, out var g) && g.Quic.TryGetValue(port, out var q) ? q : null;
        }
    }

    /// <summary>Applies the snapshots of every Gateway to serve: Gateways not named are stopped.</summary>
    /// <param name="snapshots">One snapshot per Gateway.</param>
    /// <param name="cancellationToken">Cancels waiting to start or stop listeners.</param>
    /// <returns>The errors of the Gateways whose snapshot was refused (each keeps its previous configuration); empty when all applied.</returns>
    public async Task<ImmutableArray<string>> ApplyAllAsync(IEnumerable<GatewaySnapshot> snapshots, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        var next = snapshots.ToDictionary(s => s.Name, StringComparer.Ordinal);
        string[] gone;
        lock (_gateways)
        {
            gone = [.. _gateways.Keys.Where(k => !next.ContainsKey(k))];
        }

        var errors = ImmutableArray.CreateBuilder<string>();
        foreach (var name in gone)
        {
            await RemoveAsync(name, cancellationToken).ConfigureAwait(false);
        }

        foreach (var snapshot in next.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            try
            {
                await ApplyAsync(snapshot, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or InvalidOperationException or QuicException)
            {
                errors.Add($"{snapshot.Name}: {ex.Message}");
            }
        }

        return errors.ToImmutable();
    }

    /// <summary>
    /// Applies one Gateway's snapshot: binds its new ports, swaps the routes and certificates of ports that stay, and
    /// releases ports it no longer has.
    /// </summary>
    /// <remarks>
    /// 1. Validate; an invalid snapshot changes nothing.
    /// 2. Release the UDP listeners of ports that are gone, no longer HTTPS, or now validate client certificates.
    /// 3. Bind the UDP listener of each new HTTPS port without client certificate validation first, so that an
    ///    ephemeral request gives TCP the same number.
    /// 4. Apply the snapshot to the Gateway's <see cref="ProxyServer"/> (it compiles everything before touching
    ///    anything, then binds and releases TCP ports). A TCP port already in use is reported after step 5.
    /// 5. Swap each UDP listener's track routes to the WebTransport routes of its port.
    /// 6. Report the ports that started and stopped.
    /// </remarks>
    /// <param name="snapshot">The Gateway's new configuration.</param>
    /// <param name="cancellationToken">Cancels waiting to start or stop listeners.</param>
    /// <exception cref="ArgumentException">The snapshot is invalid or holds unusable certificates; nothing changed.</exception>
    /// <exception cref="IOException">A TCP port could not be bound; the rest of the snapshot was applied.</exception>
    public async Task ApplyAsync(GatewaySnapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        // :: Step 1
        var errors = snapshot.Validate();
        if (!errors.IsEmpty)
        {
            throw new ArgumentException("Invalid snapshot: " + string.Join("; ", errors), nameof(snapshot));
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            GatewayHost host;
            lock (_gateways)
            {
                if (!_gateways.TryGetValue(snapshot.Name, out host!))
                {
                    host = new GatewayHost(snapshot.Name);
                    host.Proxy = CreateProxy(host);
                    _gateways[snapshot.Name] = host;
                }
            }

            var ports = snapshot.Listeners.GroupBy(l => l.Port).ToDictionary(g => g.Key, g => g.First().Protocol);

            // HTTP/3 runs on Switchyard's managed QUIC/TLS stack, which has no client certificate support: a port with
            // client certificate validation (Gateway spec.tls.frontend) is served on TCP only. Binding its UDP would let
            // clients in without the validation the Gateway asks for.
            var http3 = ports.Where(p => p.Value == ListenerProtocol.Https && !snapshot.Listeners.Any(l => l.Port == p.Key && l.Tls?.ClientValidation is not null))
                .Select(p => p.Key).ToHashSet();

            // :: Step 2
            foreach (var (port, quic) in host.Quic.ToArray())
            {
                if (!http3.Contains(port))
                {
                    lock (_gateways)
                    {
                        host.Quic.Remove(port);
                    }

                    await DisposeQuicAsync(quic).ConfigureAwait(false);
                }
            }

            // :: Step 3
            foreach (var (port, protocol) in ports.OrderBy(p => p.Key))
            {
                var requested = _options.EndPointFor(host.Name, port, protocol);
                var tcp = requested;
                if (http3.Contains(port) && _options.ServeHttp3)
                {
                    if (!host.Quic.TryGetValue(port, out var quic))
                    {
                        quic = await StartQuicAsync(host, port, requested, cancellationToken).ConfigureAwait(false);

                        // An ephemeral UDP port says nothing about the same TCP number, which another process may hold:
                        // pick again (a few times) rather than fail the TCP bind in step 4.
                        for (var attempt = 0; requested.Port == 0 && attempt < 10 && quic?.LocalEndPoint is { } taken && !TcpPortFree(new IPEndPoint(requested.Address, taken.Port)); attempt++)
                        {
                            lock (_gateways)
                            {
                                host.Quic.Remove(port);
                            }

                            await DisposeQuicAsync(quic).ConfigureAwait(false);
                            quic = await StartQuicAsync(host, port, requested, cancellationToken).ConfigureAwait(false);
                        }
                    }

                    if (quic?.LocalEndPoint is { } udp && requested.Port == 0)
                    {
                        tcp = new IPEndPoint(requested.Address, udp.Port);
                    }
                }

                host.TcpEndPoints[port] = tcp;
            }

            // :: Step 4
            IOException? bindFailure = null;
            try
            {
                await host.Proxy.ApplyAsync(snapshot, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                // A TCP port that cannot be bound (in use) does not stop the valid snapshot from reaching the UDP
                // listeners that did bind: serve what can be served, and report the failure.
                bindFailure = ex;
            }

            // :: Step 5
            foreach (var (port, quic) in host.Quic)
            {
                quic.Apply([snapshot with { Listeners = [.. snapshot.Listeners.Where(l => l.Port == port)] }]);
            }

            Interlocked.Exchange(ref _applied, 1);
            if (bindFailure is not null)
            {
                throw new IOException($"{snapshot.Name}: a listener port could not be bound: {bindFailure.Message}", bindFailure);
            }
        }
        finally
        {
            // :: Step 6
            PublishListeners();
            _gate.Release();
        }
    }

    /// <summary>True when a TCP socket could bind <paramref name="endPoint"/> now (nothing else holds it).</summary>
    private static bool TcpPortFree(IPEndPoint endPoint)
    {
        using var probe = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(endPoint);
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return false;
        }
    }

    /// <summary>Stops serving one Gateway (it was deleted or is no longer programmed).</summary>
    /// <param name="gateway"><c>namespace/name</c>.</param>
    /// <param name="cancellationToken">Cancels waiting for the gate.</param>
    /// <returns>A task that completes when its listeners are released.</returns>
    public async Task RemoveAsync(string gateway, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            GatewayHost? host;
            lock (_gateways)
            {
                if (_gateways.Remove(gateway, out host))
                {
                    Log.Removing(_logger, gateway);
                }
            }

            if (host is not null)
            {
                await DisposeGatewayAsync(host).ConfigureAwait(false);
            }
        }
        finally
        {
            PublishListeners();
            _gate.Release();
        }
    }

    /// <summary>Stops every listener.</summary>
    /// <returns>A task that completes when all are released.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            GatewayHost[] hosts;
            lock (_gateways)
            {
                hosts = [.. _gateways.Values];
                _gateways.Clear();
            }

            foreach (var host in hosts)
            {
                await DisposeGatewayAsync(host).ConfigureAwait(false);
            }

            PublishListeners();
        }
        finally
        {
            _gate.Release();
        }
    }

    private ProxyServer CreateProxy(GatewayHost host) => new(
        new ProxyServerOptions
        {
            EndPointFor = port => host.TcpEndPoints[port],
            AdvertiseHttp3 = _options.ServeHttp3,
            AltSvcPortFor = port => host.Quic.TryGetValue(port, out var quic) && quic.LocalEndPoint is { } udp ? udp.Port : null,
            DataPlaneCertificate = _options.DataPlaneCertificate,
            ShutdownTimeout = _options.ShutdownTimeout,
            BackendInvoker = _options.BackendInvoker,
        },
        _loggerFactory);

    private async Task<WebTransportGateway?> StartQuicAsync(GatewayHost host, int port, IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var proxy = host.Proxy;
        WebTransportGateway quic;
        t_constructing = this;
        try
        {
            quic = new WebTransportGateway(_transport, new WebTransportGatewayOptions
            {
                ListenEndPoint = endPoint,
                Certificate = _options.DataPlaneCertificate,

                // Read per handshake: the port's certificates follow each snapshot, as on TCP.
                CertificateSelector = serverName => proxy.SelectCertificate(port, serverName),
                Streams = _options.Streams,
                WebTransport = _options.WebTransport,
                AllowedOrigins = _options.AllowedOrigins,
                IdleTimeout = _options.IdleTimeout,
            }, _loggerFactory)
            {
                HttpFallback = Http3RouteAdapter.Create(proxy.GetRequestHandler(port)),
            };
        }
        finally
        {
            t_constructing = null;
        }

        _meters[quic.Metrics.Meter] = true;
        try
        {
            await quic.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is QuicException or System.Net.Sockets.SocketException or IOException)
        {
            // TCP still serves the port; HTTP/3 is not advertised for it.
            Log.UdpBindFailed(_logger, host.Name, port, endPoint.ToString(), ex.Message);
            await DisposeQuicAsync(quic).ConfigureAwait(false);
            return null;
        }

        lock (_gateways)
        {
            host.Quic[port] = quic;
        }

        return quic;
    }

    private async Task DisposeQuicAsync(WebTransportGateway quic)
    {
        _meters.TryRemove(quic.Metrics.Meter, out _);
        await quic.DisposeAsync().ConfigureAwait(false);
    }

    private async Task DisposeGatewayAsync(GatewayHost host)
    {
        WebTransportGateway[] quics;
        lock (_gateways)
        {
            quics = [.. host.Quic.Values];
            host.Quic.Clear();
        }

        foreach (var quic in quics)
        {
            await DisposeQuicAsync(quic).ConfigureAwait(false);
        }

        await host.Proxy.DisposeAsync().ConfigureAwait(false);
    }

    private void PublishListeners()
    {
        var list = ImmutableArray.CreateBuilder<DataPlaneListener>();
        lock (_gateways)
        {
            foreach (var host in _gateways.Values.OrderBy(h => h.Name, StringComparer.Ordinal))
            {
                var protocols = host.Proxy.Current?.Listeners.GroupBy(l => l.Port).ToDictionary(g => g.Key, g => g.First().Protocol) ?? [];
                foreach (var (port, tcp) in host.Proxy.BoundEndPoints.OrderBy(p => p.Key))
                {
                    var udp = host.Quic.TryGetValue(port, out var quic) ? quic.LocalEndPoint : null;
                    list.Add(new DataPlaneListener(host.Name, port, protocols.GetValueOrDefault(port, udp is null ? ListenerProtocol.Http : ListenerProtocol.Https), tcp, udp));
                }
            }
        }

        var after = list.ToImmutable();
        var before = ImmutableInterlocked.InterlockedExchange(ref _listeners, after);
        foreach (var stopped in before.Except(after))
        {
            Log.Stopped(_logger, stopped.ToString());
            ListenerStopped?.Invoke(stopped);
        }

        foreach (var started in after.Except(before))
        {
            Log.Started(_logger, started.ToString());
            ListenerStarted?.Invoke(started);
        }
    }

    /// <summary>The serving state of one Gateway.</summary>
    private sealed class GatewayHost(string name)
    {
        public string Name { get; } = name;

        public ProxyServer Proxy { get; set; } = null!;

        /// <summary>Where each port's TCP listener binds (read by the proxy when it starts a port).</summary>
        public ConcurrentDictionary<int, IPEndPoint> TcpEndPoints { get; } = new();

        /// <summary>The HTTP/3 listener of each HTTPS port (guarded by the host's <c>_gateways</c> lock for readers).</summary>
        public Dictionary<int, WebTransportGateway> Quic { get; } = [];
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Serving {Listener}")]
        public static partial void Started(ILogger logger, string listener);

        [LoggerMessage(2, LogLevel.Information, "Stopped {Listener}")]
        public static partial void Stopped(ILogger logger, string listener);

        [LoggerMessage(3, LogLevel.Error, "Gateway {Gateway} port {Port}: UDP {EndPoint} could not be bound, HTTP/3 is off for it: {Reason}")]
        public static partial void UdpBindFailed(ILogger logger, string gateway, int port, string endPoint, string reason);

        [LoggerMessage(4, LogLevel.Information, "Gateway {Gateway} is no longer served")]
        public static partial void Removing(ILogger logger, string gateway);
    }
}

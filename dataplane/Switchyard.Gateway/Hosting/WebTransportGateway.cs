using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Switchyard.Delivery;
using Switchyard.Gateway.Metrics;
using Switchyard.Gateway.Sessions;
using Switchyard.Http3.Connection;
using Switchyard.Http3.Server;
using Switchyard.Ir;
using Switchyard.Tracks.Routing;
using Switchyard.Transport;
using Switchyard.WebTransport;
using Switchyard.WebTransport.Server;

namespace Switchyard.Gateway.Hosting;

/// <summary>Settings of the WebTransport side of the data plane.</summary>
public sealed class WebTransportGatewayOptions
{
    /// <summary>The UDP endpoint to listen on.</summary>
    public required IPEndPoint ListenEndPoint { get; init; }

    /// <summary>The certificate (with key) presented to browsers.</summary>
    public required X509Certificate2 Certificate { get; init; }

    /// <summary>
    /// Picks the certificate by SNI for each handshake (null answers fall back to <see cref="Certificate"/>), so a
    /// data plane can follow a Gateway's certificates without restarting the listener.
    /// </summary>
    public Func<string?, X509Certificate2?>? CertificateSelector { get; init; }

    /// <summary>Per-stream limits.</summary>
    public TrackStreamOptions Streams { get; init; } = new();

    /// <summary>Limits of datagram delivery (datagrams that start with a track header).</summary>
    public TrackDatagramOptions Datagrams { get; init; } = new();

    /// <summary>Session and stream limits per connection.</summary>
    public WebTransportOptions WebTransport { get; init; } = new();

    /// <summary>Origins allowed to open sessions; empty allows any.</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>QUIC idle timeout.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The WebTransport data plane: a QUIC listener speaking HTTP/3 and WebTransport, whose streams are routed by track.
/// Configuration arrives as <see cref="GatewaySnapshot"/>s and is swapped whole; live sessions are never dropped by it.
/// </summary>
public sealed partial class WebTransportGateway : IAsyncDisposable
{
    private readonly IQuicTransport _transport;
    private readonly WebTransportGatewayOptions _options;
    private readonly ILogger _logger;
    private readonly HttpMessageDeliverer _deliverer = new();
    private readonly HttpStreamDeliverer _streamDeliverer = new();
    private readonly ConcurrentDictionary<IQuicConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private IQuicListener? _listener;
    private Task? _acceptLoop;
    private long _generation;

    /// <summary>Creates the gateway; call <see cref="StartAsync"/> to listen.</summary>
    public WebTransportGateway(IQuicTransport transport, WebTransportGatewayOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _transport = transport;
        _options = options;
        _logger = loggerFactory.CreateLogger<WebTransportGateway>();
        Metrics = new GatewayMetrics(() => _connections.Keys, () => Datagrams?.Dropped ?? 0);
        var pump = new TrackStreamPump(Router, _deliverer, _streamDeliverer, options.Streams, Metrics);
        Datagrams = new TrackDatagramDispatcher(Router, _deliverer, options.Datagrams, Metrics);
        var allowed = options.AllowedOrigins;
        Sessions = new TrackSessionHandler(Router, pump, Metrics, loggerFactory.CreateLogger<TrackSessionHandler>(),
            allowed.Count == 0 ? null : origin => origin is not null && allowed.Contains(origin, StringComparer.OrdinalIgnoreCase),
            Datagrams);
        Server = new WebTransportServer(options.WebTransport, Sessions.AcceptAsync, Sessions.HandleSessionAsync);
    }

    /// <summary>The router whose table <see cref="Apply"/> swaps.</summary>
    public TrackRouter Router { get; } = new();

    /// <summary>The data plane's instruments.</summary>
    public GatewayMetrics Metrics { get; }

    /// <summary>Delivery of datagrams that start with a track header; its counters show drops.</summary>
    public TrackDatagramDispatcher Datagrams { get; }

    /// <summary>Session acceptance and stream handling.</summary>
    public TrackSessionHandler Sessions { get; }

    /// <summary>The WebTransport server (HTTP/3 settings and CONNECT handling).</summary>
    public WebTransportServer Server { get; }

    /// <summary>The bound UDP endpoint, once started.</summary>
    public IPEndPoint? LocalEndPoint => _listener?.LocalEndPoint;

    /// <summary>True once the listener is bound and a configuration has been applied.</summary>
    public bool IsReady => _listener is not null && Router.Current.Generation > 0;

    /// <summary>
    /// Handles non-WebTransport HTTP/3 requests (HTTPRoutes). Until it is set, they are answered 404.
    /// </summary>
    public Http3RequestHandler? HttpFallback { get; set; }

    /// <summary>Applies new snapshots: every WebTransport route of every listener, swapped in as one table.</summary>
    public void Apply(IEnumerable<GatewaySnapshot> snapshots)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        var routes = snapshots.SelectMany(s => s.Listeners).SelectMany(l => l.WebTransportRoutes).ToList();
        var generation = Interlocked.Increment(ref _generation);
        Router.Swap(TrackRouteTable.Build(generation, routes));
        Log.Applied(_logger, generation, routes.Count);
    }

    /// <summary>Binds the QUIC listener and starts accepting connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _listener = await _transport.ListenAsync(new QuicServerOptions
        {
            ListenEndPoint = _options.ListenEndPoint,
            ServerCertificate = _options.Certificate,
            ServerCertificateSelector = _options.CertificateSelector,
            ApplicationProtocols = ["h3"],
            IdleTimeout = _options.IdleTimeout,
            MaxInboundBidirectionalStreams = 256,
            MaxInboundUnidirectionalStreams = 256,
            KeyLogFile = Environment.GetEnvironmentVariable("SSLKEYLOGFILE"),
        }, cancellationToken).ConfigureAwait(false);
        Log.Listening(_logger, _listener.LocalEndPoint, _transport.Name);
        _acceptLoop = AcceptLoopAsync(_listener, _stopping.Token);
    }

    private async Task AcceptLoopAsync(IQuicListener listener, CancellationToken stopping)
    {
        var http3 = Server.ConfigureHttp3();
        while (!stopping.IsCancellationRequested)
        {
            IQuicConnection connection;
            try
            {
                connection = await listener.AcceptConnectionAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (QuicException ex)
            {
                // One failed handshake never stops the listener.
                Log.HandshakeFailed(_logger, ex.Message);
                continue;
            }

            _connections[connection] = ServeAsync(connection, http3, stopping);
        }
    }

    private async Task ServeAsync(IQuicConnection connection, Http3ConnectionOptions http3, CancellationToken stopping)
    {
        await Task.Yield();
        try
        {
            var h3 = new Http3ServerConnection(connection, http3, Server.CreateRequestHandler(HttpFallback));
            await h3.RunAsync(stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ConnectionEnded(_logger, connection.RemoteEndPoint, ex.Message);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }

        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        await Task.WhenAll(_connections.Values).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _deliverer.Dispose();
        _streamDeliverer.Dispose();
        Metrics.Dispose();
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "QUIC listening on udp://{EndPoint} ({Transport} stack)")]
        public static partial void Listening(ILogger logger, IPEndPoint endPoint, string transport);

        [LoggerMessage(2, LogLevel.Information, "Configuration {Generation} applied: {Routes} WebTransport route(s)")]
        public static partial void Applied(ILogger logger, long generation, int routes);

        [LoggerMessage(3, LogLevel.Debug, "QUIC handshake failed: {Reason}")]
        public static partial void HandshakeFailed(ILogger logger, string reason);

        [LoggerMessage(4, LogLevel.Debug, "Connection from {Remote} ended: {Reason}")]
        public static partial void ConnectionEnded(ILogger logger, IPEndPoint remote, string reason);
    }
}

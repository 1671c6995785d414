using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Ir;
using Switchyard.Proxy.Filters;
using Switchyard.Proxy.Forwarding;
using Switchyard.Proxy.Matching;

namespace Switchyard.Proxy.Listeners;

/// <summary>
/// Serves a Gateway's HTTP and HTTPS listeners on Kestrel and forwards by HTTPRoute. Listeners that share a port share
/// one Kestrel endpoint; HTTP ports speak HTTP/1.1 and HTTP/2 with prior knowledge (h2c, told apart by the connection
/// preface), and HTTPS ports HTTP/1.1 and HTTP/2 chosen by ALPN, with the
/// certificate chosen by SNI. <see cref="ApplyAsync"/> swaps each port's routes and certificates whole: requests in
/// flight finish on the state they started with, new connections get new certificates, and only ports that appear,
/// disappear or change protocol are started or stopped.
/// </summary>
public sealed partial class ProxyServer : IAsyncDisposable
{
    private static readonly List<SslApplicationProtocol> HttpsAlpn = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];

    private readonly ProxyServerOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly HttpMessageInvoker _invoker;
    private readonly bool _ownsInvoker;
    private readonly HttpRouteHandler _handler;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lazy<LoadedCertificate> _dataPlaneCertificate;
    private readonly BackendTlsClients _backendTls;
    private Dictionary<CertificateIr, LoadedCertificate> _certificates = [];
    private volatile ImmutableDictionary<int, PortHost> _ports = ImmutableDictionary<int, PortHost>.Empty;
    private int _disposed;

    /// <summary>Creates a server with no listeners; call <see cref="ApplyAsync"/> to start some.</summary>
    /// <param name="options">Settings; null for defaults.</param>
    /// <param name="loggerFactory">Logging; null for none.</param>
    public ProxyServer(ProxyServerOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        _options = options ?? new ProxyServerOptions();
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<ProxyServer>();
        _ownsInvoker = _options.BackendInvoker is null;
        _invoker = _options.BackendInvoker ?? new HttpMessageInvoker(HttpForwarder.CreateHandler());
        var forwarderLogger = _loggerFactory.CreateLogger("Switchyard.Proxy.Forwarding");
        var forwarder = new HttpForwarder(_invoker, new RequestMirrors(_invoker, forwarderLogger), forwarderLogger);
        _handler = new HttpRouteHandler(forwarder, _loggerFactory.CreateLogger("Switchyard.Proxy.Routing"));
        _backendTls = new BackendTlsClients(forwarderLogger, _options.ShutdownTimeout);
        _dataPlaneCertificate = new Lazy<LoadedCertificate>(() => LoadedCertificate.FromCertificate(_options.DataPlaneCertificate ?? CreateSelfSigned()));
    }

    /// <summary>The snapshot last applied, or null.</summary>
    public GatewaySnapshot? Current { get; private set; }

    /// <summary>The socket each Gateway listener port is bound to (useful when <see cref="ProxyServerOptions.EndPointFor"/> asks for port 0).</summary>
    public IReadOnlyDictionary<int, IPEndPoint> BoundEndPoints => _ports.ToImmutableDictionary(p => p.Key, p => p.Value.BoundEndPoint);

    /// <summary>
    /// Applies a snapshot: validates it, compiles every port's routes and certificates (so a bad snapshot changes
    /// nothing), swaps the state of ports that stay, starts new ports and stops removed ones. A port whose protocol
    /// changed is restarted. Calls are serialized.
    /// </summary>
    /// <param name="snapshot">The new configuration.</param>
    /// <param name="cancellationToken">Cancels waiting to start or stop listeners.</param>
    /// <exception cref="ArgumentException">The snapshot is invalid or holds unusable certificate material; nothing changed.</exception>
    public async Task ApplyAsync(GatewaySnapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var errors = snapshot.Validate();
        if (!errors.IsEmpty)
        {
            throw new ArgumentException("Invalid snapshot: " + string.Join("; ", errors), nameof(snapshot));
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // :: Compile everything first so that a failure leaves the running configuration untouched.
            var certificates = new Dictionary<CertificateIr, LoadedCertificate>();
            var states = new Dictionary<int, PortState>();
            try
            {
                foreach (var group in snapshot.Listeners.GroupBy(l => l.Port))
                {
                    states[group.Key] = Compile(group.Key, [.. group], certificates, snapshot.BackendClientCertificate);
                }
            }
            catch
            {
                _backendTls.Abandon();
                throw;
            }

            _backendTls.Commit();

            // :: Stop ports that went away or changed protocol, then swap or start the rest.
            var ports = _ports;
            foreach (var (port, host) in ports)
            {
                if (!states.TryGetValue(port, out var state) || state.Protocol != host.State.Protocol)
                {
                    ports = ports.Remove(port);
                    _ports = ports;
                    Log.StoppingPort(_logger, port);
                    await host.DisposeAsync().ConfigureAwait(false);
                }
            }

            foreach (var (port, state) in states)
            {
                if (ports.TryGetValue(port, out var host))
                {
                    host.State = state;
                }
                else
                {
                    var started = await PortHost.StartAsync(state, _options, _handler, _loggerFactory, cancellationToken).ConfigureAwait(false);
                    ports = ports.SetItem(port, started);
                    _ports = ports;
                    Log.StartedPort(_logger, port, state.Protocol, started.BoundEndPoint.ToString());
                }
            }

            _certificates = certificates;
            Current = snapshot;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The pipeline for requests of one Gateway listener port that arrive through another server (HTTP/3 on UDP):
    /// the same matching, filters and forwarder as TCP. The port's state is read per request, so the handler stays
    /// valid across snapshots; when the port has no listener the answer is 404.
    /// </summary>
    /// <param name="port">The Gateway listener port.</param>
    /// <returns>The handler.</returns>
    public IHttpRequestHandler GetRequestHandler(int port) => new ExternalRequestHandler(this, port);

    /// <summary>
    /// The certificate (with its key) an HTTPS listener port presents to <paramref name="serverName"/>, chosen as for
    /// TCP (SNI, then the listener's certificates): the HTTP/3 listener on the same port's UDP calls it per handshake,
    /// so certificates of a new snapshot reach new QUIC connections too.
    /// </summary>
    /// <param name="port">The Gateway listener port.</param>
    /// <param name="serverName">The TLS server_name, or null when the client sent none.</param>
    /// <returns>The certificate, or null when the port is not an HTTPS port of the current snapshot.</returns>
    public X509Certificate2? SelectCertificate(int port, string? serverName) =>
        _ports.TryGetValue(port, out var host) && host.State.Certificates is { } certificates ? certificates.Select(serverName).Leaf : null;

    /// <summary>Stops every listener (waiting for requests in flight up to the shutdown timeout).</summary>
    /// <returns>A task that completes when all listeners have stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var ports = _ports;
            _ports = ImmutableDictionary<int, PortHost>.Empty;
            foreach (var host in ports.Values)
            {
                await host.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }

        await _backendTls.DisposeAsync().ConfigureAwait(false);
        if (_ownsInvoker)
        {
            _invoker.Dispose();
        }
    }

    private PortState Compile(int port, ListenerIr[] listeners, Dictionary<CertificateIr, LoadedCertificate> certificates, CertificateIr? backendClientCertificate)
    {
        var protocol = listeners[0].Protocol;
        CertificateSelector? selector = null;
        ClientCertificateValidator? clientValidator = null;
        string? altSvc = null;
        if (protocol == ListenerProtocol.Https)
        {
            selector = CertificateSelector.Build(listeners, Load, () => _dataPlaneCertificate.Value);

            // The snapshot guarantees every HTTPS listener of a port has the same client validation.
            if (listeners.Select(l => l.Tls?.ClientValidation).FirstOrDefault(v => v is not null) is { } validation)
            {
                clientValidator = ClientCertificateValidator.Load(validation);
            }

            // HTTP/3 on this port's UDP goes through the managed QUIC/TLS stack, which cannot ask for or check a
            // client certificate: a port that validates clients is never advertised for HTTP/3, so that no client
            // is steered to a transport that would skip the validation.
            if (clientValidator is null && _options.AdvertiseHttp3 && _options.AltSvcPortFor(port) is int h3Port)
            {
                altSvc = string.Create(CultureInfo.InvariantCulture, $"h3=\":{h3Port}\"; ma={(long)_options.AltSvcMaxAge.TotalSeconds}");
            }
        }

        return new PortState(port, protocol, RouteTable.Build(listeners, tls => _backendTls.Get(tls, backendClientCertificate)), selector, altSvc, clientValidator);

        LoadedCertificate Load(CertificateIr ir)
        {
            // Unchanged certificates are reused; changed bytes load afresh and reach new connections only.
            if (certificates.TryGetValue(ir, out var loaded) || _certificates.TryGetValue(ir, out loaded))
            {
                certificates[ir] = loaded;
                return loaded;
            }

            try
            {
                loaded = LoadedCertificate.FromPem(ir.CertificatePem.AsSpan(), ir.PrivateKeyPem.AsSpan());
            }
            catch (CryptographicException ex)
            {
                // The message names the source, never the key material.
                throw new ArgumentException($"{ir.Name}: certificate or key PEM is unusable ({ex.Message})", nameof(listeners), ex);
            }

            certificates[ir] = loaded;
            return loaded;
        }
    }

    private static X509Certificate2 CreateSelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));
    }

    /// <summary>One Kestrel server for one Gateway listener port.</summary>
    private sealed class PortHost : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly TimeSpan _shutdownTimeout;
        private volatile PortState _state;

        private PortHost(WebApplication app, PortState state, TimeSpan shutdownTimeout)
        {
            _app = app;
            _state = state;
            _shutdownTimeout = shutdownTimeout;
        }

        public PortState State
        {
            get => _state;
            set => _state = value;
        }

        public IPEndPoint BoundEndPoint { get; private set; } = new(IPAddress.None, 0);

        public static async Task<PortHost> StartAsync(PortState state, ProxyServerOptions options, HttpRouteHandler handler, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
        {
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "Switchyard.Proxy" });
            builder.Services.AddLogging();
            builder.Services.AddSingleton(loggerFactory);
            builder.WebHost.UseKestrelCore();
            PortHost? self = null;
            ListenOptions? bound = null;
            ListenOptions? http2 = null;
            ConnectionDelegate? http2Pipeline = null;
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                kestrel.Limits.MaxRequestBodySize = null;
                kestrel.Listen(options.EndPointFor(state.Port), listen =>
                {
                    bound = listen;
                    if (state.Protocol == ListenerProtocol.Http)
                    {
                        listen.Protocols = HttpProtocols.Http1;
                        listen.Use(H2cPriorKnowledge.Middleware(() => Volatile.Read(ref http2Pipeline), kestrel.Limits.RequestHeadersTimeout));
                        return;
                    }

                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(new TlsHandshakeCallbackOptions
                    {
                        // Read per handshake: a new snapshot's certificates and client validation apply to the next
                        // connection; connections already open keep what they were accepted with.
                        OnConnection = context =>
                        {
                            var current = self!.State;
                            var ssl = new SslServerAuthenticationOptions
                            {
                                ServerCertificateContext = current.Certificates!.Select(context.ClientHelloInfo.ServerName).Context,
                                ApplicationProtocols = HttpsAlpn,
                                EnabledSslProtocols = options.SslProtocols,
                                ClientCertificateRequired = false,
                                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                            };
                            if (current.ClientValidator is { } validator)
                            {
                                // Ask every client for a certificate (RFC 8446 §4.3.2), build its chain against the
                                // port's CAs only, and let the mode decide what an absent or invalid one means.
                                ssl.ClientCertificateRequired = true;
                                ssl.CertificateChainPolicy = validator.CreateChainPolicy();

                                // No session resumption: a resumed session skips the CertificateRequest and carries
                                // whatever certificate (or none) an earlier handshake had, perhaps under an earlier
                                // snapshot's CAs or mode. Every connection is judged by the current validation.
                                ssl.AllowTlsResume = false;
                                ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) => validator.Accept(certificate, errors);
                            }

                            return ValueTask.FromResult(ssl);
                        },
                    });
                });

                if (state.Protocol == ListenerProtocol.Http)
                {
                    // Kestrel builds an HTTP/2-only pipeline only for an endpoint it binds; this one, on loopback, is
                    // never used directly: h2c connections of the listener port are handed to its pipeline.
                    kestrel.Listen(new IPEndPoint(IPAddress.Loopback, 0), listen =>
                    {
                        listen.Protocols = HttpProtocols.Http2;
                        http2 = listen;
                    });
                }
            });

            var app = builder.Build();
            self = new PortHost(app, state, options.ShutdownTimeout);
            var host = self;
            ((IApplicationBuilder)app).Run(context => handler.HandleAsync(context, host.State));
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            if (http2 is not null)
            {
                // After start the endpoint's middleware includes Kestrel's HTTP server, so the pipeline is complete.
                Volatile.Write(ref http2Pipeline, http2.Build());
            }

            self.BoundEndPoint = bound?.IPEndPoint ?? options.EndPointFor(state.Port);
            return self;
        }

        public async ValueTask DisposeAsync()
        {
            using (var cts = new CancellationTokenSource(_shutdownTimeout))
            {
                try
                {
                    await _app.StopAsync(cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Requests still running after the timeout are cut; the port must be released.
                }
            }

            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The HTTP/3 seam for one port.</summary>
    private sealed class ExternalRequestHandler(ProxyServer server, int port) : IHttpRequestHandler
    {
        public async Task HandleAsync(ProxiedHttpRequest request, IHttpResponseWriter response, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(request);
            ArgumentNullException.ThrowIfNull(response);
            var (context, features) = ExternalHttpContext.Create(request, response, cancellationToken);
            try
            {
                if (server._ports.TryGetValue(port, out var host) && host.State.ClientValidator is { Mode: FrontendValidationMode.AllowValidOnly })
                {
                    // The other server (HTTP/3 over the managed QUIC stack) cannot authenticate clients by certificate,
                    // so it must not serve a port that only lets validated clients in; 421 sends the client to a
                    // new connection (RFC 9110 §15.5.20), which over TCP is validated.
                    ProxyErrors.Apply(context, ProxyError.MisdirectedRequest);
                }
                else if (host is not null)
                {
                    await server._handler.HandleAsync(context, host.State).ConfigureAwait(false);
                }
                else
                {
                    ProxyErrors.Apply(context, ProxyError.NoRoute);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A callback from another server never throws into it (see STYLE.md): log, and end the exchange.
                Log.ExternalRequestFailed(server._logger, port, ex);
                if (!features.HasStarted)
                {
                    context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                }
                else
                {
                    features.Abort();
                }
            }

            await features.FinishAsync().ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 30, Level = LogLevel.Information, Message = "Listening on port {Port} ({Protocol}) at {EndPoint}")]
        public static partial void StartedPort(ILogger logger, int port, ListenerProtocol protocol, string endPoint);

        [LoggerMessage(EventId = 31, Level = LogLevel.Information, Message = "Stopping port {Port}")]
        public static partial void StoppingPort(ILogger logger, int port);

        [LoggerMessage(EventId = 32, Level = LogLevel.Error, Message = "Request from the external server on port {Port} failed")]
        public static partial void ExternalRequestFailed(ILogger logger, int port, Exception exception);
    }
}

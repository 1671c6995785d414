using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Switchyard.Cli.Hosting;
using Switchyard.Controller.Providers;
using Switchyard.Controller.Translation;
using Switchyard.Gateway.DataPlane;
using Switchyard.Gateway.Hosting;
using Switchyard.Gateway.Metrics;
using Switchyard.Quic.Udp;
using Switchyard.Tls;

namespace Switchyard.Cli.Standalone;

/// <summary>Where the standalone gateway listens and what it serves.</summary>
internal sealed class StandaloneOptions
{
    public required string ManifestDirectory { get; init; }

    /// <summary>Where the Gateway listener ports bind, each on its own port number unless remapped.</summary>
    public DataPlaneBindings Bindings { get; init; } = new();

    /// <summary>
    /// Where HTTPS listener ports that <see cref="Bindings"/> does not remap bind (TCP and UDP); null binds them like the
    /// other ports. Kept for <c>--quic</c>: the quickstart's single HTTPS listener.
    /// </summary>
    public IPEndPoint? QuicEndPoint { get; init; }

    public IPEndPoint? PageEndPoint { get; init; }

    public required IPEndPoint AdminEndPoint { get; init; }

    public string? PageRoot { get; init; }

    public string? CertificatePath { get; init; }

    public string? KeyPath { get; init; }

    /// <summary>Origins allowed to open WebTransport sessions (compared ignoring case); empty accepts any.</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];
}

/// <summary>
/// Standalone mode: the same pipeline a cluster runs, on one machine, from a folder of the same YAML.
/// File provider → translator (pure) → snapshot per Gateway → data plane, reloading when a file changes. The data
/// plane serves every listener of every Gateway: HTTPRoutes on TCP (HTTP/1.1, HTTP/2) and on HTTP/3, and
/// WebTransportRoutes on HTTP/3, on the listener's port.
/// </summary>
/// <remarks>
/// <para>Steps of <see cref="StartAsync"/>:</para>
/// <list type="number">
/// <item>Load and translate the manifests; refuse to start on a bad folder (there is no last good configuration yet).</item>
/// <item>Load the certificate, or make a fresh self-signed ECDSA P-256 one valid for 13 days (WebTransport's
/// <c>serverCertificateHashes</c> accepts at most 14). HTTPS listeners without certificateRefs present it.</item>
/// <item>Apply the snapshots to the data plane (binding the listener ports), start the admin endpoints and, when
/// asked, the live client page.</item>
/// <item>Watch the folder: a good change is swapped in whole; a bad one is reported and the last good one keeps serving.</item>
/// </list>
/// </remarks>
internal sealed partial class StandaloneGateway : IAsyncDisposable
{
    private readonly StandaloneOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TranslatorOptions _translatorOptions = new() { DataPlaneSuppliesMissingCertificates = true };
    private readonly Channel<ResourceSnapshot> _changes = Channel.CreateUnbounded<ResourceSnapshot>(new UnboundedChannelOptions { SingleReader = true });
    private FileProvider? _provider;
    private DataPlaneHost? _dataPlane;
    private PrometheusExporter? _exporter;
    private RunningServer? _admin;
    private RunningServer? _page;
    private Task? _reloads;

    public StandaloneGateway(StandaloneOptions options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("Switchyard.Standalone");
    }

    public X509Certificate2 Certificate { get; private set; } = null!;

    /// <summary>The data plane: every Gateway's listeners.</summary>
    public DataPlaneHost DataPlane => _dataPlane ?? throw new InvalidOperationException("Not started.");

    /// <summary>Every listener port served now.</summary>
    public IReadOnlyList<DataPlaneListener> Listeners => DataPlane.Listeners;

    /// <summary>The WebTransport side of the first HTTPS listener (the quickstart's only one).</summary>
    public WebTransportGateway Gateway =>
        DataPlane.Listeners.FirstOrDefault(l => l.UdpEndPoint is not null) is { } first && DataPlane.GetWebTransportGateway(first.Gateway, first.Port) is { } gateway
            ? gateway
            : throw new InvalidOperationException("No HTTPS listener is served over QUIC.");

    /// <summary>The UDP endpoint of <see cref="Gateway"/>.</summary>
    public IPEndPoint QuicEndPoint => Gateway.LocalEndPoint!;

    public Uri? PageAddress => _page?.BaseAddress;

    public Uri AdminAddress => _admin?.BaseAddress ?? throw new InvalidOperationException("Not started.");

    /// <summary>Configurations applied so far (the first load counts).</summary>
    public int Reloads { get; private set; }

    /// <summary>Raised after each configuration is applied or refused (true when applied).</summary>
    public event Action<bool>? ConfigurationProcessed;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // :: Step 1
        _provider = new FileProvider(_options.ManifestDirectory);
        var first = _provider.Start();
        if (!first.Succeeded)
        {
            throw new ManifestException(first.Errors);
        }

        // :: Step 2
        Certificate = _options.CertificatePath is not null
            ? TlsCertificates.LoadPem(_options.CertificatePath, _options.KeyPath ?? throw new ArgumentException("--key is required with --cert."))
            : TlsCertificates.CreateSelfSignedEcdsaP256(["127.0.0.1", "localhost", "::1"], TimeSpan.FromDays(13));
        Log.Certificate(_logger, Certificate.Subject, Certificate.NotAfter, Convert.ToBase64String(TlsCertificates.Sha256OfDer(Certificate)));

        // :: Step 3
        var bindings = _options.Bindings;
        var quic = _options.QuicEndPoint;
        _dataPlane = new DataPlaneHost(ManagedQuicTransport.Instance, new DataPlaneHostOptions
        {
            DataPlaneCertificate = Certificate,
            EndPointFor = (gateway, port, protocol) =>
                bindings.Overrides.TryGetValue(port, out var mapped) ? mapped
                : protocol == Switchyard.Ir.ListenerProtocol.Https && quic is not null ? quic
                : bindings.EndPointFor(port),
            ShutdownTimeout = TimeSpan.FromSeconds(2),
            AllowedOrigins = _options.AllowedOrigins,
        }, _loggerFactory);
        var dataPlane = _dataPlane;
        _exporter = new PrometheusExporter(dataPlane.OwnsMeter);
        await ApplyAsync(first.Snapshot!, cancellationToken).ConfigureAwait(false);
        _admin = await AdminServer.StartAsync(_options.AdminEndPoint, _exporter, () => dataPlane.IsReady).ConfigureAwait(false);
        if (_options.PageEndPoint is not null && _options.PageRoot is not null)
        {
            _page = await PageServer.StartAsync(_options.PageEndPoint, _options.PageRoot, () => TlsCertificates.Sha256OfDer(Certificate)).ConfigureAwait(false);
        }

        // :: Step 4
        _provider.SnapshotPublished += snapshot => _changes.Writer.TryWrite(snapshot);
        _provider.LoadFailed += errors =>
        {
            foreach (var error in errors)
            {
                Log.ManifestRejected(_logger, error.ToString());
            }

            Log.KeptLastGood(_logger);
            ConfigurationProcessed?.Invoke(false);
        };
        _reloads = Task.Run(ReloadLoopAsync, CancellationToken.None);
    }

    private async Task ReloadLoopAsync()
    {
        await foreach (var snapshot in _changes.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await ApplyAsync(snapshot, CancellationToken.None).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    private async Task ApplyAsync(ResourceSnapshot resources, CancellationToken cancellationToken)
    {
        var result = Translator.Translate(resources, _translatorOptions);
        foreach (var route in result.Statuses.WebTransportRoutes)
        {
            ReportConditions("WebTransportRoute", route.Namespace, route.Name, route.Status.Parents.SelectMany(p => p.Conditions));
        }

        foreach (var route in result.Statuses.HttpRoutes)
        {
            ReportConditions("HTTPRoute", route.Namespace, route.Name, route.Status.Parents.SelectMany(p => p.Conditions));
        }

        foreach (var gateway in result.Statuses.Gateways)
        {
            ReportConditions("Gateway", gateway.Namespace, gateway.Name, gateway.Status.Conditions);
        }

        var errors = await _dataPlane!.ApplyAllAsync(result.Snapshots, cancellationToken).ConfigureAwait(false);
        foreach (var error in errors)
        {
            Log.DataPlaneRefused(_logger, error);
        }

        Reloads++;
        ConfigurationProcessed?.Invoke(errors.IsEmpty);
    }

    private void ReportConditions(string kind, string? ns, string name, IEnumerable<Switchyard.Api.Meta.Condition> conditions)
    {
        foreach (var condition in conditions)
        {
            if (condition.Status != "True" && condition.Type is "Accepted" or "ResolvedRefs" or "Programmed")
            {
                Log.ConditionFalse(_logger, kind, ns, name, condition.Type, condition.Reason, condition.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _provider?.Dispose();
        _changes.Writer.TryComplete();
        if (_reloads is not null)
        {
            await _reloads.ConfigureAwait(false);
        }

        if (_page is not null)
        {
            await _page.DisposeAsync().ConfigureAwait(false);
        }

        if (_admin is not null)
        {
            await _admin.DisposeAsync().ConfigureAwait(false);
        }

        if (_dataPlane is not null)
        {
            await _dataPlane.DisposeAsync().ConfigureAwait(false);
        }

        _exporter?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Certificate {Subject}, valid until {NotAfter:u}, sha-256 {Hash}")]
        public static partial void Certificate(ILogger logger, string subject, DateTime notAfter, string hash);

        [LoggerMessage(2, LogLevel.Error, "Manifest rejected: {Error}")]
        public static partial void ManifestRejected(ILogger logger, string error);

        [LoggerMessage(3, LogLevel.Warning, "The last good configuration keeps serving")]
        public static partial void KeptLastGood(ILogger logger);

        [LoggerMessage(4, LogLevel.Warning, "{Kind} {Namespace}/{Name}: {Type} is not True ({Reason}): {Message}")]
        public static partial void ConditionFalse(ILogger logger, string kind, string? @namespace, string name, string type, string reason, string message);

        [LoggerMessage(6, LogLevel.Error, "The data plane refused a Gateway's configuration (it keeps its last good one): {Error}")]
        public static partial void DataPlaneRefused(ILogger logger, string error);
    }
}

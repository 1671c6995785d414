using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Switchyard.Controller.Providers;
using Switchyard.Controller.Translation;
using Switchyard.Gateway.Hosting;
using Switchyard.Gateway.Metrics;
using Switchyard.Quic.Udp;
using Switchyard.Tls;

namespace Switchyard.Cli.Standalone;

/// <summary>Where the standalone gateway listens and what it serves.</summary>
internal sealed class StandaloneOptions
{
    public required string ManifestDirectory { get; init; }

    public required IPEndPoint QuicEndPoint { get; init; }

    public IPEndPoint? PageEndPoint { get; init; }

    public required IPEndPoint AdminEndPoint { get; init; }

    public string? PageRoot { get; init; }

    public string? CertificatePath { get; init; }

    public string? KeyPath { get; init; }
}

/// <summary>
/// Standalone mode: the same pipeline a cluster runs, on one machine, from a folder of the same YAML.
/// File provider → translator (pure) → snapshot → data plane, reloading when a file changes.
/// </summary>
/// <remarks>
/// <para>Steps of <see cref="StartAsync"/>:</para>
/// <list type="number">
/// <item>Load and translate the manifests; refuse to start on a bad folder (there is no last good configuration yet).</item>
/// <item>Load the certificate, or make a fresh self-signed ECDSA P-256 one valid for 13 days (WebTransport's
/// <c>serverCertificateHashes</c> accepts at most 14).</item>
/// <item>Start the QUIC listener, the admin endpoints and, when asked, the live client page.</item>
/// <item>Watch the folder: a good change is swapped in whole; a bad one is reported and the last good one keeps serving.</item>
/// </list>
/// </remarks>
internal sealed partial class StandaloneGateway : IAsyncDisposable
{
    private readonly StandaloneOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TranslatorOptions _translatorOptions = new() { DataPlaneSuppliesMissingCertificates = true };
    private FileProvider? _provider;
    private WebTransportGateway? _gateway;
    private PrometheusExporter? _exporter;
    private RunningServer? _admin;
    private RunningServer? _page;

    public StandaloneGateway(StandaloneOptions options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("Switchyard.Standalone");
    }

    public X509Certificate2 Certificate { get; private set; } = null!;

    public WebTransportGateway Gateway => _gateway ?? throw new InvalidOperationException("Not started.");

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
        _gateway = new WebTransportGateway(ManagedQuicTransport.Instance, new WebTransportGatewayOptions
        {
            ListenEndPoint = _options.QuicEndPoint,
            Certificate = Certificate,
        }, _loggerFactory);
        var meter = _gateway.Metrics.Meter;
        _exporter = new PrometheusExporter(m => ReferenceEquals(m, meter));
        Apply(first.Snapshot!);
        await _gateway.StartAsync(cancellationToken).ConfigureAwait(false);
        _admin = await AdminServer.StartAsync(_options.AdminEndPoint, _exporter, () => _gateway.IsReady).ConfigureAwait(false);
        if (_options.PageEndPoint is not null && _options.PageRoot is not null)
        {
            _page = await PageServer.StartAsync(_options.PageEndPoint, _options.PageRoot, () => TlsCertificates.Sha256OfDer(Certificate)).ConfigureAwait(false);
        }

        // :: Step 4
        _provider.SnapshotPublished += snapshot => Apply(snapshot);
        _provider.LoadFailed += errors =>
        {
            foreach (var error in errors)
            {
                Log.ManifestRejected(_logger, error.ToString());
            }

            Log.KeptLastGood(_logger);
            ConfigurationProcessed?.Invoke(false);
        };
    }

    private void Apply(ResourceSnapshot resources)
    {
        var result = Translator.Translate(resources, _translatorOptions);
        foreach (var route in result.Statuses.WebTransportRoutes)
        {
            ReportConditions("WebTransportRoute", route.Namespace, route.Name, route.Status.Parents.SelectMany(p => p.Conditions));
        }

        foreach (var route in result.Statuses.HttpRoutes)
        {
            ReportConditions("HTTPRoute", route.Namespace, route.Name, route.Status.Parents.SelectMany(p => p.Conditions));
            if (route.Status.Parents.Any(p => p.Conditions.Any(c => c.Type == "Accepted" && c.Status == "True")))
            {
                // The HTTP forwarder is not wired into standalone mode yet: say so rather than pretend.
                Log.HttpRouteNotServed(_logger, route.Namespace, route.Name);
            }
        }

        foreach (var gateway in result.Statuses.Gateways)
        {
            ReportConditions("Gateway", gateway.Namespace, gateway.Name, gateway.Status.Conditions);
        }

        _gateway!.Apply(result.Snapshots);
        Reloads++;
        ConfigurationProcessed?.Invoke(true);
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
        if (_page is not null)
        {
            await _page.DisposeAsync().ConfigureAwait(false);
        }

        if (_admin is not null)
        {
            await _admin.DisposeAsync().ConfigureAwait(false);
        }

        if (_gateway is not null)
        {
            await _gateway.DisposeAsync().ConfigureAwait(false);
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

        [LoggerMessage(5, LogLevel.Warning, "HTTPRoute {Namespace}/{Name} is accepted but not yet served in standalone mode")]
        public static partial void HttpRouteNotServed(ILogger logger, string? @namespace, string name);
    }
}

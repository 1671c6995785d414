using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Switchyard.Conformance.Kube;
using Switchyard.Kubernetes.DevApiServer.Logs;

namespace Switchyard.Conformance.Backends;

/// <summary>One echo pod: its name, namespace and loopback address.</summary>
internal sealed record EchoPod(string Name, string Namespace, IPAddress Address);

/// <summary>
/// TLS of echo pods that serve HTTPS, as echo-basic's <c>TLS_SERVER_CERT</c> / <c>TLS_SERVER_PRIVKEY</c> and
/// <c>TLS_CLIENT_CACERTS</c> configure it: the serving certificate, and the CAs a client certificate must chain to
/// (null: none is asked for).
/// </summary>
internal sealed record EchoTls(X509Certificate2 Certificate, X509Certificate2Collection? ClientCas);

/// <summary>
/// A request an echo pod answered (for mirror checks, upstream reads the pod's log for the same thing). Headers are
/// null, and Method and Host empty, when only the pod's log line was seen (<see cref="Kube.EchoPodLogs"/>).
/// </summary>
internal sealed record EchoLogEntry(string Pod, string Namespace, string Method, string Path, string Host, IReadOnlyDictionary<string, string>? Headers, DateTimeOffset At, string Client = "");

/// <summary>A track message a pod received from the WebTransport data plane (one POST per message, Message delivery).</summary>
internal sealed record TrackLogEntry(string Pod, string Namespace, string Path, string TrackId, string TrackType, int Bytes, DateTimeOffset At);

/// <summary>
/// The in-process stand-in for upstream's echo-basic image: every pod is its own loopback address (127.x.y.z), so
/// pods listen on the container ports the manifests name (3000) exactly as real pods do, and EndpointSlices list pod
/// IPs with target ports. It answers with the JSON echo-basic writes (method, path, host, headers, namespace, pod),
/// sets response headers from <c>X-Echo-Set-Header</c>, and waits for <c>?delay=DURATION</c> before answering.
/// A request with an <c>X-Track-Id</c> header is a WebTransport track message the data plane delivered: the pod
/// records its track, type and body size (<see cref="TracksTo"/>) and answers 204.
/// Like echo-basic, port 3000 also serves a WebSocket echo at <c>/ws</c> (every text and binary message is sent
/// back), and port 3001 serves the same echo over HTTP/2 with prior knowledge only (h2c; an HTTP/1.1 client gets
/// nothing), so an answer from 3001 proves the gateway spoke h2c.
/// For HTTPRouteRetry, a request with <c>?uuid=ID&amp;responseCode=CODE&amp;succeedAfter=N</c> is a retry simulation:
/// the first N requests carrying ID answer CODE, later ones echo as usual (see <see cref="RetrySimulation"/>).
/// </summary>
internal sealed class EchoServer : IAsyncDisposable
{
    /// <summary>The container ports every echo pod serves (echo-basic's HTTP port, then its h2c port).</summary>
    public static readonly int[] Ports = [3000, H2cPort];

    /// <summary>echo-basic's h2c port: HTTP/2 with prior knowledge, nothing else.</summary>
    public const int H2cPort = 3001;

    /// <summary>The HTTPS port of pods with <see cref="EchoTls"/> (echo-basic's).</summary>
    public const int TlsPort = 8443;

    private readonly Dictionary<IPAddress, EchoPod> pods;
    private readonly WebApplication app;
    private readonly ConcurrentQueue<EchoLogEntry> log = new();
    private readonly ConcurrentQueue<TrackLogEntry> tracks = new();
    private readonly ConcurrentDictionary<string, int> retrySimulations = new(StringComparer.Ordinal);

    /// <summary>
    /// How many retry simulations are remembered; every probe uses a fresh ID, so older ones are forgotten wholesale
    /// rather than letting the table grow with the number of requests.
    /// </summary>
    private const int MaxRetrySimulations = 10_000;

    private EchoServer(IReadOnlyList<EchoPod> pods, WebApplication app)
    {
        this.pods = pods.ToDictionary(p => p.Address);
        this.app = app;
    }

    public IReadOnlyCollection<EchoPod> Pods => pods.Values;

    public IEnumerable<EchoLogEntry> Log => log;

    /// <summary>Starts one Kestrel server bound to every pod's address and port (and <see cref="TlsPort"/> with <paramref name="tls"/>).</summary>
    public static async Task<EchoServer> StartAsync(IReadOnlyList<EchoPod> pods, CancellationToken cancellationToken, EchoTls? tls = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "Switchyard.Conformance.Echo" });
        builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            foreach (var pod in pods)
            {
                foreach (var port in Ports)
                {
                    // Kestrel's cleartext HTTP/2-only endpoint is prior knowledge (RFC 9113 §3.3) and refuses HTTP/1.1.
                    k.Listen(pod.Address, port, l => l.Protocols = port == H2cPort ? HttpProtocols.Http2 : HttpProtocols.Http1AndHttp2);
                }

                if (tls is not null)
                {
                    k.Listen(pod.Address, TlsPort, l =>
                    {
                        l.Protocols = HttpProtocols.Http1AndHttp2;
                        l.UseHttps(new HttpsConnectionAdapterOptions
                        {
                            ServerCertificate = tls.Certificate,
                            CheckCertificateRevocation = false,
                            ClientCertificateMode = tls.ClientCas is null ? ClientCertificateMode.NoCertificate : ClientCertificateMode.RequireCertificate,
                            ClientCertificateValidation = (certificate, _, _) => tls.ClientCas is { } cas && ChainsTo(certificate, cas),
                        });
                    });
                }
            }
        });
        var app = builder.Build();
        var server = new EchoServer(pods, app);
        app.UseWebSockets();
        ((IApplicationBuilder)app).Run(server.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return server;
    }

    /// <summary>Requests answered by pods whose names start with <paramref name="podPrefix"/> since <paramref name="since"/>.</summary>
    public IReadOnlyList<EchoLogEntry> RequestsTo(string podPrefix, string ns, DateTimeOffset since) =>
        [.. log.Where(e => e.Pod.StartsWith(podPrefix, StringComparison.Ordinal) && e.Namespace == ns && e.At >= since)];

    /// <summary>
    /// The container log of one of this server's pods as echo-basic writes it (one line per answered request), or null
    /// when the pod is not served here. The API server's <c>pods/NAME/log</c> reads it (the kubelet's part).
    /// </summary>
    public IReadOnlyList<PodLogEntry>? PodLog(string podName, string ns)
    {
        if (!pods.Values.Any(p => p.Name == podName && p.Namespace == ns))
        {
            return null;
        }

        return [.. log.Where(e => e.Pod == podName && e.Namespace == ns).Select(e => new PodLogEntry(e.At, EchoPodLogs.Line(e.Path, e.Client)))];
    }

    /// <summary>Track messages received by pods whose names start with <paramref name="podPrefix"/> since <paramref name="since"/>.</summary>
    public IReadOnlyList<TrackLogEntry> TracksTo(string podPrefix, string ns, DateTimeOffset since) =>
        [.. tracks.Where(e => e.Pod.StartsWith(podPrefix, StringComparison.Ordinal) && e.Namespace == ns && e.At >= since)];

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await app.StopAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var local = context.Connection.LocalIpAddress ?? IPAddress.None;
        if (local.IsIPv4MappedToIPv6)
        {
            local = local.MapToIPv4();
        }

        pods.TryGetValue(local, out var pod);
        var request = context.Request;
        if (context.WebSockets.IsWebSocketRequest && request.Path == "/ws" && context.Connection.LocalPort != H2cPort)
        {
            await EchoWebSocketAsync(context).ConfigureAwait(false);
            return;
        }

        if (request.Headers.TryGetValue("X-Track-Id", out var trackId))
        {
            await RecordTrackAsync(context, pod, trackId.ToString()).ConfigureAwait(false);
            return;
        }

        var path = request.Path.Value + request.QueryString.Value;
        var rawTarget = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(rawTarget) && rawTarget.StartsWith('/'))
        {
            path = rawTarget;
        }

        var headers = new SortedDictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (name, values) in request.Headers)
        {
            if (name.StartsWith(':'))
            {
                continue;
            }

            headers[Canonical(name)] = [.. values.Select(v => v ?? "")];
        }

        var client = context.Connection.RemoteIpAddress is { } remote ? new IPEndPoint(remote, context.Connection.RemotePort).ToString() : "";
        log.Enqueue(new EchoLogEntry(pod?.Name ?? "", pod?.Namespace ?? "", request.Method, path, request.Host.Value ?? "",
            headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase), DateTimeOffset.UtcNow, client));

        if (request.Query.TryGetValue("delay", out var delayText) && TryParseGoDuration(delayText.ToString(), out var delay))
        {
            try
            {
                await Task.Delay(delay, context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        if (RetrySimulation(request) is { } failWith)
        {
            // The answer a failing backend would give: an error status with a small JSON body that is not an echo.
            var error = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["message"] = "retry simulation: failing this request" });
            context.Response.StatusCode = failWith;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = error.Length;
            await context.Response.Body.WriteAsync(error, context.RequestAborted).ConfigureAwait(false);
            return;
        }

        foreach (var pair in request.Headers["X-Echo-Set-Header"].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)))
        {
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                context.Response.Headers.Append(pair[..colon].Trim(), pair[(colon + 1)..].Trim());
            }
        }

        var echoed = new Dictionary<string, object>
        {
            ["path"] = path,
            ["host"] = request.Host.Value ?? "",
            ["method"] = request.Method,
            ["proto"] = request.Protocol,
            ["headers"] = headers,
            ["namespace"] = pod?.Namespace ?? "",
            ["ingress"] = "",
            ["service"] = "",
            ["pod"] = pod?.Name ?? "",
        };
        if (request.IsHttps && context.Features.Get<ITlsHandshakeFeature>() is { } handshake)
        {
            // echo-basic's "tls" block: what the TLS client (the Gateway) sent.
            echoed["tls"] = new Dictionary<string, object>
            {
                ["version"] = handshake.Protocol.ToString(),
                // Kestrel fills HostName only when it selects certificates by SNI; the stream always knows it.
                ["serverName"] = context.Features.Get<Microsoft.AspNetCore.Server.Kestrel.Core.Features.ISslStreamFeature>()?.SslStream.TargetHostName is { Length: > 0 } sni ? sni : handshake.HostName ?? "",
                ["negotiatedProtocol"] = request.Protocol,
                ["cipherSuite"] = handshake.NegotiatedCipherSuite?.ToString() ?? "",
                ["peerCertificates"] = context.Connection.ClientCertificate is { } peer ? new[] { peer.ExportCertificatePem() } : [],
            };
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(echoed);
        context.Response.ContentType = "application/json";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// The status to fail <paramref name="request"/> with when it is one of the first <c>succeedAfter</c> requests of
    /// its retry simulation (<c>uuid</c>, <c>responseCode</c> 400–599, <c>succeedAfter</c> ≥ 0); null to answer
    /// normally. Requests are counted per ID across all pods of this server, so a gateway that retries on another pod
    /// of the same Service still sees the simulation advance.
    /// </summary>
    private int? RetrySimulation(HttpRequest request)
    {
        var query = request.Query;
        if (!query.TryGetValue("uuid", out var id) || id.ToString() is not { Length: > 0 } key
            || !int.TryParse(query["responseCode"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var code) || code is < 400 or > 599
            || !int.TryParse(query["succeedAfter"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var succeedAfter))
        {
            return null;
        }

        if (retrySimulations.Count >= MaxRetrySimulations)
        {
            retrySimulations.Clear();
        }

        var seen = retrySimulations.AddOrUpdate(key, 1, (_, n) => n + 1);
        return seen <= succeedAfter ? code : null;
    }

    /// <summary>echo-basic's <c>/ws</c>: every message comes back as it was sent, text as text and binary as binary.</summary>
    private static async Task EchoWebSocketAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(), context.RequestAborted).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted).ConfigureAwait(false);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The client (or the gateway between) went away.
        }
    }

    private async Task RecordTrackAsync(HttpContext context, EchoPod? pod, string trackId)
    {
        var buffer = new byte[16 * 1024];
        var bytes = 0;
        int n;
        while ((n = await context.Request.Body.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            bytes += n;
        }

        tracks.Enqueue(new TrackLogEntry(pod?.Name ?? "", pod?.Namespace ?? "", context.Request.Path.Value ?? "", trackId,
            context.Request.Headers["X-Track-Type"].ToString(), bytes, DateTimeOffset.UtcNow));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>Whether a client certificate chains to one of <paramref name="cas"/>.</summary>
    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection cas)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(cas);
        return chain.Build(certificate);
    }

    /// <summary>Go's header canonicalization (<c>x-foo-bar</c> → <c>X-Foo-Bar</c>), which echo-basic reports.</summary>
    internal static string Canonical(string name)
    {
        var chars = name.ToCharArray();
        var upper = true;
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = upper ? char.ToUpperInvariant(chars[i]) : char.ToLowerInvariant(chars[i]);
            upper = chars[i] == '-';
        }

        return new string(chars);
    }

    /// <summary>Go duration with one unit (ms, s, m).</summary>
    internal static bool TryParseGoDuration(string text, out TimeSpan value)
    {
        foreach (var (suffix, ms) in new[] { ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0) })
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)
                && n >= 0 && n <= 600_000 / ms)
            {
                value = TimeSpan.FromMilliseconds(n * ms);
                return true;
            }
        }

        value = default;
        return false;
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Switchyard.Conformance.Http;

/// <summary>What a response looked like: status, headers (response and content), and the echo body when there is one.</summary>
internal sealed record CapturedResponse(int StatusCode, IReadOnlyDictionary<string, string> Headers, EchoedRequest? Echo, string Body, bool ClientCertificateSent = false);

/// <summary>
/// The TLS side of one exchange opened by <see cref="GatewayHttp"/>: what the client presents and trusts, and whether
/// the handshake sent the client certificate (the Gateway asked for it). Filled in even when the request then fails.
/// </summary>
internal sealed class TlsExchange
{
    public X509Certificate2? ClientCertificate { get; init; }

    public X509Certificate2? ServerCertificate { get; init; }

    public bool ClientCertificateSent { get; set; }
}

/// <summary>The echo backend's report of the request it received (upstream echo-basic's JSON).</summary>
internal sealed record EchoedRequest(string Path, string Host, string Method, IReadOnlyDictionary<string, string[]> Headers, string Namespace, string Pod)
{
    /// <summary>The TLS server name the backend was sent, when it served TLS (echo-basic's <c>tls.serverName</c>).</summary>
    public string? TlsServerName { get; init; }

    /// <summary>The client certificates the backend received, PEM (echo-basic's <c>tls.peerCertificates</c>).</summary>
    public IReadOnlyList<string> TlsPeerCertificates { get; init; } = [];

    public static EchoedRequest? TryParse(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("pod", out _))
            {
                return null;
            }

            var headers = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
            if (root.TryGetProperty("headers", out var h) && h.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in h.EnumerateObject())
                {
                    headers[p.Name] = [.. p.Value.EnumerateArray().Select(v => v.GetString() ?? "")];
                }
            }

            string S(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
            string? serverName = null;
            var peers = new List<string>();
            if (root.TryGetProperty("tls", out var tls) && tls.ValueKind == JsonValueKind.Object)
            {
                serverName = tls.TryGetProperty("serverName", out var sn) && sn.ValueKind == JsonValueKind.String ? sn.GetString() : null;
                if (tls.TryGetProperty("peerCertificates", out var pc) && pc.ValueKind == JsonValueKind.Array)
                {
                    peers.AddRange(pc.EnumerateArray().Select(v => v.GetString() ?? ""));
                }
            }

            return new EchoedRequest(S("path"), S("host"), S("method"), headers, S("namespace"), S("pod")) { TlsServerName = serverName, TlsPeerCertificates = peers };
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// The suite's HTTP client: sends one request to a Gateway address with an arbitrary Host (which is also the TLS
/// SNI), never follows redirects, and compares answers the way upstream's <c>http.CompareRoundTrip</c> does.
/// </summary>
internal sealed class GatewayHttp : IDisposable
{
    private readonly HttpMessageInvoker invoker;
    private readonly Lazy<HttpMessageInvoker> sniInvoker = new(CreateSniInvoker);
    private static readonly HttpRequestOptionsKey<string> ServerNameKey = new("switchyard-conformance-sni");
    private static readonly HttpRequestOptionsKey<TlsExchange> TlsKey = new("switchyard-conformance-tls");

    public GatewayHttp(TimeSpan requestTimeout)
    {
        RequestTimeout = requestTimeout;
        invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            // Short-lived connections: a listener that changed must be seen by the next request, as upstream's
            // per-request transports see it.
            PooledConnectionLifetime = TimeSpan.FromMilliseconds(500),
            PooledConnectionIdleTimeout = TimeSpan.FromMilliseconds(500),
            SslOptions =
            {
                // The Gateway's certificate is a self-signed one the suite generated; it is not what is tested here.
#pragma warning disable CA5359
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
            },
        });
    }

    public TimeSpan RequestTimeout { get; }

    public Task<CapturedResponse> SendAsync(string gatewayAddress, ExpectedResponse expected, CancellationToken cancellationToken) =>
        SendAsync(gatewayAddress, expected, new TlsExchange { ClientCertificate = expected.Request.ClientCertificate, ServerCertificate = expected.Request.ServerCertificate }, cancellationToken);

    /// <summary>Sends one request; <paramref name="exchange"/> says what TLS presents and trusts, and records what the handshake did.</summary>
    public async Task<CapturedResponse> SendAsync(string gatewayAddress, ExpectedResponse expected, TlsExchange exchange, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        var req = expected.Request;
        // SocketsHttpHandler takes the TLS server name from the Host header, so a request whose SNI differs from its
        // Host (upstream's MakeTLSRequest with a serverName), or whose handshake presents a client certificate or
        // checks the server's against a given one, goes as plain HTTP over a TLS stream opened here.
        var ownTls = req.Scheme == "https" && (req.ServerName is not null || exchange.ClientCertificate is not null || exchange.ServerCertificate is not null);
        using var message = new HttpRequestMessage(new HttpMethod(req.Method), new Uri($"{(ownTls ? "http" : req.Scheme)}://{gatewayAddress}{req.Path}", UriKind.Absolute));
        if (req.Protocol == Request.H2cPriorKnowledge)
        {
            // Over http:// an exact 2.0 request is HTTP/2 with prior knowledge (no Upgrade: h2c, which RFC 9113 dropped).
            message.Version = HttpVersion.Version20;
            message.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }

        if (ownTls)
        {
            message.Options.Set(ServerNameKey, req.ServerName ?? HostOnly(req.Host.Length == 0 ? gatewayAddress : req.Host));
            message.Options.Set(TlsKey, exchange);
        }

        message.Headers.Host = req.Host.Length == 0 ? gatewayAddress : req.Host;
        foreach (var (name, value) in req.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        if (expected.BackendSetResponseHeaders.Count > 0)
        {
            message.Headers.TryAddWithoutValidation("X-Echo-Set-Header", string.Join(",", expected.BackendSetResponseHeaders.Select(kv => $"{kv.Key}:{kv.Value}")));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var response = await (ownTls ? sniInvoker.Value : invoker).SendAsync(message, timeout.Token).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        Collect(response.Headers, headers);
        Collect(response.Content.Headers, headers);
        return new CapturedResponse((int)response.StatusCode, headers, (int)response.StatusCode == 200 ? EchoedRequest.TryParse(body) : null, body, exchange.ClientCertificateSent);
    }

    /// <summary>Upstream's <c>CompareRoundTrip</c>: null when the answer is what was expected, otherwise why not.</summary>
    public static string? Compare(ExpectedResponse expected, CapturedResponse actual, string gatewayAddress)
    {
        if (!expected.StatusCodes.Contains(actual.StatusCode))
        {
            return $"status {actual.StatusCode}, expected {string.Join(" or ", expected.StatusCodes)}";
        }

        if (expected.Request.ClientCertificate is not null && !actual.ClientCertificateSent)
        {
            return "the Gateway did not ask for the client certificate during the TLS handshake";
        }

        foreach (var (name, value) in expected.ResponseHeaders)
        {
            if (!actual.Headers.TryGetValue(name, out var v) || !string.Equals(v, value, StringComparison.Ordinal))
            {
                return $"response header {name} is '{v ?? "<absent>"}', expected '{value}'";
            }
        }

        foreach (var name in expected.AbsentResponseHeaders)
        {
            if (actual.Headers.ContainsKey(name))
            {
                return $"response header {name} should be absent, is '{actual.Headers[name]}'";
            }
        }

        foreach (var (name, valid) in expected.ResponseHeaderValues)
        {
            if (!actual.Headers.TryGetValue(name, out var v))
            {
                return $"response header {name} is absent, expected one of '{string.Join("', '", valid)}'";
            }

            string Norm(string x) => expected.IgnoreWhitespace ? string.Concat(x.Where(c => !char.IsWhiteSpace(c))) : x;
            if (!valid.Any(value => string.Equals(Norm(v), Norm(value), StringComparison.Ordinal)))
            {
                return $"response header {name} is '{v}', expected one of '{string.Join("', '", valid)}'";
            }
        }

        if (actual.StatusCode == 200)
        {
            // Upstream's round tripper reads an answer that is not echo JSON as a request with the method sent and
            // nothing else, so only an expectation of an empty path (a CORS preflight the gateway answers) accepts it.
            var synthesized = actual.Echo is null;
            var echo = actual.Echo ?? new EchoedRequest("", "", expected.Request.Method, new Dictionary<string, string[]>(), "", "");
            if (synthesized && (expected.ExpectedRequest?.Path ?? expected.Request.Path).Length != 0)
            {
                return $"the answer is not from the echo backend: {Truncate(actual.Body)}";
            }

            var er = expected.ExpectedRequest;
            var path = er?.Path ?? expected.Request.Path;
            if (!string.Equals(echo.Path, path, StringComparison.Ordinal))
            {
                return $"backend saw path '{echo.Path}', expected '{path}'";
            }

            var method = er?.Method ?? expected.Request.Method;
            if (!string.Equals(echo.Method, method, StringComparison.Ordinal))
            {
                return $"backend saw method {echo.Method}, expected {method}";
            }

            var host = er?.Host ?? (expected.Request.Host.Length == 0 ? null : expected.Request.Host);
            if (host is not null && !string.Equals(echo.Host, host, StringComparison.OrdinalIgnoreCase))
            {
                return $"backend saw host '{echo.Host}', expected '{host}'";
            }

            foreach (var (name, value) in er?.Headers ?? new Dictionary<string, string>())
            {
                if (!echo.Headers.TryGetValue(name, out var values))
                {
                    return $"backend did not receive header {name}";
                }

                var joined = string.Join(",", values);
                if (!string.Equals(joined, value, StringComparison.Ordinal))
                {
                    return $"backend saw {name}: '{joined}', expected '{value}'";
                }
            }

            foreach (var name in er?.AbsentHeaders ?? [])
            {
                if (echo.Headers.ContainsKey(name))
                {
                    return $"backend received header {name} that should be absent";
                }
            }

            if (expected.Namespace is { } ns && echo.Namespace != ns)
            {
                return $"answered by namespace {echo.Namespace}, expected {ns}";
            }

            if (expected.Backend is { } backend && !echo.Pod.StartsWith(backend, StringComparison.Ordinal))
            {
                return $"answered by pod {echo.Pod}, expected a pod of {backend}";
            }

            if (er?.Sni is { } sni && !string.Equals(echo.TlsServerName, sni, StringComparison.Ordinal))
            {
                return $"backend was sent TLS server name '{echo.TlsServerName ?? "<none>"}', expected '{sni}'";
            }

            if (er?.ClientCertificatePem is { } clientPem && !echo.TlsPeerCertificates.Any(p => SamePem(p, clientPem)))
            {
                return $"backend did not receive the expected client certificate ({echo.TlsPeerCertificates.Count} received)";
            }
        }
        else if (expected.RedirectRequest is { } redirect && actual.StatusCode is >= 300 and < 400)
        {
            if (!actual.Headers.TryGetValue("Location", out var location) || !Uri.TryCreate(location, UriKind.Absolute, out var uri))
            {
                return $"redirect without an absolute Location ('{location}')";
            }

            var scheme = redirect.Scheme ?? expected.Request.Scheme;
            if (!string.Equals(uri.Scheme, scheme, StringComparison.OrdinalIgnoreCase))
            {
                return $"redirect scheme {uri.Scheme}, expected {scheme}";
            }

            var host = redirect.Host ?? HostOnly(expected.Request.Host.Length == 0 ? gatewayAddress : expected.Request.Host);
            if (!string.Equals(uri.Host, host, StringComparison.OrdinalIgnoreCase))
            {
                return $"redirect host {uri.Host}, expected {host}";
            }

            var port = uri.IsDefaultPort ? (int?)null : uri.Port;
            if (port != redirect.Port)
            {
                return $"redirect port {port?.ToString(CultureInfo.InvariantCulture) ?? "<none>"} in '{location}', expected {redirect.Port?.ToString(CultureInfo.InvariantCulture) ?? "<none>"}";
            }

            var rpath = redirect.Path ?? PathOnly(expected.Request.Path);
            if (!string.Equals(uri.AbsolutePath, rpath, StringComparison.Ordinal))
            {
                return $"redirect path {uri.AbsolutePath}, expected {rpath}";
            }
        }

        return null;
    }

    public void Dispose()
    {
        invoker.Dispose();
        if (sniInvoker.IsValueCreated)
        {
            sniInvoker.Value.Dispose();
        }
    }

    /// <summary>A client whose every connection is a TLS stream with the request's own server name, never reused.</summary>
    private static HttpMessageInvoker CreateSniInvoker() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.Zero,
        ConnectCallback = async (context, ct) =>
        {
            var serverName = context.InitialRequestMessage.Options.TryGetValue(ServerNameKey, out var name) ? name : context.DnsEndPoint.Host;
            var exchange = context.InitialRequestMessage.Options.TryGetValue(TlsKey, out var e) ? e : null;
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, ct).ConfigureAwait(false);
                var tls = new System.Net.Security.SslStream(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true));
                var options = new System.Net.Security.SslClientAuthenticationOptions
                {
                    TargetHost = serverName,
                    ApplicationProtocols = [System.Net.Security.SslApplicationProtocol.Http11],
#pragma warning disable CA5359 // The Gateway's certificate is one the suite generated; it is not what is tested here.
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
                };
                if (exchange?.ClientCertificate is { } client)
                {
                    options.ClientCertificates = [client];

                    // Every request makes a full handshake, as upstream's Go client (no session cache) does: a resumed
                    // TLS 1.3 session carries the earlier certificate and the server asks for none.
                    options.AllowTlsResume = false;
                }

                if (exchange?.ServerCertificate is { } server)
                {
                    // Upstream's MakeTLSRequest trusts exactly the listener's certificate, and checks the server name.
                    options.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
                    options.CertificateChainPolicy.CustomTrustStore.Add(server);
                    options.RemoteCertificateValidationCallback = (_, _, _, errors) => errors == System.Net.Security.SslPolicyErrors.None;
                }

                try
                {
                    await tls.AuthenticateAsClientAsync(options, ct).ConfigureAwait(false);
                }
                finally
                {
                    // TLS 1.3 sends the client certificate inside the handshake, only when the server asked for it.
                    if (exchange is not null)
                    {
                        exchange.ClientCertificateSent = tls.LocalCertificate is not null;
                    }
                }

                return tls;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });

    /// <summary>Two PEM texts of the same certificate, whatever their line breaks.</summary>
    private static bool SamePem(string a, string b)
    {
        static string Norm(string s) => new([.. s.Where(c => !char.IsWhiteSpace(c))]);
        return string.Equals(Norm(a), Norm(b), StringComparison.Ordinal);
    }

    private static string HostOnly(string hostPort)
    {
        var colon = hostPort.LastIndexOf(':');
        return colon > 0 && !hostPort.EndsWith(']') ? hostPort[..colon] : hostPort;
    }

    private static string PathOnly(string path)
    {
        var q = path.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? path : path[..q];
    }

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "…";

    private static void Collect(HttpHeaders source, Dictionary<string, string> into)
    {
        foreach (var (name, values) in source)
        {
            into[name] = string.Join(",", values);
        }
    }
}

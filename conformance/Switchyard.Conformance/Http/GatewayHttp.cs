using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Switchyard.Conformance.Http;

/// <summary>What a response looked like: status, headers (response and content), and the echo body when there is one.</summary>
internal sealed record CapturedResponse(int StatusCode, IReadOnlyDictionary<string, string> Headers, EchoedRequest? Echo, string Body);

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

    public async Task<CapturedResponse> SendAsync(string gatewayAddress, ExpectedResponse expected, CancellationToken cancellationToken)
    {
        var req = expected.Request;
        // SocketsHttpHandler takes the TLS server name from the Host header, so a request whose SNI differs from its
        // Host (upstream's MakeTLSRequest with a serverName) goes as plain HTTP over a TLS stream opened here.
        var explicitSni = req.ServerName is not null && req.Scheme == "https";
        using var message = new HttpRequestMessage(new HttpMethod(req.Method), new Uri($"{(explicitSni ? "http" : req.Scheme)}://{gatewayAddress}{req.Path}", UriKind.Absolute));
        if (explicitSni)
        {
            message.Options.Set(ServerNameKey, req.ServerName!);
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
        using var response = await (explicitSni ? sniInvoker.Value : invoker).SendAsync(message, timeout.Token).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        Collect(response.Headers, headers);
        Collect(response.Content.Headers, headers);
        return new CapturedResponse((int)response.StatusCode, headers, (int)response.StatusCode == 200 ? EchoedRequest.TryParse(body) : null, body);
    }

    /// <summary>Upstream's <c>CompareRoundTrip</c>: null when the answer is what was expected, otherwise why not.</summary>
    public static string? Compare(ExpectedResponse expected, CapturedResponse actual, string gatewayAddress)
    {
        if (!expected.StatusCodes.Contains(actual.StatusCode))
        {
            return $"status {actual.StatusCode}, expected {string.Join(" or ", expected.StatusCodes)}";
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

        if (actual.StatusCode == 200)
        {
            if (actual.Echo is not { } echo)
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
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, ct).ConfigureAwait(false);
                var tls = new System.Net.Security.SslStream(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true));
                await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
                {
                    TargetHost = serverName,
                    ApplicationProtocols = [System.Net.Security.SslApplicationProtocol.Http11],
#pragma warning disable CA5359 // The Gateway's certificate is one the suite generated; it is not what is tested here.
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
#pragma warning restore CA5359
                }, ct).ConfigureAwait(false);
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

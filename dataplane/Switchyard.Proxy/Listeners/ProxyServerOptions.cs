using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Switchyard.Proxy.Listeners;

/// <summary>Settings of <see cref="ProxyServer"/>.</summary>
public sealed class ProxyServerOptions
{
    /// <summary>
    /// Where the TCP listener for a Gateway listener port binds. By default every address on that port (dual-stack);
    /// tests map ports to <c>127.0.0.1:0</c>.
    /// </summary>
    public Func<int, IPEndPoint> EndPointFor { get; init; } = port => new IPEndPoint(IPAddress.IPv6Any, port);

    /// <summary>When true (the default) HTTPS responses carry <c>Alt-Svc: h3=":PORT"</c> (RFC 7838, RFC 9114 §3.1.1).</summary>
    public bool AdvertiseHttp3 { get; init; } = true;

    /// <summary>
    /// The UDP port named in the <c>Alt-Svc</c> of a Gateway listener port; by default the listener port itself (as
    /// behind a LoadBalancer that exposes TCP and UDP on the same port). A data plane whose HTTP/3 socket is bound
    /// elsewhere (a remapped or ephemeral port on a developer machine) returns that socket's port, and null for a
    /// port that serves no HTTP/3, which is then not advertised.
    /// </summary>
    public Func<int, int?> AltSvcPortFor { get; init; } = port => port;

    /// <summary>How long clients may cache the <c>Alt-Svc</c> advertisement (its <c>ma</c> parameter).</summary>
    public TimeSpan AltSvcMaxAge { get; init; } = TimeSpan.FromHours(24);

    /// <summary>TLS versions offered on HTTPS listeners; TLS 1.3 only by default, as the design requires.</summary>
    public SslProtocols SslProtocols { get; init; } = SslProtocols.Tls13;

    /// <summary>
    /// The certificate (with private key) for listeners whose TLS is supplied by the data plane; when null a
    /// self-signed one for <c>localhost</c> is generated on first use.
    /// </summary>
    public X509Certificate2? DataPlaneCertificate { get; init; }

    /// <summary>How long a listener being removed waits for requests in flight before closing their connections.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The backend client; null creates a pooled <see cref="SocketsHttpHandler"/> owned by the server.</summary>
    public HttpMessageInvoker? BackendInvoker { get; init; }
}

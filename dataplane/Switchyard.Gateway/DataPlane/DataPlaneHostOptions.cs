using System.Net;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Delivery;
using Switchyard.Ir;
using Switchyard.WebTransport;

namespace Switchyard.Gateway.DataPlane;

/// <summary>Settings of <see cref="DataPlaneHost"/>.</summary>
public sealed class DataPlaneHostOptions
{
    /// <summary>
    /// The certificate (with key) for HTTPS listeners whose TLS the data plane supplies (standalone mode, or
    /// <c>--dev-certificates</c>), and the QUIC fallback when a handshake names no known listener.
    /// </summary>
    public required X509Certificate2 DataPlaneCertificate { get; init; }

    /// <summary>
    /// Where a Gateway's listener port binds, given the Gateway (<c>namespace/name</c>), the port and its protocol: TCP
    /// for HTTP and HTTPS, and UDP too for HTTPS. Port 0 asks for an ephemeral port; an HTTPS port then binds TCP on the port its
    /// UDP socket got, so both protocols share one number as they do behind a LoadBalancer. The default binds
    /// <c>127.0.0.1</c> on the listener's own port (a development machine).
    /// </summary>
    public Func<string, int, ListenerProtocol, IPEndPoint> EndPointFor { get; init; } = (_, port, _) => new IPEndPoint(IPAddress.Loopback, port);

    /// <summary>When true (the default) HTTPS ports also serve HTTP/3 and WebTransport on UDP and advertise it with <c>Alt-Svc</c>.</summary>
    public bool ServeHttp3 { get; init; } = true;

    /// <summary>How long a listener being removed waits for requests in flight.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The backend client for HTTPRoutes; null gives each Gateway its own pooled handler.</summary>
    public HttpMessageInvoker? BackendInvoker { get; init; }

    /// <summary>Per-stream limits of WebTransport track streams.</summary>
    public TrackStreamOptions Streams { get; init; } = new();

    /// <summary>WebTransport session and stream limits per connection.</summary>
    public WebTransportOptions WebTransport { get; init; } = new();

    /// <summary>Origins allowed to open WebTransport sessions; empty allows any.</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>QUIC idle timeout.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>One Gateway listener port being served.</summary>
/// <param name="Gateway">The Gateway, <c>namespace/name</c>.</param>
/// <param name="Port">The listener port as the Gateway declares it.</param>
/// <param name="Protocol">HTTP or HTTPS.</param>
/// <param name="TcpEndPoint">The bound TCP socket (HTTP/1.1, and HTTP/2 on HTTPS).</param>
/// <param name="UdpEndPoint">The bound UDP socket (HTTP/3 and WebTransport), or null when none is served.</param>
public sealed record DataPlaneListener(string Gateway, int Port, ListenerProtocol Protocol, IPEndPoint TcpEndPoint, IPEndPoint? UdpEndPoint)
{
    /// <summary>A one-line description, for example <c>default/gw port 443 (Https) tcp://127.0.0.1:443 udp://127.0.0.1:443</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        $"{Gateway} port {Port} ({Protocol}) tcp://{TcpEndPoint}" + (UdpEndPoint is { } udp ? $" udp://{udp}" : string.Empty);
}

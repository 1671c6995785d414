using Switchyard.Ir;
using Switchyard.Proxy.Matching;

namespace Switchyard.Proxy.Listeners;

/// <summary>
/// The immutable serving state of one port, built from a snapshot and swapped whole: route table, certificates, client
/// certificate validation and the <c>Alt-Svc</c> value. A request reads it once at its start, so a swap never changes a request in flight.
/// </summary>
internal sealed class PortState
{
    /// <summary>Creates the state.</summary>
    public PortState(int port, ListenerProtocol protocol, RouteTable routes, CertificateSelector? certificates, string? altSvc, ClientCertificateValidator? clientValidator = null)
    {
        ClientValidator = clientValidator;
        Port = port;
        Protocol = protocol;
        Routes = routes;
        Certificates = certificates;
        AltSvc = altSvc;
    }

    /// <summary>The Gateway listener port (as the IR names it, whatever socket it is bound to).</summary>
    public int Port { get; }

    /// <summary>HTTP or HTTPS.</summary>
    public ListenerProtocol Protocol { get; }

    /// <summary>Routes of every listener on the port.</summary>
    public RouteTable Routes { get; }

    /// <summary>Certificates by SNI (HTTPS only).</summary>
    public CertificateSelector? Certificates { get; }

    /// <summary>The <c>Alt-Svc</c> value advertising HTTP/3 on this port, or null.</summary>
    public string? AltSvc { get; }

    /// <summary>Client certificate validation of the port's TLS handshakes (HTTPS only), or null when clients are not asked for one.</summary>
    public ClientCertificateValidator? ClientValidator { get; }
}

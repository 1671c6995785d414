using Switchyard.Api.Meta;

namespace Switchyard.Api.GatewayApi;

/// <summary>A request for traffic-handling infrastructure (gateway.networking.k8s.io/v1 Gateway).</summary>
public sealed class Gateway : KubernetesObject
{
    /// <summary>Desired state.</summary>
    public GatewaySpec Spec { get; set; } = new();

    /// <summary>Observed state.</summary>
    public GatewayStatus? Status { get; set; }
}

/// <summary>Gateway spec.</summary>
public sealed class GatewaySpec
{
    /// <summary>Name of the GatewayClass.</summary>
    public string GatewayClassName { get; set; } = "";

    /// <summary>Listeners (logical endpoints).</summary>
    public List<Listener> Listeners { get; set; } = [];

    /// <summary>Requested addresses.</summary>
    public List<GatewaySpecAddress>? Addresses { get; set; }

    /// <summary>Infrastructure labels, annotations and parameters.</summary>
    public GatewayInfrastructure? Infrastructure { get; set; }

    /// <summary>Which ListenerSets may attach.</summary>
    public AllowedListeners? AllowedListeners { get; set; }

    /// <summary>Gateway-level TLS settings (frontend validation, backend client certificate).</summary>
    public GatewayTlsConfig? Tls { get; set; }
}

/// <summary>A requested Gateway address.</summary>
public sealed class GatewaySpecAddress
{
    /// <summary>Address type; defaults to IPAddress.</summary>
    public string? Type { get; set; }

    /// <summary>Address value.</summary>
    public string? Value { get; set; }
}

/// <summary>Infrastructure settings.</summary>
public sealed class GatewayInfrastructure
{
    /// <summary>Labels to put on generated resources.</summary>
    public Dictionary<string, string>? Labels { get; set; }

    /// <summary>Annotations to put on generated resources.</summary>
    public Dictionary<string, string>? Annotations { get; set; }

    /// <summary>Implementation-specific parameters.</summary>
    public ParametersReference? ParametersRef { get; set; }
}

/// <summary>ListenerSet attachment policy.</summary>
public sealed class AllowedListeners
{
    /// <summary>Namespaces allowed to attach ListenerSets.</summary>
    public RouteNamespaces? Namespaces { get; set; }
}

/// <summary>Gateway-level TLS configuration.</summary>
public sealed class GatewayTlsConfig
{
    /// <summary>Client certificate presented to backends.</summary>
    public GatewayBackendTls? Backend { get; set; }

    /// <summary>Frontend (client certificate) validation.</summary>
    public FrontendTlsConfig? Frontend { get; set; }
}

/// <summary>Backend TLS settings.</summary>
public sealed class GatewayBackendTls
{
    /// <summary>Client certificate Secret.</summary>
    public SecretObjectReference? ClientCertificateRef { get; set; }
}

/// <summary>Frontend TLS validation.</summary>
public sealed class FrontendTlsConfig
{
    /// <summary>Default validation for all HTTPS listeners.</summary>
    public TlsConfig? Default { get; set; }

    /// <summary>Per-port overrides.</summary>
    public List<TlsPortConfig>? PerPort { get; set; }
}

/// <summary>TLS validation for one port.</summary>
public sealed class TlsPortConfig
{
    /// <summary>Port.</summary>
    public int Port { get; set; }

    /// <summary>TLS settings.</summary>
    public TlsConfig? Tls { get; set; }
}

/// <summary>Client certificate validation settings.</summary>
public sealed class TlsConfig
{
    /// <summary>Validation settings.</summary>
    public FrontendTlsValidation? Validation { get; set; }
}

/// <summary>Client certificate validation.</summary>
public sealed class FrontendTlsValidation
{
    /// <summary>CA certificates to trust.</summary>
    public List<ParametersReference>? CaCertificateRefs { get; set; }

    /// <summary>AllowValidOnly or AllowInsecureFallback.</summary>
    public string? Mode { get; set; }
}

/// <summary>A Gateway listener.</summary>
public sealed class Listener
{
    /// <summary>Unique name within the Gateway.</summary>
    public string Name { get; set; } = "";

    /// <summary>Hostname to match (may start with <c>*.</c>).</summary>
    public string? Hostname { get; set; }

    /// <summary>Network port.</summary>
    public int Port { get; set; }

    /// <summary>Protocol: HTTP, HTTPS, TLS, TCP, UDP or a domain-prefixed custom value.</summary>
    public string Protocol { get; set; } = "";

    /// <summary>TLS settings for HTTPS and TLS listeners.</summary>
    public ListenerTlsConfig? Tls { get; set; }

    /// <summary>Which routes may attach.</summary>
    public AllowedRoutes? AllowedRoutes { get; set; }
}

/// <summary>Listener TLS settings (GatewayTLSConfig).</summary>
public sealed class ListenerTlsConfig
{
    /// <summary>Terminate or Passthrough; defaults to Terminate.</summary>
    public string? Mode { get; set; }

    /// <summary>Certificates to serve.</summary>
    public List<SecretObjectReference>? CertificateRefs { get; set; }

    /// <summary>Implementation-specific options.</summary>
    public Dictionary<string, string>? Options { get; set; }
}

/// <summary>Route attachment policy of a listener.</summary>
public sealed class AllowedRoutes
{
    /// <summary>Namespaces routes may come from; defaults to Same.</summary>
    public RouteNamespaces? Namespaces { get; set; }

    /// <summary>Route kinds allowed; empty means the protocol's defaults.</summary>
    public List<RouteGroupKind>? Kinds { get; set; }
}

/// <summary>Namespace selection for attachment.</summary>
public sealed class RouteNamespaces
{
    /// <summary>All, Same, Selector (or None for ListenerSets).</summary>
    public string? From { get; set; }

    /// <summary>Selector used when <see cref="From"/> is Selector.</summary>
    public LabelSelector? Selector { get; set; }
}

/// <summary>A route group and kind.</summary>
public sealed class RouteGroupKind
{
    /// <summary>Group; defaults to <c>gateway.networking.k8s.io</c>.</summary>
    public string? Group { get; set; }

    /// <summary>Kind.</summary>
    public string Kind { get; set; } = "";
}

/// <summary>Gateway status.</summary>
public sealed class GatewayStatus
{
    /// <summary>Addresses the Gateway is reachable at.</summary>
    public List<GatewayStatusAddress>? Addresses { get; set; }

    /// <summary>Accepted and Programmed conditions.</summary>
    public List<Condition> Conditions { get; set; } = [];

    /// <summary>Per-listener status.</summary>
    public List<ListenerStatus>? Listeners { get; set; }

    /// <summary>Number of attached ListenerSets.</summary>
    public int? AttachedListenerSets { get; set; }
}

/// <summary>An address in Gateway status.</summary>
public sealed class GatewayStatusAddress
{
    /// <summary>Address type; defaults to IPAddress.</summary>
    public string? Type { get; set; }

    /// <summary>Address value.</summary>
    public string Value { get; set; } = "";
}

/// <summary>Status of one listener.</summary>
public sealed class ListenerStatus
{
    /// <summary>Listener name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Route kinds the listener accepts.</summary>
    public List<RouteGroupKind> SupportedKinds { get; set; } = [];

    /// <summary>Number of routes successfully attached.</summary>
    public int AttachedRoutes { get; set; }

    /// <summary>Accepted, Programmed, ResolvedRefs and Conflicted conditions.</summary>
    public List<Condition> Conditions { get; set; } = [];
}

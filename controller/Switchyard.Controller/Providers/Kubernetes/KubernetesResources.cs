using Switchyard.Api.GatewayApi;
using Switchyard.Api.WebTransport;
using Switchyard.Kubernetes.Client;

namespace Switchyard.Controller.Providers.Kubernetes;

/// <summary>
/// The custom resources the controller reads and writes, at the versions Gateway API v1.6.1 stores them
/// (the built-in kinds are on <see cref="ResourceType"/>).
/// </summary>
public static class KubernetesResources
{
    /// <summary>gateway.networking.k8s.io/v1 GatewayClass (cluster-scoped).</summary>
    public static ResourceType GatewayClasses { get; } = new(GatewayApiNames.Group, "v1", "gatewayclasses", "GatewayClass", false);

    /// <summary>gateway.networking.k8s.io/v1 Gateway.</summary>
    public static ResourceType Gateways { get; } = new(GatewayApiNames.Group, "v1", "gateways", "Gateway", true);

    /// <summary>gateway.networking.k8s.io/v1 HTTPRoute.</summary>
    public static ResourceType HttpRoutes { get; } = new(GatewayApiNames.Group, "v1", "httproutes", "HTTPRoute", true);

    /// <summary>gateway.networking.k8s.io/v1 ReferenceGrant (v1 is the storage version in v1.6.1; v1beta1 is still served).</summary>
    public static ResourceType ReferenceGrants { get; } = new(GatewayApiNames.Group, "v1", "referencegrants", "ReferenceGrant", true);

    /// <summary>gateway.networking.k8s.io/v1 BackendTLSPolicy (standard channel since v1.4).</summary>
    public static ResourceType BackendTlsPolicies { get; } = new(GatewayApiNames.Group, "v1", "backendtlspolicies", "BackendTLSPolicy", true);

    /// <summary>switchyard.dev/v1alpha1 WebTransportRoute.</summary>
    public static ResourceType WebTransportRoutes { get; } = new(SwitchyardApiNames.Group, "v1alpha1", "webtransportroutes", SwitchyardApiNames.WebTransportRouteKind, true);

    /// <summary>gateway.networking.k8s.io/v1 ListenerSet.</summary>
    public static ResourceType ListenerSets { get; } = new(GatewayApiNames.Group, "v1", "listenersets", "ListenerSet", true);
}

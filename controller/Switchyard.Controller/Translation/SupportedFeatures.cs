namespace Switchyard.Controller.Translation;

/// <summary>
/// The Gateway API features Switchyard supports: the one list the GatewayClass status publishes
/// (<c>status.supportedFeatures</c>) and the conformance suite claims. A feature is listed only when every
/// conformance test that needs it passes in-process.
/// </summary>
public static class SupportedFeatures
{
    /// <summary>The GATEWAY-HTTP core features.</summary>
    public static IReadOnlyList<string> Core { get; } = ["Gateway", "HTTPRoute", "ReferenceGrant"];

    /// <summary>The extended features of the GATEWAY-HTTP profile that Switchyard supports, sorted.</summary>
    public static IReadOnlyList<string> Extended { get; } =
    [
        "BackendTLSPolicy",
        "BackendTLSPolicySANValidation",
        "GatewayAddressEmpty",
        "GatewayBackendClientCertificate",
        "GatewayFrontendClientCertificateValidation",
        "GatewayFrontendClientCertificateValidationInsecureFallback",
        "GatewayHTTPListenerIsolation",
        "GatewayHTTPSListenerDetectMisdirectedRequests",
        "GatewayInfrastructurePropagation",
        "GatewayPort8080",
        "GatewayStaticAddresses",
        "HTTPRoute303RedirectStatusCode",
        "HTTPRoute307RedirectStatusCode",
        "HTTPRoute308RedirectStatusCode",
        "HTTPRouteBackendProtocolH2C",
        "HTTPRouteBackendProtocolWebSocket",
        "HTTPRouteBackendRequestHeaderModification",
        "HTTPRouteBackendTimeout",
        "HTTPRouteCORS",
        "HTTPRouteDestinationPortMatching",
        "HTTPRouteHostRewrite",
        "HTTPRouteMethodMatching",
        "HTTPRouteNamedRouteRule",
        "HTTPRouteParentRefPort",
        "HTTPRoutePathRedirect",
        "HTTPRoutePathRewrite",
        "HTTPRoutePortRedirect",
        "HTTPRouteQueryParamMatching",
        "HTTPRouteRequestMirror",
        "HTTPRouteRequestMultipleMirrors",
        "HTTPRouteRequestPercentageMirror",
        "HTTPRouteRequestTimeout",
        "HTTPRouteResponseHeaderModification",
        "HTTPRouteRetry",
        "HTTPRouteSchemeRedirect",
        "ListenerSet",
    ];

    /// <summary>Core and extended, sorted: what a GatewayClass of ours reports.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Core.Concat(Extended).Order(StringComparer.Ordinal)];
}

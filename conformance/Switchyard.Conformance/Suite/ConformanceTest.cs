namespace Switchyard.Conformance;

/// <summary>One conformance test: upstream's name, the features it needs (empty for core), and its body.</summary>
/// <param name="ShortName">Upstream's <c>ShortName</c>, for example <c>HTTPRouteSimpleSameNamespace</c>.</param>
/// <param name="Description">What it checks.</param>
/// <param name="Features">Extended features it needs beyond Gateway and HTTPRoute; empty means core.</param>
/// <param name="Manifests">Embedded manifests applied (and cleaned up) around the body.</param>
/// <param name="Body">The checks.</param>
internal sealed record ConformanceTest(string ShortName, string Description, string[] Features, string[] Manifests, Func<TestContext, Task> Body)
{
    /// <summary>The profile the test reports under: GATEWAY-HTTP, or Switchyard's own <see cref="SwitchyardFeatures.WebTransportProfile"/>.</summary>
    public string Profile { get; init; } = ConformanceReport.Profile;

    /// <summary>A core test of GATEWAY-HTTP.</summary>
    public bool IsCore => Features.Length == 0 && Profile == ConformanceReport.Profile;
}

/// <summary>
/// Switchyard's own features, beyond the Gateway API profiles: tested by the suite under Switchyard-specific names and
/// reported as a separate profile, never counted in GATEWAY-HTTP.
/// </summary>
public static class SwitchyardFeatures
{
    /// <summary>WebTransportRoute (<c>switchyard.dev/v1alpha1</c>): stream-level routing of WebTransport tracks.</summary>
    public const string WebTransportRoute = "WebTransportRoute";

    /// <summary>The profile its tests report under.</summary>
    public const string WebTransportProfile = "SWITCHYARD-WEBTRANSPORT";

    /// <summary>Every Switchyard feature the suite tests (and Switchyard claims).</summary>
    public static IReadOnlyList<string> All { get; } = [WebTransportRoute];
}

/// <summary>Feature names of the GATEWAY-HTTP profile (Gateway API v1.6.1 <c>features</c> package).</summary>
public static class Features
{
    /// <summary>The core features every GATEWAY-HTTP implementation supports.</summary>
    public static IReadOnlyList<string> Core { get; } = ["Gateway", "HTTPRoute", "ReferenceGrant"];

    /// <summary>Every extended feature of the GATEWAY-HTTP profile.</summary>
    public static IReadOnlyList<string> Extended { get; } =
    [
        "BackendTLSPolicy", "BackendTLSPolicySANValidation", "GatewayAddressEmpty", "GatewayBackendClientCertificate",
        "GatewayFrontendClientCertificateValidation", "GatewayFrontendClientCertificateValidationInsecureFallback",
        "GatewayHTTPListenerIsolation", "GatewayHTTPSListenerDetectMisdirectedRequests", "GatewayInfrastructurePropagation",
        "GatewayPort8080", "GatewayStaticAddresses", "HTTPRoute303RedirectStatusCode", "HTTPRoute307RedirectStatusCode",
        "HTTPRoute308RedirectStatusCode", "HTTPRouteBackendProtocolH2C", "HTTPRouteBackendProtocolWebSocket",
        "HTTPRouteBackendRequestHeaderModification", "HTTPRouteBackendTimeout", "HTTPRouteCORS", "HTTPRouteDestinationPortMatching",
        "HTTPRouteHostRewrite", "HTTPRouteMethodMatching", "HTTPRouteNamedRouteRule", "HTTPRouteParentRefPort",
        "HTTPRoutePathRedirect", "HTTPRoutePathRewrite", "HTTPRoutePortRedirect", "HTTPRouteQueryParamMatching",
        "HTTPRouteRequestMirror", "HTTPRouteRequestMultipleMirrors", "HTTPRouteRequestPercentageMirror", "HTTPRouteRequestTimeout",
        "HTTPRouteResponseHeaderModification", "HTTPRouteRetry", "HTTPRouteSchemeRedirect", "ListenerSet",
    ];
}

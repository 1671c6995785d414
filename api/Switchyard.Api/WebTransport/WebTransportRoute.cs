using Switchyard.Api.GatewayApi;
using Switchyard.Api.Meta;

namespace Switchyard.Api.WebTransport;

/// <summary>Well-known names of the Switchyard API group.</summary>
public static class SwitchyardApiNames
{
    /// <summary>The API group.</summary>
    public const string Group = "switchyard.dev";

    /// <summary>The v1alpha1 API version string.</summary>
    public const string V1Alpha1 = Group + "/v1alpha1";

    /// <summary>The WebTransportRoute kind.</summary>
    public const string WebTransportRouteKind = "WebTransportRoute";
}

/// <summary>Routes WebTransport streams by track to backends (switchyard.dev/v1alpha1 WebTransportRoute).</summary>
public sealed class WebTransportRoute : KubernetesObject
{
    /// <summary>Desired state.</summary>
    public WebTransportRouteSpec Spec { get; set; } = new();

    /// <summary>Observed state.</summary>
    public RouteStatus? Status { get; set; }
}

/// <summary>WebTransportRoute spec.</summary>
public sealed class WebTransportRouteSpec
{
    /// <summary>Parents (Gateways or HTTPS listeners).</summary>
    public List<ParentReference>? ParentRefs { get; set; }

    /// <summary>Hostnames matched against the session's <c>:authority</c>; empty means any.</summary>
    public List<string>? Hostnames { get; set; }

    /// <summary>Rules, evaluated most specific first.</summary>
    public List<WebTransportRouteRule>? Rules { get; set; }
}

/// <summary>One rule.</summary>
public sealed class WebTransportRouteRule
{
    /// <summary>Optional rule name.</summary>
    public string? Name { get; set; }

    /// <summary>Matches, any of which selects the rule; empty matches every track.</summary>
    public List<WebTransportRouteMatch>? Matches { get; set; }

    /// <summary>Weighted backends.</summary>
    public List<BackendRef>? BackendRefs { get; set; }

    /// <summary>How messages reach the backend.</summary>
    public WebTransportDelivery? Delivery { get; set; }
}

/// <summary>A track match; every set field must hold.</summary>
public sealed class WebTransportRouteMatch
{
    /// <summary>Session CONNECT path match (Exact or PathPrefix).</summary>
    public HttpPathMatch? Path { get; set; }

    /// <summary>The header's <c>track_type</c>, matched exactly.</summary>
    public string? TrackType { get; set; }

    /// <summary>The header's <c>track_id</c> match.</summary>
    public TrackIdMatch? TrackId { get; set; }
}

/// <summary>A track id match.</summary>
public sealed class TrackIdMatch
{
    /// <summary>Exact or Prefix; defaults to Exact.</summary>
    public string? Type { get; set; }

    /// <summary>The value to compare with.</summary>
    public string Value { get; set; } = "";
}

/// <summary>Delivery settings of a rule.</summary>
public sealed class WebTransportDelivery
{
    /// <summary>Message (one POST per message) or Stream (one streaming request per stream); defaults to Message.</summary>
    public string? Mode { get; set; }

    /// <summary>Backend request path; defaults to <c>/</c>.</summary>
    public string? Path { get; set; }

    /// <summary>Per-request timeout (Gateway API Duration); defaults to 10s.</summary>
    public string? Timeout { get; set; }

    /// <summary>Retry policy.</summary>
    public WebTransportRetry? Retry { get; set; }
}

/// <summary>Retry policy.</summary>
public sealed class WebTransportRetry
{
    /// <summary>Additional attempts after the first (0–10); defaults to 0.</summary>
    public int? Attempts { get; set; }

    /// <summary>Delay between attempts (Gateway API Duration); defaults to 100ms.</summary>
    public string? Backoff { get; set; }
}

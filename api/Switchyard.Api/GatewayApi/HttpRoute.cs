using Switchyard.Api.Meta;

namespace Switchyard.Api.GatewayApi;

/// <summary>Routes HTTP requests to backends (gateway.networking.k8s.io/v1 HTTPRoute).</summary>
public sealed class HttpRoute : KubernetesObject
{
    /// <summary>Desired state.</summary>
    public HttpRouteSpec Spec { get; set; } = new();

    /// <summary>Observed state.</summary>
    public RouteStatus? Status { get; set; }
}

/// <summary>HTTPRoute spec.</summary>
public sealed class HttpRouteSpec
{
    /// <summary>Parents (Gateways or listeners) the route attaches to.</summary>
    public List<ParentReference>? ParentRefs { get; set; }

    /// <summary>Hostnames matched against the Host header.</summary>
    public List<string>? Hostnames { get; set; }

    /// <summary>Rules; defaults to one rule matching PathPrefix <c>/</c>.</summary>
    public List<HttpRouteRule>? Rules { get; set; }
}

/// <summary>One HTTPRoute rule.</summary>
public sealed class HttpRouteRule
{
    /// <summary>Optional rule name.</summary>
    public string? Name { get; set; }

    /// <summary>Matches, any of which selects the rule.</summary>
    public List<HttpRouteMatch>? Matches { get; set; }

    /// <summary>Filters applied to matching requests.</summary>
    public List<HttpRouteFilter>? Filters { get; set; }

    /// <summary>Backends.</summary>
    public List<HttpBackendRef>? BackendRefs { get; set; }

    /// <summary>Timeouts.</summary>
    public HttpRouteTimeouts? Timeouts { get; set; }

    /// <summary>
    /// Retry policy (GEP-1731). Experimental channel only: the standard channel's CRD has no such field, so a cluster
    /// running standard CRDs never sets it.
    /// </summary>
    public HttpRouteRetry? Retry { get; set; }
}

/// <summary>A request match.</summary>
public sealed class HttpRouteMatch
{
    /// <summary>Path match; defaults to PathPrefix <c>/</c>.</summary>
    public HttpPathMatch? Path { get; set; }

    /// <summary>Header matches (all must hold).</summary>
    public List<HttpHeaderMatch>? Headers { get; set; }

    /// <summary>Query parameter matches (all must hold).</summary>
    public List<HttpQueryParamMatch>? QueryParams { get; set; }

    /// <summary>HTTP method.</summary>
    public string? Method { get; set; }
}

/// <summary>Path match.</summary>
public sealed class HttpPathMatch
{
    /// <summary>Exact, PathPrefix or RegularExpression; defaults to PathPrefix.</summary>
    public string? Type { get; set; }

    /// <summary>Path value; defaults to <c>/</c>.</summary>
    public string? Value { get; set; }
}

/// <summary>Header match.</summary>
public sealed class HttpHeaderMatch
{
    /// <summary>Exact or RegularExpression; defaults to Exact.</summary>
    public string? Type { get; set; }

    /// <summary>Header name (case-insensitive).</summary>
    public string Name { get; set; } = "";

    /// <summary>Value to match.</summary>
    public string Value { get; set; } = "";
}

/// <summary>Query parameter match.</summary>
public sealed class HttpQueryParamMatch
{
    /// <summary>Exact or RegularExpression; defaults to Exact.</summary>
    public string? Type { get; set; }

    /// <summary>Parameter name (case-sensitive).</summary>
    public string Name { get; set; } = "";

    /// <summary>Value to match.</summary>
    public string Value { get; set; } = "";
}

/// <summary>A filter.</summary>
public sealed class HttpRouteFilter
{
    /// <summary>RequestHeaderModifier, ResponseHeaderModifier, RequestMirror, RequestRedirect, URLRewrite, ExtensionRef or CORS.</summary>
    public string Type { get; set; } = "";

    /// <summary>Request header changes.</summary>
    public HttpHeaderFilter? RequestHeaderModifier { get; set; }

    /// <summary>Response header changes.</summary>
    public HttpHeaderFilter? ResponseHeaderModifier { get; set; }

    /// <summary>Mirror to another backend.</summary>
    public HttpRequestMirrorFilter? RequestMirror { get; set; }

    /// <summary>Redirect response.</summary>
    public HttpRequestRedirectFilter? RequestRedirect { get; set; }

    /// <summary>Rewrite before forwarding.</summary>
    public HttpUrlRewriteFilter? UrlRewrite { get; set; }

    /// <summary>Implementation-specific filter.</summary>
    public ParametersReference? ExtensionRef { get; set; }

    /// <summary>CORS policy.</summary>
    public HttpCorsFilter? Cors { get; set; }
}

/// <summary>Header modifications.</summary>
public sealed class HttpHeaderFilter
{
    /// <summary>Headers to overwrite.</summary>
    public List<HttpHeader>? Set { get; set; }

    /// <summary>Headers to append.</summary>
    public List<HttpHeader>? Add { get; set; }

    /// <summary>Header names to remove.</summary>
    public List<string>? Remove { get; set; }
}

/// <summary>A header name and value.</summary>
public sealed class HttpHeader
{
    /// <summary>Header name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Header value.</summary>
    public string Value { get; set; } = "";
}

/// <summary>Request mirroring.</summary>
public sealed class HttpRequestMirrorFilter
{
    /// <summary>Mirror backend.</summary>
    public BackendObjectReference BackendRef { get; set; } = new();

    /// <summary>Percentage of requests to mirror.</summary>
    public int? Percent { get; set; }

    /// <summary>Fraction of requests to mirror.</summary>
    public Fraction? Fraction { get; set; }
}

/// <summary>A fraction.</summary>
public sealed class Fraction
{
    /// <summary>Numerator.</summary>
    public int Numerator { get; set; }

    /// <summary>Denominator; defaults to 100.</summary>
    public int? Denominator { get; set; }
}

/// <summary>Redirect.</summary>
public sealed class HttpRequestRedirectFilter
{
    /// <summary>http or https.</summary>
    public string? Scheme { get; set; }

    /// <summary>Host to redirect to.</summary>
    public string? Hostname { get; set; }

    /// <summary>Path modification.</summary>
    public HttpPathModifier? Path { get; set; }

    /// <summary>Port to redirect to.</summary>
    public int? Port { get; set; }

    /// <summary>301, 302, 303, 307 or 308; defaults to 302.</summary>
    public int? StatusCode { get; set; }
}

/// <summary>URL rewrite.</summary>
public sealed class HttpUrlRewriteFilter
{
    /// <summary>Host header value to send.</summary>
    public string? Hostname { get; set; }

    /// <summary>Path modification.</summary>
    public HttpPathModifier? Path { get; set; }
}

/// <summary>Path modification.</summary>
public sealed class HttpPathModifier
{
    /// <summary>ReplaceFullPath or ReplacePrefixMatch.</summary>
    public string Type { get; set; } = "";

    /// <summary>Replacement path for ReplaceFullPath.</summary>
    public string? ReplaceFullPath { get; set; }

    /// <summary>Replacement prefix for ReplacePrefixMatch.</summary>
    public string? ReplacePrefixMatch { get; set; }
}

/// <summary>CORS filter.</summary>
public sealed class HttpCorsFilter
{
    /// <summary>Allowed origins.</summary>
    public List<string>? AllowOrigins { get; set; }

    /// <summary>Whether credentials are allowed.</summary>
    public bool? AllowCredentials { get; set; }

    /// <summary>Allowed methods.</summary>
    public List<string>? AllowMethods { get; set; }

    /// <summary>Allowed request headers.</summary>
    public List<string>? AllowHeaders { get; set; }

    /// <summary>Headers exposed to the client.</summary>
    public List<string>? ExposeHeaders { get; set; }

    /// <summary>Preflight cache lifetime in seconds.</summary>
    public int? MaxAge { get; set; }
}

/// <summary>A backend of an HTTPRoute rule, with its own filters.</summary>
public sealed class HttpBackendRef : BackendRef
{
    /// <summary>Filters applied only for this backend.</summary>
    public List<HttpRouteFilter>? Filters { get; set; }
}

/// <summary>Rule timeouts (Gateway API Duration strings).</summary>
public sealed class HttpRouteTimeouts
{
    /// <summary>End-to-end request timeout.</summary>
    public string? Request { get; set; }

    /// <summary>Timeout of one request to a backend.</summary>
    public string? BackendRequest { get; set; }
}

/// <summary>
/// A rule's retry policy (GEP-1731, Gateway API experimental channel): which backend answers are retried, how many
/// times, and how long to wait between tries.
/// </summary>
public sealed class HttpRouteRetry
{
    /// <summary>HTTP status codes (400–599) whose answers are retried.</summary>
    public List<int>? Codes { get; set; }

    /// <summary>The most retries (tries after the first) of one request; unset is implementation-specific.</summary>
    public int? Attempts { get; set; }

    /// <summary>Minimum wait between tries (a Gateway API Duration string).</summary>
    public string? Backoff { get; set; }
}

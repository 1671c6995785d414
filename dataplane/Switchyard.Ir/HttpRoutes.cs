using System.Collections.Immutable;

namespace Switchyard.Ir;

/// <summary>
/// The routes of one hostname on a listener. A request is served by the most specific virtual host whose
/// hostname matches (exact, then longest wildcard, then <c>*</c>), and then by its first matching route.
/// </summary>
public sealed record VirtualHostIr
{
    /// <summary>Path-like name, for example <c>vhost/foo.example.com</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Exact hostname, <c>*.</c> wildcard, or <c>*</c> for any.</summary>
    public required string Hostname { get; init; }

    /// <summary>Routes in Gateway API precedence order; the first match wins.</summary>
    public ImmutableArray<HttpRouteIr> Routes { get; init; } = [];

    /// <inheritdoc />
    public bool Equals(VirtualHostIr? other) =>
        other is not null && Name == other.Name && Hostname == other.Hostname && IrEquality.Seq(Routes, other.Routes);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Hostname, IrEquality.Hash(Routes));
}

/// <summary>One HTTPRoute match with the rule's actions, flattened.</summary>
public sealed record HttpRouteIr
{
    /// <summary>Path-like name, for example <c>httproute/default/r1/rule/0/match/0</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The match.</summary>
    public required HttpMatchIr Match { get; init; }

    /// <summary>Request header changes.</summary>
    public HeaderModifierIr? RequestHeaders { get; init; }

    /// <summary>Response header changes.</summary>
    public HeaderModifierIr? ResponseHeaders { get; init; }

    /// <summary>Redirect; when set, no backend is used.</summary>
    public RedirectIr? Redirect { get; init; }

    /// <summary>Rewrite applied before forwarding.</summary>
    public UrlRewriteIr? Rewrite { get; init; }

    /// <summary>Mirrors.</summary>
    public ImmutableArray<MirrorIr> Mirrors { get; init; } = [];

    /// <summary>Weighted backends.</summary>
    public ImmutableArray<HttpBackendIr> Backends { get; init; } = [];

    /// <summary>Fixed response status when the rule cannot forward (for example 500 with no valid backend).</summary>
    public int? DirectResponseStatus { get; init; }

    /// <summary>End-to-end request timeout; null for none, zero disables.</summary>
    public TimeSpan? RequestTimeout { get; init; }

    /// <summary>Per backend request timeout; null for none, zero disables.</summary>
    public TimeSpan? BackendRequestTimeout { get; init; }

    /// <summary>CORS policy; when set the gateway answers preflights and adds CORS headers to responses.</summary>
    public CorsIr? Cors { get; init; }

    /// <summary>Retry policy; null never retries.</summary>
    public RetryIr? Retry { get; init; }

    /// <inheritdoc />
    public bool Equals(HttpRouteIr? other) =>
        other is not null && Name == other.Name && Match == other.Match && RequestHeaders == other.RequestHeaders
        && ResponseHeaders == other.ResponseHeaders && Redirect == other.Redirect && Rewrite == other.Rewrite
        && IrEquality.Seq(Mirrors, other.Mirrors) && IrEquality.Seq(Backends, other.Backends)
        && DirectResponseStatus == other.DirectResponseStatus && RequestTimeout == other.RequestTimeout
        && BackendRequestTimeout == other.BackendRequestTimeout && Cors == other.Cors && Retry == other.Retry;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Match, IrEquality.Hash(Backends), Redirect, DirectResponseStatus);
}

/// <summary>Request match; every part must hold.</summary>
public sealed record HttpMatchIr
{
    /// <summary>Path match.</summary>
    public PathMatchIr Path { get; init; } = new() { Type = PathMatchType.PathPrefix, Value = "/" };

    /// <summary>Method, or null for any.</summary>
    public string? Method { get; init; }

    /// <summary>Header matches, sorted by name.</summary>
    public ImmutableArray<StringMatchIr> Headers { get; init; } = [];

    /// <summary>Query parameter matches, sorted by name.</summary>
    public ImmutableArray<StringMatchIr> QueryParams { get; init; } = [];

    /// <inheritdoc />
    public bool Equals(HttpMatchIr? other) =>
        other is not null && Path == other.Path && Method == other.Method && IrEquality.Seq(Headers, other.Headers) && IrEquality.Seq(QueryParams, other.QueryParams);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Path, Method, IrEquality.Hash(Headers), IrEquality.Hash(QueryParams));
}

/// <summary>A path match.</summary>
public sealed record PathMatchIr
{
    /// <summary>Match type.</summary>
    public required PathMatchType Type { get; init; }

    /// <summary>Value; starts with <c>/</c> for Exact and PathPrefix.</summary>
    public required string Value { get; init; }
}

/// <summary>A header or query parameter match.</summary>
public sealed record StringMatchIr
{
    /// <summary>Header name (compared case-insensitively) or query parameter name (case-sensitive).</summary>
    public required string Name { get; init; }

    /// <summary>Match type.</summary>
    public StringMatchType Type { get; init; }

    /// <summary>Value.</summary>
    public required string Value { get; init; }
}

/// <summary>A header name and value.</summary>
public sealed record HeaderValueIr
{
    /// <summary>Name.</summary>
    public required string Name { get; init; }

    /// <summary>Value.</summary>
    public required string Value { get; init; }
}

/// <summary>Header changes: remove, then set, then add.</summary>
public sealed record HeaderModifierIr
{
    /// <summary>Headers to overwrite.</summary>
    public ImmutableArray<HeaderValueIr> Set { get; init; } = [];

    /// <summary>Headers to append.</summary>
    public ImmutableArray<HeaderValueIr> Add { get; init; } = [];

    /// <summary>Header names to remove.</summary>
    public ImmutableArray<string> Remove { get; init; } = [];

    /// <inheritdoc />
    public bool Equals(HeaderModifierIr? other) =>
        other is not null && IrEquality.Seq(Set, other.Set) && IrEquality.Seq(Add, other.Add) && IrEquality.Seq(Remove, other.Remove);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(IrEquality.Hash(Set), IrEquality.Hash(Add), IrEquality.Hash(Remove));
}

/// <summary>A path change.</summary>
public sealed record PathModifierIr
{
    /// <summary>Type.</summary>
    public required PathModifierType Type { get; init; }

    /// <summary>Replacement path or prefix.</summary>
    public required string Value { get; init; }
}

/// <summary>A redirect response.</summary>
public sealed record RedirectIr
{
    /// <summary>Scheme, or null to keep the request's.</summary>
    public string? Scheme { get; init; }

    /// <summary>Hostname, or null to keep the request's.</summary>
    public string? Hostname { get; init; }

    /// <summary>Port, or null to derive it (Gateway API rules).</summary>
    public int? Port { get; init; }

    /// <summary>Path change, or null to keep the path.</summary>
    public PathModifierIr? Path { get; init; }

    /// <summary>Status code: 301, 302, 303, 307 or 308.</summary>
    public int StatusCode { get; init; } = 302;
}

/// <summary>A rewrite before forwarding.</summary>
public sealed record UrlRewriteIr
{
    /// <summary>Host header to send, or null to keep.</summary>
    public string? Hostname { get; init; }

    /// <summary>Path change, or null to keep.</summary>
    public PathModifierIr? Path { get; init; }
}

/// <summary>A mirror target: a copy of a fraction of requests is sent, its response ignored.</summary>
public sealed record MirrorIr
{
    /// <summary>Mirror backend.</summary>
    public required WeightedBackendIr Backend { get; init; }

    /// <summary>Fraction numerator.</summary>
    public int Numerator { get; init; } = 100;

    /// <summary>Fraction denominator, positive.</summary>
    public int Denominator { get; init; } = 100;
}

/// <summary>A backend of an HTTP route, with its per-backend filters.</summary>
public sealed record HttpBackendIr
{
    /// <summary>Backend, weight and endpoints.</summary>
    public required WeightedBackendIr Backend { get; init; }

    /// <summary>When true the reference did not resolve: requests picked for it answer 500.</summary>
    public bool Invalid { get; init; }

    /// <summary>Request header changes for this backend only.</summary>
    public HeaderModifierIr? RequestHeaders { get; init; }

    /// <summary>Response header changes for this backend only.</summary>
    public HeaderModifierIr? ResponseHeaders { get; init; }
}

/// <summary>
/// A CORS policy (the Gateway API CORS filter; Fetch standard, CORS protocol). Lists hold the configured values as
/// given; a list holding only <c>*</c> is a wildcard.
/// </summary>
public sealed record CorsIr
{
    /// <summary>The wildcard value of the lists.</summary>
    public const string Wildcard = "*";

    /// <summary>The Max-Age Gateway API uses when none is given, in seconds.</summary>
    public const int DefaultMaxAgeSeconds = 5;

    /// <summary>Allowed origins: <c>scheme://host[:port]</c>, where the host may start with <c>*.</c> (any labels to its left), or <c>*</c> alone.</summary>
    public ImmutableArray<string> AllowOrigins { get; init; } = [];

    /// <summary>Allowed methods, or <c>*</c> alone.</summary>
    public ImmutableArray<string> AllowMethods { get; init; } = [];

    /// <summary>Allowed request header names, or <c>*</c> alone.</summary>
    public ImmutableArray<string> AllowHeaders { get; init; } = [];

    /// <summary>Response header names exposed to scripts, or <c>*</c> alone.</summary>
    public ImmutableArray<string> ExposeHeaders { get; init; } = [];

    /// <summary>Whether credentialed requests are allowed (<c>Access-Control-Allow-Credentials: true</c>).</summary>
    public bool AllowCredentials { get; init; }

    /// <summary>How long a client may cache a preflight answer, in seconds; positive.</summary>
    public int MaxAgeSeconds { get; init; } = DefaultMaxAgeSeconds;

    /// <inheritdoc />
    public bool Equals(CorsIr? other) =>
        other is not null && IrEquality.Seq(AllowOrigins, other.AllowOrigins) && IrEquality.Seq(AllowMethods, other.AllowMethods)
        && IrEquality.Seq(AllowHeaders, other.AllowHeaders) && IrEquality.Seq(ExposeHeaders, other.ExposeHeaders)
        && AllowCredentials == other.AllowCredentials && MaxAgeSeconds == other.MaxAgeSeconds;

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(IrEquality.Hash(AllowOrigins), IrEquality.Hash(AllowMethods), IrEquality.Hash(AllowHeaders), IrEquality.Hash(ExposeHeaders), AllowCredentials, MaxAgeSeconds);
}

/// <summary>
/// A retry policy (GEP-1731): a try whose backend answered one of <see cref="Codes"/>, or could not be reached, is
/// made again on a freshly picked backend, at most <see cref="Attempts"/> more times, waiting <see cref="Backoff"/>
/// between tries, all within the route's request timeout.
/// </summary>
public sealed record RetryIr
{
    /// <summary>Status codes (400–599) that are retried, sorted ascending without duplicates.</summary>
    public ImmutableArray<int> Codes { get; init; } = [];

    /// <summary>The most retries after the first try; zero never retries.</summary>
    public int Attempts { get; init; }

    /// <summary>Wait between tries; zero retries at once.</summary>
    public TimeSpan Backoff { get; init; }

    /// <inheritdoc />
    public bool Equals(RetryIr? other) =>
        other is not null && IrEquality.Seq(Codes, other.Codes) && Attempts == other.Attempts && Backoff == other.Backoff;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(IrEquality.Hash(Codes), Attempts, Backoff);
}

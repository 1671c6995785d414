using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Switchyard.Ir;

namespace Switchyard.Proxy.Filters;

/// <summary>
/// The Gateway API CORS filter, compiled once per snapshot (Fetch standard, "CORS protocol"). The gateway answers
/// preflight requests itself and adds the CORS response headers to answers of actual cross-origin requests; the
/// backend never sees a preflight of a route with this filter.
/// </summary>
/// <remarks>
/// An allowed origin is always echoed rather than answered with <c>*</c>: Gateway API allows either when credentials
/// are off and requires the echo when they are on, and one behaviour is simpler to reason about. Wildcard methods,
/// headers and exposed headers are answered with <c>*</c> when credentials are off; with credentials on, a browser
/// takes <c>*</c> literally (Fetch §3.2.5), so the requested method and headers are echoed instead and a wildcard
/// expose list is left out.
/// </remarks>
internal sealed class CorsPolicy
{
    private readonly OriginPattern[] _origins;
    private readonly bool _anyOrigin;
    private readonly bool _credentials;
    private readonly bool _anyMethod;
    private readonly string? _methods;
    private readonly bool _anyHeader;
    private readonly string? _headers;
    private readonly string? _expose;
    private readonly string _maxAge;

    /// <summary>Compiles <paramref name="ir"/>; origins that do not parse are ignored (the translator has rejected them).</summary>
    public CorsPolicy(CorsIr ir)
    {
        ArgumentNullException.ThrowIfNull(ir);
        var origins = ir.AllowOrigins.IsDefault ? [] : ir.AllowOrigins;
        _anyOrigin = origins.Contains(CorsIr.Wildcard);
        _origins = [.. origins.Select(o => OriginPattern.TryParse(o, out var p) ? p : null).OfType<OriginPattern>()];
        _credentials = ir.AllowCredentials;
        (_anyMethod, _methods) = List(ir.AllowMethods);
        (_anyHeader, _headers) = List(ir.AllowHeaders);
        var (anyExpose, expose) = List(ir.ExposeHeaders);
        _expose = anyExpose ? (_credentials ? null : CorsIr.Wildcard) : expose;
        _maxAge = ir.MaxAgeSeconds.ToString(CultureInfo.InvariantCulture);

        static (bool Any, string? Joined) List(System.Collections.Immutable.ImmutableArray<string> values) =>
            values.IsDefaultOrEmpty ? (false, null) : values.Contains(CorsIr.Wildcard) ? (true, null) : (false, string.Join(", ", values));
    }

    /// <summary>A preflight: OPTIONS with <c>Origin</c> and <c>Access-Control-Request-Method</c> (Fetch §3.2.2).</summary>
    public static bool IsPreflight(HttpRequest request) =>
        HttpMethods.IsOptions(request.Method) && request.Headers.Origin.Count != 0 && request.Headers.AccessControlRequestMethod.Count != 0;

    /// <summary>True when <paramref name="origin"/> (an <c>Origin</c> header value) is allowed.</summary>
    public bool AllowsOrigin(string origin)
    {
        if (_anyOrigin)
        {
            return true;
        }

        if (!OriginPattern.TryParse(origin, out var actual) || actual.WildcardHost)
        {
            return false;
        }

        foreach (var pattern in _origins)
        {
            if (pattern.Matches(actual))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Answers a preflight: 200 with an empty body, and the CORS headers when the origin is allowed. A refused
    /// origin gets the 200 without them, which the browser treats as a failed preflight (Gateway API allows this or 403).
    /// </summary>
    public void AnswerPreflight(HttpRequest request, HttpResponse response)
    {
        var headers = response.Headers;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentLength = 0;
        headers.Append(HeaderNames.Vary, HeaderNames.Origin);
        var origin = request.Headers.Origin.ToString();
        if (!AllowsOrigin(origin))
        {
            return;
        }

        SetCommon(origin, headers);
        var methods = _anyMethod ? (_credentials ? request.Headers.AccessControlRequestMethod.ToString() : CorsIr.Wildcard) : _methods;
        if (!string.IsNullOrEmpty(methods))
        {
            headers.AccessControlAllowMethods = methods;
        }

        var requested = request.Headers.AccessControlRequestHeaders.ToString();
        var allowHeaders = _anyHeader ? (_credentials ? requested : CorsIr.Wildcard) : _headers;
        if (!string.IsNullOrEmpty(allowHeaders))
        {
            headers.AccessControlAllowHeaders = allowHeaders;
        }

        headers.AccessControlMaxAge = _maxAge;
    }

    /// <summary>Adds the CORS headers of an actual (non-preflight) request's answer, replacing any the backend sent.</summary>
    /// <param name="origin">The request's <c>Origin</c>.</param>
    /// <param name="headers">The response headers, before the response starts.</param>
    public void ApplyToResponse(string origin, IHeaderDictionary headers)
    {
        headers.Append(HeaderNames.Vary, HeaderNames.Origin);
        if (AllowsOrigin(origin))
        {
            SetCommon(origin, headers);
        }
    }

    private void SetCommon(string origin, IHeaderDictionary headers)
    {
        headers.AccessControlAllowOrigin = origin;
        if (_credentials)
        {
            headers.AccessControlAllowCredentials = "true";
        }

        if (_expose is not null)
        {
            headers.AccessControlExposeHeaders = _expose;
        }
    }

    /// <summary>
    /// A serialized origin <c>scheme://host[:port]</c> (RFC 6454 §6.1) with its default port made explicit; as a
    /// pattern its host may be <c>*</c> (any host) or start with <c>*.</c> (one or more labels to the left).
    /// </summary>
    private sealed record OriginPattern(string Scheme, string Host, int Port, bool WildcardHost)
    {
        public static bool TryParse(string text, out OriginPattern pattern)
        {
            pattern = null!;
            var sep = text.IndexOf("://", StringComparison.Ordinal);
            if (sep <= 0)
            {
                return false;
            }

            var scheme = text[..sep].ToLowerInvariant();
            var defaultPort = scheme switch { "http" => 80, "https" => 443, _ => -1 };
            var authority = text.AsSpan(sep + 3);
            if (defaultPort < 0 || authority.IsEmpty || authority.ContainsAny('/', '?', '#') || authority.Contains('@'))
            {
                return false;
            }

            var port = defaultPort;
            var colon = authority.LastIndexOf(':');
            if (colon >= 0 && authority[^1] != ']')
            {
                if (!int.TryParse(authority[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
                {
                    return false;
                }

                authority = authority[..colon];
            }

            if (authority.IsEmpty)
            {
                return false;
            }

            var host = authority.ToString().ToLowerInvariant();
            pattern = new OriginPattern(scheme, host, port, host == "*" || host.StartsWith("*.", StringComparison.Ordinal));
            return true;
        }

        public bool Matches(OriginPattern actual)
        {
            if (Scheme != actual.Scheme || Port != actual.Port)
            {
                return false;
            }

            if (!WildcardHost)
            {
                return Host == actual.Host;
            }

            // "*" is any host; "*.bar.com" is any host ending in ".bar.com" with at least one label before it.
            return Host == "*" || (actual.Host.Length > Host.Length - 1 && actual.Host.EndsWith(Host.AsSpan(1), StringComparison.Ordinal));
        }
    }
}

using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Switchyard.Ir;
using Switchyard.Proxy.Filters;
using Switchyard.Proxy.Forwarding;

namespace Switchyard.Proxy.Matching;

/// <summary>One <see cref="HttpRouteIr"/> compiled for matching: normalized path, compiled expressions, weighted backends.</summary>
internal sealed class CompiledRoute
{
    /// <summary>Regular expressions run with a bound so a hostile pattern cannot stall a request thread.</summary>
    internal static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    private readonly PathMatchType _pathType;
    private readonly string _path;
    private readonly Regex? _pathRegex;
    private readonly string? _method;
    private readonly ValueMatcher[] _headers;
    private readonly ValueMatcher[] _query;

    /// <summary>Compiles <paramref name="ir"/>.</summary>
    /// <param name="ir">The route.</param>
    /// <param name="order">Position in the IR, the final tie-breaker (creation time, then name, as the IR orders).</param>
    /// <param name="tls">Gives the TLS client of a backend under a BackendTLSPolicy, or null.</param>
    public CompiledRoute(HttpRouteIr ir, int order, Func<BackendTlsIr, BackendTlsClient>? tls = null)
    {
        Ir = ir;
        Order = order;
        var match = ir.Match;
        _pathType = match.Path.Type;
        _path = _pathType == PathMatchType.PathPrefix ? NormalizePrefix(match.Path.Value) : match.Path.Value;
        _pathRegex = _pathType == PathMatchType.RegularExpression ? Anchored(match.Path.Value) : null;
        _method = string.IsNullOrEmpty(match.Method) ? null : match.Method;
        _headers = Compile(match.Headers, StringComparer.OrdinalIgnoreCase);
        _query = Compile(match.QueryParams, StringComparer.Ordinal);
        Backends = new WeightedBackends(ir.Backends, tls);
        Mirrors = [.. (ir.Mirrors.IsDefault ? [] : ir.Mirrors).Select(m => new CompiledMirror(m, WeightedBackends.TlsClientFor(m.Backend, tls)))];
        Cors = ir.Cors is { } cors ? new CorsPolicy(cors) : null;
    }

    /// <summary>The route's CORS policy, or null.</summary>
    public CorsPolicy? Cors { get; }

    /// <summary>The route as the IR gives it.</summary>
    public HttpRouteIr Ir { get; }

    /// <summary>Position in the IR.</summary>
    public int Order { get; }

    /// <summary>The normalized PathPrefix (no trailing slash; empty for <c>/</c>), or the Exact path.</summary>
    public string PathValue => _path;

    /// <summary>The path match type.</summary>
    public PathMatchType PathType => _pathType;

    /// <summary>The weighted backends.</summary>
    public WeightedBackends Backends { get; }

    /// <summary>The route's mirrors, each with its backend's TLS client under a BackendTLSPolicy.</summary>
    public CompiledMirror[] Mirrors { get; }

    /// <summary>
    /// Orders routes by Gateway API HTTPRouteRule precedence: Exact path, then the longest PathPrefix, then
    /// RegularExpression; then a method match; then more header matches; then more query matches; then IR order.
    /// </summary>
    public static int ComparePrecedence(CompiledRoute a, CompiledRoute b)
    {
        var c = Rank(a._pathType).CompareTo(Rank(b._pathType));
        if (c != 0)
        {
            return c;
        }

        if (a._pathType == PathMatchType.PathPrefix && (c = b._path.Length.CompareTo(a._path.Length)) != 0)
        {
            return c;
        }

        if ((c = (b._method is not null).CompareTo(a._method is not null)) != 0)
        {
            return c;
        }

        if ((c = b._headers.Length.CompareTo(a._headers.Length)) != 0)
        {
            return c;
        }

        if ((c = b._query.Length.CompareTo(a._query.Length)) != 0)
        {
            return c;
        }

        return a.Order.CompareTo(b.Order);

        static int Rank(PathMatchType t) => t switch
        {
            PathMatchType.Exact => 0,
            PathMatchType.PathPrefix => 1,
            _ => 2,
        };
    }

    /// <summary>True when every part of the match holds for the request.</summary>
    /// <param name="method">The request method.</param>
    /// <param name="path">The decoded request path (no query).</param>
    /// <param name="request">The request, for headers and query parameters.</param>
    public bool Matches(string method, string path, HttpRequest request)
    {
        if (!MatchesPath(path))
        {
            return false;
        }

        if (_method is not null && !string.Equals(_method, method, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var header in _headers)
        {
            if (!header.Matches(request.Headers.TryGetValue(header.Name, out var values) ? values : StringValues.Empty))
            {
                return false;
            }
        }

        if (_query.Length != 0)
        {
            var query = request.QueryString.Value.AsSpan();
            foreach (var param in _query)
            {
                if (!TryFindQueryValue(query, param.Name, out var value) || !param.MatchesOne(value))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Path part of the match. PathPrefix matches whole path elements (<c>/foo</c> matches <c>/foo/x</c>, not <c>/foox</c>).</summary>
    public bool MatchesPath(ReadOnlySpan<char> path)
    {
        switch (_pathType)
        {
            case PathMatchType.Exact:
                return path.SequenceEqual(_path);
            case PathMatchType.PathPrefix:
                if (_path.Length == 0)
                {
                    return true;
                }

                return path.StartsWith(_path, StringComparison.Ordinal) && (path.Length == _path.Length || path[_path.Length] == '/');
            default:
                return IsMatch(_pathRegex!, path);
        }
    }

    /// <summary>
    /// Finds the first value of the query parameter <paramref name="name"/> (compared case-sensitively, as Gateway API
    /// says) in a raw query string, percent- and plus-decoding only when needed (WHATWG form-urlencoded).
    /// </summary>
    internal static bool TryFindQueryValue(ReadOnlySpan<char> query, string name, out string value)
    {
        if (!query.IsEmpty && query[0] == '?')
        {
            query = query[1..];
        }

        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            var matches = key.ContainsAny('%', '+') ? Decode(key).Equals(name, StringComparison.Ordinal) : key.SequenceEqual(name);
            if (matches)
            {
                var raw = eq < 0 ? [] : pair[(eq + 1)..];
                value = raw.ContainsAny('%', '+') ? Decode(raw) : raw.ToString();
                return true;
            }
        }

        value = string.Empty;
        return false;

        static string Decode(ReadOnlySpan<char> s) => Uri.UnescapeDataString(s.ToString().Replace('+', ' '));
    }

    /// <summary>Removes a PathPrefix's trailing slashes (the spec says a trailing <c>/</c> is ignored); <c>/</c> becomes empty.</summary>
    internal static string NormalizePrefix(string prefix) => prefix.TrimEnd('/');

    private static Regex Anchored(string pattern) =>
        new($"^(?:{pattern})$", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture, RegexTimeout);

    private static bool IsMatch(Regex regex, ReadOnlySpan<char> input)
    {
        try
        {
            return regex.IsMatch(input);
        }
        catch (RegexMatchTimeoutException)
        {
            // A pattern that cannot decide in time does not match.
            return false;
        }
    }

    private static ValueMatcher[] Compile(System.Collections.Immutable.ImmutableArray<StringMatchIr> matches, StringComparer names)
    {
        var list = new List<ValueMatcher>();
        var seen = new HashSet<string>(names);
        foreach (var m in matches.IsDefault ? [] : matches)
        {
            // Gateway API: of several entries with an equivalent name only the first is considered.
            if (seen.Add(m.Name))
            {
                list.Add(new ValueMatcher(m.Name, m.Value, m.Type == StringMatchType.RegularExpression ? Anchored(m.Value) : null));
            }
        }

        return [.. list];
    }

    private sealed class ValueMatcher(string name, string value, Regex? regex)
    {
        public string Name { get; } = name;

        public bool Matches(StringValues values)
        {
            if (values.Count == 0)
            {
                return false;
            }

            // A repeated header is compared as its comma-joined list (RFC 9110 §5.3).
            return values.Count == 1 ? MatchesOne(values[0]!) : MatchesOne(string.Join(',', values.ToArray()));
        }

        public bool MatchesOne(string actual) =>
            regex is null ? string.Equals(actual, value, StringComparison.Ordinal) : IsMatch(regex, actual);
    }
}

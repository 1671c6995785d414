using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using Switchyard.Ir;

namespace Switchyard.Tracks.Routing;

/// <summary>
/// The routing view of one data-plane snapshot: which WebTransport sessions are accepted, and which rule each message
/// of a session goes to. Built once per snapshot and never changed; the data plane swaps the whole table.
/// </summary>
/// <remarks>
/// Lookups on the message path compare raw header bytes with bytes prepared here, so routing a message allocates nothing.
/// </remarks>
public sealed class TrackRouteTable
{
    private readonly ImmutableArray<CompiledRoute> _routes;

    private TrackRouteTable(long generation, ImmutableArray<CompiledRoute> routes)
    {
        Generation = generation;
        _routes = routes;
    }

    /// <summary>An empty table: every session is refused.</summary>
    public static TrackRouteTable Empty { get; } = new(0, []);

    /// <summary>The generation of the snapshot the table was built from (increases with each swap).</summary>
    public long Generation { get; }

    /// <summary>Builds the table for the WebTransport routes of a Gateway's listeners.</summary>
    /// <param name="generation">A number that increases with each snapshot.</param>
    /// <param name="routes">The WebTransport routes, in precedence order.</param>
    public static TrackRouteTable Build(long generation, IEnumerable<WebTransportRouteIr> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        return new TrackRouteTable(generation, routes.Select(r => new CompiledRoute(r)).ToImmutableArray());
    }

    /// <summary>Builds the table from every listener of a snapshot.</summary>
    public static TrackRouteTable Build(long generation, GatewaySnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return Build(generation, snapshot.Listeners.SelectMany(l => l.WebTransportRoutes));
    }

    /// <summary>
    /// Finds the rules that may serve a session opened to <paramref name="authority"/> on <paramref name="path"/>.
    /// Returns null when no route accepts the session: the CONNECT is then refused (404).
    /// </summary>
    public SessionRoutes? MatchSession(string authority, string path)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(path);
        var host = HostOf(authority);
        var pathOnly = StripQuery(path);
        List<CompiledRule>? rules = null;
        foreach (var route in _routes)
        {
            if (!route.MatchesHost(host))
            {
                continue;
            }

            foreach (var rule in route.Rules)
            {
                if (rule.MatchesSessionPath(pathOnly))
                {
                    (rules ??= []).Add(rule);
                }
            }
        }

        return rules is null ? null : new SessionRoutes(this, host, pathOnly, [.. rules]);
    }

    /// <summary>The host part of an <c>:authority</c>, lower-cased, without port or IPv6 brackets.</summary>
    internal static string HostOf(string authority)
    {
        var host = authority;
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            host = close > 0 ? host[1..close] : host;
        }
        else
        {
            var colon = host.LastIndexOf(':');
            if (colon >= 0 && host.IndexOf(':', StringComparison.Ordinal) == colon)
            {
                host = host[..colon];
            }
        }

        return host.ToLowerInvariant();
    }

    private static string StripQuery(string path)
    {
        var q = path.IndexOfAny(['?', '#']);
        return q < 0 ? path : path[..q];
    }

    private sealed class CompiledRoute
    {
        private readonly FrozenSet<string> _exactHosts;
        private readonly ImmutableArray<string> _wildcardSuffixes;
        private readonly bool _anyHost;

        public CompiledRoute(WebTransportRouteIr route)
        {
            _anyHost = route.Hostnames.IsDefaultOrEmpty;
            _exactHosts = route.Hostnames.Where(h => !h.StartsWith("*.", StringComparison.Ordinal))
                .Select(h => h.ToLowerInvariant()).ToFrozenSet(StringComparer.Ordinal);

            // "*.example.com" matches "a.example.com" and "a.b.example.com" but not "example.com" (Gateway API hostname rules).
            _wildcardSuffixes = route.Hostnames.Where(h => h.StartsWith("*.", StringComparison.Ordinal))
                .Select(h => h[1..].ToLowerInvariant()).ToImmutableArray();
            Rules = route.Rules.Select(r => new CompiledRule(route.Name, r)).ToImmutableArray();
        }

        public ImmutableArray<CompiledRule> Rules { get; }

        public bool MatchesHost(string host) =>
            _anyHost || _exactHosts.Contains(host) ||
            _wildcardSuffixes.Any(suffix => host.Length > suffix.Length && host.EndsWith(suffix, StringComparison.Ordinal));
    }
}

/// <summary>A rule of a WebTransportRoute, prepared for byte-wise matching.</summary>
public sealed class CompiledRule
{
    private readonly ImmutableArray<CompiledMatch> _matches;

    internal CompiledRule(string routeName, WebTransportRuleIr rule)
    {
        RouteName = routeName;
        Rule = rule;
        _matches = rule.Matches.Select(m => new CompiledMatch(m)).ToImmutableArray();
    }

    /// <summary>The route's path-like name.</summary>
    public string RouteName { get; }

    /// <summary>The rule as the snapshot describes it.</summary>
    public WebTransportRuleIr Rule { get; }

    /// <summary>The rule's path-like name; stable across snapshots while the rule keeps its place.</summary>
    public string Name => Rule.Name;

    internal bool MatchesSessionPath(string path) =>
        _matches.IsEmpty || _matches.Any(m => m.MatchesPath(path));

    /// <summary>True when a message of this session with these header fields belongs to this rule.</summary>
    internal bool Matches(string sessionPath, ReadOnlySpan<byte> trackType, ReadOnlySpan<byte> trackId)
    {
        if (_matches.IsEmpty)
        {
            return true;
        }

        foreach (var match in _matches)
        {
            if (match.MatchesPath(sessionPath) && match.MatchesTrack(trackType, trackId))
            {
                return true;
            }
        }

        return false;
    }

    private sealed class CompiledMatch
    {
        private readonly PathMatchIr? _path;
        private readonly string? _prefix;
        private readonly byte[]? _trackType;
        private readonly byte[]? _trackId;
        private readonly bool _trackIdPrefix;

        public CompiledMatch(WebTransportMatchIr match)
        {
            _path = match.Path;

            // Trimmed once here: the path is checked for every message, and TrimEnd would allocate each time.
            _prefix = match.Path?.Value.TrimEnd('/');
            _trackType = match.TrackType is null ? null : Encoding.ASCII.GetBytes(match.TrackType);
            _trackId = match.TrackId is null ? null : Encoding.UTF8.GetBytes(match.TrackId.Value);
            _trackIdPrefix = match.TrackId?.Type == TrackIdMatchType.Prefix;
        }

        public bool MatchesPath(string path) => _path is null || _path.Type switch
        {
            PathMatchType.Exact => string.Equals(path, _path.Value, StringComparison.Ordinal),

            // Element-wise prefix, as Gateway API PathPrefix: "/wt" matches "/wt" and "/wt/x", not "/wtx".
            PathMatchType.PathPrefix => _prefix!.Length == 0 ||
                (path.StartsWith(_prefix, StringComparison.Ordinal) && (path.Length == _prefix.Length || path[_prefix.Length] == '/')),
            _ => false,
        };

        public bool MatchesTrack(ReadOnlySpan<byte> trackType, ReadOnlySpan<byte> trackId)
        {
            if (_trackType is not null && !trackType.SequenceEqual(_trackType))
            {
                return false;
            }

            if (_trackId is null)
            {
                return true;
            }

            return _trackIdPrefix ? trackId.StartsWith(_trackId) : trackId.SequenceEqual(_trackId);
        }
    }
}

/// <summary>The rules a session may use, resolved when the session was accepted against one table.</summary>
public sealed class SessionRoutes
{
    private readonly ImmutableArray<CompiledRule> _rules;

    internal SessionRoutes(TrackRouteTable table, string host, string path, ImmutableArray<CompiledRule> rules)
    {
        Table = table;
        Host = host;
        Path = path;
        _rules = rules;
    }

    /// <summary>The table these rules came from.</summary>
    public TrackRouteTable Table { get; }

    /// <summary>The session's host (from <c>:authority</c>).</summary>
    public string Host { get; }

    /// <summary>The session's CONNECT path, without query.</summary>
    public string Path { get; }

    /// <summary>The first rule that takes a message with these header fields, or null (no route).</summary>
    public CompiledRule? Match(ReadOnlySpan<byte> trackType, ReadOnlySpan<byte> trackId)
    {
        foreach (var rule in _rules)
        {
            if (rule.Matches(Path, trackType, trackId))
            {
                return rule;
            }
        }

        return null;
    }
}

using Switchyard.Ir;

namespace Switchyard.Tracks.Routing;

/// <summary>
/// Holds the current <see cref="TrackRouteTable"/> behind one volatile reference. A reload swaps the whole table; readers
/// take no lock and never see a half-built configuration.
/// </summary>
public sealed class TrackRouter
{
    private TrackRouteTable _current = TrackRouteTable.Empty;

    /// <summary>The table in force now.</summary>
    public TrackRouteTable Current => Volatile.Read(ref _current);

    /// <summary>Replaces the table. Streams pick it up at their next message.</summary>
    public void Swap(TrackRouteTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        Volatile.Write(ref _current, table);
    }
}

/// <summary>Where one message goes: the rule that took it and the backend endpoint chosen for it.</summary>
/// <param name="Rule">The rule.</param>
/// <param name="Backend">The weighted backend chosen for the (stream, rule) pair.</param>
/// <param name="Endpoint">The endpoint within it.</param>
public readonly record struct TrackRoute(CompiledRule Rule, WeightedBackendIr Backend, EndpointIr Endpoint);

/// <summary>Why a message could not be routed.</summary>
public enum TrackRouteFailure
{
    /// <summary>Routed.</summary>
    None,

    /// <summary>No rule of the session's routes matches the message (or the session's routes are gone).</summary>
    NoRule,

    /// <summary>A rule matches but none of its backends has a ready endpoint.</summary>
    NoEndpoint,
}

/// <summary>
/// Routes the messages of one WebTransport stream. Each message is matched against the current table; the backend
/// endpoint is chosen by weight once per (stream, rule) and kept while the rule still lists it, so one stream's
/// messages for one rule keep their order at one backend.
/// </summary>
/// <remarks>Not thread-safe: one stream is read by one task.</remarks>
public sealed class StreamTrackRouter
{
    private readonly TrackRouter _router;
    private readonly string _authority;
    private readonly string _path;
    private readonly Func<int, int> _random;
    private SessionRoutes? _session;
    private long _generation = -1;

    // Most streams carry one track, so one or two sticky choices: a small list beats a dictionary.
    private readonly List<(string RuleName, WeightedBackendIr Backend, EndpointIr Endpoint)> _sticky = new(2);

    /// <summary>Creates the router for a stream of a session opened to <paramref name="authority"/> on <paramref name="path"/>.</summary>
    /// <param name="router">The shared router holding the current table.</param>
    /// <param name="authority">The session's <c>:authority</c>.</param>
    /// <param name="path">The session's <c>:path</c>.</param>
    /// <param name="random">Returns a number in [0, n) for n; defaults to <see cref="Random.Shared"/>.</param>
    public StreamTrackRouter(TrackRouter router, string authority, string path, Func<int, int>? random = null)
    {
        ArgumentNullException.ThrowIfNull(router);
        _router = router;
        _authority = authority;
        _path = path;
        _random = random ?? Random.Shared.Next;
    }

    /// <summary>Routes one message by its header fields.</summary>
    public TrackRouteFailure TryRoute(ReadOnlySpan<byte> trackType, ReadOnlySpan<byte> trackId, out TrackRoute route)
    {
        var table = _router.Current;
        if (table.Generation != _generation)
        {
            // Only on a swap: re-resolve the session's rules against the new table.
            _session = table.MatchSession(_authority, _path);
            _generation = table.Generation;
        }

        var rule = _session?.Match(trackType, trackId);
        if (rule is null)
        {
            route = default;
            return TrackRouteFailure.NoRule;
        }

        foreach (var (ruleName, backend, endpoint) in _sticky)
        {
            if (ruleName == rule.Name && StillListed(rule, backend, endpoint, out var current))
            {
                route = new TrackRoute(rule, current, endpoint);
                return TrackRouteFailure.None;
            }
        }

        if (!Pick(rule, out var chosenBackend, out var chosenEndpoint))
        {
            route = default;
            return TrackRouteFailure.NoEndpoint;
        }

        // No lambda here: a closure over `rule` would be allocated on every call, sticky hit or not.
        var slot = -1;
        for (var i = 0; i < _sticky.Count; i++)
        {
            if (_sticky[i].RuleName == rule.Name)
            {
                slot = i;
                break;
            }
        }

        if (slot >= 0)
        {
            _sticky[slot] = (rule.Name, chosenBackend, chosenEndpoint);
        }
        else
        {
            _sticky.Add((rule.Name, chosenBackend, chosenEndpoint));
        }
        route = new TrackRoute(rule, chosenBackend, chosenEndpoint);
        return TrackRouteFailure.None;
    }

    private static bool StillListed(CompiledRule rule, WeightedBackendIr backend, EndpointIr endpoint, out WeightedBackendIr current)
    {
        foreach (var candidate in rule.Rule.Backends)
        {
            if (candidate.Name == backend.Name && candidate.Weight > 0 && candidate.Endpoints.Contains(endpoint))
            {
                current = candidate;
                return true;
            }
        }

        current = backend;
        return false;
    }

    private bool Pick(CompiledRule rule, out WeightedBackendIr backend, out EndpointIr endpoint)
    {
        var total = 0;
        foreach (var candidate in rule.Rule.Backends)
        {
            if (candidate.Weight > 0 && !candidate.Endpoints.IsDefaultOrEmpty)
            {
                total += candidate.Weight;
            }
        }

        if (total > 0)
        {
            var ticket = _random(total);
            foreach (var candidate in rule.Rule.Backends)
            {
                if (candidate.Weight <= 0 || candidate.Endpoints.IsDefaultOrEmpty)
                {
                    continue;
                }

                if (ticket < candidate.Weight)
                {
                    backend = candidate;
                    endpoint = candidate.Endpoints[_random(candidate.Endpoints.Length)];
                    return true;
                }

                ticket -= candidate.Weight;
            }
        }

        backend = null!;
        endpoint = null!;
        return false;
    }
}

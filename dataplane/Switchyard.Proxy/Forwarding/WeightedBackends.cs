using System.Collections.Immutable;
using Switchyard.Ir;

namespace Switchyard.Proxy.Forwarding;

/// <summary>The outcome of choosing a backend endpoint for one request.</summary>
/// <param name="Error"><see cref="ProxyError.None"/> when <paramref name="Endpoint"/> is set.</param>
/// <param name="Backend">The backend picked by weight, when one was.</param>
/// <param name="Endpoint">The endpoint to send to.</param>
/// <param name="Tls">The TLS client for the backend (a BackendTLSPolicy), or null for cleartext.</param>
internal readonly record struct BackendChoice(ProxyError Error, HttpBackendIr? Backend, EndpointIr? Endpoint, BackendTlsClient? Tls = null);

/// <summary>
/// The backends of one route, chosen per request in proportion to their weights; endpoints of a backend take turns.
/// Per Gateway API, the share of requests that falls on an unresolved backend answers 500, and the share that falls
/// on a backend with no ready endpoints answers 503.
/// </summary>
internal sealed class WeightedBackends
{
    private readonly Entry[] _entries;
    private readonly int _total;

    /// <summary>Prepares the cumulative weights.</summary>
    /// <param name="backends">The route's backends.</param>
    /// <param name="tls">Gives the TLS client of a backend under a BackendTLSPolicy; null when none is expected.</param>
    public WeightedBackends(ImmutableArray<HttpBackendIr> backends, Func<BackendTlsIr, BackendTlsClient>? tls = null)
    {
        var entries = new List<Entry>();
        var total = 0;
        foreach (var backend in backends.IsDefault ? [] : backends)
        {
            if (backend.Backend.Weight <= 0)
            {
                continue;
            }

            total = checked(total + backend.Backend.Weight);
            entries.Add(new Entry(backend, total, TlsClientFor(backend.Backend, tls)));
        }

        _entries = [.. entries];
        _total = total;
    }

    /// <summary>True when no backend can receive traffic (none listed, or all weights zero).</summary>
    public bool IsEmpty => _total == 0;

    /// <summary>Chooses a backend by weight and one of its endpoints.</summary>
    /// <param name="random">The random source (tests pass a seeded one).</param>
    /// <returns>The choice, or the error to answer with.</returns>
    public BackendChoice Choose(Random random)
    {
        if (_total == 0)
        {
            // Gateway API: a rule whose backends can take no traffic answers 500.
            return new BackendChoice(ProxyError.NoValidBackend, null, null);
        }

        var roll = _entries.Length == 1 ? 0 : random.Next(_total);
        foreach (var entry in _entries)
        {
            if (roll < entry.CumulativeWeight)
            {
                return entry.Choose();
            }
        }

        return _entries[^1].Choose();
    }

    /// <summary>The TLS client of a backend under a BackendTLSPolicy, or null for one in the clear (or when none can be had).</summary>
    internal static BackendTlsClient? TlsClientFor(WeightedBackendIr backend, Func<BackendTlsIr, BackendTlsClient>? tls) =>
        backend.Tls is { } settings && tls is not null ? tls(settings) : null;

    /// <summary>True when a backend asks for TLS but has no client: it must be refused, never reached in the clear.</summary>
    internal static bool MissesTlsClient(WeightedBackendIr backend, BackendTlsClient? client) => backend.Tls is not null && client is null;

    /// <summary>Picks one endpoint of a backend, round robin; null when it has none.</summary>
    internal static EndpointIr? RoundRobin(ImmutableArray<EndpointIr> endpoints, ref int counter)
    {
        if (endpoints.IsDefaultOrEmpty)
        {
            return null;
        }

        var n = (uint)Interlocked.Increment(ref counter);
        return endpoints[(int)(n % (uint)endpoints.Length)];
    }

    private sealed class Entry(HttpBackendIr backend, int cumulativeWeight, BackendTlsClient? tls)
    {
        private int _next = -1;

        public int CumulativeWeight { get; } = cumulativeWeight;

        public BackendChoice Choose()
        {
            if (backend.Invalid)
            {
                return new BackendChoice(ProxyError.NoValidBackend, backend, null);
            }

            var endpoint = RoundRobin(backend.Backend.Endpoints, ref _next);
            return endpoint is null
                ? new BackendChoice(ProxyError.NoHealthyEndpoints, backend, null)
                : MissesTlsClient(backend.Backend, tls)
                    // A TLS backend without its client would be reached in the clear: refuse it instead.
                    ? new BackendChoice(ProxyError.NoValidBackend, backend, null)
                    : new BackendChoice(ProxyError.None, backend, endpoint, tls);
        }
    }
}

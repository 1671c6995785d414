namespace Switchyard.Proxy.Matching;

/// <summary>
/// Maps a request host to the most specific entry, with Gateway API hostname precedence: an exact hostname first,
/// then the longest <c>*.</c> wildcard suffix, then the catch-all (<c>*</c> or no hostname).
/// </summary>
/// <remarks>
/// A wildcard matches one or more leading labels (<c>*.example.com</c> matches <c>a.example.com</c> and
/// <c>a.b.example.com</c>, not <c>example.com</c>), as the Gateway API Listener and HTTPRoute hostname fields say.
/// Lookups compare ASCII case-insensitively and allocate nothing. The map is immutable once built.
/// </remarks>
/// <typeparam name="T">The value type.</typeparam>
internal sealed class HostMap<T>
    where T : class
{
    private readonly Dictionary<string, T> _exact;
    private readonly Dictionary<string, T>.AlternateLookup<ReadOnlySpan<char>> _exactBySpan;
    private readonly (string Suffix, T Value)[] _wildcards;
    private readonly T? _any;

    /// <summary>Builds the map; for hostnames given twice the first entry wins.</summary>
    /// <param name="entries">Hostname (exact, <c>*.</c> wildcard, <c>*</c> or null for any) and value, in priority order.</param>
    public HostMap(IEnumerable<(string? Hostname, T Value)> entries)
    {
        _exact = new Dictionary<string, T>(StringComparer.OrdinalIgnoreCase);
        var wildcards = new List<(string Suffix, T Value)>();
        foreach (var (hostname, value) in entries)
        {
            if (hostname is null or "" or "*")
            {
                _any ??= value;
            }
            else if (hostname.StartsWith("*.", StringComparison.Ordinal))
            {
                var suffix = hostname[1..];
                if (!wildcards.Exists(w => string.Equals(w.Suffix, suffix, StringComparison.OrdinalIgnoreCase)))
                {
                    wildcards.Add((suffix, value));
                }
            }
            else
            {
                _exact.TryAdd(TrimDot(hostname).ToString(), value);
            }
        }

        // Longest suffix first; the stable sort keeps priority order among equal lengths.
        _wildcards = [.. wildcards.OrderByDescending(w => w.Suffix.Length)];
        _exactBySpan = _exact.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>True when no entry exists.</summary>
    public bool IsEmpty => _exact.Count == 0 && _wildcards.Length == 0 && _any is null;

    /// <summary>Finds the most specific entry for <paramref name="host"/> (without port).</summary>
    /// <param name="host">The request host, for example from the Host header or SNI; may be empty.</param>
    /// <returns>The entry, or null when none matches.</returns>
    public T? Find(ReadOnlySpan<char> host)
    {
        host = TrimDot(host);
        if (!host.IsEmpty)
        {
            if (_exact.Count != 0 && _exactBySpan.TryGetValue(host, out var exact))
            {
                return exact;
            }

            foreach (var (suffix, value) in _wildcards)
            {
                // The wildcard must stand for at least one non-empty label.
                if (host.Length > suffix.Length && host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    return value;
                }
            }
        }

        return _any;
    }

    /// <summary>True when <paramref name="host"/> is matched by the hostname pattern <paramref name="pattern"/>.</summary>
    /// <param name="pattern">Exact hostname, <c>*.</c> wildcard, <c>*</c> or null.</param>
    /// <param name="host">The host to test.</param>
    /// <returns>Whether it matches.</returns>
    public static bool Matches(string? pattern, ReadOnlySpan<char> host)
    {
        host = TrimDot(host);
        if (pattern is null or "" or "*")
        {
            return true;
        }

        if (pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            var suffix = pattern.AsSpan(1);
            return host.Length > suffix.Length && host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase);
        }

        return host.Equals(TrimDot(pattern), StringComparison.OrdinalIgnoreCase);
    }

    // A fully qualified name's trailing dot names the same host (RFC 1034 §3.1).
    private static ReadOnlySpan<char> TrimDot(ReadOnlySpan<char> host) =>
        host.Length > 1 && host[^1] == '.' ? host[..^1] : host;
}

using Microsoft.Extensions.Primitives;

namespace Switchyard.Proxy.Forwarding;

/// <summary>
/// Hop-by-hop header rules (RFC 9110 §7.6.1): Connection and every header it names, Keep-Alive, Proxy-*, TE,
/// Trailer, Transfer-Encoding and Upgrade describe one connection and are never forwarded.
/// </summary>
internal static class HopByHop
{
    /// <summary>True when <paramref name="name"/> is hop-by-hop by definition (independent of Connection).</summary>
    public static bool IsHopByHop(string name) => name.Length switch
    {
        2 => string.Equals(name, "TE", StringComparison.OrdinalIgnoreCase),
        7 => string.Equals(name, "Trailer", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "Upgrade", StringComparison.OrdinalIgnoreCase),
        10 => string.Equals(name, "Connection", StringComparison.OrdinalIgnoreCase)
            || string.Equals(name, "Keep-Alive", StringComparison.OrdinalIgnoreCase),
        17 => string.Equals(name, "Transfer-Encoding", StringComparison.OrdinalIgnoreCase),
        _ => false,
    } || name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="name"/> is listed as a connection option in <paramref name="connection"/>.</summary>
    /// <param name="connection">The Connection header values (comma-separated tokens).</param>
    /// <param name="name">A header name.</param>
    public static bool IsListedIn(StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            foreach (var range in (value ?? string.Empty).AsSpan().Split(','))
            {
                if (value.AsSpan(range).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="name"/> is listed in any of <paramref name="connection"/>.</summary>
    public static bool IsListedIn(IEnumerable<string>? connection, string name)
    {
        if (connection is null)
        {
            return false;
        }

        foreach (var value in connection)
        {
            if (IsListedIn(new StringValues(value), name))
            {
                return true;
            }
        }

        return false;
    }
}

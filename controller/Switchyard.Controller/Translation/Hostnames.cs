namespace Switchyard.Controller.Translation;

/// <summary>Hostname intersection and precedence as Gateway API defines them for listeners and routes.</summary>
internal static class Hostnames
{
    /// <summary>Whether a pattern (exact or <c>*.</c> wildcard matching one or more labels) matches a hostname.</summary>
    public static bool Matches(string pattern, string host)
    {
        if (pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            var suffix = pattern[1..];
            return host.Length > suffix.Length && host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && !host.StartsWith('.');
        }

        return string.Equals(pattern, host, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The hostnames a route serves on a listener: the route's hostnames that the listener's hostname admits,
    /// narrowed to the listener's when the route's is the wider wildcard. Empty result means no intersection;
    /// a result of <c>["*"]</c> means any host.
    /// </summary>
    public static List<string> Intersect(string? listener, IReadOnlyList<string>? route)
    {
        var result = new List<string>();
        if (route is null || route.Count == 0)
        {
            result.Add(string.IsNullOrEmpty(listener) ? "*" : listener);
            return result;
        }

        foreach (var h in route)
        {
            string? r;
            if (string.IsNullOrEmpty(listener))
            {
                r = h;
            }
            else if (Matches(listener, h) || string.Equals(listener, h, StringComparison.OrdinalIgnoreCase))
            {
                r = h;
            }
            else if (Matches(h, listener) || (h.StartsWith("*.", StringComparison.Ordinal) && listener.StartsWith("*.", StringComparison.Ordinal) && listener.EndsWith(h[1..], StringComparison.OrdinalIgnoreCase)))
            {
                r = listener;
            }
            else
            {
                r = null;
            }

            if (r is not null && !result.Contains(r, StringComparer.OrdinalIgnoreCase))
            {
                result.Add(r.ToLowerInvariant());
            }
        }

        return result;
    }

    /// <summary>Orders hostnames most specific first: exact names, then wildcards by length, then <c>*</c>.</summary>
    public static int CompareSpecificity(string a, string b)
    {
        static int Rank(string h) => h == "*" ? 2 : h.StartsWith('*') ? 1 : 0;
        var c = Rank(a).CompareTo(Rank(b));
        if (c != 0)
        {
            return c;
        }

        c = b.Length.CompareTo(a.Length);
        return c != 0 ? c : string.CompareOrdinal(a, b);
    }
}

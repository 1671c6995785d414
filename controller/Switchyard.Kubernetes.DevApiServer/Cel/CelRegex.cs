using System.Text;
using System.Text.RegularExpressions;

namespace Switchyard.Kubernetes.DevApiServer.Cel;

/// <summary>
/// CEL's <c>matches</c> uses RE2. .NET's non-backtracking engine has RE2's guarantee (time linear in the input) and
/// RE2's limits (no backreferences or lookaround); this class translates the few RE2 spellings that mean something
/// else in .NET, caches compiled patterns, and bounds every match with a timeout.
/// </summary>
internal static class CelRegex
{
    private const int CacheLimit = 256;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    // One cache per thread: a non-backtracking Regex shared across threads was seen to answer wrongly after a match
    // on another thread timed out, so instances are never shared, and one that timed out is thrown away.
    [ThreadStatic]
    private static Dictionary<string, Regex>? t_cache;

    /// <summary>Whether <paramref name="input"/> contains a match of the RE2 <paramref name="pattern"/> (an unanchored search).</summary>
    /// <exception cref="CelEvaluationException">The pattern is invalid, or the match timed out.</exception>
    public static bool IsMatch(string input, string pattern)
    {
        try
        {
            return Get(pattern).IsMatch(input);
        }
        catch (RegexMatchTimeoutException)
        {
            t_cache?.Remove(pattern);
            throw new CelEvaluationException("regular expression match timed out");
        }
    }

    /// <summary>Compiles (and caches) the RE2 <paramref name="pattern"/>.</summary>
    /// <exception cref="CelEvaluationException">The pattern is not valid RE2 as far as the double can tell.</exception>
    public static Regex Get(string pattern)
    {
        var cache = t_cache ??= new Dictionary<string, Regex>(StringComparer.Ordinal);
        if (cache.TryGetValue(pattern, out var cached))
        {
            return cached;
        }

        Regex regex;
        try
        {
            regex = new Regex(Translate(pattern), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, Timeout);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            throw new CelEvaluationException($"invalid regular expression '{pattern}': {ex.Message}");
        }

        if (cache.Count >= CacheLimit)
        {
            cache.Clear();
        }

        cache[pattern] = regex;
        return regex;
    }

    /// <summary>
    /// RE2 to .NET: <c>$</c> (without the <c>m</c> flag) is end of text, not "before a final newline"; <c>\d \w \s</c> are
    /// ASCII-only; <c>(?P&lt;name&gt;</c> names a group.
    /// </summary>
    internal static string Translate(string pattern)
    {
        var multiline = pattern.Contains("(?m", StringComparison.Ordinal) || (pattern.Contains("(?", StringComparison.Ordinal) && Regex.IsMatch(pattern, @"\(\?[a-zA-Z]*m[a-zA-Z]*[):]", RegexOptions.None, Timeout));
        var sb = new StringBuilder(pattern.Length + 16);
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var e = pattern[i + 1];
                i++;
                sb.Append((e, inClass) switch
                {
                    ('d', false) => "[0-9]",
                    ('D', false) => "[^0-9]",
                    ('w', false) => "[0-9A-Za-z_]",
                    ('W', false) => "[^0-9A-Za-z_]",
                    ('s', false) => "[\\t\\n\\f\\r ]",
                    ('S', false) => "[^\\t\\n\\f\\r ]",
                    ('d', true) => "0-9",
                    ('w', true) => "0-9A-Za-z_",
                    ('s', true) => "\\t\\n\\f\\r ",
                    _ => "\\" + e,
                });
                continue;
            }

            if (inClass)
            {
                if (c == ']')
                {
                    inClass = false;
                }
                sb.Append(c);
                continue;
            }

            switch (c)
            {
                case '[':
                    inClass = true;
                    sb.Append(c);
                    if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                    {
                        sb.Append('^');
                        i++;
                    }

                    if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                    {
                        // A leading ']' is a literal in RE2.
                        sb.Append("\\]");
                        i++;
                    }

                    break;
                case '$' when !multiline:
                    sb.Append("\\z");
                    break;
                case '(' when string.CompareOrdinal(pattern, i, "(?P<", 0, 4) == 0:
                    sb.Append("(?<");
                    i += 3;
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }

        return sb.ToString();
    }
}

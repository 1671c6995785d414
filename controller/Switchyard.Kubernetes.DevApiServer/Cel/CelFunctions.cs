using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Switchyard.Kubernetes.DevApiServer.Cel;

/// <summary>
/// The functions the double knows: CEL's standard definitions (cel-spec "List of Standard Definitions") that CRD rules
/// use, plus the Kubernetes string and IP libraries' functions that Gateway API rules call. Anything else is a
/// compile error when the CRD is registered.
/// </summary>
internal static class CelFunctions
{
    private readonly record struct Signature(bool Global, bool Receiver, int MinArgs, int MaxArgs);

    // Arity counts arguments besides the receiver.
    private static readonly Dictionary<string, Signature> Known = new(StringComparer.Ordinal)
    {
        ["size"] = new(true, true, 0, 0),
        ["int"] = new(true, false, 0, 0),
        ["uint"] = new(true, false, 0, 0),
        ["double"] = new(true, false, 0, 0),
        ["string"] = new(true, false, 0, 0),
        ["bytes"] = new(true, false, 0, 0),
        ["bool"] = new(true, false, 0, 0),
        ["dyn"] = new(true, false, 0, 0),
        ["duration"] = new(true, false, 0, 0),
        ["isIP"] = new(true, false, 0, 0),
        ["isURL"] = new(true, false, 0, 0),
        ["matches"] = new(true, true, 1, 1),
        ["startsWith"] = new(false, true, 1, 1),
        ["endsWith"] = new(false, true, 1, 1),
        ["contains"] = new(false, true, 1, 1),
        ["lowerAscii"] = new(false, true, 0, 0),
        ["upperAscii"] = new(false, true, 0, 0),
        ["trim"] = new(false, true, 0, 0),
        ["split"] = new(false, true, 1, 2),
        ["join"] = new(false, true, 0, 1),
        ["substring"] = new(false, true, 1, 2),
        ["indexOf"] = new(false, true, 1, 2),
        ["lastIndexOf"] = new(false, true, 1, 2),
        ["replace"] = new(false, true, 2, 3),
        ["charAt"] = new(false, true, 1, 1),
        ["getHours"] = new(false, true, 0, 0),
        ["getMinutes"] = new(false, true, 0, 0),
        ["getSeconds"] = new(false, true, 0, 0),
        ["getMilliseconds"] = new(false, true, 0, 0),
    };

    /// <summary>Resolves a call at compile time.</summary>
    /// <exception cref="CelCompileException">Unknown function, wrong call style or arity, or an invalid regex literal.</exception>
    public static void Check(CelCall call)
    {
        if (!Known.TryGetValue(call.Function, out var sig))
        {
            throw new CelCompileException($"{call.Position}: undeclared reference to '{call.Function}'");
        }

        // A global call carries the receiver as its first argument.
        var isReceiver = call.Target is not null;
        var argc = isReceiver ? call.Args.Count : call.Args.Count - 1;
        if ((isReceiver && !sig.Receiver) || (!isReceiver && !sig.Global) || argc < sig.MinArgs || argc > sig.MaxArgs)
        {
            var form = isReceiver ? $"<target>.{call.Function}({call.Args.Count} args)" : $"{call.Function}({call.Args.Count} args)";
            throw new CelCompileException($"{call.Position}: found no matching overload for '{call.Function}' applied to {form}");
        }

        if (call.Function == "matches" && call.Args[^1] is CelLiteral { Value: string pattern })
        {
            try
            {
                CelRegex.Get(pattern);
            }
            catch (CelEvaluationException ex)
            {
                throw new CelCompileException($"{call.Position}: {ex.Message}");
            }
        }

        if (call.Function == "duration" && call.Args[0] is CelLiteral { Value: string d } && !CelDuration.TryParse(d, out _))
        {
            throw new CelCompileException($"{call.Position}: invalid duration literal '{d}'");
        }
    }

    /// <summary>Calls <paramref name="name"/>; for a global call <paramref name="target"/> is the first argument.</summary>
    public static object Invoke(string name, object target, IReadOnlyList<object> args, CelBudget budget)
    {
        switch (name, target, args.Count)
        {
            case ("size", string s, 0):
                budget.Charge(1 + (s.Length / 16));
                return CelValues.CodePoints(s);
            case ("size", CelBytes b, 0):
                return (long)b.Value.Length;
            case ("size", CelList l, 0):
                return (long)l.Count;
            case ("size", CelMap m, 0):
                return (long)m.Count;
            case ("dyn", _, 0):
                return target;
            case ("matches", string s, 1) when args[0] is string pattern:
                budget.Charge(1 + s.Length + pattern.Length);
                return CelRegex.IsMatch(s, pattern);
            case ("startsWith", string s, 1) when args[0] is string p:
                budget.Charge(1 + (p.Length / 16));
                return s.StartsWith(p, StringComparison.Ordinal);
            case ("endsWith", string s, 1) when args[0] is string p:
                budget.Charge(1 + (p.Length / 16));
                return s.EndsWith(p, StringComparison.Ordinal);
            case ("contains", string s, 1) when args[0] is string p:
                budget.Charge(1 + ((s.Length + p.Length) / 16));
                return s.Contains(p, StringComparison.Ordinal);
            case ("lowerAscii", string s, 0):
                budget.Charge(1 + (s.Length / 16));
                return string.Create(s.Length, s, static (span, src) => { for (var i = 0; i < span.Length; i++) { span[i] = char.IsAsciiLetterUpper(src[i]) ? (char)(src[i] | 0x20) : src[i]; } });
            case ("upperAscii", string s, 0):
                budget.Charge(1 + (s.Length / 16));
                return string.Create(s.Length, s, static (span, src) => { for (var i = 0; i < span.Length; i++) { span[i] = char.IsAsciiLetterLower(src[i]) ? (char)(src[i] & ~0x20) : src[i]; } });
            case ("trim", string s, 0):
                return s.Trim();
            case ("split", string s, _) when args[0] is string sep:
                return Split(s, sep, args.Count > 1 ? Int(args[1]) : -1, budget);
            case ("join", CelList l, _):
                {
                    var sep = args.Count > 0 ? args[0] as string ?? throw NoOverload(name, target, args) : "";
                    budget.Charge(1 + l.Count);
                    var parts = new List<string>(l.Count);
                    foreach (var item in l)
                    {
                        parts.Add(item as string ?? throw NoOverload(name, target, args));
                    }

                    return string.Join(sep, parts);
                }

            case ("substring", string s, _):
                return Substring(s, Int(args[0]), args.Count > 1 ? Int(args[1]) : null);
            case ("charAt", string s, 1):
                {
                    var runes = s.EnumerateRunes().ToArray();
                    var i = Int(args[0]);
                    return i < 0 || i > runes.Length ? throw new CelEvaluationException($"index out of range: {i}") : i == runes.Length ? "" : runes[i].ToString();
                }

            case ("indexOf" or "lastIndexOf", string s, _) when args[0] is string sub:
                return IndexOf(name == "lastIndexOf", s, sub, args.Count > 1 ? Int(args[1]) : null);
            case ("replace", string s, _) when args[0] is string from && args[1] is string to:
                {
                    budget.Charge(1 + (s.Length / 16));
                    var limit = args.Count > 2 ? Int(args[2]) : -1;
                    return Replace(s, from, to, limit, budget);
                }

            case ("int", _, 0):
                return ToInt(target);
            case ("uint", _, 0):
                return ToUint(target);
            case ("double", _, 0):
                return target switch
                {
                    double d => d,
                    long l => (double)l,
                    ulong u => (double)u,
                    string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
                    _ => throw Conversion("double", target),
                };
            case ("string", _, 0):
                return target switch
                {
                    string s => s,
                    long l => l.ToString(CultureInfo.InvariantCulture),
                    ulong u => u.ToString(CultureInfo.InvariantCulture),
                    double d => d.ToString("R", CultureInfo.InvariantCulture),
                    bool b => b ? "true" : "false",
                    CelBytes b => Utf8(b),
                    CelDuration d => d.ToString(),
                    _ => throw Conversion("string", target),
                };
            case ("bytes", _, 0):
                return target switch
                {
                    string s => new CelBytes(Encoding.UTF8.GetBytes(s)),
                    CelBytes b => b,
                    _ => throw Conversion("bytes", target),
                };
            case ("bool", _, 0):
                return target switch
                {
                    bool b => b,
                    string s when s is "true" or "True" or "TRUE" or "t" or "1" => true,
                    string s when s is "false" or "False" or "FALSE" or "f" or "0" => false,
                    _ => throw Conversion("bool", target),
                };
            case ("duration", _, 0):
                return target switch
                {
                    CelDuration d => d,
                    string s when CelDuration.TryParse(s, out var d) => d,
                    _ => throw Conversion("duration", target),
                };
            case ("getHours", CelDuration d, 0):
                return d.Nanoseconds / 3_600_000_000_000;
            case ("getMinutes", CelDuration d, 0):
                return d.Nanoseconds / 60_000_000_000;
            case ("getSeconds", CelDuration d, 0):
                return d.Nanoseconds / 1_000_000_000;
            case ("getMilliseconds", CelDuration d, 0):
                return d.Nanoseconds / 1_000_000 % 1000;
            case ("isIP", string s, 0):
                return IsIP(s);
            case ("isURL", string s, 0):
                return Uri.TryCreate(s, UriKind.Absolute, out var uri) ? uri.IsAbsoluteUri : s.StartsWith('/');
            default:
                throw NoOverload(name, target, args);
        }
    }

    private static CelEvaluationException NoOverload(string name, object target, IReadOnlyList<object> args) =>
        new($"no such overload: {name}({string.Join(", ", new[] { target }.Concat(args).Select(CelValues.TypeName))})");

    private static CelEvaluationException Conversion(string type, object value) =>
        new($"type conversion error from '{CelValues.TypeName(value)}' to '{type}'");

    private static string Utf8(CelBytes b)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(b.Value);
        }
        catch (DecoderFallbackException)
        {
            throw new CelEvaluationException("invalid UTF-8 in bytes, cannot convert to string");
        }
    }

    private static int Int(object v) => v switch
    {
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        long => throw new CelEvaluationException("integer argument out of range"),
        _ => throw new CelEvaluationException($"no such overload: expected int argument, got {CelValues.TypeName(v)}"),
    };

    private static long ToInt(object v) => v switch
    {
        long l => l,
        ulong u when u <= long.MaxValue => (long)u,
        double d when !double.IsNaN(d) && d > -9.2233720368547758E18 && d < 9.2233720368547758E18 => (long)d,
        string s when long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
        CelDuration d => d.Nanoseconds / 1_000_000_000,
        ulong or double => throw new CelEvaluationException("integer overflow"),
        _ => throw Conversion("int", v),
    };

    private static ulong ToUint(object v) => v switch
    {
        ulong u => u,
        long l when l >= 0 => (ulong)l,
        double d when !double.IsNaN(d) && d >= 0 && d < 1.8446744073709552E19 => (ulong)d,
        string s when ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var u) => u,
        long or double => throw new CelEvaluationException("unsigned integer overflow"),
        _ => throw Conversion("uint", v),
    };

    private static CelList Split(string s, string sep, int limit, CelBudget budget)
    {
        budget.Charge(1 + (s.Length / 8));
        if (limit == 0)
        {
            return new CelList([]);
        }

        string[] parts;
        if (sep.Length == 0)
        {
            // Go's strings.SplitN with an empty separator splits into code points.
            var runes = s.EnumerateRunes().Select(r => r.ToString()).ToList();
            if (limit > 0 && runes.Count > limit)
            {
                runes[limit - 1] = string.Concat(runes.Skip(limit - 1));
                runes.RemoveRange(limit, runes.Count - limit);
            }

            parts = [.. runes];
        }
        else
        {
            parts = limit > 0 ? s.Split(sep, limit) : s.Split(sep);
        }

        return new CelList(parts.Cast<object>().ToArray());
    }

    private static string Substring(string s, int start, int? end)
    {
        var runes = s.EnumerateRunes().ToArray();
        var stop = end ?? runes.Length;
        if (start < 0 || start > runes.Length)
        {
            throw new CelEvaluationException($"index out of range: {start}");
        }

        if (stop < 0 || stop > runes.Length)
        {
            throw new CelEvaluationException($"index out of range: {stop}");
        }

        if (stop < start)
        {
            throw new CelEvaluationException($"invalid substring range. start: {start}, end: {stop}");
        }

        return string.Concat(runes[start..stop].Select(r => r.ToString()));
    }

    private static long IndexOf(bool last, string s, string sub, int? from)
    {
        var runes = s.EnumerateRunes().Select(r => r.ToString()).ToArray();
        var subRunes = sub.EnumerateRunes().Select(r => r.ToString()).ToArray();
        var offset = from ?? (last ? runes.Length : 0);
        if (offset < 0 || offset > runes.Length)
        {
            throw new CelEvaluationException($"index out of range: {offset}");
        }

        bool At(int i) => i + subRunes.Length <= runes.Length && subRunes.Select((r, j) => r == runes[i + j]).All(x => x);
        if (last)
        {
            for (var i = Math.Min(offset, runes.Length - subRunes.Length); i >= 0; i--)
            {
                if (At(i))
                {
                    return i;
                }
            }
        }
        else
        {
            for (var i = offset; i <= runes.Length - subRunes.Length; i++)
            {
                if (At(i))
                {
                    return i;
                }
            }
        }

        return -1;
    }

    private static string Replace(string s, string from, string to, int limit, CelBudget budget)
    {
        if (limit == 0 || from.Length == 0)
        {
            return limit == 0 ? s : throw new CelEvaluationException("replace: empty search string is not supported by the double");
        }

        var sb = new StringBuilder();
        var i = 0;
        var n = 0;
        while (limit < 0 || n < limit)
        {
            var j = s.IndexOf(from, i, StringComparison.Ordinal);
            if (j < 0)
            {
                break;
            }

            sb.Append(s, i, j - i).Append(to);
            budget.Charge(1 + (to.Length / 16));
            i = j + from.Length;
            n++;
        }

        return sb.Append(s, i, s.Length - i).ToString();
    }

    /// <summary>
    /// The Kubernetes IP library's <c>isIP</c>: an IPv4 dotted quad without leading zeros, or an IPv6 address without a
    /// zone; IPv4-mapped IPv6 addresses are refused.
    /// </summary>
    private static bool IsIP(string s)
    {
        if (s.Contains('%', StringComparison.Ordinal))
        {
            return false;
        }

        if (!s.Contains(':', StringComparison.Ordinal))
        {
            var parts = s.Split('.');
            return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0') && int.Parse(p, CultureInfo.InvariantCulture) <= 255);
        }

        return IPAddress.TryParse(s, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv4MappedToIPv6;
    }
}

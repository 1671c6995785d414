using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.DevApiServer.Cel;

/// <summary>CEL <c>null</c>.</summary>
internal sealed class CelNull
{
    private CelNull()
    {
    }

    /// <summary>The only instance.</summary>
    public static CelNull Instance { get; } = new();

    public override string ToString() => "null";
}

/// <summary>CEL <c>bytes</c>: compared by content.</summary>
internal sealed class CelBytes(byte[] value) : IEquatable<CelBytes>
{
    public byte[] Value { get; } = value;

    public bool Equals(CelBytes? other) => other is not null && Value.AsSpan().SequenceEqual(other.Value);

    public override bool Equals(object? obj) => Equals(obj as CelBytes);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Value);
        return hash.ToHashCode();
    }
}

/// <summary>CEL <c>google.protobuf.Duration</c>, in nanoseconds.</summary>
internal readonly record struct CelDuration(long Nanoseconds)
{
    // cel-go accepts durations within about ±290 years, the range of a Go time.Duration.
    private static readonly (string Unit, long Nanos)[] Units =
        [("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000)];

    /// <summary>Parses a Go duration string (<c>"1h30m"</c>, <c>"-1.5s"</c>, <c>"0"</c>), as CEL's <c>duration()</c> does.</summary>
    public static bool TryParse(string text, out CelDuration duration)
    {
        duration = default;
        var s = text.AsSpan();
        var negative = false;
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s.SequenceEqual("0"))
        {
            return true;
        }

        if (s.IsEmpty)
        {
            return false;
        }

        decimal total = 0;
        while (!s.IsEmpty)
        {
            var i = 0;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (i == 0 || !decimal.TryParse(s[..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number > 1e20m)
            {
                return false;
            }

            s = s[i..];
            var matched = false;
            foreach (var (unit, nanos) in Units.OrderByDescending(u => u.Unit.Length))
            {
                if (s.StartsWith(unit, StringComparison.Ordinal))
                {
                    total += number * nanos;
                    s = s[unit.Length..];
                    matched = true;
                    break;
                }
            }

            if (!matched || total > long.MaxValue)
            {
                return false;
            }
        }

        duration = new CelDuration((long)(negative ? -total : total));
        return true;
    }

    /// <summary>CEL's string form: seconds with a fraction, e.g. <c>1.5s</c>.</summary>
    public override string ToString() =>
        (Nanoseconds / 1e9).ToString("0.#########", CultureInfo.InvariantCulture) + "s";
}

/// <summary>A CEL list: either built by the expression, or a view over a JSON array typed by its item schema.</summary>
internal sealed class CelList : IReadOnlyList<object>
{
    private readonly IReadOnlyList<object>? _items;
    private readonly JsonArray? _json;
    private readonly JsonObject? _itemSchema;

    public CelList(IReadOnlyList<object> items) => _items = items;

    public CelList(JsonArray json, JsonObject? itemSchema)
    {
        _json = json;
        _itemSchema = itemSchema;
    }

    public int Count => _items?.Count ?? _json!.Count;

    public object this[int index] => _items is not null ? _items[index] : CelValues.FromJson(_json![index], _itemSchema);

    public IEnumerator<object> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// A CEL map or object: a map built by the expression (keys of any CEL key type), a JSON object typed by an
/// <c>additionalProperties</c> schema (a map with string keys), or a JSON object with <c>properties</c> (an object whose
/// fields are selected with CEL's escaping of property names).
/// </summary>
internal sealed class CelMap
{
    private readonly List<KeyValuePair<object, object>>? _entries;
    private readonly JsonObject? _json;
    private readonly JsonObject? _schema;

    public CelMap(List<KeyValuePair<object, object>> entries) => _entries = entries;

    public CelMap(JsonObject json, JsonObject? schema, bool isObject)
    {
        _json = json;
        _schema = schema;
        IsObject = isObject;
    }

    /// <summary>A schema object with <c>properties</c> (a CEL object type), as opposed to a map.</summary>
    public bool IsObject { get; }

    public int Count => _entries?.Count ?? _json!.Count;

    public IEnumerable<object> Keys => _entries is not null ? _entries.Select(e => e.Key) : _json!.Select(p => (object)p.Key);

    /// <summary>Looks a key up (numeric keys compare across int, uint and double, as CEL's heterogeneous equality says).</summary>
    public bool TryGet(object key, out object value)
    {
        if (_entries is not null)
        {
            foreach (var (k, v) in _entries)
            {
                if (CelValues.Equal(k, key))
                {
                    value = v;
                    return true;
                }
            }
        }
        else if (key is string name && _json!.TryGetPropertyValue(name, out var node))
        {
            value = CelValues.FromJson(node, ChildSchema(name));
            return true;
        }

        value = CelNull.Instance;
        return false;
    }

    /// <summary>Field selection <c>m.name</c>: on an object the name is CEL-escaped (<c>__namespace__</c>, <c>__dash__</c>, …).</summary>
    public bool TrySelect(string name, out object value) => TryGet(IsObject ? CelValues.UnescapeFieldName(name) : name, out value);

    private JsonObject? ChildSchema(string name) =>
        IsObject ? _schema?["properties"]?[name] as JsonObject : _schema?["additionalProperties"] as JsonObject;
}

/// <summary>Conversions between JSON and CEL values, equality and ordering (cel-spec "Values" and "Equality").</summary>
internal static class CelValues
{
    private static readonly HashSet<string> ReservedWords = new(StringComparer.Ordinal)
    {
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import",
        "let", "loop", "package", "namespace", "return", "var", "void", "while",
    };

    /// <summary>
    /// A schema-typed view of a JSON value, as apiextensions' <c>UnstructuredToVal</c> builds it: objects with
    /// properties are objects, other objects are maps, <c>integer</c> is int, <c>number</c> is double.
    /// </summary>
    public static object FromJson(JsonNode? node, JsonObject? schema)
    {
        switch (node)
        {
            case null:
                return CelNull.Instance;
            case JsonObject o:
                return new CelMap(o, schema, isObject: schema?["properties"] is JsonObject);
            case JsonArray a:
                return new CelList(a, schema?["items"] as JsonObject);
        }

        var value = (JsonValue)node;
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                return value.GetValue<string>();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Number:
                var text = value.ToJsonString();
                if ((string?)schema?["type"] != "number" && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                {
                    return l;
                }

                return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            default:
                return CelNull.Instance;
        }
    }

    /// <summary>
    /// The property name a CEL field name stands for. Kubernetes escapes property names that are CEL reserved words
    /// (<c>__namespace__</c>) and the characters <c>_ . - /</c> (<c>__underscores__</c>, <c>__dot__</c>, <c>__dash__</c>,
    /// <c>__slash__</c>).
    /// </summary>
    public static string UnescapeFieldName(string name)
    {
        if (name.Length > 4 && name.StartsWith("__", StringComparison.Ordinal) && name.EndsWith("__", StringComparison.Ordinal) && ReservedWords.Contains(name[2..^2]))
        {
            return name[2..^2];
        }

        if (!name.Contains("__", StringComparison.Ordinal))
        {
            return name;
        }

        var sb = new StringBuilder();
        for (var i = 0; i < name.Length;)
        {
            if (name.AsSpan(i).StartsWith("__underscores__")) { sb.Append("__"); i += 15; }
            else if (name.AsSpan(i).StartsWith("__dot__")) { sb.Append('.'); i += 7; }
            else if (name.AsSpan(i).StartsWith("__dash__")) { sb.Append('-'); i += 8; }
            else if (name.AsSpan(i).StartsWith("__slash__")) { sb.Append('/'); i += 9; }
            else { sb.Append(name[i]); i++; }
        }

        return sb.ToString();
    }

    /// <summary>CEL's name for the value's type, as error messages print it.</summary>
    public static string TypeName(object value) => value switch
    {
        bool => "bool",
        long => "int",
        ulong => "uint",
        double => "double",
        string => "string",
        CelBytes => "bytes",
        CelNull => "null_type",
        CelDuration => "google.protobuf.Duration",
        CelList => "list",
        CelMap { IsObject: true } => "object",
        CelMap => "map",
        _ => value.GetType().Name,
    };

    /// <summary>Heterogeneous equality (cel-spec "Equality"): numbers compare by value across int, uint and double;
    /// lists and maps compare element-wise; values of different types are unequal.</summary>
    public static bool Equal(object a, object b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            return CompareNumbers(a, b) == 0;
        }

        switch (a, b)
        {
            case (CelList la, CelList lb):
                if (la.Count != lb.Count)
                {
                    return false;
                }

                for (var i = 0; i < la.Count; i++)
                {
                    if (!Equal(la[i], lb[i]))
                    {
                        return false;
                    }
                }

                return true;
            case (CelMap ma, CelMap mb):
                if (ma.Count != mb.Count)
                {
                    return false;
                }

                foreach (var key in ma.Keys)
                {
                    if (!ma.TryGet(key, out var va) || !mb.TryGet(key, out var vb) || !Equal(va, vb))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return a.GetType() == b.GetType() && a.Equals(b);
        }
    }

    public static bool IsNumber(object v) => v is long or ulong or double;

    /// <summary>Orders two numbers of any numeric types by value; NaN compares unequal to everything (returns null).</summary>
    public static int? CompareNumbers(object a, object b) => (a, b) switch
    {
        (long x, long y) => x.CompareTo(y),
        (ulong x, ulong y) => x.CompareTo(y),
        (long x, ulong y) => x < 0 ? -1 : ((ulong)x).CompareTo(y),
        (ulong x, long y) => y < 0 ? 1 : x.CompareTo((ulong)y),
        _ => CompareDoubles(ToDouble(a), ToDouble(b)),
    };

    private static int? CompareDoubles(double x, double y) => double.IsNaN(x) || double.IsNaN(y) ? null : x.CompareTo(y);

    private static double ToDouble(object v) => v switch
    {
        long l => l,
        ulong u => u,
        _ => (double)v,
    };

    /// <summary>Compares strings by Unicode code point, as Go compares UTF-8 strings.</summary>
    public static int CompareStrings(string a, string b)
    {
        var ea = a.EnumerateRunes();
        var eb = b.EnumerateRunes();
        while (true)
        {
            var ha = ea.MoveNext();
            var hb = eb.MoveNext();
            if (!ha || !hb)
            {
                return ha == hb ? 0 : ha ? 1 : -1;
            }

            var c = ea.Current.Value.CompareTo(eb.Current.Value);
            if (c != 0)
            {
                return c;
            }
        }
    }

    /// <summary>The number of Unicode code points in <paramref name="s"/> (CEL's <c>size</c> of a string).</summary>
    public static long CodePoints(string s)
    {
        long n = 0;
        foreach (var _ in s.EnumerateRunes())
        {
            n++;
        }

        return n;
    }
}

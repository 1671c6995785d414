using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.DevApiServer.Selectors;

/// <summary>
/// The subset of kubectl JSONPath that CRD <c>additionalPrinterColumns</c> use: <c>.field</c>, <c>[n]</c>,
/// <c>[*]</c> and filters <c>[?(@.path=="value")]</c> / <c>[?(@.path!="value")]</c>.
/// </summary>
internal static class SimpleJsonPath
{
    public static IEnumerable<JsonNode?> Evaluate(JsonNode? root, string path)
    {
        IEnumerable<JsonNode?> current = [root];
        var p = path.Trim();
        if (p.StartsWith('{') && p.EndsWith('}'))
        {
            p = p[1..^1];
        }

        if (p.StartsWith('$'))
        {
            p = p[1..];
        }

        var i = 0;
        while (i < p.Length)
        {
            if (p[i] == '.')
            {
                var end = i + 1;
                while (end < p.Length && p[end] != '.' && p[end] != '[')
                {
                    end++;
                }

                var name = p[(i + 1)..end];
                current = current.Select(n => n is JsonObject o && o.TryGetPropertyValue(name, out var v) ? v : null).Where(n => n is not null).ToList();
                i = end;
            }
            else if (p[i] == '[')
            {
                var close = FindClose(p, i);
                var inner = p[(i + 1)..close];
                current = Index(current, inner).ToList();
                i = close + 1;
            }
            else
            {
                throw new FormatException($"unexpected '{p[i]}' at {i} in JSONPath \"{path}\"");
            }
        }

        return current;
    }

    private static int FindClose(string p, int open)
    {
        var depth = 0;
        char? quote = null;
        for (var i = open; i < p.Length; i++)
        {
            var c = p[i];
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '[')
            {
                depth++;
            }
            else if (c == ']' && --depth == 0)
            {
                return i;
            }
        }

        throw new FormatException($"unclosed '[' in JSONPath \"{p}\"");
    }

    private static IEnumerable<JsonNode?> Index(IEnumerable<JsonNode?> nodes, string inner)
    {
        foreach (var node in nodes)
        {
            if (node is not JsonArray a)
            {
                continue;
            }

            if (inner == "*")
            {
                foreach (var item in a)
                {
                    yield return item;
                }
            }
            else if (inner.StartsWith("?(", StringComparison.Ordinal) && inner.EndsWith(')'))
            {
                var expr = inner[2..^1];
                var negate = expr.Contains("!=", StringComparison.Ordinal);
                var parts = expr.Split(negate ? "!=" : "==", 2);
                if (parts.Length != 2 || !parts[0].Trim().StartsWith('@'))
                {
                    throw new FormatException($"unsupported JSONPath filter \"{inner}\"");
                }

                var sub = parts[0].Trim()[1..];
                var want = parts[1].Trim().Trim('"', '\'');
                foreach (var item in a)
                {
                    var got = Evaluate(item, sub).FirstOrDefault();
                    var text = got is JsonValue v && v.TryGetValue<string>(out var s) ? s : got?.ToJsonString();
                    if ((text == want) != negate)
                    {
                        yield return item;
                    }
                }
            }
            else if (int.TryParse(inner, out var index))
            {
                if (index < 0)
                {
                    index += a.Count;
                }

                if (index >= 0 && index < a.Count)
                {
                    yield return a[index];
                }
            }
            else
            {
                throw new FormatException($"unsupported JSONPath index \"{inner}\"");
            }
        }
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Switchyard.Ir.Printing;

/// <summary>
/// Writes a JSON tree as block-style YAML, deterministically: keys in insertion order, strings plain when
/// unambiguous and double-quoted otherwise. Used for golden files and for printing snapshots.
/// </summary>
public static partial class YamlEmitter
{
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~",
    };

    /// <summary>Emits a node as YAML text ending with a newline.</summary>
    /// <param name="node">Root node.</param>
    /// <returns>YAML.</returns>
    public static string Emit(JsonNode? node)
    {
        var sb = new StringBuilder();
        switch (node)
        {
            case JsonObject o when o.Count > 0:
                WriteObject(sb, o, 0);
                break;
            case JsonArray a when a.Count > 0:
                WriteArray(sb, a, 0);
                break;
            default:
                sb.Append(Scalar(node)).Append('\n');
                break;
        }

        return sb.ToString();
    }

    private static void WriteObject(StringBuilder sb, JsonObject obj, int indent)
    {
        foreach (var (key, value) in obj)
        {
            sb.Append(' ', indent).Append(Key(key)).Append(':');
            WriteValue(sb, value, indent);
        }
    }

    private static void WriteValue(StringBuilder sb, JsonNode? value, int indent)
    {
        switch (value)
        {
            case JsonObject o when o.Count > 0:
                sb.Append('\n');
                WriteObject(sb, o, indent + 2);
                break;
            case JsonArray a when a.Count > 0:
                sb.Append('\n');
                WriteArray(sb, a, indent);
                break;
            default:
                sb.Append(' ').Append(Scalar(value)).Append('\n');
                break;
        }
    }

    private static void WriteArray(StringBuilder sb, JsonArray array, int indent)
    {
        foreach (var item in array)
        {
            sb.Append(' ', indent).Append("- ");
            switch (item)
            {
                case JsonObject o when o.Count > 0:
                    WriteFirstInline(sb, o, indent + 2);
                    break;
                case JsonArray a when a.Count > 0:
                    sb.Append('\n');
                    WriteArray(sb, a, indent + 2);
                    break;
                default:
                    sb.Append(Scalar(item)).Append('\n');
                    break;
            }
        }
    }

    private static void WriteFirstInline(StringBuilder sb, JsonObject obj, int indent)
    {
        var first = true;
        foreach (var (key, value) in obj)
        {
            if (!first)
            {
                sb.Append(' ', indent);
            }

            first = false;
            sb.Append(Key(key)).Append(':');
            WriteValue(sb, value, indent);
        }
    }

    private static string Key(string key) => IsPlain(key) ? key : Quote(key);

    private static string Scalar(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return "null";
            case JsonObject:
                return "{}";
            case JsonArray:
                return "[]";
        }

        switch (node.GetValueKind())
        {
            case JsonValueKind.String:
                var text = node.GetValue<string>();
                return IsPlain(text) ? text : Quote(text);
            case JsonValueKind.True:
                return "true";
            case JsonValueKind.False:
                return "false";
            case JsonValueKind.Number:
                return node.ToJsonString();
            default:
                return "null";
        }
    }

    private static bool IsPlain(string s) => s.Length > 0 && !Reserved.Contains(s) && PlainPattern().IsMatch(s) && !s.Contains(": ", StringComparison.Ordinal) && !s.EndsWith(':') && !s.EndsWith(' ');

    private static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (c < 0x20 || c == 0x7f)
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }

    [GeneratedRegex(@"^[A-Za-z_/][A-Za-z0-9 _./:@()=,+-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainPattern();
}

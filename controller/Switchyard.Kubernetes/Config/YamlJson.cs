using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Switchyard.Kubernetes.Config;

/// <summary>
/// Converts YAML documents (YAML 1.2 core schema, which also accepts JSON) into <see cref="JsonNode"/> trees,
/// the way kubectl's YAML-to-JSON step does before anything reaches the API server.
/// </summary>
public static class YamlJson
{
    /// <summary>Maximum nesting depth accepted, so a hostile document cannot exhaust the stack.</summary>
    public const int MaxDepth = 64;

    /// <summary>Maximum nodes produced, so aliases cannot expand a small document into a huge tree.</summary>
    public const int MaxNodes = 1_000_000;

    /// <summary>Parses every document in <paramref name="text"/>; empty documents are skipped.</summary>
    /// <exception cref="FormatException">The text is not well-formed YAML, uses anchors/aliases, or nests too deeply.</exception>
    public static IReadOnlyList<JsonNode> ParseAll(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new FormatException($"YAML 1.2 syntax error at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            // YamlDotNet's scanner throws these on some malformed inputs instead of a YamlException.
            throw new FormatException($"YAML 1.2 syntax error: {ex.Message}", ex);
        }

        var result = new List<JsonNode>();
        foreach (var doc in stream.Documents)
        {
            if (doc.RootNode is YamlScalarNode { Value: null or "" or "~" or "null", Style: ScalarStyle.Plain })
            {
                continue;
            }

            var budget = MaxNodes;
            if (Convert(doc.RootNode, 0, ref budget) is { } node)
            {
                result.Add(node);
            }
        }

        return result;
    }

    /// <summary>Parses exactly one document.</summary>
    /// <exception cref="FormatException">The text is not exactly one YAML document.</exception>
    public static JsonNode ParseOne(string text)
    {
        var all = ParseAll(text);
        return all.Count == 1 ? all[0] : throw new FormatException($"expected exactly one YAML document, found {all.Count}");
    }

    private static JsonNode? Convert(YamlNode node, int depth, ref int budget)
    {
        if (--budget < 0)
        {
            throw new FormatException($"YAML document expands to more than {MaxNodes} nodes");
        }

        if (depth > MaxDepth)
        {
            throw new FormatException($"YAML nesting deeper than {MaxDepth} levels");
        }

        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (k, v) in map.Children)
                {
                    if (k is not YamlScalarNode { Value: { } key })
                    {
                        throw new FormatException($"YAML mapping key at line {k.Start.Line} is not a scalar");
                    }

                    if (obj.ContainsKey(key))
                    {
                        // YAML 1.2 §3.2.1.1: mapping keys are unique.
                        throw new FormatException($"duplicate YAML mapping key '{key}' at line {k.Start.Line} (YAML 1.2 §3.2.1.1)");
                    }

                    obj[key] = Convert(v, depth + 1, ref budget);
                }

                return obj;
            case YamlSequenceNode seq:
                var arr = new JsonArray();
                foreach (var item in seq.Children)
                {
                    arr.Add(Convert(item, depth + 1, ref budget));
                }

                return arr;
            case YamlScalarNode scalar:
                return ConvertScalar(scalar);
            default:
                throw new FormatException($"unsupported YAML node at line {node.Start.Line}");
        }
    }

    private static JsonNode? ConvertScalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? string.Empty;
        if (scalar.Style != ScalarStyle.Plain)
        {
            return JsonValue.Create(value);
        }

        // YAML 1.2 core schema (§10.3.2) tag resolution for plain scalars.
        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) && !value.StartsWith('+'))
        {
            return JsonValue.Create(l);
        }

        if (value.StartsWith("0x", StringComparison.Ordinal) &&
            long.TryParse(value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
        {
            return JsonValue.Create(hex);
        }

        if (LooksLikeFloat(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            return JsonValue.Create(d);
        }

        return JsonValue.Create(value);
    }

    private static bool LooksLikeFloat(string value)
    {
        var hasDigit = false;
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c))
            {
                hasDigit = true;
            }
            else if (c is not ('.' or '-' or '+' or 'e' or 'E'))
            {
                return false;
            }
        }

        return hasDigit;
    }
}

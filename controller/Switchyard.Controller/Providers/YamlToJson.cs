using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Switchyard.Controller.Providers;

/// <summary>
/// Converts a YAML document to a JSON tree the way <c>kubectl</c> does (YAML 1.2 core schema for plain
/// scalars; quoted scalars are strings), recording the line of every node under its field path so that
/// errors can point into the file. Aliases are expanded, bounded by a node budget (no "billion laughs").
/// </summary>
internal static partial class YamlToJson
{
    /// <summary>Maximum number of JSON nodes produced from one document.</summary>
    internal const int MaxNodes = 200_000;

    public static JsonNode? Convert(YamlNode root, Dictionary<string, int> lines)
    {
        var budget = MaxNodes;
        return ConvertNode(root, "", lines, ref budget);
    }

    private static JsonNode? ConvertNode(YamlNode node, string path, Dictionary<string, int> lines, ref int budget)
    {
        if (--budget < 0)
        {
            throw new YamlException(node.Start, node.End, $"document expands to more than {MaxNodes} nodes");
        }

        lines.TryAdd(path, (int)node.Start.Line);
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (keyNode, valueNode) in map.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } key })
                    {
                        throw new YamlException(keyNode.Start, keyNode.End, "mapping keys must be strings");
                    }

                    if (obj.ContainsKey(key))
                    {
                        throw new YamlException(keyNode.Start, keyNode.End, $"duplicate key \"{key}\"");
                    }

                    obj[key] = ConvertNode(valueNode, path.Length == 0 ? key : $"{path}.{key}", lines, ref budget);
                }

                return obj;
            case YamlSequenceNode seq:
                var array = new JsonArray();
                var i = 0;
                foreach (var item in seq.Children)
                {
                    array.Add(ConvertNode(item, $"{path}[{i++}]", lines, ref budget));
                }

                return array;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                throw new YamlException(node.Start, node.End, "unsupported YAML node");
        }
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag is "tag:yaml.org,2002:str" || scalar.Style is not ScalarStyle.Plain and not ScalarStyle.Any)
        {
            return JsonValue.Create(value);
        }

        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (IntPattern().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            return JsonValue.Create(l);
        }

        if (FloatPattern().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            return JsonValue.Create(d);
        }

        return JsonValue.Create(value);
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatPattern();
}

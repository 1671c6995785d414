using System.Globalization;
using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.DevApiServer.Patching;

/// <summary>A JSON Patch could not be applied; the message cites the RFC 6902/6901 section.</summary>
internal sealed class JsonPatchException(string message) : Exception(message);

/// <summary>RFC 6902 JSON Patch with RFC 6901 JSON Pointers.</summary>
internal static class JsonPatch
{
    /// <summary>Applies the operations in order to a copy of <paramref name="document"/>; any failure aborts the whole patch (RFC 6902 §5).</summary>
    public static JsonNode? Apply(JsonNode? document, JsonNode? patch)
    {
        if (patch is not JsonArray ops)
        {
            throw new JsonPatchException("a JSON Patch document must be an array of operations (RFC 6902 §3)");
        }

        var doc = document?.DeepClone();
        foreach (var opNode in ops)
        {
            if (opNode is not JsonObject op)
            {
                throw new JsonPatchException("each JSON Patch operation must be an object (RFC 6902 §4)");
            }

            var name = Str(op, "op");
            var path = Str(op, "path");
            switch (name)
            {
                case "add":
                    doc = Add(doc, path, Value(op));
                    break;
                case "remove":
                    doc = Remove(doc, path, out _);
                    break;
                case "replace":
                    doc = Remove(doc, path, out _);
                    doc = Add(doc, path, Value(op));
                    break;
                case "move":
                    {
                        var from = Str(op, "from");
                        if (path.StartsWith(from + "/", StringComparison.Ordinal))
                        {
                            throw new JsonPatchException($"move from \"{from}\" into its own child \"{path}\" (RFC 6902 §4.4)");
                        }

                        doc = Remove(doc, from, out var moved);
                        doc = Add(doc, path, moved);
                        break;
                    }

                case "copy":
                    doc = Add(doc, path, Get(doc, Str(op, "from"))?.DeepClone());
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Get(doc, path), Value(op)))
                    {
                        throw new JsonPatchException($"test operation failed at \"{path}\" (RFC 6902 §4.6)");
                    }

                    break;
                default:
                    throw new JsonPatchException($"unknown JSON Patch operation \"{name}\" (RFC 6902 §4)");
            }
        }

        return doc;
    }

    private static string Str(JsonObject op, string member) =>
        op[member] is JsonValue v && v.TryGetValue<string>(out var s)
            ? s
            : throw new JsonPatchException($"operation is missing the \"{member}\" member (RFC 6902 §4)");

    private static JsonNode? Value(JsonObject op) =>
        op.TryGetPropertyValue("value", out var v) ? v?.DeepClone() : throw new JsonPatchException("operation is missing the \"value\" member (RFC 6902 §4.1)");

    /// <summary>RFC 6901 §3/§4: split and unescape (~1 → /, then ~0 → ~).</summary>
    internal static List<string> Parse(string pointer)
    {
        if (pointer.Length == 0)
        {
            return [];
        }

        if (pointer[0] != '/')
        {
            throw new JsonPatchException($"JSON Pointer \"{pointer}\" must start with '/' (RFC 6901 §3)");
        }

        var tokens = new List<string>();
        foreach (var raw in pointer[1..].Split('/'))
        {
            for (var i = 0; i < raw.Length; i++)
            {
                if (raw[i] == '~' && (i + 1 >= raw.Length || (raw[i + 1] != '0' && raw[i + 1] != '1')))
                {
                    throw new JsonPatchException($"invalid escape in JSON Pointer \"{pointer}\" (RFC 6901 §3)");
                }
            }

            tokens.Add(raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal));
        }

        return tokens;
    }

    private static JsonNode? Get(JsonNode? doc, string pointer)
    {
        var current = doc;
        foreach (var token in Parse(pointer))
        {
            current = current switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var child) => child,
                JsonArray a when Index(token, a.Count, false) is var i => a[i],
                _ => throw new JsonPatchException($"path \"{pointer}\" does not exist (RFC 6901 §4)"),
            };
        }

        return current;
    }

    private static JsonNode? Add(JsonNode? doc, string pointer, JsonNode? value)
    {
        var tokens = Parse(pointer);
        if (tokens.Count == 0)
        {
            // §4.1: adding at the root replaces the whole document.
            return value;
        }

        var parent = Get(doc, ParentPointer(pointer));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a:
                if (last == "-")
                {
                    a.Add(value);
                }
                else
                {
                    a.Insert(Index(last, a.Count, true), value);
                }

                break;
            default:
                throw new JsonPatchException($"parent of \"{pointer}\" is not a container (RFC 6902 §4.1)");
        }

        return doc;
    }

    private static JsonNode? Remove(JsonNode? doc, string pointer, out JsonNode? removed)
    {
        var tokens = Parse(pointer);
        if (tokens.Count == 0)
        {
            removed = doc;
            return null;
        }

        var parent = Get(doc, ParentPointer(pointer));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var child):
                removed = child;
                o.Remove(last);
                break;
            case JsonArray a:
                var i = Index(last, a.Count, false);
                removed = a[i];
                a.RemoveAt(i);
                break;
            default:
                throw new JsonPatchException($"path \"{pointer}\" does not exist (RFC 6902 §4.2)");
        }

        return doc;
    }

    private static string ParentPointer(string pointer) => pointer[..pointer.LastIndexOf('/')];

    /// <summary>RFC 6901 §4: array indices are decimal without leading zeros; <c>-</c> only where adding.</summary>
    private static int Index(string token, int count, bool allowEnd)
    {
        if (token.Length == 0 || (token.Length > 1 && token[0] == '0') || !token.All(char.IsAsciiDigit) ||
            !int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i))
        {
            throw new JsonPatchException($"\"{token}\" is not an array index (RFC 6901 §4)");
        }

        if (i > count || (!allowEnd && i == count))
        {
            throw new JsonPatchException($"array index {i} is out of bounds (RFC 6902 §4.1)");
        }

        return i;
    }
}

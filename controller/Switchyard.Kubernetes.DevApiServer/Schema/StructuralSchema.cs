using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Switchyard.Kubernetes.DevApiServer.Schema;

/// <summary>
/// Applies a CRD's <c>openAPIV3Schema</c> to an object the way apiextensions-apiserver does, in its order: drop nulls
/// that are not nullable, default, prune unknown fields, then validate <c>type</c>, <c>required</c>, <c>enum</c>,
/// string length/pattern, numeric bounds and item counts.
/// </summary>
/// <remarks>Not implemented: <c>allOf</c>/<c>anyOf</c>/<c>oneOf</c>/<c>not</c>, <c>format</c>, list-type uniqueness
/// and ratcheting of these checks. CEL <c>x-kubernetes-validations</c> run afterwards, in <c>Cel/CelSchemaValidator</c>.</remarks>
internal static class StructuralSchema
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>Prunes, defaults and validates <paramref name="obj"/> in place; returns the errors (empty when valid).</summary>
    public static List<(string Field, string Reason, string Message)> Apply(JsonObject obj, JsonObject schema)
    {
        var errors = new List<(string, string, string)>();
        WalkObject(obj, schema, "", errors, isRoot: true);
        return errors;
    }

    private static JsonNode? Walk(JsonNode? node, JsonObject schema, string path, List<(string, string, string)> errors)
    {
        if (node is null)
        {
            return null;
        }

        var type = (string?)schema["type"];
        var intOrString = Bool(schema, "x-kubernetes-int-or-string");
        var kind = node.GetValueKind();
        if (intOrString)
        {
            if (kind is not (JsonValueKind.String or JsonValueKind.Number))
            {
                errors.Add((path, "FieldValueTypeInvalid", $"Invalid value: \"{Describe(kind)}\": {path} in body must be of type integer-or-string"));
            }
        }
        else if (type is not null && !TypeMatches(type, node, kind))
        {
            errors.Add((path, "FieldValueTypeInvalid", $"Invalid value: \"{Describe(kind)}\": {path} in body must be of type {type}: \"{Describe(kind)}\""));
            return node;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, node)))
        {
            var list = string.Join(", ", allowed.Select(a => a?.ToJsonString()));
            errors.Add((path, "FieldValueNotSupported", $"Unsupported value: {node.ToJsonString()}: supported values: {list}"));
        }

        switch (node)
        {
            case JsonObject o:
                WalkObject(o, schema, path, errors, isRoot: false);
                break;
            case JsonArray a:
                if (Int(schema, "maxItems") is { } maxItems && a.Count > maxItems)
                {
                    errors.Add((path, "FieldValueTooMany", $"Too many: {a.Count}: must have at most {maxItems} items"));
                }

                if (Int(schema, "minItems") is { } minItems && a.Count < minItems)
                {
                    errors.Add((path, "FieldValueInvalid", $"Invalid value: {a.Count}: {path} in body should have at least {minItems} items"));
                }

                if (schema["items"] is JsonObject itemSchema)
                {
                    for (var i = 0; i < a.Count; i++)
                    {
                        var walked = Walk(a[i], itemSchema, $"{path}[{i}]", errors);
                        if (!ReferenceEquals(walked, a[i]))
                        {
                            a[i] = walked;
                        }
                    }
                }

                break;
            case JsonValue v when kind == JsonValueKind.String:
                var s = v.GetValue<string>();
                if (Int(schema, "maxLength") is { } maxLen && s.Length > maxLen)
                {
                    errors.Add((path, "FieldValueTooLong", $"Too long: may not be more than {maxLen} bytes"));
                }

                if (Int(schema, "minLength") is { } minLen && s.Length < minLen)
                {
                    errors.Add((path, "FieldValueInvalid", $"Invalid value: \"{s}\": {path} in body should be at least {minLen} chars long"));
                }

                if ((string?)schema["pattern"] is { } pattern && !MatchesPattern(s, pattern))
                {
                    errors.Add((path, "FieldValueInvalid", $"Invalid value: \"{s}\": {path} in body should match '{pattern}'"));
                }

                break;
            case JsonValue v when kind == JsonValueKind.Number:
                var d = double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture);
                if (Num(schema, "minimum") is { } min && d < min)
                {
                    errors.Add((path, "FieldValueInvalid", $"Invalid value: {v.ToJsonString()}: {path} in body should be greater than or equal to {min}"));
                }

                if (Num(schema, "maximum") is { } max && d > max)
                {
                    errors.Add((path, "FieldValueInvalid", $"Invalid value: {v.ToJsonString()}: {path} in body should be less than or equal to {max}"));
                }

                break;
        }

        return node;
    }

    private static void WalkObject(JsonObject o, JsonObject schema, string path, List<(string, string, string)> errors, bool isRoot)
    {
        var properties = schema["properties"] as JsonObject;
        var additional = schema["additionalProperties"];
        var preserve = Bool(schema, "x-kubernetes-preserve-unknown-fields") || additional is JsonValue av && av.TryGetValue<bool>(out var ab) && ab;

        // Nulls of non-nullable fields are dropped before defaulting.
        foreach (var name in o.Where(p => p.Value is null).Select(p => p.Key).ToList())
        {
            var propSchema = properties?[name] as JsonObject ?? additional as JsonObject;
            if (!(isRoot && IsRootMeta(name)) && propSchema is not null && !Bool(propSchema, "nullable"))
            {
                o.Remove(name);
            }
        }

        if (properties is not null)
        {
            foreach (var (name, propNode) in properties)
            {
                if (propNode is JsonObject ps && ps["default"] is { } def && !o.ContainsKey(name))
                {
                    o[name] = def.DeepClone();
                }
            }
        }

        foreach (var name in o.Select(p => p.Key).ToList())
        {
            if (isRoot && IsRootMeta(name))
            {
                continue;
            }

            var childPath = path.Length == 0 ? name : $"{path}.{name}";
            if (properties?[name] is JsonObject ps)
            {
                var walked = Walk(o[name], ps, childPath, errors);
                if (!ReferenceEquals(walked, o[name]))
                {
                    o[name] = walked;
                }
            }
            else if (additional is JsonObject addSchema)
            {
                Walk(o[name], addSchema, childPath, errors);
            }
            else if (!preserve)
            {
                o.Remove(name);
            }
        }

        if (schema["required"] is JsonArray required)
        {
            foreach (var r in required)
            {
                if ((string?)r is { } name && (!o.TryGetPropertyValue(name, out var value) || value is null))
                {
                    errors.Add((path.Length == 0 ? name : $"{path}.{name}", "FieldValueRequired", "Required value"));
                }
            }
        }
    }

    private static bool IsRootMeta(string name) => name is "apiVersion" or "kind" or "metadata";

    private static bool TypeMatches(string type, JsonNode node, JsonValueKind kind) => type switch
    {
        "object" => node is JsonObject,
        "array" => node is JsonArray,
        "string" => kind == JsonValueKind.String,
        "boolean" => kind is JsonValueKind.True or JsonValueKind.False,
        "number" => kind == JsonValueKind.Number,
        "integer" => kind == JsonValueKind.Number && long.TryParse(node.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
        _ => true,
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };

    private static bool MatchesPattern(string value, string pattern)
    {
        try
        {
            return Regex.IsMatch(value, pattern, RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (Exception ex) when (ex is ArgumentException or RegexMatchTimeoutException)
        {
            // The server compiles patterns when the CRD is created; an unusable one is not the object's fault.
            return true;
        }
    }

    private static bool Bool(JsonObject schema, string key) => schema[key] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private static long? Int(JsonObject schema, string key) => schema[key] is JsonValue v && v.TryGetValue<long>(out var l) ? l : null;

    private static double? Num(JsonObject schema, string key) =>
        schema[key] is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture) : null;
}

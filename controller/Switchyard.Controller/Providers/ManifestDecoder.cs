using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Switchyard.Api.GatewayApi;
using Switchyard.Api.Meta;
using Switchyard.Api.Serialization;
using Switchyard.Api.WebTransport;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Switchyard.Controller.Providers;

/// <summary>
/// Strictly decodes multi-document YAML manifests into API objects: unknown kinds, unknown fields and values of
/// the wrong type are errors that name the file, the line, the object and the field path.
/// </summary>
public static partial class ManifestDecoder
{
    /// <summary>Largest manifest file accepted, in bytes.</summary>
    public const int MaxFileBytes = 8 * 1024 * 1024;

    private static readonly Dictionary<(string ApiVersion, string Kind), (JsonTypeInfo Type, bool Namespaced)> Kinds = new()
    {
        [(GatewayApiNames.V1, "GatewayClass")] = (ApiJsonContext.Strict.GatewayClass, false),
        [(GatewayApiNames.V1Beta1, "GatewayClass")] = (ApiJsonContext.Strict.GatewayClass, false),
        [(GatewayApiNames.V1, "Gateway")] = (ApiJsonContext.Strict.Gateway, true),
        [(GatewayApiNames.V1Beta1, "Gateway")] = (ApiJsonContext.Strict.Gateway, true),
        [(GatewayApiNames.V1, "HTTPRoute")] = (ApiJsonContext.Strict.HttpRoute, true),
        [(GatewayApiNames.V1Beta1, "HTTPRoute")] = (ApiJsonContext.Strict.HttpRoute, true),
        [(GatewayApiNames.V1, "ReferenceGrant")] = (ApiJsonContext.Strict.ReferenceGrant, true),
        [(GatewayApiNames.V1Beta1, "ReferenceGrant")] = (ApiJsonContext.Strict.ReferenceGrant, true),
        [(GatewayApiNames.V1, "ListenerSet")] = (ApiJsonContext.Strict.ListenerSet, true),
        [(SwitchyardApiNames.V1Alpha1, SwitchyardApiNames.WebTransportRouteKind)] = (ApiJsonContext.Strict.WebTransportRoute, true),
        [("v1", "Secret")] = (ApiJsonContext.Strict.Secret, true),
        [("v1", "Service")] = (ApiJsonContext.Strict.Service, true),
        [("v1", "Namespace")] = (ApiJsonContext.Strict.Namespace, false),
        [("discovery.k8s.io/v1", "EndpointSlice")] = (ApiJsonContext.Strict.EndpointSlice, true),
        [("v1", "ConfigMap")] = (ApiJsonContext.Strict.ConfigMap, true),
        [(GatewayApiNames.V1, "BackendTLSPolicy")] = (ApiJsonContext.Strict.BackendTlsPolicy, true),
    };

    /// <summary>Decodes every document of a YAML text.</summary>
    /// <param name="file">File name used in errors.</param>
    /// <param name="yaml">The text.</param>
    /// <param name="errors">Receives every error found.</param>
    /// <returns>The objects that decoded; namespaced objects without a namespace get <c>default</c>.</returns>
    public static List<KubernetesObject> Decode(string file, string yaml, List<ManifestError> errors)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(errors);
        var objects = new List<KubernetesObject>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            errors.Add(new ManifestError(file, (int)e.Start.Line, null, null, $"invalid YAML: {YamlMessage(Inner(e))}"));
            return objects;
        }

        foreach (var document in stream.Documents)
        {
            var line = (int)document.RootNode.Start.Line;
            var lines = new Dictionary<string, int>(StringComparer.Ordinal);
            JsonNode? node;
            try
            {
                node = YamlToJson.Convert(document.RootNode, lines);
            }
            catch (YamlException e)
            {
                errors.Add(new ManifestError(file, (int)e.Start.Line, null, null, $"invalid YAML: {YamlMessage(e)}"));
                continue;
            }

            if (node is null)
            {
                continue; // An empty document (for example a trailing '---') holds nothing.
            }

            if (node is not JsonObject obj)
            {
                errors.Add(new ManifestError(file, line, null, null, "a document must be a mapping with apiVersion, kind and metadata"));
                continue;
            }

            if (Decode(file, line, obj, lines, errors) is { } decoded)
            {
                objects.Add(decoded);
            }
        }

        return objects;
    }

    private static KubernetesObject? Decode(string file, int line, JsonObject obj, Dictionary<string, int> lines, List<ManifestError> errors)
    {
        var apiVersion = StringOf(obj["apiVersion"]);
        var kind = StringOf(obj["kind"]);
        var name = StringOf(obj["metadata"]?["name"]);
        var ns = StringOf(obj["metadata"]?["namespace"]);
        var label = $"{kind ?? "?"} {(string.IsNullOrEmpty(ns) ? "" : ns + "/")}{name ?? "?"}";
        if (apiVersion is null || kind is null)
        {
            errors.Add(new ManifestError(file, line, label, apiVersion is null ? "apiVersion" : "kind", "is required"));
            return null;
        }

        if (!Kinds.TryGetValue((apiVersion, kind), out var entry))
        {
            errors.Add(new ManifestError(file, line, label, "kind", $"unsupported kind {kind} in {apiVersion}"));
            return null;
        }

        if (string.IsNullOrEmpty(name))
        {
            errors.Add(new ManifestError(file, line, label, "metadata.name", "is required"));
            return null;
        }

        KubernetesObject? result;
        try
        {
            result = (KubernetesObject?)obj.Deserialize(entry.Type);
        }
        catch (JsonException e)
        {
            var (field, message) = Explain(e);
            errors.Add(new ManifestError(file, LineOf(lines, field) ?? line, label, field, message));
            return null;
        }

        if (result is null)
        {
            return null;
        }

        if (entry.Namespaced)
        {
            result.Metadata.Namespace = string.IsNullOrEmpty(result.Metadata.Namespace) ? "default" : result.Metadata.Namespace;
        }
        else if (!string.IsNullOrEmpty(result.Metadata.Namespace))
        {
            errors.Add(new ManifestError(file, line, label, "metadata.namespace", $"{kind} is cluster-scoped and takes no namespace"));
            return null;
        }

        return result;
    }

    private static (string? Field, string Message) Explain(JsonException e)
    {
        var path = e.Path is null ? null : e.Path.StartsWith("$.", StringComparison.Ordinal) ? e.Path[2..] : e.Path.TrimStart('$');
        var unmapped = UnmappedProperty().Match(e.Message);
        if (unmapped.Success)
        {
            var property = unmapped.Groups[1].Value;
            var field = string.IsNullOrEmpty(path) ? property : path.EndsWith(property, StringComparison.Ordinal) ? path : $"{path}.{property}";
            return (field, "unknown field");
        }

        var converted = ConvertTo().Match(e.Message);
        if (converted.Success)
        {
            return (path, $"wrong type: expected {Friendly(converted.Groups[1].Value)}");
        }

        var message = e.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (string.IsNullOrEmpty(path) ? null : path, cut > 0 ? message[..cut] : message);
    }

    private static string Friendly(string type) => type switch
    {
        "System.Int32" or "System.Int64" or "System.Nullable`1[System.Int32]" or "System.Nullable`1[System.Int64]" => "an integer",
        "System.String" => "a string",
        "System.Boolean" or "System.Nullable`1[System.Boolean]" => "a boolean",
        _ when type.Contains("List", StringComparison.Ordinal) => "a list",
        _ when type.Contains("Dictionary", StringComparison.Ordinal) => "a map",
        _ => "an object",
    };

    private static int? LineOf(Dictionary<string, int> lines, string? field)
    {
        while (!string.IsNullOrEmpty(field))
        {
            if (lines.TryGetValue(field, out var line))
            {
                return line;
            }

            var cut = Math.Max(field.LastIndexOf('.'), field.LastIndexOf('['));
            field = cut > 0 ? field[..cut] : null;
        }

        return null;
    }

    private static string? StringOf(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static Exception Inner(Exception e) => e.InnerException is YamlException inner ? inner : e;

    private static string YamlMessage(Exception e) => YamlLocation().Replace(e.Message, "");

    [GeneratedRegex(@"^\(Line: [^)]*\) - \(Line: [^)]*\): ", RegexOptions.CultureInvariant)]
    private static partial Regex YamlLocation();

    [GeneratedRegex(@"The JSON property '([^']+)' could not be mapped", RegexOptions.CultureInvariant)]
    private static partial Regex UnmappedProperty();

    [GeneratedRegex(@"could not be converted to ([^ .]+(\.[^ .]+)*)\.? ", RegexOptions.CultureInvariant)]
    private static partial Regex ConvertTo();
}

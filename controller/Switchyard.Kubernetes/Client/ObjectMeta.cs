using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.Client;

/// <summary>The identity fields of an object's metadata, read from its JSON.</summary>
/// <param name="Namespace">metadata.namespace, or null for cluster-scoped objects.</param>
/// <param name="Name">metadata.name.</param>
/// <param name="ResourceVersion">metadata.resourceVersion.</param>
/// <param name="Uid">metadata.uid.</param>
public readonly record struct ObjectKey(string? Namespace, string Name, string? ResourceVersion, string? Uid)
{
    /// <summary>The cache key <c>namespace/name</c>, or <c>name</c> for cluster-scoped objects (as client-go's MetaNamespaceKeyFunc).</summary>
    public string CacheKey => string.IsNullOrEmpty(Namespace) ? Name : $"{Namespace}/{Name}";

    /// <summary>Reads the key from an object's JSON.</summary>
    public static ObjectKey From(JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var meta = obj["metadata"] as JsonObject;
        return new ObjectKey(Text(meta?["namespace"]), Text(meta?["name"]) ?? "", Text(meta?["resourceVersion"]), Text(meta?["uid"]));
    }

    private static string? Text(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}

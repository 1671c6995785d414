using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Switchyard.Kubernetes.Client;

/// <summary>Source-generated metadata for the untyped object path.</summary>
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
public sealed partial class KubernetesJsonContext : JsonSerializerContext;

using System.Text.Json.Serialization;

namespace Switchyard.Api.Meta;

/// <summary>Kubernetes <c>metadata</c> of a persisted object (meta/v1 ObjectMeta), the fields Switchyard reads or writes.</summary>
public sealed class ObjectMeta
{
    /// <summary>Object name, unique within its namespace.</summary>
    public string? Name { get; set; }

    /// <summary>Prefix the server uses to generate a name when <see cref="Name"/> is empty.</summary>
    public string? GenerateName { get; set; }

    /// <summary>Namespace; null or empty for cluster-scoped objects.</summary>
    public string? Namespace { get; set; }

    /// <summary>Server-assigned unique identifier.</summary>
    public string? Uid { get; set; }

    /// <summary>Opaque version used for optimistic concurrency and watches.</summary>
    public string? ResourceVersion { get; set; }

    /// <summary>Sequence number of the desired state; raised on every spec change.</summary>
    public long? Generation { get; set; }

    /// <summary>When the object was created.</summary>
    [JsonConverter(typeof(KubeTimeConverter))]
    public DateTimeOffset? CreationTimestamp { get; set; }

    /// <summary>When deletion was requested; set only while finalizers remain.</summary>
    [JsonConverter(typeof(KubeTimeConverter))]
    public DateTimeOffset? DeletionTimestamp { get; set; }

    /// <summary>Seconds allowed for graceful termination.</summary>
    public long? DeletionGracePeriodSeconds { get; set; }

    /// <summary>Identifying labels used by selectors.</summary>
    public Dictionary<string, string>? Labels { get; set; }

    /// <summary>Non-identifying metadata.</summary>
    public Dictionary<string, string>? Annotations { get; set; }

    /// <summary>Finalizers that must be removed before the object is deleted.</summary>
    public List<string>? Finalizers { get; set; }

    /// <summary>Objects that own this one (garbage collection).</summary>
    public List<OwnerReference>? OwnerReferences { get; set; }

    /// <summary>Server-side apply field ownership; kept opaque.</summary>
    public List<System.Text.Json.JsonElement>? ManagedFields { get; set; }
}

/// <summary>A reference from an object to its owner (meta/v1 OwnerReference).</summary>
public sealed class OwnerReference
{
    /// <summary>API version of the owner.</summary>
    public string ApiVersion { get; set; } = "";

    /// <summary>Kind of the owner.</summary>
    public string Kind { get; set; } = "";

    /// <summary>Name of the owner.</summary>
    public string Name { get; set; } = "";

    /// <summary>UID of the owner.</summary>
    public string Uid { get; set; } = "";

    /// <summary>Whether the owner is the managing controller.</summary>
    public bool? Controller { get; set; }

    /// <summary>Whether deletion of the owner waits for this object.</summary>
    public bool? BlockOwnerDeletion { get; set; }
}

/// <summary>List metadata (meta/v1 ListMeta).</summary>
public sealed class ListMeta
{
    /// <summary>Resource version of the list snapshot; watch from here.</summary>
    public string? ResourceVersion { get; set; }

    /// <summary>Continuation token for paginated lists; empty on the last page.</summary>
    public string? Continue { get; set; }

    /// <summary>Approximate number of items after this page.</summary>
    public long? RemainingItemCount { get; set; }
}

/// <summary>A label selector (meta/v1 LabelSelector).</summary>
public sealed class LabelSelector
{
    /// <summary>Labels that must all be present with these values.</summary>
    public Dictionary<string, string>? MatchLabels { get; set; }

    /// <summary>Set-based requirements, all of which must hold.</summary>
    public List<LabelSelectorRequirement>? MatchExpressions { get; set; }
}

/// <summary>One set-based label requirement.</summary>
public sealed class LabelSelectorRequirement
{
    /// <summary>Label key.</summary>
    public string Key { get; set; } = "";

    /// <summary>One of In, NotIn, Exists, DoesNotExist.</summary>
    public string Operator { get; set; } = "";

    /// <summary>Values for In and NotIn.</summary>
    public List<string>? Values { get; set; }
}

/// <summary>A status condition (meta/v1 Condition).</summary>
public sealed class Condition
{
    /// <summary>Condition type, for example <c>Accepted</c>.</summary>
    public string Type { get; set; } = "";

    /// <summary><c>True</c>, <c>False</c> or <c>Unknown</c>.</summary>
    public string Status { get; set; } = "";

    /// <summary>Generation of the object this condition was computed from.</summary>
    public long? ObservedGeneration { get; set; }

    /// <summary>When the status last changed; set by the status writer, never by the translator.</summary>
    [JsonConverter(typeof(KubeTimeConverter))]
    public DateTimeOffset? LastTransitionTime { get; set; }

    /// <summary>CamelCase machine-readable reason.</summary>
    public string Reason { get; set; } = "";

    /// <summary>Human-readable message.</summary>
    public string Message { get; set; } = "";
}

/// <summary>Common shape of every Kubernetes object: type and object metadata.</summary>
public abstract class KubernetesObject
{
    /// <summary>API group and version, for example <c>gateway.networking.k8s.io/v1</c>.</summary>
    public string? ApiVersion { get; set; }

    /// <summary>Object kind, for example <c>Gateway</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>Object metadata.</summary>
    public ObjectMeta Metadata { get; set; } = new();
}

/// <summary>A list of objects as the API server returns it (<c>kind: XList</c>).</summary>
/// <typeparam name="T">Item type.</typeparam>
public sealed class KubernetesList<T>
{
    /// <summary>API group and version.</summary>
    public string? ApiVersion { get; set; }

    /// <summary>List kind, for example <c>GatewayList</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>List metadata.</summary>
    public ListMeta? Metadata { get; set; }

    /// <summary>The items.</summary>
    public List<T> Items { get; set; } = [];
}

namespace Switchyard.Kubernetes.Client;

/// <summary>Names one served resource: its group, version, plural and kind, and whether it lives in a namespace.</summary>
/// <param name="Group">The API group; empty for the core group.</param>
/// <param name="Version">The version, for example <c>v1</c>.</param>
/// <param name="Plural">The resource name used in URLs, for example <c>gateways</c>.</param>
/// <param name="Kind">The object kind, for example <c>Gateway</c>.</param>
/// <param name="Namespaced">True when objects live in a namespace.</param>
public sealed record ResourceType(string Group, string Version, string Plural, string Kind, bool Namespaced)
{
    /// <summary>The <c>apiVersion</c> value: <c>v1</c> for core, otherwise <c>group/version</c>.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>v1 Namespace.</summary>
    public static ResourceType Namespaces { get; } = new("", "v1", "namespaces", "Namespace", false);

    /// <summary>v1 Service.</summary>
    public static ResourceType Services { get; } = new("", "v1", "services", "Service", true);

    /// <summary>v1 Secret.</summary>
    public static ResourceType Secrets { get; } = new("", "v1", "secrets", "Secret", true);

    /// <summary>v1 ConfigMap.</summary>
    public static ResourceType ConfigMaps { get; } = new("", "v1", "configmaps", "ConfigMap", true);

    /// <summary>discovery.k8s.io/v1 EndpointSlice.</summary>
    public static ResourceType EndpointSlices { get; } = new("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true);

    /// <summary>coordination.k8s.io/v1 Lease.</summary>
    public static ResourceType Leases { get; } = new("coordination.k8s.io", "v1", "leases", "Lease", true);

    /// <summary>apiextensions.k8s.io/v1 CustomResourceDefinition.</summary>
    public static ResourceType CustomResourceDefinitions { get; } =
        new("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false);

    /// <summary>The URL path of the collection: <c>/api/v1/namespaces/ns/services</c> or <c>/apis/g/v/plural</c>.</summary>
    /// <param name="namespace">The namespace; null or empty lists across all namespaces (or for cluster-scoped kinds).</param>
    public string CollectionPath(string? @namespace)
    {
        var prefix = Group.Length == 0 ? $"/api/{Version}" : $"/apis/{Group}/{Version}";
        return Namespaced && !string.IsNullOrEmpty(@namespace)
            ? $"{prefix}/namespaces/{Uri.EscapeDataString(@namespace)}/{Plural}"
            : $"{prefix}/{Plural}";
    }

    /// <summary>The URL path of one object, optionally of a subresource such as <c>status</c>.</summary>
    /// <param name="namespace">The namespace (ignored for cluster-scoped kinds).</param>
    /// <param name="name">The object name.</param>
    /// <param name="subresource">A subresource, or null.</param>
    public string ObjectPath(string? @namespace, string name, string? subresource = null)
    {
        if (Namespaced && string.IsNullOrEmpty(@namespace))
        {
            throw new ArgumentException($"{Plural} is namespaced: a namespace is required", nameof(@namespace));
        }

        var path = $"{CollectionPath(@namespace)}/{Uri.EscapeDataString(name)}";
        return subresource is null ? path : $"{path}/{subresource}";
    }
}

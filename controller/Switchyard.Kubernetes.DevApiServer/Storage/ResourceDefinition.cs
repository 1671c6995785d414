using System.Text.Json.Nodes;
using Switchyard.Kubernetes.DevApiServer.Cel;

namespace Switchyard.Kubernetes.DevApiServer.Storage;

/// <summary>One served resource: what the server knows about a kind (from the built-in table or from a CRD).</summary>
internal sealed class ResourceDefinition
{
    public required string Group { get; init; }

    /// <summary>Served versions; the first is the storage version.</summary>
    public required IReadOnlyList<string> Versions { get; init; }

    public required string Plural { get; init; }

    public required string Singular { get; init; }

    public required string Kind { get; init; }

    public string ListKind => $"{Kind}List";

    public required bool Namespaced { get; init; }

    public IReadOnlyList<string> ShortNames { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>The status subresource is on: main-resource writes ignore <c>.status</c>, <c>/status</c> writes ignore the rest.</summary>
    public bool HasStatus { get; init; }

    /// <summary>Defined by a CustomResourceDefinition (rules differ: no strategic merge patch, PUT needs a resourceVersion).</summary>
    public bool IsCustom { get; init; }

    /// <summary>The server maintains <c>metadata.generation</c>.</summary>
    public bool TracksGeneration { get; init; }

    /// <summary>openAPIV3Schema per version, for custom resources that have one.</summary>
    public IReadOnlyDictionary<string, JsonObject> Schemas { get; init; } = new Dictionary<string, JsonObject>();

    /// <summary>Compiled <c>x-kubernetes-validations</c> rules per version, for versions whose schema has any.</summary>
    public IReadOnlyDictionary<string, CelSchemaValidator> Validators { get; init; } = new Dictionary<string, CelSchemaValidator>();

    /// <summary>additionalPrinterColumns per version, for custom resources (an Age column when the CRD gives none).</summary>
    public IReadOnlyDictionary<string, JsonArray> PrinterColumns { get; init; } = new Dictionary<string, JsonArray>();

    /// <summary>The storage key: <c>plural.group</c>, or <c>plural</c> for the core group.</summary>
    public string GroupResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public string StorageVersion => Versions[0];

    public string ApiVersion(string version) => Group.Length == 0 ? version : $"{Group}/{version}";

    public static IReadOnlyList<ResourceDefinition> BuiltIns { get; } =
    [
        new() { Group = "", Versions = ["v1"], Plural = "namespaces", Singular = "namespace", Kind = "Namespace", Namespaced = false, ShortNames = ["ns"], HasStatus = true },
        new() { Group = "", Versions = ["v1"], Plural = "services", Singular = "service", Kind = "Service", Namespaced = true, ShortNames = ["svc"], Categories = ["all"], HasStatus = true },
        new() { Group = "", Versions = ["v1"], Plural = "secrets", Singular = "secret", Kind = "Secret", Namespaced = true },
        new() { Group = "", Versions = ["v1"], Plural = "configmaps", Singular = "configmap", Kind = "ConfigMap", Namespaced = true, ShortNames = ["cm"] },
        new() { Group = "discovery.k8s.io", Versions = ["v1"], Plural = "endpointslices", Singular = "endpointslice", Kind = "EndpointSlice", Namespaced = true },
        new() { Group = "coordination.k8s.io", Versions = ["v1"], Plural = "leases", Singular = "lease", Kind = "Lease", Namespaced = true },
        new() { Group = "", Versions = ["v1"], Plural = "serviceaccounts", Singular = "serviceaccount", Kind = "ServiceAccount", Namespaced = true, ShortNames = ["sa"] },
        new() { Group = "", Versions = ["v1"], Plural = "pods", Singular = "pod", Kind = "Pod", Namespaced = true, ShortNames = ["po"], Categories = ["all"], HasStatus = true },
        new() { Group = "", Versions = ["v1"], Plural = "events", Singular = "event", Kind = "Event", Namespaced = true, ShortNames = ["ev"] },
        new() { Group = "apps", Versions = ["v1"], Plural = "deployments", Singular = "deployment", Kind = "Deployment", Namespaced = true, ShortNames = ["deploy"], Categories = ["all"], HasStatus = true, TracksGeneration = true },
        new() { Group = "admissionregistration.k8s.io", Versions = ["v1"], Plural = "validatingadmissionpolicies", Singular = "validatingadmissionpolicy", Kind = "ValidatingAdmissionPolicy", Namespaced = false, Categories = ["api-extensions"], HasStatus = true, TracksGeneration = true },
        new() { Group = "admissionregistration.k8s.io", Versions = ["v1"], Plural = "validatingadmissionpolicybindings", Singular = "validatingadmissionpolicybinding", Kind = "ValidatingAdmissionPolicyBinding", Namespaced = false, Categories = ["api-extensions"], TracksGeneration = true },
        new()
        {
            Group = "apiextensions.k8s.io", Versions = ["v1"], Plural = "customresourcedefinitions", Singular = "customresourcedefinition",
            Kind = "CustomResourceDefinition", Namespaced = false, ShortNames = ["crd", "crds"], Categories = ["api-extensions"], HasStatus = true, TracksGeneration = true,
        },
    ];
}

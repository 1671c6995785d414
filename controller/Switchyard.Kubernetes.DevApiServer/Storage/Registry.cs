using System.Text.Json.Nodes;
using Switchyard.Kubernetes.DevApiServer.Cel;
using Switchyard.Kubernetes.DevApiServer.Http;

namespace Switchyard.Kubernetes.DevApiServer.Storage;

/// <summary>The served resources, by (group, version, plural) and by group-resource. Guarded by the store's lock.</summary>
internal sealed class Registry
{
    private readonly Dictionary<string, ResourceDefinition> _byGroupResource = new(StringComparer.Ordinal);

    public Registry()
    {
        foreach (var def in ResourceDefinition.BuiltIns)
        {
            _byGroupResource[def.GroupResource] = def;
        }
    }

    public IEnumerable<ResourceDefinition> All => _byGroupResource.Values;

    public ResourceDefinition? Find(string group, string version, string plural) =>
        _byGroupResource.TryGetValue(group.Length == 0 ? plural : $"{plural}.{group}", out var def) && def.Versions.Contains(version) ? def : null;

    public ResourceDefinition? FindByGroupResource(string groupResource) => _byGroupResource.GetValueOrDefault(groupResource);

    public void Register(ResourceDefinition def) => _byGroupResource[def.GroupResource] = def;

    public void Unregister(string groupResource) => _byGroupResource.Remove(groupResource);

    /// <summary>Groups with their versions, core group excluded, in a stable order.</summary>
    public IEnumerable<(string Group, IReadOnlyList<string> Versions)> Groups() =>
        _byGroupResource.Values.Where(d => d.Group.Length > 0)
            .GroupBy(d => d.Group, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, (IReadOnlyList<string>)g.SelectMany(d => d.Versions).Distinct().ToList()));

    /// <summary>
    /// Reads a CustomResourceDefinition into a definition, or lists what is wrong with it (apiextensions validation,
    /// reduced to what serving needs).
    /// </summary>
    public static ResourceDefinition FromCrd(JsonObject crd)
    {
        var errors = new List<(string, string, string)>();
        var name = (string?)crd["metadata"]?["name"] ?? "";
        var spec = crd["spec"] as JsonObject;
        var group = (string?)spec?["group"] ?? "";
        var names = spec?["names"] as JsonObject;
        var plural = (string?)names?["plural"] ?? "";
        var kind = (string?)names?["kind"] ?? "";
        var scope = (string?)spec?["scope"] ?? "";
        if (group.Length == 0)
        {
            errors.Add(("spec.group", "FieldValueRequired", "Required value"));
        }

        if (plural.Length == 0)
        {
            errors.Add(("spec.names.plural", "FieldValueRequired", "Required value"));
        }

        if (kind.Length == 0)
        {
            errors.Add(("spec.names.kind", "FieldValueRequired", "Required value"));
        }

        if (scope is not ("Namespaced" or "Cluster"))
        {
            errors.Add(("spec.scope", "FieldValueNotSupported", $"Unsupported value: \"{scope}\": supported values: \"Cluster\", \"Namespaced\""));
        }

        if (plural.Length > 0 && group.Length > 0 && name != $"{plural}.{group}")
        {
            errors.Add(("metadata.name", "FieldValueInvalid", $"Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"));
        }

        var served = new List<string>();
        string? storage = null;
        var hasStatus = false;
        var schemas = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var columns = new Dictionary<string, JsonArray>(StringComparer.Ordinal);
        var validators = new Dictionary<string, CelSchemaValidator>(StringComparer.Ordinal);
        if (spec?["versions"] is not JsonArray versions || versions.Count == 0)
        {
            errors.Add(("spec.versions", "FieldValueInvalid", "Invalid value: null: must have exactly one version marked as storage version"));
        }
        else
        {
            var storageCount = 0;
            for (var i = 0; i < versions.Count; i++)
            {
                if (versions[i] is not JsonObject v || (string?)v["name"] is not { Length: > 0 } vname)
                {
                    errors.Add(($"spec.versions[{i}].name", "FieldValueRequired", "Required value"));
                    continue;
                }

                if (v["storage"] is JsonValue sv && sv.TryGetValue<bool>(out var isStorage) && isStorage)
                {
                    storageCount++;
                    storage = vname;
                }

                if (v["served"] is JsonValue served1 && served1.TryGetValue<bool>(out var isServed) && isServed)
                {
                    served.Add(vname);
                }

                if (v["subresources"]?["status"] is JsonObject)
                {
                    hasStatus = true;
                }

                // apiextensions defaulting: no additionalPrinterColumns means one Age column.
                columns[vname] = v["additionalPrinterColumns"] is JsonArray { Count: > 0 } cols
                    ? (JsonArray)cols.DeepClone()
                    : new JsonArray(new JsonObject { ["name"] = "Age", ["type"] = "date", ["jsonPath"] = ".metadata.creationTimestamp" });

                if (v["schema"]?["openAPIV3Schema"] is JsonObject schema)
                {
                    schemas[vname] = (JsonObject)schema.DeepClone();

                    // CEL rules compile here, so a rule the server cannot run refuses the CRD instead of every object.
                    if (CelSchemaValidator.Compile(schemas[vname], $"spec.versions[{i}].schema.openAPIV3Schema", errors) is { } validator)
                    {
                        validators[vname] = validator;
                    }
                }
            }

            if (storageCount != 1)
            {
                errors.Add(("spec.versions", "FieldValueInvalid", $"Invalid value: {versions.ToJsonString()}: must have exactly one version marked as storage version"));
            }
        }

        if (errors.Count > 0)
        {
            throw ApiError.Invalid("CustomResourceDefinition", "apiextensions.k8s.io", name, errors);
        }

        // The storage version first, so it is also what objects are stored as.
        var ordered = served.OrderBy(v => v == storage ? 0 : 1).ToList();
        if (!ordered.Contains(storage!))
        {
            ordered.Insert(0, storage!);
        }

        return new ResourceDefinition
        {
            Group = group,
            Versions = ordered,
            Plural = plural,
            Singular = (string?)names?["singular"] is { Length: > 0 } s ? s : kind.ToLowerInvariant(),
            Kind = kind,
            Namespaced = scope == "Namespaced",
            ShortNames = Strings(names?["shortNames"]),
            Categories = Strings(names?["categories"]),
            HasStatus = hasStatus,
            IsCustom = true,
            TracksGeneration = true,
            Schemas = schemas,
            Validators = validators,
            PrinterColumns = columns,
        };
    }

    private static List<string> Strings(JsonNode? node) =>
        node is JsonArray a ? a.Select(x => (string?)x).Where(x => !string.IsNullOrEmpty(x)).Select(x => x!).ToList() : [];
}

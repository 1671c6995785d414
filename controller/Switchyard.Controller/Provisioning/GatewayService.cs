using System.Text.Json.Nodes;
using Switchyard.Api.GatewayApi;
using Switchyard.Controller.Translation;

namespace Switchyard.Controller.Provisioning;

/// <summary>
/// The LoadBalancer Service of one Gateway, as a Kubernetes object: built whole for a create, or as the JSON merge
/// patch (RFC 7386) that brings an existing Service to the intent without touching what other tools added.
/// </summary>
internal static class GatewayService
{
    private const string LabelPrefix = "label:";
    private const string AnnotationPrefix = "annotation:";

    /// <summary>The Service to create.</summary>
    public static JsonObject Build(GatewayInfrastructureIntent intent, IReadOnlyDictionary<string, string> selector)
    {
        var metadata = new JsonObject
        {
            ["name"] = intent.ServiceName,
            ["namespace"] = intent.Namespace,
            ["labels"] = Map(intent.Labels),
            ["annotations"] = Map(DesiredAnnotations(intent)),
        };
        if (intent.GatewayUid.Length > 0)
        {
            // Kubernetes' garbage collector deletes the Service with its Gateway, even while the controller is down.
            metadata["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = GatewayApiNames.Group + "/v1",
                ["kind"] = "Gateway",
                ["name"] = intent.Gateway,
                ["uid"] = intent.GatewayUid,
                ["controller"] = true,
            });
        }

        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Service",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject
            {
                ["type"] = "LoadBalancer",
                ["selector"] = Map(selector),
                ["ports"] = Ports(intent),
            },
        };
    }

    /// <summary>The merge patch from <paramref name="existing"/> to the intent, or null when nothing differs.</summary>
    public static JsonObject? Patch(JsonObject existing, GatewayInfrastructureIntent intent, IReadOnlyDictionary<string, string> selector)
    {
        ArgumentNullException.ThrowIfNull(existing);
        var oldLabels = existing["metadata"]?["labels"] as JsonObject;
        var oldAnnotations = existing["metadata"]?["annotations"] as JsonObject;
        var previouslyPropagated = ((string?)oldAnnotations?[GatewayInfrastructureNames.PropagatedKeysAnnotation] ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries);

        var desiredAnnotations = DesiredAnnotations(intent);
        var labels = MapPatch(oldLabels, intent.Labels, previouslyPropagated.Where(k => k.StartsWith(LabelPrefix, StringComparison.Ordinal)).Select(k => k[LabelPrefix.Length..]));

        // The address pin is ours whether or not it came from spec.infrastructure: drop it when no address is pinned.
        var ownedAnnotations = previouslyPropagated.Where(k => k.StartsWith(AnnotationPrefix, StringComparison.Ordinal)).Select(k => k[AnnotationPrefix.Length..])
            .Append(GatewayInfrastructureNames.MetalLbLegacyLoadBalancerIPs);
        var annotations = MapPatch(oldAnnotations, desiredAnnotations, ownedAnnotations);

        var metadata = new JsonObject();
        if (labels.Count > 0)
        {
            metadata["labels"] = labels;
        }

        if (annotations.Count > 0)
        {
            metadata["annotations"] = annotations;
        }

        var spec = new JsonObject();
        if ((string?)existing["spec"]?["type"] != "LoadBalancer")
        {
            spec["type"] = "LoadBalancer";
        }

        var oldSelector = existing["spec"]?["selector"] as JsonObject;
        var selectorPatch = MapPatch(oldSelector, selector, oldSelector?.Select(kv => kv.Key) ?? []);
        if (selectorPatch.Count > 0)
        {
            spec["selector"] = selectorPatch;
        }

        // Merge patch replaces arrays whole; compare only the fields we set (the API server adds nodePort and the like).
        var oldPorts = (existing["spec"]?["ports"] as JsonArray ?? [])
            .Select(p => ((string?)p?["name"], (string?)p?["protocol"] ?? "TCP", (int?)p?["port"])).ToList();
        var newPorts = intent.Ports.Select(p => ((string?)p.Name, p.Protocol, (int?)p.Port)).ToList();
        if (!oldPorts.SequenceEqual(newPorts))
        {
            spec["ports"] = Ports(intent);
        }

        var patch = new JsonObject();
        if (metadata.Count > 0)
        {
            patch["metadata"] = metadata;
        }

        if (spec.Count > 0)
        {
            patch["spec"] = spec;
        }

        return patch.Count > 0 ? patch : null;
    }

    /// <summary>The annotations to set: the intent's, plus the record of which keys came from spec.infrastructure.</summary>
    private static SortedDictionary<string, string> DesiredAnnotations(GatewayInfrastructureIntent intent)
    {
        var result = new SortedDictionary<string, string>(intent.Annotations, StringComparer.Ordinal);
        var propagated = intent.Labels.Keys
            .Where(k => k is not GatewayInfrastructureNames.GatewayNameLabel and not GatewayInfrastructureNames.ManagedByLabel)
            .Select(k => LabelPrefix + k)
            .Concat(intent.Annotations.Keys.Where(k => k != GatewayInfrastructureNames.MetalLbLegacyLoadBalancerIPs).Select(k => AnnotationPrefix + k))
            .ToList();
        result[GatewayInfrastructureNames.PropagatedKeysAnnotation] = string.Join(',', propagated);
        return result;
    }

    /// <summary>Sets keys whose value differs; nulls (removes) keys we own that are no longer wanted.</summary>
    private static JsonObject MapPatch(JsonObject? existing, IEnumerable<KeyValuePair<string, string>> desired, IEnumerable<string> owned)
    {
        var patch = new JsonObject();
        var wanted = desired.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach (var (key, value) in wanted)
        {
            if ((string?)existing?[key] != value)
            {
                patch[key] = value;
            }
        }

        foreach (var key in owned)
        {
            if (!wanted.ContainsKey(key) && existing?.ContainsKey(key) == true)
            {
                patch[key] = null;
            }
        }

        return patch;
    }

    private static JsonObject Map(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in pairs)
        {
            obj[key] = value;
        }

        return obj;
    }

    private static JsonArray Ports(GatewayInfrastructureIntent intent) =>
        new([.. intent.Ports.Select(p => (JsonNode)new JsonObject
        {
            ["name"] = p.Name,
            ["protocol"] = p.Protocol,
            ["port"] = p.Port,
            ["targetPort"] = p.Port,
        })]);
}

using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.DevApiServer.Storage;

/// <summary>The defaulting and allocation the real server does for the built-in kinds the double serves.</summary>
internal static class BuiltInDefaults
{
    private static int s_nextIp;
    private static int s_nextNodePort;

    public static void OnCreate(ResourceDefinition def, JsonObject body, ObjectStore store)
    {
        _ = store;
        switch (def.GroupResource)
        {
            case "namespaces":
                var name = (string)body["metadata"]!["name"]!;
                var labels = body["metadata"]!["labels"] as JsonObject ?? new JsonObject();
                labels["kubernetes.io/metadata.name"] = name;
                body["metadata"]!["labels"] = labels;
                body["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") };
                body["status"] = new JsonObject { ["phase"] = "Active" };
                break;
            case "services":
                body["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() };
                DefaultService(body, null);
                break;
            case "secrets":
                body["type"] ??= "Opaque";
                break;
            case "deployments.apps":
                DefaultDeployment(body);
                body.Remove("status");
                break;
            case "customresourcedefinitions.apiextensions.k8s.io":
                var spec = body["spec"] as JsonObject;
                if (spec is not null && spec["conversion"] is null)
                {
                    spec["conversion"] = new JsonObject { ["strategy"] = "None" };
                }

                break;
        }
    }

    public static void OnUpdate(ResourceDefinition def, JsonObject next, JsonObject old)
    {
        switch (def.GroupResource)
        {
            case "services":
                DefaultService(next, old);
                break;
            case "deployments.apps":
                DefaultDeployment(next);
                break;
            case "namespaces":
                next["spec"] ??= old["spec"]?.DeepClone();
                var labels = next["metadata"]!["labels"] as JsonObject ?? new JsonObject();
                labels["kubernetes.io/metadata.name"] = (string?)next["metadata"]!["name"];
                next["metadata"]!["labels"] = labels;
                break;
            case "customresourcedefinitions.apiextensions.k8s.io":
                if (next["spec"] is JsonObject spec && spec["conversion"] is null)
                {
                    spec["conversion"] = new JsonObject { ["strategy"] = "None" };
                }

                break;
        }
    }

    /// <summary>Established and NamesAccepted, as the apiextensions controllers report once names are free.</summary>
    public static JsonObject CrdStatus(JsonObject crd)
    {
        var spec = crd["spec"] as JsonObject;
        var created = (string?)crd["metadata"]?["creationTimestamp"] ?? ObjectStore.Timestamp(DateTimeOffset.UtcNow);
        var storage = (spec?["versions"] as JsonArray)?.OfType<JsonObject>()
            .FirstOrDefault(v => v["storage"] is JsonValue s && s.TryGetValue<bool>(out var b) && b)?["name"]?.DeepClone();
        return new JsonObject
        {
            ["acceptedNames"] = spec?["names"]?.DeepClone() ?? new JsonObject(),
            ["conditions"] = new JsonArray(
                new JsonObject { ["type"] = "NamesAccepted", ["status"] = "True", ["lastTransitionTime"] = created, ["reason"] = "NoConflicts", ["message"] = "no conflicts found" },
                new JsonObject { ["type"] = "Established", ["status"] = "True", ["lastTransitionTime"] = created, ["reason"] = "InitialNamesAccepted", ["message"] = "the initial names have been accepted" }),
            ["storedVersions"] = new JsonArray(storage),
        };
    }

    private static void DefaultService(JsonObject body, JsonObject? old)
    {
        var spec = body["spec"] as JsonObject ?? new JsonObject();
        body["spec"] = spec;
        var oldSpec = old?["spec"] as JsonObject;
        var type = (string?)spec["type"] ?? "ClusterIP";
        spec["type"] = type;
        if (type != "ExternalName")
        {
            // Allocated values survive updates that do not mention them (the registry's patchAllocatedValues).
            if ((string?)spec["clusterIP"] is not { Length: > 0 })
            {
                spec["clusterIP"] = (string?)oldSpec?["clusterIP"] is { Length: > 0 } oldIp ? oldIp : AllocateIp();
            }

            spec["clusterIPs"] = new JsonArray((string?)spec["clusterIP"]);
            spec["ipFamilies"] ??= new JsonArray("IPv4");
            spec["ipFamilyPolicy"] ??= "SingleStack";
            spec["internalTrafficPolicy"] ??= "Cluster";
        }

        spec["sessionAffinity"] ??= "None";
        if (type is "NodePort" or "LoadBalancer")
        {
            spec["externalTrafficPolicy"] ??= "Cluster";
        }

        if (type == "LoadBalancer")
        {
            spec["allocateLoadBalancerNodePorts"] ??= true;
        }

        if (spec["ports"] is JsonArray ports)
        {
            foreach (var p in ports.OfType<JsonObject>())
            {
                p["protocol"] ??= "TCP";
                p["targetPort"] ??= p["port"]?.DeepClone();
                if (type is "NodePort" or "LoadBalancer" && p["nodePort"] is null)
                {
                    var oldPort = (oldSpec?["ports"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(o =>
                        JsonNode.DeepEquals(o["port"], p["port"]) && JsonNode.DeepEquals(o["protocol"], p["protocol"]));
                    p["nodePort"] = oldPort?["nodePort"]?.DeepClone() ?? 30000 + (Interlocked.Increment(ref s_nextNodePort) % 2768);
                }
            }
        }
    }

    private static void DefaultDeployment(JsonObject body)
    {
        var spec = body["spec"] as JsonObject ?? new JsonObject();
        body["spec"] = spec;
        spec["replicas"] ??= 1;
        spec["revisionHistoryLimit"] ??= 10;
        spec["progressDeadlineSeconds"] ??= 600;
        spec["strategy"] ??= new JsonObject
        {
            ["type"] = "RollingUpdate",
            ["rollingUpdate"] = new JsonObject { ["maxUnavailable"] = "25%", ["maxSurge"] = "25%" },
        };
    }

    private static string AllocateIp()
    {
        var n = Interlocked.Increment(ref s_nextIp);
        return $"10.96.{(n / 250) % 250}.{(n % 250) + 2}";
    }
}

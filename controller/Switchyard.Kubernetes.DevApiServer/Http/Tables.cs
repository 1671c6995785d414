using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Switchyard.Kubernetes.DevApiServer.Selectors;
using Switchyard.Kubernetes.DevApiServer.Storage;

namespace Switchyard.Kubernetes.DevApiServer.Http;

/// <summary>
/// Server-side printing (<c>meta.k8s.io/v1 Table</c>), which <c>kubectl get</c> asks for: the columns kube-apiserver
/// prints for the built-in kinds served here, and Name + <c>additionalPrinterColumns</c> for custom resources.
/// </summary>
internal static class Tables
{
    private sealed record Column(string Name, string Type, string Format, int Priority, Func<JsonObject, JsonNode?> Cell);

    /// <summary>True when the Accept header asks for a Table (kubectl: <c>application/json;as=Table;v=v1;g=meta.k8s.io</c>).</summary>
    public static bool Wanted(HttpRequest request) =>
        request.Headers.Accept.Any(a => a is not null && a.Contains("as=Table", StringComparison.Ordinal) && a.Contains("g=meta.k8s.io", StringComparison.Ordinal));

    public static string IncludeObject(HttpRequest request) => request.Query["includeObject"].FirstOrDefault() ?? "Metadata";

    /// <summary>A Table of <paramref name="objects"/>; headers are left out when <paramref name="withHeaders"/> is false (later watch events).</summary>
    public static JsonObject Build(ResourceDefinition def, string version, IEnumerable<JsonObject> objects, string includeObject, bool withHeaders, string? resourceVersion, string? continueToken)
    {
        var columns = Columns(def, version);
        var meta = new JsonObject();
        if (resourceVersion is not null)
        {
            meta["resourceVersion"] = resourceVersion;
        }

        if (continueToken is not null)
        {
            meta["continue"] = continueToken;
        }

        var table = new JsonObject { ["kind"] = "Table", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = meta };
        if (withHeaders)
        {
            table["columnDefinitions"] = new JsonArray(columns.Select(c => (JsonNode?)new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format,
                ["description"] = "",
                ["priority"] = c.Priority,
            }).ToArray());
        }

        var rows = new JsonArray();
        foreach (var obj in objects)
        {
            var row = new JsonObject { ["cells"] = new JsonArray(columns.Select(c => c.Cell(obj)?.DeepClone()).ToArray()) };
            switch (includeObject)
            {
                case "Object":
                    row["object"] = obj.DeepClone();
                    break;
                case "None":
                    break;
                default:
                    row["object"] = new JsonObject
                    {
                        ["kind"] = "PartialObjectMetadata",
                        ["apiVersion"] = "meta.k8s.io/v1",
                        ["metadata"] = obj["metadata"]?.DeepClone(),
                    };
                    break;
            }

            rows.Add(row);
        }

        table["rows"] = rows;
        return table;
    }

    private static List<Column> Columns(ResourceDefinition def, string version)
    {
        var name = new Column("Name", "string", "name", 0, o => o["metadata"]?["name"]?.DeepClone());
        var age = new Column("Age", "string", "", 0, o => Age(o["metadata"]?["creationTimestamp"]));
        if (def.IsCustom)
        {
            var columns = new List<Column> { name };
            if (def.PrinterColumns.TryGetValue(version, out var printer))
            {
                foreach (var c in printer.OfType<JsonObject>())
                {
                    var type = (string?)c["type"] ?? "string";
                    var path = (string?)c["jsonPath"] ?? "";
                    var priority = c["priority"] is JsonValue pv && pv.TryGetValue<int>(out var pr) ? pr : 0;
                    columns.Add(new Column((string?)c["name"] ?? "", type, (string?)c["format"] ?? "", priority, o => CustomCell(o, type, path)));
                }
            }

            return columns;
        }

        return def.GroupResource switch
        {
            "services" =>
            [
                name,
                new("Type", "string", "", 0, o => o["spec"]?["type"]?.DeepClone()),
                new("Cluster-IP", "string", "", 0, o => (string?)o["spec"]?["clusterIP"] is { Length: > 0 } ip ? ip : "<none>"),
                new("External-IP", "string", "", 0, ExternalIps),
                new("Port(s)", "string", "", 0, Ports),
                age,
                new("Selector", "string", "", 1, o => o["spec"]?["selector"] is JsonObject sel && sel.Count > 0
                    ? string.Join(",", sel.Select(kv => $"{kv.Key}={kv.Value}")) : "<none>"),
            ],
            "namespaces" => [name, new("Status", "string", "", 0, o => o["status"]?["phase"]?.DeepClone()), age],
            "configmaps" => [name, new("Data", "integer", "", 0, o => Count(o["data"]) + Count(o["binaryData"])), age],
            "secrets" => [name, new("Type", "string", "", 0, o => o["type"]?.DeepClone()), new("Data", "integer", "", 0, o => Count(o["data"])), age],
            "endpointslices.discovery.k8s.io" =>
            [
                name,
                new("AddressType", "string", "", 0, o => o["addressType"]?.DeepClone()),
                new("Ports", "string", "", 0, o => o["ports"] is JsonArray { Count: > 0 } ps ? string.Join(",", ps.Select(p => p?["port"]?.ToString() ?? "<unset>")) : "<unset>"),
                new("Endpoints", "string", "", 0, o => o["endpoints"] is JsonArray { Count: > 0 } es
                    ? string.Join(",", es.Select(e => e?["addresses"]?[0]?.ToString()).OfType<string>()) : "<unset>"),
                age,
            ],
            "deployments.apps" =>
            [
                name,
                new("Ready", "string", "", 0, o => $"{Int(o["status"]?["readyReplicas"])}/{Int(o["spec"]?["replicas"])}"),
                new("Up-to-date", "integer", "", 0, o => Int(o["status"]?["updatedReplicas"])),
                new("Available", "integer", "", 0, o => Int(o["status"]?["availableReplicas"])),
                age,
            ],
            "leases.coordination.k8s.io" => [name, new("Holder", "string", "", 0, o => o["spec"]?["holderIdentity"]?.DeepClone() ?? ""), age],
            "customresourcedefinitions.apiextensions.k8s.io" => [name, new("Created At", "date", "", 0, o => o["metadata"]?["creationTimestamp"]?.DeepClone())],
            _ => [name, age],
        };
    }

    private static JsonNode? CustomCell(JsonObject obj, string type, string path)
    {
        JsonNode? value;
        try
        {
            value = SimpleJsonPath.Evaluate(obj, path).FirstOrDefault();
        }
        catch (FormatException)
        {
            return null;
        }

        return type switch
        {
            "date" => Age(value),
            "integer" or "number" or "boolean" => value?.DeepClone(),
            _ => value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString(),
        };
    }

    private static JsonNode? ExternalIps(JsonObject o)
    {
        var type = (string?)o["spec"]?["type"];
        var ingress = (o["status"]?["loadBalancer"]?["ingress"] as JsonArray)?.Select(i => (string?)i?["ip"] ?? (string?)i?["hostname"]).OfType<string>().ToList() ?? [];
        var external = (o["spec"]?["externalIPs"] as JsonArray)?.Select(x => (string?)x).OfType<string>().ToList() ?? [];
        return type switch
        {
            "LoadBalancer" => ingress.Count + external.Count > 0 ? string.Join(",", ingress.Concat(external)) : "<pending>",
            "ExternalName" => (string?)o["spec"]?["externalName"] ?? "<none>",
            _ => external.Count > 0 ? string.Join(",", external) : "<none>",
        };
    }

    private static JsonNode? Ports(JsonObject o)
    {
        if (o["spec"]?["ports"] is not JsonArray { Count: > 0 } ports)
        {
            return "<none>";
        }

        return string.Join(",", ports.OfType<JsonObject>().Select(p =>
            p["nodePort"] is { } np ? $"{p["port"]}:{np}/{p["protocol"]}" : $"{p["port"]}/{p["protocol"]}"));
    }

    private static long Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var l) ? l : 0;

    private static long Count(JsonNode? node) => node is JsonObject o ? o.Count : 0;

    private static JsonNode? Age(JsonNode? timestamp)
    {
        if (timestamp is not JsonValue v || !v.TryGetValue<string>(out var s) ||
            !DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
        {
            return "<unknown>";
        }

        return HumanDuration(DateTimeOffset.UtcNow - t);
    }

    /// <summary>k8s.io/apimachinery/pkg/util/duration.HumanDuration.</summary>
    internal static string HumanDuration(TimeSpan d)
    {
        if (d.TotalSeconds < -1)
        {
            return "<invalid>";
        }

        if (d < TimeSpan.Zero)
        {
            return "0s";
        }

        var seconds = (long)d.TotalSeconds;
        if (seconds < 60 * 2)
        {
            return $"{seconds}s";
        }

        var minutes = (long)d.TotalMinutes;
        if (minutes < 10)
        {
            var s = seconds % 60;
            return s == 0 ? $"{minutes}m" : $"{minutes}m{s}s";
        }

        if (minutes < 60 * 3)
        {
            return $"{minutes}m";
        }

        var hours = (long)d.TotalHours;
        if (hours < 8)
        {
            var m = minutes % 60;
            return m == 0 ? $"{hours}h" : $"{hours}h{m}m";
        }

        if (hours < 48)
        {
            return $"{hours}h";
        }

        if (hours < 24 * 8)
        {
            var h = hours % 24;
            return h == 0 ? $"{hours / 24}d" : $"{hours / 24}d{h}h";
        }

        if (hours < 24 * 365 * 2)
        {
            return $"{hours / 24}d";
        }

        if (hours < 24 * 365 * 8)
        {
            var dy = (hours / 24) % 365;
            return dy == 0 ? $"{hours / 24 / 365}y" : $"{hours / 24 / 365}y{dy}d";
        }

        return $"{hours / 24 / 365}y";
    }
}

using System.Text.Json.Nodes;
using Switchyard.Kubernetes.DevApiServer.Storage;

namespace Switchyard.Kubernetes.DevApiServer.Http;

/// <summary>The legacy (non-aggregated) discovery documents, which kubectl accepts when it asked for aggregated ones.</summary>
internal static class Discovery
{
    public static JsonObject ApiVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public static JsonObject GroupList(Registry registry)
    {
        var groups = new JsonArray();
        foreach (var (group, versions) in registry.Groups())
        {
            groups.Add(Group(group, versions));
        }

        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    public static JsonObject Group(string group, IReadOnlyList<string> versions)
    {
        var list = new JsonArray();
        foreach (var v in versions)
        {
            list.Add(new JsonObject { ["groupVersion"] = $"{group}/{v}", ["version"] = v });
        }

        return new JsonObject
        {
            ["kind"] = "APIGroup",
            ["apiVersion"] = "v1",
            ["name"] = group,
            ["versions"] = list,
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{group}/{versions[0]}", ["version"] = versions[0] },
        };
    }

    public static JsonObject ResourceList(Registry registry, string group, string version)
    {
        var resources = new JsonArray();
        foreach (var def in registry.All.Where(d => d.Group == group && d.Versions.Contains(version)).OrderBy(d => d.Plural, StringComparer.Ordinal))
        {
            var entry = new JsonObject
            {
                ["name"] = def.Plural,
                ["singularName"] = def.Singular,
                ["namespaced"] = def.Namespaced,
                ["kind"] = def.Kind,
                ["verbs"] = new JsonArray("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
            };
            if (def.ShortNames.Count > 0)
            {
                entry["shortNames"] = new JsonArray(def.ShortNames.Select(s => (JsonNode?)s).ToArray());
            }

            if (def.Categories.Count > 0)
            {
                entry["categories"] = new JsonArray(def.Categories.Select(s => (JsonNode?)s).ToArray());
            }

            resources.Add(entry);
            if (def.HasStatus)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = $"{def.Plural}/status",
                    ["singularName"] = "",
                    ["namespaced"] = def.Namespaced,
                    ["kind"] = def.Kind,
                    ["verbs"] = new JsonArray("get", "patch", "update"),
                });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }

    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.0-switchyard-dev",
        ["gitCommit"] = "0000000000000000000000000000000000000000",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2025-01-01T00:00:00Z",
        ["goVersion"] = "n/a",
        ["compiler"] = "dotnet",
        ["platform"] = "linux/amd64",
    };
}

using System.Net;
using System.Text.Json.Nodes;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.DevApiServer;

namespace Switchyard.Kubernetes.Tests;

/// <summary>A DevApiServer on a free loopback port plus a client for it; one per test class instance.</summary>
public sealed class TestServer : IAsyncLifetime
{
    public static readonly ResourceType Widgets = new("test.switchyard.dev", "v1", "widgets", "Widget", true);

    public global::Switchyard.Kubernetes.DevApiServer.DevApiServer Server { get; private set; } = null!;

    public KubernetesClient Client { get; private set; } = null!;

    public DevApiServerOptions Options { get; init; } = new() { BookmarkInterval = TimeSpan.FromMilliseconds(200) };

    public async Task InitializeAsync()
    {
        Server = new global::Switchyard.Kubernetes.DevApiServer.DevApiServer(Options);
        await Server.StartAsync(new IPEndPoint(IPAddress.Loopback, 0));
        Client = new KubernetesClient(new HttpClient { BaseAddress = Server.BaseAddress, Timeout = Timeout.InfiniteTimeSpan });
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>Registers the Widget CRD (status subresource, schema with required/enum/default/minimum).</summary>
    public async Task<ResourceClient<JsonObject>> InstallWidgetsAsync()
    {
        await Client.Resource(ResourceType.CustomResourceDefinitions).CreateAsync(null, WidgetCrd());
        return Client.Resource(Widgets);
    }

    public static JsonObject WidgetCrd() => (JsonObject)JsonNode.Parse("""
        {
          "apiVersion": "apiextensions.k8s.io/v1",
          "kind": "CustomResourceDefinition",
          "metadata": { "name": "widgets.test.switchyard.dev" },
          "spec": {
            "group": "test.switchyard.dev",
            "scope": "Namespaced",
            "names": { "plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"] },
            "versions": [{
              "name": "v1", "served": true, "storage": true,
              "subresources": { "status": {} },
              "additionalPrinterColumns": [
                { "name": "Size", "type": "integer", "jsonPath": ".spec.size" },
                { "name": "Color", "type": "string", "jsonPath": ".spec.color" },
                { "name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status" },
                { "name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp" }
              ],
              "schema": { "openAPIV3Schema": {
                "type": "object",
                "properties": {
                  "spec": {
                    "type": "object",
                    "required": ["size"],
                    "properties": {
                      "size": { "type": "integer", "minimum": 1 },
                      "color": { "type": "string", "enum": ["red", "green", "blue"], "default": "red" },
                      "tags": { "type": "array", "items": { "type": "string" } }
                    }
                  },
                  "status": { "type": "object", "properties": { "ready": { "type": "boolean" }, "observedGeneration": { "type": "integer" },
                    "conditions": { "type": "array", "items": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } } } }
                }
              } }
            }]
          }
        }
        """)!;

    public static JsonObject Widget(string name, int size, string? ns = "default") => new()
    {
        ["apiVersion"] = "test.switchyard.dev/v1",
        ["kind"] = "Widget",
        ["metadata"] = ns is null ? new JsonObject { ["name"] = name } : new JsonObject { ["name"] = name, ["namespace"] = ns },
        ["spec"] = new JsonObject { ["size"] = size },
    };

    public static JsonObject ConfigMap(string name, string value, string ns = "default") => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "ConfigMap",
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
        ["data"] = new JsonObject { ["k"] = value },
    };
}

internal static class JsonExtensions
{
    public static string? Str(this JsonNode? node, string path)
    {
        var current = node;
        foreach (var part in path.Split('.'))
        {
            current = current?[part];
        }

        return current?.ToString();
    }

    public static string[] Names(this IEnumerable<JsonObject> items) => items.Select(i => i.Str("metadata.name") ?? "").ToArray();

    public static long Generation(this JsonObject obj) => (long)obj["metadata"]!["generation"]!;

    public static string Rv(this JsonObject obj) => (string)obj["metadata"]!["resourceVersion"]!;
}

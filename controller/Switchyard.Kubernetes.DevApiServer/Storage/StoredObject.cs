using System.Text;
using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.DevApiServer.Storage;

/// <summary>
/// One committed object version. <see cref="Object"/> is never mutated after commit and is read only under the
/// store's lock (JsonNode's lazy materialisation is not thread-safe); <see cref="Json"/> can be written anywhere.
/// </summary>
internal sealed class StoredObject
{
    public StoredObject(JsonObject obj, long resourceVersion)
    {
        Object = obj;
        ResourceVersion = resourceVersion;
        var meta = obj["metadata"] as JsonObject;
        Namespace = (string?)meta?["namespace"];
        Name = (string?)meta?["name"] ?? "";
        ApiVersion = (string?)obj["apiVersion"] ?? "";
        Json = Encoding.UTF8.GetBytes(obj.ToJsonString());
    }

    public JsonObject Object { get; }

    public byte[] Json { get; }

    public long ResourceVersion { get; }

    public string? Namespace { get; }

    public string Name { get; }

    public string ApiVersion { get; }

    public string Key => Namespace is null ? Name : $"{Namespace}/{Name}";

    /// <summary>The object as served at <paramref name="apiVersion"/> (custom resources use the None conversion: only apiVersion changes).</summary>
    public byte[] JsonAs(string apiVersion)
    {
        if (apiVersion == ApiVersion)
        {
            return Json;
        }

        var copy = (JsonObject)Object.DeepClone();
        copy["apiVersion"] = apiVersion;
        return Encoding.UTF8.GetBytes(copy.ToJsonString());
    }
}

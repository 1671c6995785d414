using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.DevApiServer.Patching;

/// <summary>RFC 7386 JSON Merge Patch.</summary>
internal static class JsonMergePatch
{
    /// <summary>Applies <paramref name="patch"/> to <paramref name="target"/> (RFC 7386 §2, MergePatch pseudo-code); neither input is modified.</summary>
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObj)
        {
            // §2: a non-object patch replaces the target whole.
            return patch?.DeepClone();
        }

        var result = target is JsonObject t ? (JsonObject)t.DeepClone() : new JsonObject();
        foreach (var (name, value) in patchObj)
        {
            if (value is null)
            {
                result.Remove(name);
            }
            else
            {
                var merged = Apply(result[name], value);
                result[name] = merged;
            }
        }

        return result;
    }
}

using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.DevApiServer.Patching;

/// <summary>
/// A reduced strategic merge patch, enough for what <c>kubectl apply</c> sends for the built-in kinds the double
/// serves: JSON merge patch (RFC 7386) plus merging of object lists by their merge key (<c>ports</c> by
/// <c>port</c>, <c>conditions</c> by <c>type</c>, …), <c>$patch: delete|replace</c>,
/// <c>$deleteFromPrimitiveList/</c> and union of <c>finalizers</c>. Other directives (<c>$setElementOrder</c>,
/// <c>$retainKeys</c>) are dropped rather than applied.
/// </summary>
internal static class StrategicMergePatch
{
    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["ports"] = "port",
        ["conditions"] = "type",
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["env"] = "name",
        ["volumes"] = "name",
        ["volumeMounts"] = "mountPath",
        ["imagePullSecrets"] = "name",
        ["ownerReferences"] = "uid",
    };

    public static JsonNode? Apply(JsonNode? original, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        if ((string?)(p["$patch"] as JsonValue) == "replace")
        {
            var replaced = (JsonObject)p.DeepClone();
            replaced.Remove("$patch");
            return Strip(replaced);
        }

        var result = original is JsonObject o ? (JsonObject)o.DeepClone() : new JsonObject();
        foreach (var (key, value) in p)
        {
            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (result[field] is JsonArray list && value is JsonArray remove)
                {
                    foreach (var item in list.Where(i => remove.Any(r => JsonNode.DeepEquals(r, i))).ToList())
                    {
                        list.Remove(item);
                    }
                }

                continue;
            }

            if (key.StartsWith('$'))
            {
                continue;
            }

            if (value is null)
            {
                result.Remove(key);
            }
            else if (value is JsonArray patchList && result[key] is JsonArray origList)
            {
                result[key] = MergeList(key, origList, patchList);
            }
            else if (value is JsonObject vo && (string?)(vo["$patch"] as JsonValue) == "delete")
            {
                result.Remove(key);
            }
            else
            {
                result[key] = Apply(result[key], value);
            }
        }

        return result;
    }

    private static JsonArray MergeList(string field, JsonArray original, JsonArray patch)
    {
        if (field == "finalizers")
        {
            var union = (JsonArray)original.DeepClone();
            foreach (var item in patch.Where(i => !original.Any(o => JsonNode.DeepEquals(o, i))))
            {
                union.Add(item?.DeepClone());
            }

            return union;
        }

        if (!MergeKeys.TryGetValue(field, out var mergeKey) || !patch.All(i => i is JsonObject))
        {
            return (JsonArray)Strip(patch.DeepClone())!;
        }

        var result = (JsonArray)original.DeepClone();
        foreach (var item in patch.OfType<JsonObject>())
        {
            var match = result.OfType<JsonObject>().FirstOrDefault(r => JsonNode.DeepEquals(r[mergeKey], item[mergeKey]));
            if ((string?)(item["$patch"] as JsonValue) == "delete")
            {
                if (match is not null)
                {
                    result.Remove(match);
                }
            }
            else if (match is not null)
            {
                var merged = Apply(match, item);
                result[result.IndexOf(match)] = merged;
            }
            else
            {
                result.Add(Strip(item.DeepClone()));
            }
        }

        return result;
    }

    private static JsonNode? Strip(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(kv => kv.Key).Where(k => k.StartsWith('$')).ToList())
                {
                    o.Remove(key);
                }

                foreach (var (_, v) in o.ToList())
                {
                    Strip(v);
                }

                break;
            case JsonArray a:
                foreach (var v in a)
                {
                    Strip(v);
                }

                break;
        }

        return node;
    }
}

using System.Text.Json.Nodes;
using Switchyard.Kubernetes.DevApiServer.Http;

namespace Switchyard.Kubernetes.DevApiServer.Selectors;

/// <summary>
/// The label selector grammar of the API (k8s.io/apimachinery/pkg/labels): comma-separated requirements
/// <c>k=v</c>, <c>k==v</c>, <c>k!=v</c>, <c>k</c>, <c>!k</c>, <c>k in (a,b)</c>, <c>k notin (a,b)</c>.
/// </summary>
internal sealed class LabelSelector
{
    private readonly List<Func<JsonObject?, bool>> _requirements = [];

    public static LabelSelector Everything { get; } = new();

    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }

        foreach (var part in SplitTopLevel(text))
        {
            var req = part.Trim();
            if (req.Length == 0)
            {
                throw ApiError.BadRequest($"unable to parse requirement: empty requirement in \"{text}\"");
            }

            selector._requirements.Add(ParseRequirement(req, text));
        }

        return selector;
    }

    public bool Matches(JsonObject obj) => _requirements.TrueForAll(r => r((obj["metadata"] as JsonObject)?["labels"] as JsonObject));

    private static Func<JsonObject?, bool> ParseRequirement(string req, string whole)
    {
        if (req.StartsWith('!'))
        {
            var key = Key(req[1..], whole);
            return labels => labels?[key] is null;
        }

        var inIndex = req.IndexOf(" in ", StringComparison.Ordinal);
        var notInIndex = req.IndexOf(" notin ", StringComparison.Ordinal);
        if (notInIndex > 0)
        {
            var key = Key(req[..notInIndex], whole);
            var set = Set(req[(notInIndex + 7)..], whole);
            return labels => Value(labels, key) is not { } v || !set.Contains(v);
        }

        if (inIndex > 0)
        {
            var key = Key(req[..inIndex], whole);
            var set = Set(req[(inIndex + 4)..], whole);
            return labels => Value(labels, key) is { } v && set.Contains(v);
        }

        var ne = req.IndexOf("!=", StringComparison.Ordinal);
        if (ne > 0)
        {
            var key = Key(req[..ne], whole);
            var value = req[(ne + 2)..].Trim();
            return labels => Value(labels, key) != value;
        }

        var eq = req.IndexOf('=', StringComparison.Ordinal);
        if (eq > 0)
        {
            var key = Key(req[..eq], whole);
            var rest = req[(eq + 1)..];
            var value = (rest.StartsWith('=') ? rest[1..] : rest).Trim();
            return labels => Value(labels, key) == value;
        }

        var exists = Key(req, whole);
        return labels => labels?[exists] is not null;
    }

    private static string? Value(JsonObject? labels, string key) => labels?[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string Key(string raw, string whole)
    {
        var key = raw.Trim();
        if (key.Length == 0 || key.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or '=' or '!' or ','))
        {
            throw ApiError.BadRequest($"unable to parse requirement: invalid label key \"{key}\" in \"{whole}\"");
        }

        return key;
    }

    private static HashSet<string> Set(string raw, string whole)
    {
        var trimmed = raw.Trim();
        if (!trimmed.StartsWith('(') || !trimmed.EndsWith(')'))
        {
            throw ApiError.BadRequest($"unable to parse requirement: expected a parenthesised set in \"{whole}\"");
        }

        return trimmed[1..^1].Split(',').Select(s => s.Trim()).ToHashSet(StringComparer.Ordinal);
    }

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return text[start..];
    }
}

/// <summary>
/// Field selectors (<c>=</c>, <c>==</c>, <c>!=</c>): <c>metadata.name</c> and <c>metadata.namespace</c> for every
/// kind, plus the few extra fields the real server indexes for the kinds served here (events' involvedObject,
/// secrets' type, …). Other fields are rejected with 400, as the real server does.
/// </summary>
internal sealed class FieldSelector
{
    private static readonly Dictionary<string, string[]> ExtraFields = new(StringComparer.Ordinal)
    {
        ["events"] =
        [
            "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
            "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
        ],
        ["secrets"] = ["type"],
        ["namespaces"] = ["status.phase"],
        ["pods"] = ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP", "status.nominatedNodeName"],
    };

    private readonly List<(string[] Path, string Value, bool Equal)> _terms = [];

    public static FieldSelector Parse(string? text, string groupResource = "")
    {
        var selector = new FieldSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }

        foreach (var part in text.Split(','))
        {
            var ne = part.IndexOf("!=", StringComparison.Ordinal);
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            string field, value;
            bool equal;
            if (ne > 0)
            {
                (field, value, equal) = (part[..ne], part[(ne + 2)..], false);
            }
            else if (eq > 0)
            {
                var rest = part[(eq + 1)..];
                (field, value, equal) = (part[..eq], rest.StartsWith('=') ? rest[1..] : rest, true);
            }
            else
            {
                throw ApiError.BadRequest($"invalid selector: '{text}'; can't understand '{part}'");
            }

            field = field.Trim();
            var allowed = field is "metadata.name" or "metadata.namespace" ||
                (ExtraFields.TryGetValue(groupResource, out var extra) && extra.Contains(field));
            if (!allowed)
            {
                throw ApiError.BadRequest($"field label not supported: {field}");
            }

            selector._terms.Add((field.Split('.'), value.Trim(), equal));
        }

        return selector;
    }

    public bool Matches(JsonObject obj)
    {
        foreach (var (path, value, equal) in _terms)
        {
            JsonNode? node = obj;
            foreach (var segment in path)
            {
                node = node is JsonObject o ? o[segment] : null;
            }

            var actual = node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?.ToJsonString() ?? "";
            if ((actual == value) != equal)
            {
                return false;
            }
        }

        return true;
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Switchyard.Conformance.Kube;

/// <summary>An expected status condition; a null <see cref="Reason"/> accepts any reason.</summary>
internal sealed record ExpectedCondition(string Type, string Status, string? Reason = null)
{
    public static ExpectedCondition True(string type, string? reason = null) => new(type, "True", reason ?? type);

    public static ExpectedCondition False(string type, string? reason = null) => new(type, "False", reason);

    public override string ToString() => $"{Type}={Status}{(Reason is null ? "" : "/" + Reason)}";
}

/// <summary>Reading conditions out of untyped objects.</summary>
internal static class Conditions
{
    public static string? Str(JsonNode? node, string key) => node?[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static long? Long(JsonNode? node, string key) => node?[key] is not JsonValue v ? null
        : v.TryGetValue<long>(out var l) ? l
        : v.TryGetValue<int>(out var i) ? i
        : null;

    public static long Generation(JsonObject obj) => Long(obj["metadata"], "generation") ?? 0;

    /// <summary>Finds the condition; checks status and reason; when <paramref name="generation"/> is given, also
    /// that the condition was computed from it (upstream's "latest observed generation" checks).</summary>
    public static bool Has(JsonArray? conditions, ExpectedCondition expected, long? generation, out string why)
    {
        var actual = conditions?.FirstOrDefault(c => Str(c, "type") == expected.Type);
        if (actual is null)
        {
            why = $"no {expected.Type} condition (have {Describe(conditions)})";
            return false;
        }

        if (Str(actual, "status") != expected.Status || (expected.Reason is not null && Str(actual, "reason") != expected.Reason))
        {
            why = $"expected {expected}, have {Describe(conditions)}";
            return false;
        }

        if (generation is { } g && Long(actual, "observedGeneration") != g)
        {
            why = $"{expected.Type} has observedGeneration {Long(actual, "observedGeneration")}, generation is {g}";
            return false;
        }

        why = "";
        return true;
    }

    public static bool HasAll(JsonArray? conditions, IEnumerable<ExpectedCondition> expected, long? generation, out string why)
    {
        foreach (var e in expected)
        {
            if (!Has(conditions, e, generation, out why))
            {
                return false;
            }
        }

        why = "";
        return true;
    }

    public static string Describe(JsonArray? conditions)
    {
        if (conditions is null || conditions.Count == 0)
        {
            return "none";
        }

        var sb = new StringBuilder();
        foreach (var c in conditions)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{Str(c, "type")}={Str(c, "status")}/{Str(c, "reason")}@{Long(c, "observedGeneration")} ");
        }

        return sb.ToString().TrimEnd();
    }
}

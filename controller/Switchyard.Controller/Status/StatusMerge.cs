using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Api.GatewayApi;
using Switchyard.Api.Meta;
using Switchyard.Api.Serialization;

namespace Switchyard.Controller.Status;

/// <summary>
/// Merges a status the translator computed into the status an object has now: the pure half of the status writer.
/// </summary>
/// <remarks>
/// The rules, as Gateway API implementations apply them:
/// <list type="bullet">
/// <item><c>lastTransitionTime</c> is kept from the current condition of the same type when its <c>status</c> is
/// unchanged, and is <c>now</c> otherwise (meta/v1 Condition: "the last time the condition transitioned").</item>
/// <item><c>observedGeneration</c> is the generation the translation read, when the translator left it unset.</item>
/// <item>Conditions of types this controller never sets (another controller's, a policy attachment's) are kept.</item>
/// <item>In route status, <c>parents[]</c> entries whose <c>controllerName</c> is not ours are kept as they are;
/// ours are replaced by the computed ones (an empty computed list clears ours).</item>
/// </list>
/// </remarks>
internal static class StatusMerge
{
    /// <summary>Condition types this controller sets on GatewayClasses, Gateways and listeners; any other type belongs to
    /// someone else and is kept.</summary>
    internal static readonly IReadOnlySet<string> OwnedConditionTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "Accepted", "Programmed", "ResolvedRefs", "Conflicted", "SupportedVersion", "PartiallyInvalid", "InsecureFrontendValidationMode",
    };

    public static GatewayClassStatus Merge(GatewayClassStatus? current, GatewayClassStatus computed, long? generation, DateTimeOffset now) => new()
    {
        Conditions = MergeConditions(current?.Conditions, computed.Conditions, generation, now, keepForeign: true),
        SupportedFeatures = computed.SupportedFeatures,
    };

    public static GatewayStatus Merge(GatewayStatus? current, GatewayStatus computed, long? generation, DateTimeOffset now) => new()
    {
        Addresses = computed.Addresses,
        Conditions = MergeConditions(current?.Conditions, computed.Conditions, generation, now, keepForeign: true),
        Listeners = MergeListeners(current?.Listeners, computed.Listeners, generation, now),
        AttachedListenerSets = computed.AttachedListenerSets,
    };

    public static ListenerSetStatus Merge(ListenerSetStatus? current, ListenerSetStatus computed, long? generation, DateTimeOffset now) => new()
    {
        Conditions = MergeConditions(current?.Conditions, computed.Conditions, generation, now, keepForeign: true),
        Listeners = MergeListeners(current?.Listeners, computed.Listeners, generation, now),
    };

    public static RouteStatus Merge(RouteStatus? current, RouteStatus computed, string controllerName, long? generation, DateTimeOffset now)
    {
        var old = current?.Parents ?? [];
        var ours = computed.Parents.Select(entry =>
        {
            var previous = old.Find(p => p.ControllerName == controllerName && SameParent(p.ParentRef, entry.ParentRef));
            return (Previous: previous, Merged: new RouteParentStatus
            {
                ParentRef = entry.ParentRef,
                ControllerName = controllerName,
                Conditions = MergeConditions(previous?.Conditions, entry.Conditions, generation, now, keepForeign: false),
            });
        }).ToList();

        // Entries keep their positions: another controller's stay where they are, ours are replaced in place or
        // dropped, and new ones go at the end. Reordering would be a change, and so a needless write.
        var parents = new List<RouteParentStatus>();
        foreach (var p in old)
        {
            if (p.ControllerName != controllerName)
            {
                parents.Add(p);
            }
            else if (ours.FindIndex(o => ReferenceEquals(o.Previous, p)) is var i and >= 0 && !parents.Contains(ours[i].Merged))
            {
                parents.Add(ours[i].Merged);
            }
        }

        parents.AddRange(ours.Select(o => o.Merged).Where(m => !parents.Contains(m)));
        return new RouteStatus { Parents = parents };
    }

    /// <summary>
    /// Policy status: this controller's <c>ancestors</c> entries are replaced by the computed ones, other controllers'
    /// stay where they are (the same rule as route <c>parents</c>).
    /// </summary>
    public static PolicyStatus Merge(PolicyStatus? current, PolicyStatus computed, string controllerName, long? generation, DateTimeOffset now)
    {
        var old = current?.Ancestors ?? [];
        var ours = computed.Ancestors.Select(entry =>
        {
            var previous = old.Find(p => p.ControllerName == controllerName && SameParent(p.AncestorRef, entry.AncestorRef));
            return (Previous: previous, Merged: new PolicyAncestorStatus
            {
                AncestorRef = entry.AncestorRef,
                ControllerName = controllerName,
                Conditions = MergeConditions(previous?.Conditions, entry.Conditions, generation, now, keepForeign: false),
            });
        }).ToList();

        var ancestors = new List<PolicyAncestorStatus>();
        foreach (var p in old)
        {
            if (p.ControllerName != controllerName)
            {
                ancestors.Add(p);
            }
            else if (ours.FindIndex(o => ReferenceEquals(o.Previous, p)) is var i and >= 0 && !ancestors.Contains(ours[i].Merged))
            {
                ancestors.Add(ours[i].Merged);
            }
        }

        ancestors.AddRange(ours.Select(o => o.Merged).Where(m => !ancestors.Contains(m)));
        return new PolicyStatus { Ancestors = ancestors };
    }

    /// <summary>Structural equality of two statuses through their JSON form (what the API server stores).</summary>
    public static bool JsonEquals<T>(T? a, T? b, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
        where T : class =>
        JsonNode.DeepEquals(ToJson(a, typeInfo), ToJson(b, typeInfo));

    public static JsonNode? ToJson<T>(T? value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
        where T : class =>
        value is null ? null : JsonSerializer.SerializeToNode(value, typeInfo);

    /// <summary>Gateway API parentRef equality with the defaults filled in (group gateway.networking.k8s.io, kind Gateway).</summary>
    public static bool SameParent(ParentReference a, ParentReference b) =>
        (string.IsNullOrEmpty(a.Group) ? GatewayApiNames.Group : a.Group) == (string.IsNullOrEmpty(b.Group) ? GatewayApiNames.Group : b.Group) &&
        (string.IsNullOrEmpty(a.Kind) ? "Gateway" : a.Kind) == (string.IsNullOrEmpty(b.Kind) ? "Gateway" : b.Kind) &&
        (a.Namespace ?? "") == (b.Namespace ?? "") &&
        a.Name == b.Name &&
        (a.SectionName ?? "") == (b.SectionName ?? "") &&
        a.Port == b.Port;

    private static List<ListenerStatus>? MergeListeners(List<ListenerStatus>? current, List<ListenerStatus>? computed, long? generation, DateTimeOffset now) =>
        computed?.Select(l => new ListenerStatus
        {
            Name = l.Name,
            SupportedKinds = l.SupportedKinds,
            AttachedRoutes = l.AttachedRoutes,
            Conditions = MergeConditions(current?.Find(c => c.Name == l.Name)?.Conditions, l.Conditions, generation, now, keepForeign: false),
        }).ToList();

    private static List<Condition> MergeConditions(List<Condition>? current, List<Condition> computed, long? generation, DateTimeOffset now, bool keepForeign)
    {
        // meta/v1 Time has whole-second precision; a fraction would make every comparison with a read-back differ.
        var stamp = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        var merged = new List<Condition>(computed.Count);
        foreach (var c in computed)
        {
            var previous = current?.Find(p => p.Type == c.Type);
            merged.Add(new Condition
            {
                Type = c.Type,
                Status = c.Status,
                ObservedGeneration = c.ObservedGeneration ?? generation,
                LastTransitionTime = previous is not null && previous.Status == c.Status && previous.LastTransitionTime is { } kept ? kept : stamp,
                Reason = c.Reason,
                Message = c.Message,
            });
        }

        if (keepForeign && current is not null)
        {
            merged.AddRange(current.Where(p => !OwnedConditionTypes.Contains(p.Type) && !merged.Exists(m => m.Type == p.Type)));
        }

        return merged;
    }
}

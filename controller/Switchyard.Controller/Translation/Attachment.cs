using Switchyard.Api.GatewayApi;

namespace Switchyard.Controller.Translation;

/// <summary>The listeners one parentRef of a route attaches to, with the hostnames it serves on each.</summary>
internal sealed record AttachmentResult(List<(ListenerState Listener, List<string> Hostnames)> Attached, string? Reason, string? Message);

/// <summary>What a route's parentRef names: a Gateway of ours, or a ListenerSet whose parent is one.</summary>
internal sealed record AttachmentParent(GatewayState Gateway, ListenerSetState? Set)
{
    /// <summary>The listeners the parentRef can reach: a Gateway parentRef reaches only the Gateway's own listeners,
    /// a ListenerSet parentRef only the set's (GEP-1713: a sectionName never crosses between them).</summary>
    public IEnumerable<ListenerState> Listeners => Set?.Listeners ?? Gateway.Listeners;

    public string Describe => Set is null ? $"Gateway {Gateway.Namespace}/{Gateway.Name}" : $"ListenerSet {Set.Namespace}/{Set.Name}";
}

/// <summary>Route-to-listener attachment: sectionName and port, kinds, namespaces, hostnames.</summary>
internal static class Attachment
{
    /// <summary>
    /// A route's status for one parent, the same for every route kind: specific conditions first (attachment refused,
    /// no valid rule, some rules dropped, unresolved references), then the defaults fill the gaps (Contour's commit).
    /// </summary>
    public static RouteParentStatus ParentStatus(
        TranslationContext context, ParentReference parentRef, long? generation, AttachmentResult attachment,
        int validRules, string? invalidMessage, string? refReason, string? refMessage)
    {
        var conditions = new ConditionSet(generation);
        if (attachment.Reason is not null)
        {
            conditions.Set(Cond.Accepted, false, attachment.Reason, attachment.Message!);
        }
        else if (validRules == 0)
        {
            conditions.Set(Cond.Accepted, false, Cond.UnsupportedValue, invalidMessage ?? "no valid rule");
        }
        else if (invalidMessage is not null)
        {
            conditions.Set(Cond.PartiallyInvalid, true, Cond.UnsupportedValue, $"{invalidMessage}; the invalid rules are dropped");
        }

        if (refReason is not null)
        {
            conditions.Set(Cond.ResolvedRefs, false, refReason, refMessage!);
        }

        return new RouteParentStatus
        {
            ParentRef = Defaulted(parentRef),
            ControllerName = context.Options.ControllerName,
            Conditions = conditions.Commit(
                (Cond.Accepted, true, Cond.Accepted, "route is accepted"),
                (Cond.ResolvedRefs, true, Cond.ResolvedRefs, "all references are resolved"),
                (Cond.PartiallyInvalid, false, Cond.PartiallyInvalid, ""))
                .Where(c => c.Type != Cond.PartiallyInvalid || c.Status == Cond.True).ToList(),
        };
    }

    /// <summary>The parentRef with the group and kind defaults the API server would have applied.</summary>
    public static ParentReference Defaulted(ParentReference p) => new()
    {
        Group = p.Group ?? GatewayApiNames.Group,
        Kind = p.Kind ?? "Gateway",
        Namespace = p.Namespace,
        Name = p.Name,
        SectionName = p.SectionName,
        Port = p.Port,
    };

    /// <summary>The Gateway of ours, or the ListenerSet of one of our Gateways, a parentRef names; null when it names
    /// something else.</summary>
    public static AttachmentParent? Resolve(TranslationContext context, ParentReference p, string routeNamespace)
    {
        if ((p.Group ?? GatewayApiNames.Group) != GatewayApiNames.Group)
        {
            return null;
        }

        var ns = string.IsNullOrEmpty(p.Namespace) ? routeNamespace : p.Namespace;
        return (p.Kind ?? "Gateway") switch
        {
            "Gateway" => context.FindGateway(ns, p.Name) is { } gateway ? new AttachmentParent(gateway, null) : null,
            "ListenerSet" => context.FindListenerSet(ns, p.Name) is { } set ? new AttachmentParent(set.Parent, set) : null,
            _ => null,
        };
    }

    public static AttachmentResult Attach(TranslationContext context, AttachmentParent parent, ParentReference p, string routeNamespace, RouteGroupKind kind, IReadOnlyList<string>? routeHostnames)
    {
        var attached = new List<(ListenerState, List<string>)>();
        var gateway = parent.Gateway;
        if (!gateway.Accepted)
        {
            return new(attached, Cond.NoMatchingParent, $"Gateway {gateway.Namespace}/{gateway.Name} is not accepted");
        }

        if (parent.Set is { Accepted: false } set)
        {
            return new(attached, Cond.NoMatchingParent, $"ListenerSet {set.Namespace}/{set.Name} is not accepted");
        }

        var candidates = parent.Listeners
            .Where(l => string.IsNullOrEmpty(p.SectionName) || l.Listener.Name == p.SectionName)
            .Where(l => p.Port is null || l.Listener.Port == p.Port)
            .ToList();
        if (candidates.Count == 0)
        {
            var what = string.Join(" and ", new[]
            {
                string.IsNullOrEmpty(p.SectionName) ? null : $"sectionName {p.SectionName}",
                p.Port is null ? null : $"port {p.Port}",
            }.Where(s => s is not null));
            return new(attached, Cond.NoMatchingParent, $"{parent.Describe} has no listener with {what}");
        }

        // The furthest stage any candidate reached decides the reason: kind, namespace, hostname.
        var stage = 0;
        foreach (var listener in candidates)
        {
            if (!listener.SupportedKinds.Exists(k => k.Kind == kind.Kind && k.Group == kind.Group))
            {
                continue;
            }

            stage = Math.Max(stage, 1);
            if (!NamespaceAllowed(context, listener, routeNamespace))
            {
                continue;
            }

            stage = Math.Max(stage, 2);
            var hostnames = Hostnames.Intersect(listener.Listener.Hostname, routeHostnames);
            if (hostnames.Count == 0)
            {
                continue;
            }

            // Attachment depends only on parentRefs, allowedRoutes and hostnames, not on the listener's validity
            // (ListenerStatus.attachedRoutes: "MUST be set for Listeners with condition Accepted: false"); a listener
            // that is not usable still counts its routes but is left out of the data-plane snapshot.
            attached.Add((listener, hostnames));
        }

        if (attached.Count > 0)
        {
            return new(attached, null, null);
        }

        return stage switch
        {
            0 => new(attached, Cond.NotAllowedByListeners, $"no matching listener allows {kind.Kind}"),
            1 => new(attached, Cond.NotAllowedByListeners, $"no matching listener allows routes from namespace {routeNamespace}"),
            _ => new(attached, Cond.NoMatchingListenerHostname, "no matching listener hostname intersects the route's hostnames"),
        };
    }

    /// <summary>allowedRoutes.namespaces; "Same" is the namespace of the object declaring the listener (a ListenerSet's
    /// own namespace for its listeners, GEP-1713).</summary>
    private static bool NamespaceAllowed(TranslationContext context, ListenerState listener, string routeNamespace)
    {
        var from = listener.Listener.AllowedRoutes?.Namespaces;
        return (from?.From ?? "Same") switch
        {
            "All" => true,
            "Same" => routeNamespace == listener.OwnerNamespace,
            "Selector" => from?.Selector is { } selector && References.Matches(selector, context.Snapshot.NamespaceLabels(routeNamespace)),
            _ => false,
        };
    }
}

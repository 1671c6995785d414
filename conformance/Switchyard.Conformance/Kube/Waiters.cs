using System.Text.Json.Nodes;
using Switchyard.Controller.Providers.Kubernetes;
using Switchyard.Kubernetes.Client;

namespace Switchyard.Conformance.Kube;

/// <summary>A namespaced name.</summary>
internal readonly record struct NN(string Namespace, string Name)
{
    public override string ToString() => $"{Namespace}/{Name}";
}

/// <summary>An expected listener status (upstream's <c>listenersMatch</c>).</summary>
internal sealed record ExpectedListener(string Name, string[] SupportedKinds, int AttachedRoutes, ExpectedCondition[] Conditions);

/// <summary>An expected route parent status (upstream's <c>parentsForRouteMatch</c>).</summary>
internal sealed record ExpectedParent(NN Gateway, ExpectedCondition[] Conditions, string? SectionName = null, int? Port = null);

/// <summary>The status waiters of upstream's <c>conformance/utils/kubernetes</c> helpers, over untyped objects.</summary>
internal sealed class Waiters(KubeObjects kube, string controllerName, TimeSpan timeout)
{
    public TimeSpan Timeout => timeout;

    public Task GatewayClassMustHaveLatestConditionsAsync(string name, ExpectedCondition condition, CancellationToken ct) =>
        Poll.UntilAsync($"GatewayClass {name} {condition}", timeout, async c =>
        {
            var gc = await kube.TryGetAsync(KubernetesResources.GatewayClasses, null, name, c).ConfigureAwait(false);
            if (gc is null)
            {
                return (false, "not found");
            }

            return (Conditions.Has(gc["status"]?["conditions"] as JsonArray, condition, Conditions.Generation(gc), out var why), why);
        }, ct);

    public Task GatewayMustHaveConditionAsync(NN gw, ExpectedCondition condition, CancellationToken ct) =>
        GatewayMustHaveConditionsAsync(gw, [condition], ct);

    public Task GatewayMustHaveConditionsAsync(NN gw, ExpectedCondition[] conditions, CancellationToken ct) =>
        Poll.UntilAsync($"Gateway {gw} {string.Join(", ", conditions.Select(c => c.ToString()))}", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(KubernetesResources.Gateways, gw.Namespace, gw.Name, c).ConfigureAwait(false);
            if (obj is null)
            {
                return (false, "not found");
            }

            return (Conditions.HasAll(obj["status"]?["conditions"] as JsonArray, conditions, Conditions.Generation(obj), out var why), why);
        }, ct);

    /// <summary>Accepted and Programmed, computed from the latest generation.</summary>
    public Task GatewayMustBeReadyAsync(NN gw, CancellationToken ct) =>
        GatewayMustHaveConditionsAsync(gw, [ExpectedCondition.True("Accepted"), ExpectedCondition.True("Programmed")], ct);

    public Task GatewayStatusMustHaveListenersAsync(NN gw, ExpectedListener[] listeners, CancellationToken ct) =>
        ListenersMatchAsync(KubernetesResources.Gateways, gw, listeners, ct);

    private Task ListenersMatchAsync(ResourceType type, NN gw, ExpectedListener[] listeners, CancellationToken ct) =>
        Poll.UntilAsync($"{type.Kind} {gw} listener statuses", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(type, gw.Namespace, gw.Name, c).ConfigureAwait(false);
            var actual = obj?["status"]?["listeners"] as JsonArray;
            if (actual is null)
            {
                return (false, "no listener statuses");
            }

            if (actual.Count != listeners.Length)
            {
                return (false, $"expected {listeners.Length} listeners, have {actual.Count}");
            }

            foreach (var e in listeners)
            {
                var a = actual.FirstOrDefault(l => Conditions.Str(l, "name") == e.Name);
                if (a is null)
                {
                    return (false, $"no status for listener {e.Name}");
                }

                var kinds = (a["supportedKinds"] as JsonArray ?? []).Select(k => $"{Conditions.Str(k, "group") ?? "gateway.networking.k8s.io"}/{Conditions.Str(k, "kind")}").Order(StringComparer.Ordinal).ToArray();
                var expectedKinds = e.SupportedKinds.Select(k => k.Contains('/', StringComparison.Ordinal) ? k : "gateway.networking.k8s.io/" + k).Order(StringComparer.Ordinal).ToArray();
                // Upstream's listenersMatch: an empty expectation needs an empty list; otherwise every expected kind
                // must be listed (an HTTPS listener of Switchyard also lists WebTransportRoute).
                if (expectedKinds.Length == 0 ? kinds.Length != 0 : !expectedKinds.All(kinds.Contains))
                {
                    return (false, $"listener {e.Name}: supportedKinds [{string.Join(",", kinds)}], expected [{string.Join(",", expectedKinds)}]");
                }

                if (Conditions.Long(a, "attachedRoutes") != e.AttachedRoutes)
                {
                    return (false, $"listener {e.Name}: attachedRoutes {Conditions.Long(a, "attachedRoutes")}, expected {e.AttachedRoutes}");
                }

                if (!Conditions.HasAll(a["conditions"] as JsonArray, e.Conditions, null, out var why))
                {
                    return (false, $"listener {e.Name}: {why}");
                }
            }

            return (true, "");
        }, ct);

    /// <summary>Upstream's <c>GatewayListenerMustHaveConditions</c>: one listener's status has every condition.</summary>
    public Task GatewayListenerMustHaveConditionsAsync(NN gw, string listener, ExpectedCondition[] conditions, CancellationToken ct) =>
        Poll.UntilAsync($"Gateway {gw} listener {listener} {string.Join(", ", conditions.Select(c => c.ToString()))}", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(KubernetesResources.Gateways, gw.Namespace, gw.Name, c).ConfigureAwait(false);
            var l = (obj?["status"]?["listeners"] as JsonArray)?.FirstOrDefault(x => Conditions.Str(x, "name") == listener);
            if (l is null)
            {
                return (false, "no status for the listener");
            }

            return (Conditions.HasAll(l["conditions"] as JsonArray, conditions, null, out var why), why);
        }, ct);

    public Task GatewayListenersMustHaveAttachedRoutesAsync(NN gw, string listener, int count, CancellationToken ct) =>
        Poll.UntilAsync($"Gateway {gw} listener {listener} attachedRoutes={count}", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(KubernetesResources.Gateways, gw.Namespace, gw.Name, c).ConfigureAwait(false);
            var l = (obj?["status"]?["listeners"] as JsonArray)?.FirstOrDefault(x => Conditions.Str(x, "name") == listener);
            var n = Conditions.Long(l, "attachedRoutes");
            return (n == count, $"attachedRoutes {n?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "missing"}");
        }, ct);

    /// <summary>The route's status holds exactly these parents of this controller.</summary>
    public Task HttpRouteMustHaveParentsAsync(NN route, ExpectedParent[] parents, CancellationToken ct, ResourceType? kind = null) =>
        Poll.UntilAsync($"{(kind ?? KubernetesResources.HttpRoutes).Kind} {route} parents", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(kind ?? KubernetesResources.HttpRoutes, route.Namespace, route.Name, c).ConfigureAwait(false);
            if (obj is null)
            {
                return (false, "not found");
            }

            var actual = ((obj["status"]?["parents"] as JsonArray) ?? []).Where(p => Conditions.Str(p, "controllerName") == controllerName).ToList();
            if (actual.Count != parents.Length)
            {
                return (false, $"expected {parents.Length} parents of {controllerName}, have {actual.Count}");
            }

            foreach (var e in parents)
            {
                var a = actual.FirstOrDefault(p => ParentRefMatches(p!["parentRef"], route.Namespace, e));
                if (a is null)
                {
                    return (false, $"no parent status for {e.Gateway}{(e.SectionName is null ? "" : "/" + e.SectionName)}");
                }

                if (!Conditions.HasAll(a["conditions"] as JsonArray, e.Conditions, Conditions.Generation(obj), out var why))
                {
                    return (false, $"parent {e.Gateway}: {why}");
                }
            }

            return (true, "");
        }, ct);

    /// <summary>The route's parent entry for <paramref name="gw"/> has the condition.</summary>
    public Task HttpRouteMustHaveConditionAsync(NN route, NN gw, ExpectedCondition condition, CancellationToken ct) =>
        Poll.UntilAsync($"HTTPRoute {route} parent {gw} {condition}", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(KubernetesResources.HttpRoutes, route.Namespace, route.Name, c).ConfigureAwait(false);
            var parents = (obj?["status"]?["parents"] as JsonArray ?? []).Where(p =>
                Conditions.Str(p, "controllerName") == controllerName && SameGateway(p!["parentRef"], route.Namespace, gw)).ToList();
            if (parents.Count == 0)
            {
                return (false, "no parent status for the Gateway");
            }

            var why = "";
            return (parents.Any(p => Conditions.Has(p!["conditions"] as JsonArray, condition, Conditions.Generation(obj!), out why)), why);
        }, ct);

    /// <summary>The route has no parent entry of this controller with Accepted=True.</summary>
    public Task HttpRouteMustHaveNoAcceptedParentsAsync(NN route, CancellationToken ct) =>
        Poll.UntilAsync($"HTTPRoute {route} to have no accepted parents", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(KubernetesResources.HttpRoutes, route.Namespace, route.Name, c).ConfigureAwait(false);
            var parents = (obj?["status"]?["parents"] as JsonArray ?? []).Where(p => Conditions.Str(p, "controllerName") == controllerName).ToList();
            var accepted = parents.Where(p => Conditions.Has(p!["conditions"] as JsonArray, ExpectedCondition.True("Accepted"), null, out _)).ToList();
            return (accepted.Count == 0, $"{accepted.Count} accepted parents");
        }, ct);

    /// <summary>Upstream's <c>GatewayAndHTTPRoutesMustBeAccepted</c>: the Gateway is ready and each route is accepted by it.</summary>
    public async Task GatewayAndHttpRoutesMustBeAcceptedAsync(NN gw, NN[] routes, CancellationToken ct, string? sectionName = null)
    {
        await GatewayMustBeReadyAsync(gw, ct).ConfigureAwait(false);
        foreach (var route in routes)
        {
            await HttpRouteMustHaveParentsAsync(route, [new ExpectedParent(gw, [ExpectedCondition.True("Accepted")], sectionName)], ct).ConfigureAwait(false);
        }
    }

    /// <summary>Every route's parent entry for <paramref name="gw"/> has ResolvedRefs=True.</summary>
    public async Task HttpRoutesMustHaveResolvedRefsAsync(NN gw, NN[] routes, CancellationToken ct)
    {
        foreach (var route in routes)
        {
            await HttpRouteMustHaveConditionAsync(route, gw, ExpectedCondition.True("ResolvedRefs"), ct).ConfigureAwait(false);
        }
    }

    /// <summary>Upstream's <c>GatewayMustHaveAttachedListeners</c>: <c>status.attachedListenerSets</c> (absent counts as 0).</summary>
    public Task GatewayMustHaveAttachedListenerSetsAsync(NN gw, int count, CancellationToken ct) =>
        Poll.UntilAsync($"Gateway {gw} attachedListenerSets={count}", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(KubernetesResources.Gateways, gw.Namespace, gw.Name, c).ConfigureAwait(false);
            if (obj is null)
            {
                return (false, "not found");
            }

            var n = Conditions.Long(obj["status"], "attachedListenerSets") ?? 0;
            return (n == count, $"attachedListenerSets {n}");
        }, ct);

    /// <summary>Upstream's <c>ListenerSetMustHaveCondition</c>, at the latest generation.</summary>
    public Task ListenerSetMustHaveConditionAsync(NN set, ExpectedCondition condition, CancellationToken ct) =>
        Poll.UntilAsync($"ListenerSet {set} {condition}", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(KubernetesResources.ListenerSets, set.Namespace, set.Name, c).ConfigureAwait(false);
            if (obj is null)
            {
                return (false, "not found");
            }

            return (Conditions.Has(obj["status"]?["conditions"] as JsonArray, condition, Conditions.Generation(obj), out var why), why);
        }, ct);

    /// <summary>Upstream's <c>ListenerSetListenersMustHaveConditions</c>: the named listener's status has every condition.</summary>
    public Task ListenerSetListenerMustHaveConditionsAsync(NN set, string listener, ExpectedCondition[] conditions, CancellationToken ct) =>
        Poll.UntilAsync($"ListenerSet {set} listener {listener} {string.Join(", ", conditions.Select(x => x.ToString()))}", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(KubernetesResources.ListenerSets, set.Namespace, set.Name, c).ConfigureAwait(false);
            var l = (obj?["status"]?["listeners"] as JsonArray)?.FirstOrDefault(x => Conditions.Str(x, "name") == listener);
            if (l is null)
            {
                return (false, "no status for the listener");
            }

            return (Conditions.HasAll(l["conditions"] as JsonArray, conditions, null, out var why), why);
        }, ct);

    /// <summary>Upstream's <c>ListenerSetStatusMustHaveListeners</c> (the same matching as a Gateway's listeners).</summary>
    public Task ListenerSetStatusMustHaveListenersAsync(NN set, ExpectedListener[] listeners, CancellationToken ct) =>
        ListenersMatchAsync(KubernetesResources.ListenerSets, set, listeners, ct);

    /// <summary>The route's parent entry for the ListenerSet has the condition.</summary>
    public Task HttpRouteMustHaveListenerSetConditionAsync(NN route, NN set, ExpectedCondition condition, CancellationToken ct) =>
        Poll.UntilAsync($"HTTPRoute {route} parent ListenerSet {set} {condition}", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(KubernetesResources.HttpRoutes, route.Namespace, route.Name, c).ConfigureAwait(false);
            var parents = (obj?["status"]?["parents"] as JsonArray ?? []).Where(p =>
                Conditions.Str(p, "controllerName") == controllerName && SameParent(p!["parentRef"], route.Namespace, set, "ListenerSet")).ToList();
            if (parents.Count == 0)
            {
                return (false, "no parent status for the ListenerSet");
            }

            var why = "";
            return (parents.Any(p => Conditions.Has(p!["conditions"] as JsonArray, condition, Conditions.Generation(obj!), out why)), why);
        }, ct);

    /// <summary>Upstream's <c>RoutesAndParentMustBeAccepted</c> for a ListenerSet parent: the ListenerSet is accepted
    /// and every route's parent entry for it is.</summary>
    public async Task ListenerSetAndHttpRoutesMustBeAcceptedAsync(NN set, NN[] routes, CancellationToken ct)
    {
        await ListenerSetMustHaveConditionAsync(set, ExpectedCondition.True("Accepted"), ct).ConfigureAwait(false);
        foreach (var route in routes)
        {
            await HttpRouteMustHaveListenerSetConditionAsync(route, set, ExpectedCondition.True("Accepted"), ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Upstream's <c>BackendTLSPolicyMustHaveCondition</c>: every ancestor's conditions were computed from the latest
    /// generation, and the ancestor entry for <paramref name="gw"/> has <paramref name="condition"/>.
    /// </summary>
    public Task BackendTlsPolicyMustHaveConditionAsync(NN policy, NN gw, ExpectedCondition condition, CancellationToken ct) =>
        Poll.UntilAsync($"BackendTLSPolicy {policy} ancestor {gw} {condition}", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(KubernetesResources.BackendTlsPolicies, policy.Namespace, policy.Name, c).ConfigureAwait(false);
            if (obj is null)
            {
                return (false, "not found");
            }

            var generation = Conditions.Generation(obj);
            var ancestors = obj["status"]?["ancestors"] as JsonArray ?? [];
            foreach (var ancestor in ancestors)
            {
                var conditions = ancestor?["conditions"] as JsonArray;
                if (conditions?.FirstOrDefault(x => Conditions.Long(x, "observedGeneration") != generation) is { } stale)
                {
                    return (false, $"{Conditions.Str(stale, "type")} of ancestor {Conditions.Str(ancestor?["ancestorRef"], "name")} is from generation {Conditions.Long(stale, "observedGeneration")}, not {generation}");
                }
            }

            var entry = ancestors.FirstOrDefault(a => Conditions.Str(a?["ancestorRef"], "name") == gw.Name
                && (Conditions.Str(a?["ancestorRef"], "namespace") ?? gw.Namespace) == gw.Namespace);
            if (entry is null)
            {
                return (false, $"no ancestor entry for {gw} ({ancestors.Count} ancestors)");
            }

            return (Conditions.Has(entry["conditions"] as JsonArray, condition, null, out var why), why);
        }, ct);

    /// <summary>Upstream's <c>GatewayMustHaveLatestConditions</c>: every Gateway condition was computed from the latest generation.</summary>
    public Task GatewayMustHaveLatestConditionsAsync(NN gw, CancellationToken ct) =>
        Poll.UntilAsync($"Gateway {gw} conditions of the latest generation", timeout, async c =>
        {
            var obj = await kube.TryGetAsync(KubernetesResources.Gateways, gw.Namespace, gw.Name, c).ConfigureAwait(false);
            var conditions = obj?["status"]?["conditions"] as JsonArray;
            if (obj is null || conditions is null || conditions.Count == 0)
            {
                return (false, "no conditions");
            }

            var generation = Conditions.Generation(obj);
            return (conditions.All(x => Conditions.Long(x, "observedGeneration") == generation), Conditions.Describe(conditions) + $" (generation {generation})");
        }, ct);


    private static bool SameGateway(JsonNode? parentRef, string routeNamespace, NN gw) => SameParent(parentRef, routeNamespace, gw, "Gateway");

    private static bool SameParent(JsonNode? parentRef, string routeNamespace, NN gw, string kind) =>
        (Conditions.Str(parentRef, "group") ?? "gateway.networking.k8s.io") == "gateway.networking.k8s.io"
        && (Conditions.Str(parentRef, "kind") ?? "Gateway") == kind
        && Conditions.Str(parentRef, "name") == gw.Name
        && (Conditions.Str(parentRef, "namespace") ?? routeNamespace) == gw.Namespace;

    private static bool ParentRefMatches(JsonNode? parentRef, string routeNamespace, ExpectedParent e) =>
        SameGateway(parentRef, routeNamespace, e.Gateway)
        && Conditions.Str(parentRef, "sectionName") == e.SectionName
        && Conditions.Long(parentRef, "port") == e.Port;
}

/// <summary>Well-known object types, for readability in scenarios.</summary>
internal static class Kinds
{
    public static ResourceType Gateway => KubernetesResources.Gateways;

    public static ResourceType HttpRoute => KubernetesResources.HttpRoutes;

    public static ResourceType GatewayClass => KubernetesResources.GatewayClasses;

    public static ResourceType WebTransportRoute => KubernetesResources.WebTransportRoutes;

    public static ResourceType ListenerSet => KubernetesResources.ListenerSets;
    public static ResourceType BackendTlsPolicy => KubernetesResources.BackendTlsPolicies;
}

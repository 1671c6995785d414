using System.Text.Json.Nodes;
using Switchyard.Conformance.Kube;
using static Switchyard.Conformance.Scenarios.Dsl;

namespace Switchyard.Conformance.Scenarios;

/// <summary>
/// The ListenerSet tests of GATEWAY-HTTP (Gateway API v1.6.1, feature <c>ListenerSet</c>), in upstream's order.
/// Upstream expects ListenerSet listeners to list GRPCRoute among their supportedKinds; Switchyard does not serve
/// GRPCRoute, so these scenarios expect HTTPRoute alone.
/// </summary>
internal static class ListenerSetTests
{
    public const string Feature = "ListenerSet";

    private static readonly string[] Needs = [Feature];

    public static IEnumerable<ConformanceTest> All()
    {
        yield return new("ListenerSetAllowedNamespaceSame", "With allowedListeners from Same, only ListenerSets in the Gateway's namespace attach.", Needs, ["tests/listenerset-allowed-namespace-same.yaml"], async t =>
        {
            var gw = Gw("gateway-allows-listenerset-in-same-namespace");
            await t.Waiters.GatewayMustHaveConditionAsync(gw, T("Accepted"), t.Ct);
            await t.Waiters.GatewayMustHaveAttachedListenerSetsAsync(gw, 1, t.Ct);
            await AcceptedAsync(t, Ls("listenerset-in-same-namespace"), "listenerset-in-same-namespace-listener");
            await RefusedAsync(t, new NN("gateway-api-listenerset-not-allowed-ns", "listenerset-in-different-namespace"), "NotAllowed");
        });

        yield return new("ListenerSetAllowedNamespaceSelector", "With allowedListeners from Selector, only ListenerSets in matching namespaces attach.", Needs, ["tests/listenerset-allowed-namespace-selector.yaml"], async t =>
        {
            var gw = Gw("gateway-allows-listenerset-in-selected-namespace");
            await t.Waiters.GatewayMustHaveConditionAsync(gw, T("Accepted"), t.Ct);
            await t.Waiters.GatewayMustHaveAttachedListenerSetsAsync(gw, 1, t.Ct);
            await AcceptedAsync(t, new NN("gateway-api-listenerset-selector-allowed-ns", "listenerset-in-selected-namespace"), "listenerset-in-selected-namespace-listener");
            await RefusedAsync(t, new NN("gateway-api-listenerset-selector-not-allowed-ns", "listenerset-not-in-selected-namespace"), "NotAllowed");
        });

        yield return new("ListenerSetAllowedRoutesNamespaces", "ListenerSet listeners take routes from the namespaces their allowedRoutes name; Same is the ListenerSet's.", Needs, ["tests/listenerset-allowed-routes-namespaces.yaml"], async t =>
        {
            var gw = Gw("gateway-with-listener-sets-test-allowed-routes");
            await t.Waiters.GatewayMustHaveConditionAsync(gw, T("Accepted"), t.Ct);
            await t.Waiters.GatewayMustHaveAttachedListenerSetsAsync(gw, 1, t.Ct);
            var ls = Ls("listenerset-test-allowed-routes-namespaces");
            await t.Waiters.ListenerSetAndHttpRoutesMustBeAcceptedAsync(ls,
                [Route("route-in-same-namespace"), Route("route-in-selected-namespace", "gateway-api-routes-allowed-ns"), Route("route-not-in-selected-namespace", "gateway-api-routes-not-allowed-ns")], t.Ct);
            await t.Waiters.ListenerSetStatusMustHaveListenersAsync(ls,
                [Healthy("listener-set-listener-allowed-routes-all", 3), Healthy("listener-set-listener-allowed-routes-same", 1), Healthy("listener-set-listener-allowed-routes-selector", 1)], t.Ct);

            const string all = "listener-set-listener-allowed-routes-all.com", same = "listener-set-listener-allowed-routes-same.com", selector = "listener-set-listener-allowed-routes-selector.com";
            await ExpectAllAsync(t, gw,
            [
                Ok("/route-in-same-namespace", "infra-backend-v1", all),
                Ok("/route-in-selected-namespace", "infra-backend-v2", all),
                Ok("/route-not-in-selected-namespace", "infra-backend-v3", all),
                Ok("/route-in-same-namespace", "infra-backend-v1", same),
                Status("/route-in-selected-namespace", 404, same),
                Status("/route-not-in-selected-namespace", 404, same),
                Status("/route-in-same-namespace", 404, selector),
                Ok("/route-in-selected-namespace", "infra-backend-v2", selector),
                Status("/route-not-in-selected-namespace", 404, selector),
            ]);
        });

        yield return new("ListenerSetDefaultNotAllowed", "A Gateway without allowedListeners refuses every ListenerSet.", Needs, ["tests/listenerset-default-not-allowed.yaml"], async t =>
        {
            var gw = Gw("gateway-default-does-not-allow-listenerset");
            await t.Waiters.GatewayMustHaveConditionAsync(gw, T("Accepted"), t.Ct);
            await t.Waiters.GatewayMustHaveAttachedListenerSetsAsync(gw, 0, t.Ct);
            await RefusedAsync(t, Ls("listenerset-default-not-allowed"), "NotAllowed");
        });

        yield return new("ListenerSetDualParentRefIndependence", "A route's Gateway and ListenerSet parentRefs are accepted or refused independently.", Needs, ["tests/listenerset-dual-parentref-independence.yaml"], async t =>
        {
            var gw = Gw("gateway-dual-parentref");
            var ls = Ls("ls-dual-parentref");
            await t.Waiters.GatewayMustHaveConditionAsync(gw, T("Accepted"), t.Ct);
            await t.Waiters.GatewayMustHaveAttachedListenerSetsAsync(gw, 1, t.Ct);
            await t.Waiters.ListenerSetStatusMustHaveListenersAsync(ls, [Healthy("ls-dual-parentref-listener", 2)], t.Ct);

            var both = Route("route-dual-parentref-both");
            await t.Waiters.HttpRouteMustHaveConditionAsync(both, gw, T("Accepted"), t.Ct);
            await t.Waiters.HttpRouteMustHaveListenerSetConditionAsync(both, ls, T("Accepted"), t.Ct);
            await ExpectAllAsync(t, gw, [Ok("/dualboth", "infra-backend-v1", "gw-dual.com"), Ok("/dualboth", "infra-backend-v1", "ls-dual.com")]);

            var one = Route("route-dual-parentref-one");
            await t.Waiters.HttpRouteMustHaveConditionAsync(one, gw, F("Accepted", "NoMatchingParent"), t.Ct);
            await t.Waiters.ListenerSetAndHttpRoutesMustBeAcceptedAsync(ls, [one], t.Ct);
            await ExpectAllAsync(t, gw, [Ok("/dualone", "infra-backend-v2", "ls-dual.com"), Status("/dualone", 404, "gw-dual.com")]);
        });

        yield return new("ListenerSetGatewayParentSectionNameNotFound", "A Gateway parentRef's sectionName does not find a ListenerSet's listener.", Needs, ["tests/listenerset-gateway-parent-section-name-not-found.yaml"], async t =>
        {
            var gw = Gw("gateway-section-name");
            await t.Waiters.GatewayMustHaveConditionAsync(gw, T("Accepted"), t.Ct);
            await t.Waiters.GatewayMustHaveAttachedListenerSetsAsync(gw, 1, t.Ct);
            await t.Waiters.ListenerSetAndHttpRoutesMustBeAcceptedAsync(Ls("listenerset-section-name"), [Route("route-via-listenerset")], t.Ct);
            await t.Waiters.HttpRouteMustHaveConditionAsync(Route("route-via-gateway"), gw, F("Accepted", "NoMatchingParent"), t.Ct);
            await t.ExpectAsync(gw, Ok("/goodsection", "infra-backend-v1", "ls-section-name.com"));
            await t.ExpectAsync(gw, Status("/badsection", 404, "gw-section.com"));
        });

        yield return new("ListenerSetHostnameConflict", "Listener precedence settles hostname conflicts: the Gateway's listeners, then older ListenerSets, then namespace/name.", Needs, ["tests/listenerset-hostname-conflict.yaml"], async t =>
        {
            await ConflictPrecedenceAsync(t, "hostname", "HostnameConflict");

            // Wildcard hostnames conflict like any other.
            ExpectedCondition[] conflicted = [F("Accepted", "HostnameConflict"), F("Programmed", "HostnameConflict"), T("Conflicted", "HostnameConflict")];
            var wildcard = Gw("gateway-ls-wildcard-conflict");
            await t.Waiters.GatewayMustHaveConditionAsync(wildcard, T("Accepted"), t.Ct);
            await t.Waiters.GatewayMustHaveAttachedListenerSetsAsync(wildcard, 1, t.Ct);
            await AcceptedAsync(t, Ls("ls-wildcard-a"), "wildcard-listener");
            await NotValidAsync(t, Ls("ls-wildcard-b"));
            await t.Waiters.ListenerSetListenerMustHaveConditionsAsync(Ls("ls-wildcard-b"), "wildcard-listener", conflicted, t.Ct);

            // Across namespaces the namespace/name order decides, and the loser's other listeners still serve.
            var cross = Gw("gateway-ls-cross-ns-conflict");
            var a = new NN("gateway-api-ls-conflict-ns-a", "ls-cross-ns-conflict-a");
            var b = new NN("gateway-api-ls-conflict-ns-b", "ls-cross-ns-conflict-b");
            await t.Waiters.GatewayMustHaveConditionAsync(cross, T("Accepted"), t.Ct);
            await t.Waiters.GatewayMustHaveAttachedListenerSetsAsync(cross, 2, t.Ct);
            await t.Waiters.ListenerSetMustHaveConditionAsync(a, T("Accepted"), t.Ct);
            await ListenersHealthyAsync(t, a, "conflict-listener", "unique-a-listener");
            await t.Waiters.ListenerSetMustHaveConditionAsync(b, T("Accepted"), t.Ct);
            await t.Waiters.ListenerSetListenerMustHaveConditionsAsync(b, "conflict-listener", conflicted, t.Ct);
            await ListenersHealthyAsync(t, b, "unique-b-listener");
            await t.Waiters.ListenerSetAndHttpRoutesMustBeAcceptedAsync(a, [Route("route-for-ls-a", a.Namespace)], t.Ct);
            await t.Waiters.HttpRouteMustHaveListenerSetConditionAsync(Route("route-for-ls-b-unique", b.Namespace), b, T("Accepted"), t.Ct);
            await ExpectAllAsync(t, cross, [Ok("/route-a", "infra-backend-v1", "cross-ns-conflict.com"), Ok("/route-b", "infra-backend-v2", "unique-b.com")]);
        });

        yield return new("ListenerSetHTTPRouting", "Routes reach exactly the listeners of the Gateway or ListenerSet (and sectionName) they name.", Needs, ["tests/listenerset-http-routing.yaml"], async t =>
        {
            var gw = Gw("gateway-with-listener-sets-http-routing");
            const string l1 = "listener-set-http-routing-1", l2 = "listener-set-http-routing-2";
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            foreach (var r in new[] { "attaches-to-all-listeners", "gateway-route", "gateway-section-route" })
            {
                await t.Waiters.HttpRouteMustHaveConditionAsync(Route(r), gw, T("Accepted"), t.Ct);
            }

            await t.Waiters.GatewayMustHaveAttachedListenerSetsAsync(gw, 2, t.Ct);
            await t.Waiters.ListenerSetAndHttpRoutesMustBeAcceptedAsync(Ls(l1), [Route("attaches-to-all-listeners"), Route($"{l1}-route"), Route($"{l1}-section-route")], t.Ct);
            await t.Waiters.ListenerSetStatusMustHaveListenersAsync(Ls(l1), [Healthy($"{l1}-listener-1", 3), Healthy($"{l1}-listener-2", 2)], t.Ct);
            await t.Waiters.ListenerSetAndHttpRoutesMustBeAcceptedAsync(Ls(l2), [Route("attaches-to-all-listeners"), Route($"{l2}-route")], t.Ct);
            await t.Waiters.ListenerSetStatusMustHaveListenersAsync(Ls(l2), [Healthy($"{l2}-listener-1", 2), Healthy($"{l2}-listener-2", 2)], t.Ct);

            string[] gatewayHosts = ["gateway-listener-1.com", "gateway-listener-2.com"];
            string[] l1Hosts = [$"{l1}-listener-1.com", $"{l1}-listener-2.com"];
            string[] l2Hosts = [$"{l2}-listener-1.com", $"{l2}-listener-2.com"];
            string[] every = [.. gatewayHosts, .. l1Hosts, .. l2Hosts];

            // Each path and the hosts that serve it (with its backend); every other host answers 404.
            var paths = new (string Path, string Backend, string[] Hosts)[]
            {
                ("/route", "infra-backend-v1", every),
                ("/gateway-route", "infra-backend-v2", gatewayHosts),
                ("/gateway-section-route", "infra-backend-v3", ["gateway-listener-1.com"]),
                ($"/{l1}-route", "infra-backend-v2", l1Hosts),
                ($"/{l1}-section-route", "infra-backend-v3", [$"{l1}-listener-1.com"]),
                ($"/{l2}-route", "infra-backend-v2", l2Hosts),
            };
            foreach (var (path, backend, hosts) in paths)
            {
                await ExpectAllAsync(t, gw, every.Select(h => hosts.Contains(h) ? Ok(path, backend, h) : Status(path, 404, h)));
            }
        });

        yield return new("ListenerSetParentNotAccepted", "A ListenerSet whose Gateway is not accepted is refused with ParentNotAccepted.", Needs, ["tests/listenerset-parent-not-accepted.yaml"], async t =>
        {
            var gw = Gw("gateway-with-listenerset-not-accepted");
            await t.Waiters.GatewayMustHaveConditionAsync(gw, F("Accepted"), t.Ct);
            await t.Waiters.GatewayMustHaveAttachedListenerSetsAsync(gw, 0, t.Ct);
            var ls = Ls("listenerset-parent-not-accepted");
            await t.Waiters.ListenerSetMustHaveConditionAsync(ls, F("Accepted", "ParentNotAccepted"), t.Ct);
            await t.Waiters.ListenerSetMustHaveConditionAsync(ls, F("Programmed"), t.Ct);
        });

        yield return new("ListenerSetProtocolConflict", "Listener precedence settles protocol conflicts on a port.", Needs, ["tests/listenerset-protocol-conflict.yaml"], async t =>
        {
            await ConflictPrecedenceAsync(t, "protocol", "ProtocolConflict");
        });

        yield return new("ListenerSetReferenceGrant", "A ListenerSet's certificateRef to another namespace needs a ReferenceGrant from ListenerSet.", Needs, ["tests/listenerset-reference-grant.yaml"], async t =>
        {
            var gw = Gw("gateway-with-listener-sets-test-reference-grant");
            await t.Waiters.GatewayMustHaveConditionAsync(gw, T("Accepted"), t.Ct);
            var ls = Ls("listenerset-with-reference-grant");
            await t.Waiters.ListenerSetMustHaveConditionAsync(ls, T("Accepted", null), t.Ct);
            await t.Waiters.ListenerSetMustHaveConditionAsync(ls, T("Programmed", null), t.Ct);
            await t.Waiters.ListenerSetListenerMustHaveConditionsAsync(ls, "listenerset-with-reference-grant-listener", [new("ResolvedRefs", "True")], t.Ct);
            ls = new NN("gateway-api-listener-sets-test-reference-grant-ns", "listenerset-without-reference-grant");
            await NotValidAsync(t, ls);
            await t.Waiters.ListenerSetListenerMustHaveConditionsAsync(ls, "listenerset-without-reference-grant-listener", [F("ResolvedRefs", "RefNotPermitted")], t.Ct);
        });

        yield return new("ListenerSetUpdateListenerHostname", "A route refused with NoMatchingListenerHostname is accepted once the ListenerSet listener's hostname matches.", Needs, ["tests/listenerset-update-listener-hostname.yaml"], async t =>
        {
            var ls = Ls("listenerset-update-listener-hostname");
            var route = Route("httproute-listenerset-update-listener-hostname");
            await t.Waiters.HttpRouteMustHaveListenerSetConditionAsync(route, ls, F("Accepted", "NoMatchingListenerHostname"), t.Ct);
            await t.Kube.UpdateAsync(Kinds.ListenerSet, ls.Namespace, ls.Name, o => ((JsonArray)o["spec"]!["listeners"]!)[0]!["hostname"] = "accepted.example.com", t.Ct);
            await t.Waiters.HttpRouteMustHaveListenerSetConditionAsync(route, ls, T("Accepted"), t.Ct);
            await t.Waiters.ListenerSetStatusMustHaveListenersAsync(ls, [Healthy("http", 1)], t.Ct);
        });
    }

    /// <summary>
    /// The checks upstream's ListenerSetHostnameConflict and ListenerSetProtocolConflict share (their manifests differ
    /// only in <paramref name="what"/>): the Gateway's listeners win over every ListenerSet's, then the older ListenerSet
    /// wins; the loser's listener is Conflicted with <paramref name="reason"/>, and a set with no valid listener left is
    /// not accepted.
    /// </summary>
    private static async Task ConflictPrecedenceAsync(TestContext t, string what, string reason)
    {
        ExpectedCondition[] conflicted = [F("Accepted", reason), F("Programmed", reason), T("Conflicted", reason)];
        var withGateway = $"{what}-conflict-with-gateway-listener";
        var withListenerSet = $"{what}-conflict-with-listener-set-listener";

        var gw = Gw($"gateway-with-listenerset-{what}-conflict");
        await t.Waiters.GatewayMustHaveConditionAsync(gw, T("Accepted"), t.Ct);
        await t.Waiters.GatewayStatusMustHaveListenersAsync(gw, [Healthy("gateway-listener", 0), Healthy(withGateway, 0)], t.Ct);
        await t.Waiters.GatewayMustHaveAttachedListenerSetsAsync(gw, 2, t.Ct);

        var ls = Ls($"listenerset-with-{what}-conflict-with-gateway-1");
        await AcceptedAsync(t, ls, "listener-set-1-listener", withListenerSet);
        await t.Waiters.ListenerSetListenerMustHaveConditionsAsync(ls, withGateway, conflicted, t.Ct);
        ls = Ls($"listenerset-with-{what}-conflict-with-gateway-2");
        await NotValidAsync(t, ls);
        await t.Waiters.ListenerSetListenerMustHaveConditionsAsync(ls, withGateway, conflicted, t.Ct);
        ls = Ls($"listenerset-with-{what}-conflict-with-listener-set-1");
        await AcceptedAsync(t, ls, "listener-set-2-listener");
        await t.Waiters.ListenerSetListenerMustHaveConditionsAsync(ls, withListenerSet, conflicted, t.Ct);
        ls = Ls($"listenerset-with-{what}-conflict-with-listener-set-2");
        await NotValidAsync(t, ls);
        await t.Waiters.ListenerSetListenerMustHaveConditionsAsync(ls, withListenerSet, conflicted, t.Ct);
    }

    private static NN Ls(string name) => new(Infra, name);

    /// <summary>Accepted and Programmed (reasons Accepted and Programmed), and the listeners healthy.</summary>
    private static async Task AcceptedAsync(TestContext t, NN ls, params string[] listeners)
    {
        await t.Waiters.ListenerSetMustHaveConditionAsync(ls, T("Accepted"), t.Ct);
        await t.Waiters.ListenerSetMustHaveConditionAsync(ls, T("Programmed"), t.Ct);
        await ListenersHealthyAsync(t, ls, listeners);
    }

    private static async Task ListenersHealthyAsync(TestContext t, NN ls, params string[] listeners)
    {
        foreach (var l in listeners)
        {
            await t.Waiters.ListenerSetListenerMustHaveConditionsAsync(ls, l, [new("ResolvedRefs", "True"), new("Accepted", "True"), new("Programmed", "True")], t.Ct);
        }
    }

    private static async Task RefusedAsync(TestContext t, NN ls, string reason)
    {
        await t.Waiters.ListenerSetMustHaveConditionAsync(ls, F("Accepted", reason), t.Ct);
        await t.Waiters.ListenerSetMustHaveConditionAsync(ls, F("Programmed", reason), t.Ct);
    }

    private static async Task NotValidAsync(TestContext t, NN ls)
    {
        await t.Waiters.ListenerSetMustHaveConditionAsync(ls, F("Accepted", "ListenersNotValid"), t.Ct);
        await t.Waiters.ListenerSetMustHaveConditionAsync(ls, F("Programmed", "ListenersNotValid"), t.Ct);
    }
}

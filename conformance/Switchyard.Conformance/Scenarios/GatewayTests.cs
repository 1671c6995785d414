using System.Text.Json.Nodes;
using Switchyard.Conformance.Kube;
using static Switchyard.Conformance.Scenarios.Dsl;

namespace Switchyard.Conformance.Scenarios;

/// <summary>The core GatewayClass and Gateway tests of GATEWAY-HTTP.</summary>
internal static class GatewayTests
{
    public static IEnumerable<ConformanceTest> All()
    {
        yield return new("GatewayClassObservedGenerationBump", "A GatewayClass's observedGeneration follows spec changes.", [], ["tests/gatewayclass-observed-generation-bump.yaml"], async t =>
        {
            const string name = "gatewayclass-observed-generation-bump";
            await t.Waiters.GatewayClassMustHaveLatestConditionsAsync(name, T("Accepted"), t.Ct);
            var before = Conditions.Generation(await t.Kube.GetAsync(Kinds.GatewayClass, null, name, t.Ct));
            var after = Conditions.Generation(await t.Kube.UpdateAsync(Kinds.GatewayClass, null, name, gc => gc["spec"]!["description"] = "new", t.Ct));
            if (after <= before)
            {
                throw new ConformanceException($"generation did not increase ({before} → {after})");
            }

            await t.Waiters.GatewayClassMustHaveLatestConditionsAsync(name, T("Accepted"), t.Ct);
        });

        yield return new("GatewayInvalidParametersRef", "A Gateway whose infrastructure.parametersRef does not resolve is not accepted.", [], ["tests/gateway-invalid-parameters-ref.yaml"], async t =>
            await t.Waiters.GatewayMustHaveConditionAsync(Gw("gateway-invalid-parameters-ref"), F("Accepted", "InvalidParameters"), t.Ct));

        yield return new("GatewayInvalidRouteKind", "Listeners with unsupported route kinds say so and list only the kinds they support.", [], ["tests/gateway-invalid-route-kind.yaml"], async t =>
        {
            await t.Waiters.GatewayStatusMustHaveListenersAsync(Gw("gateway-only-invalid-route-kind"),
                [new("http", [], 0, [F("ResolvedRefs", "InvalidRouteKinds")])], t.Ct);
            await t.Waiters.GatewayStatusMustHaveListenersAsync(Gw("gateway-supported-and-invalid-route-kind"),
                [new("http", [HttpRoute], 0, [F("ResolvedRefs", "InvalidRouteKinds")])], t.Ct);
        });

        yield return new("GatewayInvalidTLSConfiguration", "HTTPS listeners whose certificateRefs are missing, of the wrong kind or malformed have ResolvedRefs=False.", [], ["tests/gateway-invalid-tls-configuration.yaml"], async t =>
        {
            foreach (var name in new[] { "gateway-certificate-nonexistent-secret", "gateway-certificate-unsupported-group", "gateway-certificate-unsupported-kind", "gateway-certificate-malformed-secret" })
            {
                await t.Waiters.GatewayStatusMustHaveListenersAsync(Gw(name), [new("https", [HttpRoute], 0, [F("ResolvedRefs", "InvalidCertificateRef")])], t.Ct);
            }
        });

        yield return new("GatewayListenerUnsupportedProtocol", "Listeners with an unsupported protocol are not accepted; a Gateway with none valid is not accepted.", [], ["tests/gateway-invalid-listeners-unsupported-protocol.yaml"], async t =>
        {
            await t.Waiters.GatewayMustHaveConditionAsync(Gw("gateway-only-unsupported-protocols"), F("Accepted", "ListenersNotValid"), t.Ct);
            await t.Waiters.GatewayStatusMustHaveListenersAsync(Gw("gateway-only-unsupported-protocols"),
                [new("invalid", [], 0, [F("Accepted", "UnsupportedProtocol")])], t.Ct);
            await t.Waiters.GatewayMustHaveConditionAsync(Gw("gateway-supported-and-unsupported-protocols"), new ExpectedCondition("Accepted", "True"), t.Ct);
            await t.Waiters.GatewayStatusMustHaveListenersAsync(Gw("gateway-supported-and-unsupported-protocols"),
                [Healthy("http", 0), new("invalid", [], 0, [F("Accepted", "UnsupportedProtocol")])], t.Ct);
        });

        yield return new("GatewayModifyListeners", "Listeners added to or removed from a Gateway show up in its status and routing.", [], ["tests/gateway-modify-listeners.yaml"], async t =>
        {
            var add = Gw("gateway-add-listener");
            await t.Waiters.GatewayMustBeReadyAsync(add, t.Ct);
            await t.Kube.UpdateAsync(Kinds.Gateway, add.Namespace, add.Name, gw => ((JsonArray)gw["spec"]!["listeners"]!).Add(new JsonObject
            {
                ["name"] = "http",
                ["port"] = 80,
                ["protocol"] = "HTTP",
                ["allowedRoutes"] = new JsonObject { ["namespaces"] = new JsonObject { ["from"] = "All" } },
            }), t.Ct);
            await t.Waiters.GatewayMustBeReadyAsync(add, t.Ct);
            await t.Waiters.GatewayStatusMustHaveListenersAsync(add, [Healthy("https", 1), Healthy("http", 1)], t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(Route("http-route-1"), [new(add, [T("Accepted")])], t.Ct);
            await t.ExpectAsync(add, Ok("/", "infra-backend-v1"));

            var remove = Gw("gateway-remove-listener");
            await t.Waiters.GatewayMustBeReadyAsync(remove, t.Ct);
            await t.Waiters.GatewayStatusMustHaveListenersAsync(remove, [Healthy("https", 1), Healthy("http", 1)], t.Ct);
            await t.Kube.UpdateAsync(Kinds.Gateway, remove.Namespace, remove.Name, gw =>
            {
                var listeners = (JsonArray)gw["spec"]!["listeners"]!;
                listeners.Remove(listeners.First(l => Conditions.Str(l, "name") == "http"));
            }, t.Ct);
            await t.Waiters.GatewayMustBeReadyAsync(remove, t.Ct);
            await t.Waiters.GatewayStatusMustHaveListenersAsync(remove, [Healthy("https", 1)], t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(Route("http-route-2"), [new(remove, [T("Accepted")])], t.Ct);
        });

        yield return new("GatewayObservedGenerationBump", "A Gateway's conditions follow spec changes to the new generation.", [], ["tests/gateway-observed-generation-bump.yaml"], async t =>
        {
            var gw = Gw("gateway-observed-generation-bump");
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            var before = Conditions.Generation(await t.Kube.GetAsync(Kinds.Gateway, gw.Namespace, gw.Name, t.Ct));
            var after = Conditions.Generation(await t.Kube.UpdateAsync(Kinds.Gateway, gw.Namespace, gw.Name, g => ((JsonArray)g["spec"]!["listeners"]!).Add(new JsonObject
            {
                ["name"] = "alternate",
                ["port"] = 8080,
                ["protocol"] = "HTTP",
            }), t.Ct));
            if (after <= before)
            {
                throw new ConformanceException($"generation did not increase ({before} → {after})");
            }

            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
        });

        yield return new("GatewaySecretInvalidReferenceGrant", "A certificateRef to another namespace is refused when no ReferenceGrant matches it.", [], ["tests/gateway-secret-invalid-reference-grant.yaml"], async t =>
            await t.Waiters.GatewayStatusMustHaveListenersAsync(Gw("gateway-secret-invalid-reference-grant"),
                [new("https", [HttpRoute], 0, [F("ResolvedRefs", "RefNotPermitted")])], t.Ct));

        yield return new("GatewaySecretMissingReferenceGrant", "A certificateRef to another namespace is refused without a ReferenceGrant.", [], ["tests/gateway-secret-missing-reference-grant.yaml"], async t =>
            await t.Waiters.GatewayStatusMustHaveListenersAsync(Gw("gateway-secret-missing-reference-grant"),
                [new("https", [HttpRoute], 0, [F("ResolvedRefs", "RefNotPermitted")])], t.Ct));

        yield return new("GatewaySecretReferenceGrantAllInNamespace", "A ReferenceGrant to every Secret of a namespace permits a certificateRef.", [], ["tests/gateway-secret-reference-grant-all-in-namespace.yaml"], async t =>
            await t.Waiters.GatewayStatusMustHaveListenersAsync(Gw("gateway-secret-reference-grant-all-in-namespace"), [Healthy("https", 0)], t.Ct));

        yield return new("GatewaySecretReferenceGrantSpecific", "A ReferenceGrant to one Secret permits a certificateRef to it.", [], ["tests/gateway-secret-reference-grant-specific.yaml"], async t =>
            await t.Waiters.GatewayStatusMustHaveListenersAsync(Gw("gateway-secret-reference-grant-specific"), [Healthy("https", 0)], t.Ct));

        yield return new("GatewayWithAttachedRoutes", "Listener status counts the routes attached to it, including routes with unresolved references.", [], ["tests/gateway-with-attached-routes.yaml"], async t =>
        {
            await t.Waiters.GatewayStatusMustHaveListenersAsync(Gw("gateway-with-one-attached-route"), [Healthy("http", 1)], t.Ct);
            await t.Waiters.GatewayStatusMustHaveListenersAsync(Gw("gateway-with-two-attached-routes"), [Healthy("http", 2)], t.Ct);
            await t.Waiters.HttpRouteMustHaveConditionAsync(Route("http-route-not-accepted"), Gw("gateway-with-two-attached-routes"), F("Accepted", "NoMatchingListenerHostname"), t.Ct);
            var unresolved = Gw("unresolved-gateway-with-one-attached-unresolved-route");
            await t.Waiters.GatewayStatusMustHaveListenersAsync(unresolved,
                [new("tls", [HttpRoute], 1, [F("ResolvedRefs", "InvalidCertificateRef"), F("Programmed", "Invalid")])], t.Ct);
            await t.Waiters.HttpRouteMustHaveConditionAsync(Route("http-route-4"), unresolved, F("ResolvedRefs", "BackendNotFound"), t.Ct);
        });
    }
}

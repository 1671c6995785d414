using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Switchyard.Conformance.Http;
using Switchyard.Conformance.Kube;
using Switchyard.Kubernetes.Client;
using static Switchyard.Conformance.Scenarios.Dsl;

namespace Switchyard.Conformance.Scenarios;

/// <summary>The core HTTPRoute and ReferenceGrant tests of GATEWAY-HTTP.</summary>
internal static class HttpRouteTests
{
    private const string AppBackend = TestContext.AppBackend;
    private const string WebBackend = TestContext.WebBackend;

    public static IEnumerable<ConformanceTest> All()
    {
        yield return new("HTTPRouteCrossNamespace", "A route in another namespace attaches to a Gateway that selects that namespace.", [], ["tests/httproute-cross-namespace.yaml"], async t =>
        {
            var gw = Gw("backend-namespaces");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("cross-namespace", WebBackend)], t.Ct);
            await t.ExpectAsync(gw, Ok("/", "web-backend", ns: WebBackend));
        });

        yield return new("HTTPRouteExactPathMatching", "Exact path matches match only that path.", [], ["tests/httproute-exact-path-matching.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("exact-matching")], t.Ct);
            await ExpectAllAsync(t, gw,
            [
                Ok("/one", "infra-backend-v1"), Ok("/two", "infra-backend-v2"),
                Status("/", 404), Status("/one/example", 404), Status("/two/", 404), Status("/Two", 404), Status("/onetwo", 404),
            ]);
        });

        yield return new("HTTPRouteHTTPSListener", "Routes attach to HTTPS listeners and are matched by hostname over TLS.", [], ["tests/httproute-https-listener.yaml"], async t =>
        {
            var gw = Gw("same-namespace-with-https-listener");
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            await t.Waiters.HttpRouteMustHaveConditionAsync(Route("httproute-https-test"), gw, T("Accepted"), t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(Route("httproute-https-test-no-hostname"), [new(gw, [T("Accepted")], "https-with-hostname")], t.Ct);
            await ExpectAllAsync(t, gw,
            [
                Https(Ok("/", "infra-backend-v1", "example.org")),
                Https(Status("/", 404, "unknown-example.org")),
                Https(Ok("/", "infra-backend-v2", "second-example.org")),
            ], 443);
        });

        yield return new("HTTPRouteHeaderMatching", "Header matches: all headers of a match, and the most specific rule first.", [], ["tests/httproute-header-matching.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("header-matching")], t.Ct);
            await ExpectAllAsync(t, gw,
            [
                Ok("/", "infra-backend-v1", headers: [("Version", "one")]),
                Ok("/", "infra-backend-v2", headers: [("Version", "two")]),
                Ok("/", "infra-backend-v1", headers: [("Version", "two"), ("Color", "orange")]),
                Ok("/", "infra-backend-v1", headers: [("Color", "blue")]),
                Ok("/", "infra-backend-v1", headers: [("Color", "green")]),
                Ok("/", "infra-backend-v2", headers: [("Color", "red")]),
                Ok("/", "infra-backend-v2", headers: [("Color", "yellow")]),
                Status("/", 404, headers: [("Color", "orange")]),
                Status("/", 404),
                Status("/", 404, headers: [("Version", "ONE")]),
            ]);
        });

        yield return new("HTTPRouteHostnameIntersection", "Routes serve the intersection of their hostnames and their listener's.", [], ["tests/httproute-hostname-intersection.yaml"], async t =>
        {
            var gw = Gw("httproute-hostname-intersection");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw,
                [Route("specific-host-matches-listener-specific-host"), Route("specific-host-matches-listener-wildcard-host"), Route("wildcard-host-matches-listener-specific-host"), Route("wildcard-host-matches-listener-wildcard-host")], t.Ct);
            await t.Waiters.HttpRouteMustHaveConditionAsync(Route("no-intersecting-hosts"), gw, F("Accepted", "NoMatchingListenerHostname"), t.Ct);
            await ExpectAllAsync(t, gw,
            [
                Ok("/s1", "infra-backend-v1", "very.specific.com"),
                Status("/s1", 404, "non.matching.com"), Status("/s1", 404, "foo.nonmatchingwildcard.io"), Status("/s1", 404, "foo.wildcard.io"),
                Ok("/s2", "infra-backend-v2", "foo.wildcard.io"), Ok("/s2", "infra-backend-v2", "bar.wildcard.io"), Ok("/s2", "infra-backend-v2", "foo.bar.wildcard.io"),
                Status("/s2", 404, "non.matching.com"), Status("/s2", 404, "wildcard.io"), Status("/s2", 404, "very.specific.com"),
                Ok("/s3", "infra-backend-v3", "very.specific.com"),
                Status("/s3", 404, "non.matching.com"), Status("/s3", 404, "foo.specific.com"), Status("/s3", 404, "foo.wildcard.io"),
                Ok("/s4", "infra-backend-v1", "foo.anotherwildcard.io"), Ok("/s4", "infra-backend-v1", "bar.anotherwildcard.io"), Ok("/s4", "infra-backend-v1", "foo.bar.anotherwildcard.io"),
                Status("/s4", 404, "anotherwildcard.io"), Status("/s4", 404, "very.specific.com"),
                Status("/s5", 404, "specific.but.wrong.com"), Status("/s5", 404, "wildcard.io"),
            ]);

            var all = Gw("httproute-hostname-intersection-all");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(all, [Route("httproute-hostname-intersection-all")], t.Ct);
            await ExpectAllAsync(t, all,
            [
                Ok("/", "infra-backend-v2", "first.com"), Ok("/", "infra-backend-v2", "sub.first.com"),
                Ok("/", "infra-backend-v2", "second.com"), Ok("/", "infra-backend-v2", "sub.second.com"),
                Status("/", 404, "third.com"), Status("/", 404, "sub.sub.first.com"),
            ]);
        });

        yield return new("HTTPRouteInvalidBackendRefUnknownKind", "A backendRef of an unknown kind: ResolvedRefs=False/InvalidKind and a 500.", [], ["tests/httproute-invalid-backendref-unknown-kind.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            var route = Route("invalid-backend-ref-unknown-kind");
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, T("Accepted"), t.Ct);
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, F("ResolvedRefs", "InvalidKind"), t.Ct);
            await t.ExpectAsync(gw, Status("/", 500));
        });

        yield return new("HTTPRouteInvalidCrossNamespaceBackendRef", "A backendRef to another namespace without a ReferenceGrant: RefNotPermitted and a 500.", [], ["tests/httproute-invalid-cross-namespace-backend-ref.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            var route = Route("invalid-cross-namespace-backend-ref");
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, T("Accepted"), t.Ct);
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, F("ResolvedRefs", "RefNotPermitted"), t.Ct);
            await t.ExpectAsync(gw, Status("/", 500));
        });

        yield return new("HTTPRouteInvalidCrossNamespaceParentRef", "A route in a namespace the listener does not allow is not accepted.", [], ["tests/httproute-invalid-cross-namespace-parent-ref.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            var route = Route("invalid-cross-namespace-parent-ref", WebBackend);
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, F("Accepted", "NotAllowedByListeners"), t.Ct);
            await t.Waiters.HttpRouteMustHaveNoAcceptedParentsAsync(route, t.Ct);
        });

        yield return new("HTTPRouteInvalidNonExistentBackendRef", "A backendRef to a missing Service: BackendNotFound and a 500.", [], ["tests/httproute-invalid-nonexistent-backendref.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            var route = Route("invalid-nonexistent-backend-ref");
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, T("Accepted"), t.Ct);
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, F("ResolvedRefs", "BackendNotFound"), t.Ct);
            await t.ExpectAsync(gw, Status("/", 500));
        });

        yield return new("HTTPRouteInvalidParentRefNotMatchingSectionName", "A parentRef naming a missing listener is not accepted (NoMatchingParent).", [], ["tests/httproute-invalid-parentref-not-matching-section-name.yaml"], async t =>
        {
            var route = Route("httproute-listener-not-matching-section-name");
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, Gw("same-namespace"), F("Accepted", "NoMatchingParent"), t.Ct);
            await t.Waiters.HttpRouteMustHaveNoAcceptedParentsAsync(route, t.Ct);
        });

        yield return new("HTTPRouteInvalidReferenceGrant", "ReferenceGrants that do not match the route's backendRef do not permit it.", [], ["tests/httproute-invalid-reference-grant.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            var route = Route("reference-grant");
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, T("Accepted"), t.Ct);
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, F("ResolvedRefs", "RefNotPermitted"), t.Ct);
            await t.ExpectAsync(gw, Status("/", 500));
        });

        yield return new("HTTPRouteListenerHostnameMatching", "Routes attached to listeners by sectionName serve those listeners' hostnames.", [], ["tests/httproute-listener-hostname-matching.yaml"], async t =>
        {
            var gw = Gw("httproute-listener-hostname-matching");
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(Route("backend-v1"), [new(gw, [T("Accepted")], "listener-1")], t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(Route("backend-v2"), [new(gw, [T("Accepted")], "listener-2")], t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(Route("backend-v3"), [new(gw, [T("Accepted")], "listener-3"), new(gw, [T("Accepted")], "listener-4")], t.Ct);
            await ExpectAllAsync(t, gw,
            [
                Ok("/", "infra-backend-v1", "bar.com"), Ok("/", "infra-backend-v2", "foo.bar.com"),
                Ok("/", "infra-backend-v3", "baz.bar.com"), Ok("/", "infra-backend-v3", "boo.bar.com"),
                Ok("/", "infra-backend-v3", "multiple.prefixes.bar.com"), Ok("/", "infra-backend-v3", "multiple.prefixes.foo.com"),
                Status("/", 404, "foo.com"), Status("/", 404, "no.matching.host"),
            ]);
        });

        yield return new("HTTPRouteMatching", "Path prefix and header matches across rules of one route.", [], ["tests/httproute-matching.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("matching")], t.Ct);
            await ExpectAllAsync(t, gw,
            [
                Ok("/", "infra-backend-v1"), Ok("/example", "infra-backend-v1"), Ok("/", "infra-backend-v1", headers: [("Version", "one")]),
                Ok("/v2", "infra-backend-v2"), Ok("/v2/example", "infra-backend-v2"), Ok("/", "infra-backend-v2", headers: [("Version", "two")]),
            ]);
        });

        yield return new("HTTPRouteMatchingAcrossRoutes", "Matches of several routes on one Gateway combine, per hostname.", [], ["tests/httproute-matching-across-routes.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("matching-part1"), Route("matching-part2")], t.Ct);
            await ExpectAllAsync(t, gw,
            [
                Ok("/", "infra-backend-v1", "example.com"), Ok("/example", "infra-backend-v1", "example.com"), Ok("/example", "infra-backend-v1", "example.net"),
                Ok("/", "infra-backend-v1", "example.com", headers: [("Version", "one")]),
                Ok("/v2", "infra-backend-v2", "example.com"), Ok("/v2/example", "infra-backend-v2", "example.com"),
                Ok("/", "infra-backend-v2", "example.com", headers: [("Version", "two")]),
                Ok("/v2", "infra-backend-v1", "example.net"), Ok("/", "infra-backend-v1", "example.net", headers: [("Version", "two")]),
            ]);
        });

        yield return new("HTTPRouteMultipleGateways", "One route attached to two Gateways serves on both, beside each Gateway's own routes.", [], ["tests/httproute-multiple-gateways.yaml"], async t =>
        {
            var same = Gw("same-namespace");
            var all = Gw("all-namespaces");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(same, [Route("same-namespace-dedicated-route")], t.Ct);
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(all, [Route("all-namespaces-dedicated-route")], t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(Route("multiple-gateways-shared-route"), [new(same, [T("Accepted")]), new(all, [T("Accepted")])], t.Ct);
            await ExpectAllAsync(t, same, [Ok("/", "infra-backend-v2"), Ok("/shared", "infra-backend-v1")]);
            await ExpectAllAsync(t, all, [Ok("/", "infra-backend-v3"), Ok("/shared", "infra-backend-v1")]);
        });

        yield return new("HTTPRouteNoBackendRefs", "Rules without backendRefs answer 500; the rest of the route works.", [], ["tests/httproute-omitted-backendrefs.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("omitted-backendrefs")], t.Ct);
            await ExpectAllAsync(t, gw, [Status("/omitted-no-forward", 500), Status("/empty-no-forward", 500), Ok("/", "infra-backend-v1")]);
        });

        yield return new("HTTPRouteObservedGenerationBump", "Route parent conditions follow spec changes to the new generation.", [], ["tests/httproute-observed-generation-bump.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            var route = Route("observed-generation-bump");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [route], t.Ct);
            var before = Conditions.Generation(await t.Kube.GetAsync(Kinds.HttpRoute, route.Namespace, route.Name, t.Ct));
            var after = Conditions.Generation(await t.Kube.UpdateAsync(Kinds.HttpRoute, route.Namespace, route.Name, r =>
                ((JsonObject)r["spec"]!["rules"]![0]!)["matches"] = new JsonArray(new JsonObject { ["path"] = new JsonObject { ["type"] = "PathPrefix", ["value"] = "/bump" } }), t.Ct));
            if (after <= before)
            {
                throw new ConformanceException($"generation did not increase ({before} → {after})");
            }

            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [route], t.Ct);
        });

        yield return new("HTTPRoutePartiallyInvalidViaInvalidReferenceGrant", "A rule with a refused backendRef answers 500 while its sibling rule works.", [], ["tests/httproute-partially-invalid-via-invalid-reference-grant.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            var route = Route("invalid-reference-grant");
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, T("Accepted"), t.Ct);
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, F("ResolvedRefs", "RefNotPermitted"), t.Ct);
            await ExpectAllAsync(t, gw, [Status("/v2", 500), Ok("/", "app-backend-v1", ns: AppBackend)]);
        });

        yield return new("HTTPRoutePathMatchOrder", "Exact before prefix, and longer prefixes before shorter ones.", [], ["tests/httproute-path-match-order.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("path-matching-order")], t.Ct);
            await ExpectAllAsync(t, gw,
            [
                Ok("/match/exact/one", "infra-backend-v3"), Ok("/match/exact", "infra-backend-v2"), Ok("/match", "infra-backend-v1"),
                Ok("/match/prefix/one/example", "infra-backend-v2"), Ok("/match/prefix/example", "infra-backend-v1"), Ok("/match/example", "infra-backend-v3"),
                Status("/example", 404),
            ]);
        });

        yield return new("HTTPRouteRedirectHostAndStatus", "RequestRedirect with a hostname, with the default (302) and a given status.", [], ["tests/httproute-redirect-host-and-status.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("redirect-host-and-status")], t.Ct);
            await ExpectAllAsync(t, gw,
            [
                Redirect("/hostname-redirect", 302, new ExpectedRedirect { Host = "example.org" }),
                Redirect("/host-and-status", 301, new ExpectedRedirect { Host = "example.org" }),
            ]);
        });

        yield return new("HTTPRouteReferenceGrant", "A ReferenceGrant permits a backendRef to a Service in another namespace.", [], ["tests/httproute-reference-grant.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("reference-grant")], t.Ct);
            await t.Waiters.HttpRoutesMustHaveResolvedRefsAsync(gw, [Route("reference-grant")], t.Ct);
            await t.ExpectAsync(gw, Ok("/", "web-backend", ns: WebBackend));
        });

        yield return new("HTTPRouteRequestHeaderModifier", "RequestHeaderModifier sets, adds and removes headers, case-insensitively.", [], ["tests/httproute-request-header-modifier.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("request-header-modifier")], t.Ct);
            await ExpectAllAsync(t, gw, RequestHeaderModifierCases("infra-backend-v1"));
        });

        yield return new("HTTPRouteServiceTypes", "Backends behind headless Services and Services with hand-written EndpointSlices.", [], ["tests/httproute-service-types.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            var pods = await t.Kube.For(KubeObjects.Pods).ListAsync(Infra, new ListOptions { LabelSelector = "app=infra-backend-v1" }, t.Ct);
            foreach (var slice in new[] { "manual-endpointslices", "headless-manual-endpointslices" })
            {
                foreach (var (suffix, family) in new[] { ("ip4", "IPv4"), ("ip6", "IPv6") })
                {
                    var endpoints = new JsonArray();
                    foreach (var pod in pods.Items)
                    {
                        foreach (var ip in (pod["status"]?["podIPs"] as JsonArray ?? []).Select(p => Conditions.Str(p, "ip")).OfType<string>())
                        {
                            if (ip.Contains(':', StringComparison.Ordinal) == (family == "IPv6"))
                            {
                                endpoints.Add(new JsonObject { ["addresses"] = new JsonArray(ip), ["conditions"] = new JsonObject { ["ready"] = true } });
                            }
                        }
                    }

                    await t.Kube.UpdateAsync(ResourceType.EndpointSlices, Infra, $"{slice}-{suffix}", s => s["endpoints"] = endpoints, t.Ct);
                }
            }

            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("service-types")], t.Ct);
            await ExpectAllAsync(t, gw, [Ok("/manual-endpointslices", "infra-backend-v1"), Ok("/headless", "infra-backend-v1"), Ok("/headless-manual-endpointslices", "infra-backend-v1")]);
        });

        yield return new("HTTPRouteSimpleSameNamespace", "A route in the Gateway's namespace forwards to a Service there.", [], ["tests/httproute-simple-same-namespace.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("gateway-conformance-infra-test")], t.Ct);
            await t.ExpectAsync(gw, Ok("/", "infra-backend-v1"));
        });

        yield return new("HTTPRouteWeight", "Traffic is split by backendRef weight (70/30/0).", [], ["tests/httproute-weight.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("weighted-backends")], t.Ct);
            await t.ExpectAsync(gw, Ok("/", "infra-backend-v"));
            await WeightDistributionAsync(t, gw, new Dictionary<string, double> { ["infra-backend-v1"] = 0.7, ["infra-backend-v2"] = 0.3, ["infra-backend-v3"] = 0 });
        });
    }

    public static ExpectedResponse Https(ExpectedResponse r) => r with { Request = r.Request with { Scheme = "https" } };

    public static ExpectedResponse Redirect(string path, int status, ExpectedRedirect redirect, string host = "") => new()
    {
        Request = new Request { Path = path, Host = host, UnfollowRedirect = true },
        StatusCodes = [status],
        RedirectRequest = redirect,
    };

    public static ExpectedResponse WithHeaders(string path, string backend, (string, string)[] sent, Dictionary<string, string> expected, string[]? absent = null) => Ok(path, backend, headers: sent) with
    {
        ExpectedRequest = new ExpectedRequest { Headers = expected, AbsentHeaders = absent ?? [] },
    };

    public static ExpectedResponse[] RequestHeaderModifierCases(string backend) =>
    [
        WithHeaders("/set", backend, [("Some-Other-Header", "val")], H(("Some-Other-Header", "val"), ("X-Header-Set", "set-overwrites-values"))),
        WithHeaders("/set", backend, [("Some-Other-Header", "val"), ("X-Header-Set", "some-other-value")], H(("Some-Other-Header", "val"), ("X-Header-Set", "set-overwrites-values"))),
        WithHeaders("/add", backend, [("Some-Other-Header", "val")], H(("Some-Other-Header", "val"), ("X-Header-Add", "add-appends-values"))),
        WithHeaders("/add", backend, [("Some-Other-Header", "val"), ("X-Header-Add", "some-other-value")], H(("Some-Other-Header", "val"), ("X-Header-Add", "some-other-value,add-appends-values"))),
        WithHeaders("/remove", backend, [("X-Header-Remove", "val")], H(), ["X-Header-Remove"]),
        WithHeaders("/multiple", backend, [("X-Header-Set-2", "set-val"), ("X-Header-Add-2", "add-val-2"), ("X-Header-Remove-2", "remove-val-2"), ("Another-Header", "another-header-val")],
            H(("X-Header-Set-1", "header-set-1"), ("X-Header-Set-2", "header-set-2"), ("X-Header-Add-1", "header-add-1"), ("X-Header-Add-2", "add-val-2,header-add-2"), ("X-Header-Add-3", "header-add-3"), ("Another-Header", "another-header-val")),
            ["X-Header-Remove-1", "X-Header-Remove-2"]),
        WithHeaders("/case-insensitivity", backend, [("x-header-set", "original-val-set"), ("x-header-add", "original-val-add"), ("x-header-remove", "original-val-remove"), ("Another-Header", "another-header-val")],
            H(("X-Header-Set", "header-set"), ("X-Header-Add", "original-val-add,header-add"), ("Another-Header", "another-header-val")), ["X-Header-Remove"]),
    ];

    /// <summary>Upstream's weight check: 500 requests, each backend's share within 5 points of its weight (3 tries).</summary>
    public static async Task WeightDistributionAsync(TestContext t, NN gw, Dictionary<string, double> expected, string path = "/")
    {
        const int total = 500;
        string? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var address = await t.GatewayAddressAsync(gw);
            var seen = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            var failures = 0;
            await Parallel.ForEachAsync(Enumerable.Range(0, total), new ParallelOptions { MaxDegreeOfParallelism = 10, CancellationToken = t.Ct }, async (_, ct) =>
            {
                try
                {
                    var r = await t.Http.SendAsync(address, Ok(path, ""), ct);
                    var pod = r.Echo?.Pod ?? "";
                    var backend = expected.Keys.FirstOrDefault(b => pod.StartsWith(b, StringComparison.Ordinal)) ?? "other";
                    seen.AddOrUpdate(backend, 1, (_, n) => n + 1);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }
            });
            last = string.Join(", ", seen.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")) + (failures > 0 ? $", {failures} failed" : "");
            var ok = failures == 0 && !seen.ContainsKey("other") && expected.All(kv =>
            {
                var share = seen.GetValueOrDefault(kv.Key) / (double)total;
                return kv.Value == 0 ? share == 0 : Math.Abs(share - kv.Value) <= 0.05;
            });
            if (ok)
            {
                return;
            }
        }

        throw new ConformanceException($"weights not respected over {total} requests: {last}; expected {string.Join(", ", expected.Select(kv => $"{kv.Key}={kv.Value.ToString("P0", CultureInfo.InvariantCulture)}"))}");
    }
}

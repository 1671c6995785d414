using Switchyard.Conformance.Http;
using Switchyard.Conformance.Kube;
using static Switchyard.Conformance.Scenarios.Dsl;
using static Switchyard.Conformance.Scenarios.HttpRouteTests;

namespace Switchyard.Conformance.Scenarios;

/// <summary>The extended GATEWAY-HTTP tests of the features Switchyard's data plane supports.</summary>
internal static class ExtendedTests
{
    public static IEnumerable<ConformanceTest> All()
    {
        yield return new("GatewayWithAttachedRoutesWithPort8080", "A listener on port 8080 is served and counts its routes.", ["GatewayPort8080"], ["tests/gateway-with-attached-routes-with-port-8080.yaml"], async t =>
        {
            var gw = Gw("gateway-with-two-listeners-and-one-attached-route");
            await t.Waiters.GatewayStatusMustHaveListenersAsync(gw, [Healthy("http-unattached", 0), Healthy("http", 1)], t.Ct);
            await t.ExpectAsync(gw, Ok("/", "infra-backend-v1"));
        });

        yield return new("GatewayHTTPListenerIsolation", "A request is served only by the routes of the most specific listener matching its host.", ["GatewayHTTPListenerIsolation"], ["tests/gateway-http-listener-isolation.yaml"], async t =>
        {
            var gw = Gw("http-listener-isolation");
            var listeners = new[] { ("empty-hostname", "bar.com"), ("wildcard-example-com", "bar.example.com"), ("wildcard-foo-example-com", "bar.foo.example.com"), ("abc-foo-example-com", "abc.foo.example.com") };
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            foreach (var (listener, _) in listeners)
            {
                await t.Waiters.HttpRouteMustHaveParentsAsync(Route("attaches-to-" + listener), [new(gw, [T("Accepted")], listener)], t.Ct);
            }

            foreach (var (listener, host) in listeners)
            {
                foreach (var (other, _) in listeners)
                {
                    await t.ExpectAsync(gw, other == listener ? Ok("/" + other, "infra-backend-v1", host) : Status("/" + other, 404, host));
                }
            }
        });

        yield return new("HTTPRoute303Redirect", "RequestRedirect with status 303.", ["HTTPRoute303RedirectStatusCode"], ["tests/httproute-303-redirect.yaml"], t => RedirectsAsync(t, "303-redirect", [Redirect("/see-other", 303, new ExpectedRedirect())]));

        yield return new("HTTPRoute307Redirect", "RequestRedirect with status 307.", ["HTTPRoute307RedirectStatusCode"], ["tests/httproute-307-redirect.yaml"], t => RedirectsAsync(t, "307-redirect", [Redirect("/temporary", 307, new ExpectedRedirect())]));

        yield return new("HTTPRoute308Redirect", "RequestRedirect with status 308.", ["HTTPRoute308RedirectStatusCode"], ["tests/httproute-308-redirect.yaml"], t => RedirectsAsync(t, "308-redirect", [Redirect("/permanent", 308, new ExpectedRedirect())]));

        yield return new("HTTPRouteBackendRequestHeaderModifier", "RequestHeaderModifier on a backendRef.", ["HTTPRouteBackendRequestHeaderModification"], ["tests/httproute-request-header-modifier-backend.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("request-header-modifier")], t.Ct);
            await ExpectAllAsync(t, gw, RequestHeaderModifierCases("infra-backend-v1"));
        });

        yield return new("HTTPRouteHTTPSListenerDetectMisdirectedRequests", "HTTPS listeners on one port answer 421 when the Host belongs to another listener than the TLS server name.", ["GatewayHTTPSListenerDetectMisdirectedRequests"], ["tests/httproute-https-listener-detect-misdirected-requests.yaml"], async t =>
        {
            var gw = Gw("same-namespace-with-https-listener");
            NN[] routes = [.. Enumerable.Range(1, 4).Select(i => Route($"https-listener-detect-misdirected-requests-test-{i}"))];
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            foreach (var route in routes)
            {
                // Each route names its listener by sectionName, so its parent status is matched by the condition alone.
                await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, T("Accepted"), t.Ct);
                await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, T("ResolvedRefs"), t.Ct);
            }

            (string Sni, string Host, int Status, string? Backend)[] cases =
            [
                ("example.org", "example.org", 200, "infra-backend-v1"), ("example.org", "second-example.org", 421, null), ("example.org", "unknown-example.org", 404, null),
                ("second-example.org", "second-example.org", 200, "infra-backend-v2"), ("second-example.org", "example.org", 421, null), ("second-example.org", "unknown-example.org", 421, null),
                ("third-example.wildcard.org", "third-example.wildcard.org", 200, "infra-backend-v3"), ("third-example.wildcard.org", "fith-example.wildcard.org", 200, "infra-backend-v3"),
                ("third-example.wildcard.org", "fourth-example.wildcard.org", 421, null), ("third-example.wildcard.org", "second-example.org", 421, null), ("third-example.wildcard.org", "unknown-example.org", 421, null),
                ("fourth-example.wildcard.org", "fourth-example.wildcard.org", 200, "infra-backend-v1"), ("fourth-example.wildcard.org", "fith-example.wildcard.org", 421, null),
                ("unknown-example.org", "example.org", 200, "infra-backend-v1"), ("unknown-example.org", "unknown-example.org", 404, null),
            ];
            foreach (var (sni, host, status, backend) in cases)
            {
                var expected = backend is null ? Status("/detect-misdirected-requests", status, host) : Ok("/detect-misdirected-requests", backend, host);
                await t.ExpectAsync(gw, Https(expected with { Request = expected.Request with { ServerName = sni } }), 443);
            }
        });

        yield return new("HTTPRouteInvalidParentRefNotMatchingListenerPort", "A parentRef port no listener has is not accepted (NoMatchingParent).", ["HTTPRouteDestinationPortMatching"], ["tests/httproute-invalid-parentref-not-matching-listener-port.yaml"], async t =>
        {
            var route = Route("httproute-listener-not-matching-route-port");
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, Gw("same-namespace"), F("Accepted", "NoMatchingParent"), t.Ct);
            await t.Waiters.HttpRouteMustHaveNoAcceptedParentsAsync(route, t.Ct);
        });

        yield return new("HTTPRouteInvalidParentRefSectionNameNotMatchingPort", "A parentRef whose sectionName and port name no one listener is not accepted, and attaches nowhere.", ["HTTPRouteParentRefPort"], ["tests/httproute-invalid-parentref-section-name-not-matching-port.yaml"], async t =>
        {
            var gw = Gw("gateway-with-one-not-matching-port-and-section-name-route");
            var route = Route("httproute-listener-section-name-not-matching-port");
            await t.Waiters.HttpRouteMustHaveConditionAsync(route, gw, F("Accepted", "NoMatchingParent"), t.Ct);
            await t.Waiters.HttpRouteMustHaveNoAcceptedParentsAsync(route, t.Ct);
            await t.Waiters.GatewayListenersMustHaveAttachedRoutesAsync(gw, "http", 0, t.Ct);
        });

        yield return new("HTTPRouteListenerPortMatching", "parentRef ports select the listeners of that port.", ["HTTPRouteParentRefPort"], ["tests/httproute-listener-port-matching.yaml"], async t =>
        {
            var gw = Gw("httproute-listener-port-matching");
            await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(Route("backend-v1"), [new(gw, [T("Accepted")], null, 80)], t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(Route("backend-v2"), [new(gw, [T("Accepted")], null, 8080)], t.Ct);
            await t.Waiters.HttpRouteMustHaveParentsAsync(Route("backend-v3"), [new(gw, [T("Accepted")], "listener-4", 8090)], t.Ct);
            await t.ExpectAsync(gw, Ok("/", "infra-backend-v1", "foo.com"), 80);
            await t.ExpectAsync(gw, Status("/", 404, "bar.com"), 80);
            await t.ExpectAsync(gw, Ok("/", "infra-backend-v2", "foo.com"), 8080);
            await t.ExpectAsync(gw, Ok("/", "infra-backend-v2", "bar.com"), 8080);
            await t.ExpectAsync(gw, Ok("/", "infra-backend-v3", "foo.com"), 8090);
            await t.ExpectAsync(gw, Status("/", 404, "bar.com"), 8090);
        });

        yield return new("HTTPRouteMethodMatching", "Method matches, alone and with path and header matches.", ["HTTPRouteMethodMatching"], ["tests/httproute-method-matching.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("method-matching")], t.Ct);
            await ExpectAllAsync(t, gw,
            [
                M("POST", Ok("/", "infra-backend-v1")), M("GET", Ok("/", "infra-backend-v2")), M("GET", Ok("/path1", "infra-backend-v1")),
                M("PUT", Ok("/", "infra-backend-v2", headers: [("version", "one")])),
                M("POST", Ok("/path2", "infra-backend-v3", headers: [("version", "two")])),
                M("PATCH", Ok("/path3", "infra-backend-v1")), M("DELETE", Ok("/path4", "infra-backend-v1", headers: [("version", "three")])),
                M("GET", Ok("/path5", "infra-backend-v1")), M("PATCH", Ok("/path5", "infra-backend-v1")), M("PUT", Ok("/path5", "infra-backend-v1")),
                M("PATCH", Ok("/", "infra-backend-v2")), M("PUT", Ok("/", "infra-backend-v3", headers: [("version", "four")])),
                M("PUT", Status("/", 404)), M("DELETE", Status("/", 404)), M("PUT", Status("/path4", 404, headers: [("version", "three")])),
            ]);
        });

        yield return new("HTTPRouteNamedRule", "Named and unnamed rules both route.", ["HTTPRouteNamedRouteRule"], ["tests/httproute-named-rule.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("http-named-rules")], t.Ct);
            await ExpectAllAsync(t, gw, [Ok("/named", "infra-backend-v1"), Ok("/unnamed", "infra-backend-v2")]);
        });

        yield return new("HTTPRouteQueryParamMatching", "Query parameter matches, alone and with path and header matches.", ["HTTPRouteQueryParamMatching"], ["tests/httproute-query-param-matching.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("query-param-matching")], t.Ct);
            await ExpectAllAsync(t, gw,
            [
                Ok("/?animal=whale", "infra-backend-v1"), Ok("/?animal=dolphin", "infra-backend-v2"),
                Ok("/?animal=dolphin&color=blue", "infra-backend-v3"), Ok("/?ANIMAL=Whale", "infra-backend-v3"),
                Ok("/path1?animal=whale", "infra-backend-v1"), Ok("/?animal=whale", "infra-backend-v2", headers: [("version", "one")]),
                Ok("/path2?animal=whale", "infra-backend-v3", headers: [("version", "two")]),
                Ok("/path3?animal=shark", "infra-backend-v1"), Ok("/path4?animal=kraken", "infra-backend-v1", headers: [("version", "three")]),
                Ok("/path5?animal=hydra", "infra-backend-v1"), Ok("/?animal=hydra", "infra-backend-v2"), Ok("/", "infra-backend-v3", headers: [("version", "four")]),
                Ok("/?animal=dolphin&color=yellow", "infra-backend-v2"),
                Status("/?animal=whalefish", 404), Status("/", 404), Status("/?color=blue", 404), Status("/path4?animal=kraken", 404),
            ]);
        });

        yield return new("HTTPRouteRedirectPath", "RequestRedirect replacing the path (prefix or full), with host and status.", ["HTTPRoutePathRedirect"], ["tests/httproute-redirect-path.yaml"], t => RedirectsAsync(t, "redirect-path",
        [
            Redirect("/original-prefix/lemon", 302, new ExpectedRedirect { Path = "/replacement-prefix/lemon" }),
            Redirect("/full/path/original", 302, new ExpectedRedirect { Path = "/full-path-replacement" }),
            Redirect("/path-and-host", 302, new ExpectedRedirect { Host = "example.org", Path = "/replacement-prefix" }),
            Redirect("/path-and-status", 301, new ExpectedRedirect { Path = "/replacement-prefix" }),
            Redirect("/full-path-and-host", 302, new ExpectedRedirect { Host = "example.org", Path = "/replacement-full" }),
            Redirect("/full-path-and-status", 301, new ExpectedRedirect { Path = "/replacement-full" }),
        ]));

        yield return new("HTTPRouteRedirectPort", "RequestRedirect to another port, with host and status.", ["HTTPRoutePortRedirect"], ["tests/httproute-redirect-port.yaml"], t => RedirectsAsync(t, "redirect-port",
        [
            Redirect("/port", 302, new ExpectedRedirect { Port = 8083 }),
            Redirect("/port-and-host", 302, new ExpectedRedirect { Host = "example.org", Port = 8083 }),
            Redirect("/port-and-status", 301, new ExpectedRedirect { Port = 8083 }),
            Redirect("/port-and-host-and-status", 302, new ExpectedRedirect { Host = "example.org", Port = 8083 }),
        ]));

        yield return new("HTTPRouteRedirectScheme", "RequestRedirect to https, with host and status.", ["HTTPRouteSchemeRedirect"], ["tests/httproute-redirect-scheme.yaml"], t => RedirectsAsync(t, "redirect-scheme",
        [
            Redirect("/scheme", 302, new ExpectedRedirect { Scheme = "https" }),
            Redirect("/scheme-and-host", 302, new ExpectedRedirect { Scheme = "https", Host = "example.org" }),
            Redirect("/scheme-and-status", 301, new ExpectedRedirect { Scheme = "https" }),
            Redirect("/scheme-and-host-and-status", 302, new ExpectedRedirect { Scheme = "https", Host = "example.org" }),
        ]));

        yield return new("HTTPRouteRedirectPortAndScheme", "Redirect ports default from the scheme or the listener, and are left out when they are the scheme's.", ["HTTPRoutePortRedirect", "GatewayPort8080"], ["tests/httproute-redirect-port-and-scheme.yaml"], async t =>
        {
            var gw80 = Gw("same-namespace");
            var gw8080 = Gw("same-namespace-with-http-listener-on-8080");
            var gw443 = Gw("same-namespace-with-https-listener");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw80, [Route("http-route-for-listener-on-port-80")], t.Ct);
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw8080, [Route("http-route-for-listener-on-port-8080")], t.Ct);
            await t.Waiters.GatewayMustBeReadyAsync(gw443, t.Ct);
            await t.Waiters.HttpRouteMustHaveConditionAsync(Route("http-route-for-listener-on-port-443"), gw443, T("Accepted"), t.Ct);
            static ExpectedResponse R(string path, string scheme, int? port, string requestScheme = "http") =>
                Redirect(path, 302, new ExpectedRedirect { Scheme = scheme, Host = "example.org", Port = port }, "example.org") is var r && requestScheme == "https" ? Https(r) : r;
            await ExpectAllAsync(t, gw80,
            [
                R("/scheme-nil-and-port-nil", "http", null), R("/scheme-nil-and-port-80", "http", null), R("/scheme-nil-and-port-8080", "http", 8080),
                R("/scheme-https-and-port-nil", "https", null), R("/scheme-https-and-port-443", "https", null), R("/scheme-https-and-port-8443", "https", 8443),
            ]);
            await ExpectAllAsync(t, gw8080, [R("/scheme-nil-and-port-nil", "http", 8080), R("/scheme-nil-and-port-80", "http", null), R("/scheme-https-and-port-nil", "https", null)], 8080);
            await ExpectAllAsync(t, gw443,
            [
                R("/scheme-nil-and-port-nil", "https", null, "https"), R("/scheme-nil-and-port-443", "https", null, "https"), R("/scheme-nil-and-port-8443", "https", 8443, "https"),
                R("/scheme-http-and-port-nil", "http", null, "https"), R("/scheme-http-and-port-80", "http", null, "https"), R("/scheme-http-and-port-8080", "http", 8080, "https"),
            ], 443);
        });

        yield return new("HTTPRouteRequestMirror", "RequestMirror sends a copy to another backend; filters before it apply to both.", ["HTTPRouteRequestMirror"], ["tests/httproute-request-mirror.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("request-mirror")], t.Ct);
            await MirroredAsync(t, gw, Ok("/mirror", "infra-backend-v1"), ["infra-backend-v2"]);
            await MirroredAsync(t, gw, WithHeaders("/mirror-and-modify-headers", "infra-backend-v1", [("X-Header-Remove", "remove-val"), ("X-Header-Add-Append", "append-val-1"), ("X-Header-Set", "some-value")],
                H(("X-Header-Add", "header-val-1"), ("X-Header-Add-Append", "append-val-1,header-val-2"), ("X-Header-Set", "set-overwrites-values")), ["X-Header-Remove"]), ["infra-backend-v2"]);
        });

        yield return new("HTTPRouteRequestMultipleMirrors", "Several RequestMirror filters each get a copy.", ["HTTPRouteRequestMirror", "HTTPRouteRequestMultipleMirrors"], ["tests/httproute-request-multiple-mirrors.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("request-multiple-mirrors")], t.Ct);
            await MirroredAsync(t, gw, Ok("/multi-mirror", "infra-backend-v1"), ["infra-backend-v2", "infra-backend-v3"]);
            await MirroredAsync(t, gw, WithHeaders("/multi-mirror-and-modify-request-headers", "infra-backend-v1", [("X-Header-Remove", "remove-val"), ("X-Header-Add-Append", "append-val-1"), ("X-Header-Set", "some-value")],
                H(("X-Header-Add", "header-val-1"), ("X-Header-Add-Append", "append-val-1,header-val-2"), ("X-Header-Set", "set-overwrites-values")), ["X-Header-Remove"]), ["infra-backend-v2", "infra-backend-v3"]);
        });

        yield return new("HTTPRouteRequestPercentageMirror", "RequestMirror with percent or fraction copies about that share of the requests.", ["HTTPRouteRequestPercentageMirror"], ["tests/httproute-request-percentage-mirror.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("request-percentage-mirror")], t.Ct);
            await MirroredShareAsync(t, gw, Ok("/percent-mirror", "infra-backend-v1"), "infra-backend-v2", 20);
            await MirroredShareAsync(t, gw, Ok("/percent-mirror-fraction", "infra-backend-v1"), "infra-backend-v2", 50);
            await MirroredShareAsync(t, gw, WithHeaders("/percent-mirror-and-modify-headers", "infra-backend-v1", [("X-Header-Remove", "remove-val"), ("X-Header-Add-Append", "append-val-1"), ("X-Header-Set", "some-value")],
                H(("X-Header-Add", "header-val-1"), ("X-Header-Add-Append", "append-val-1,header-val-2"), ("X-Header-Set", "set-overwrites-values")), ["X-Header-Remove"]), "infra-backend-v2", 35);
        });

        yield return new("HTTPRouteRequestHeaderModifierBackendWeights", "Each weighted backendRef's own RequestHeaderModifier reaches only that backend.", ["HTTPRouteBackendRequestHeaderModification"], ["tests/httproute-request-header-modifier-backend-weights.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("request-header-modifier-backend-weights")], t.Ct);
            var address = await t.GatewayAddressAsync(gw);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            await Poll.UntilAsync("both weighted backends to answer", t.Options.Timeout, async ct =>
            {
                for (var i = 0; i < 40; i++)
                {
                    var answer = await t.Http.SendAsync(address, Ok("/", "infra-backend"), ct);
                    if (answer.StatusCode != 200 || answer.Echo is not { } echo)
                    {
                        return (false, $"status {answer.StatusCode}");
                    }

                    // Each answer carries the header of the backendRef that was picked, never the other's.
                    var backend = echo.Pod.StartsWith("infra-backend-v1", StringComparison.Ordinal) ? "infra-backend-v1" : "infra-backend-v2";
                    var header = echo.Headers.TryGetValue("Backend", out var values) ? string.Join(",", values) : "<absent>";
                    if (header != backend)
                    {
                        throw new ConformanceException($"pod {echo.Pod} received Backend: {header}, expected {backend}");
                    }

                    seen.Add(backend);
                }

                return (seen.Count == 2, $"only {string.Join(", ", seen)} answered");
            }, t.Ct);
        });

        yield return new("HTTPRouteResponseHeaderModifier", "ResponseHeaderModifier sets, adds and removes response headers, case-insensitively.", ["HTTPRouteResponseHeaderModification"], ["tests/httproute-response-header-modifier.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("response-header-modifier")], t.Ct);
            static ExpectedResponse Rh(string path, Dictionary<string, string> backendSets, Dictionary<string, string> expected, string[]? absent = null) =>
                Ok(path, "infra-backend-v1") with { BackendSetResponseHeaders = backendSets, ResponseHeaders = expected, AbsentResponseHeaders = absent ?? [] };
            await ExpectAllAsync(t, gw,
            [
                Rh("/set", H(("Some-Other-Header", "val")), H(("Some-Other-Header", "val"), ("X-Header-Set", "set-overwrites-values"))),
                Rh("/set", H(("Some-Other-Header", "val"), ("X-Header-Set", "some-other-value")), H(("Some-Other-Header", "val"), ("X-Header-Set", "set-overwrites-values"))),
                Rh("/add", H(("Some-Other-Header", "val")), H(("Some-Other-Header", "val"), ("X-Header-Add", "add-appends-values"))),
                Rh("/add", H(("Some-Other-Header", "val"), ("X-Header-Add", "some-other-value")), H(("Some-Other-Header", "val"), ("X-Header-Add", "some-other-value,add-appends-values"))),
                Rh("/remove", H(("X-Header-Remove", "val")), H(), ["X-Header-Remove"]),
                Rh("/multiple", H(("X-Header-Set-2", "set-val"), ("X-Header-Add-2", "add-val-2"), ("X-Header-Remove-2", "remove-val-2"), ("Another-Header", "another-header-val")),
                    H(("X-Header-Set-1", "header-set-1"), ("X-Header-Set-2", "header-set-2"), ("X-Header-Add-1", "header-add-1"), ("X-Header-Add-2", "add-val-2,header-add-2"), ("X-Header-Add-3", "header-add-3"), ("Another-Header", "another-header-val")),
                    ["X-Header-Remove-1", "X-Header-Remove-2"]),
                Rh("/case-insensitivity", H(("x-header-set", "original-val-set"), ("x-header-add", "original-val-add"), ("x-header-remove", "original-val-remove"), ("Another-Header", "another-header-val")),
                    H(("X-Header-Set", "header-set"), ("X-Header-Add", "original-val-add,header-add"), ("X-Lowercase-Add", "lowercase-add"), ("X-Mixedcase-Add-1", "mixedcase-add-1"), ("X-Mixedcase-Add-2", "mixedcase-add-2"), ("X-Uppercase-Add", "uppercase-add"), ("Another-Header", "another-header-val")),
                    ["X-Header-Remove"]),
            ]);
        });

        yield return new("HTTPRouteRewriteHost", "URLRewrite replaces the Host the backend sees.", ["HTTPRouteHostRewrite"], ["tests/httproute-rewrite-host.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("rewrite-host")], t.Ct);
            await ExpectAllAsync(t, gw,
            [
                Ok("/one", "infra-backend-v1", "rewrite.example") with { ExpectedRequest = new ExpectedRequest { Host = "one.example.org", Path = "/one" } },
                Ok("/", "infra-backend-v2", "rewrite.example") with { ExpectedRequest = new ExpectedRequest { Host = "example.org", Path = "/" } },
                WithHeaders("/rewrite-host-and-modify-headers", "infra-backend-v2", [("X-Header-Remove", "remove-val"), ("X-Header-Add-Append", "append-val-1")],
                    H(("X-Header-Add", "header-val-1"), ("X-Header-Add-Append", "append-val-1,header-val-2"), ("X-Header-Set", "set-overwrites-values")), ["X-Header-Remove"]) is var w
                    ? w with { Request = w.Request with { Host = "rewrite.example" }, ExpectedRequest = w.ExpectedRequest! with { Host = "test.example.org", Path = "/rewrite-host-and-modify-headers" } } : w,
            ]);
        });

        yield return new("HTTPRouteRewritePath", "URLRewrite replaces a path prefix or the full path.", ["HTTPRoutePathRewrite"], ["tests/httproute-rewrite-path.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("rewrite-path")], t.Ct);
            static ExpectedResponse P(string path, string seen) => Ok(path, "infra-backend-v1") with { ExpectedRequest = new ExpectedRequest { Path = seen } };
            await ExpectAllAsync(t, gw,
            [
                P("/prefix/one/two", "/one/two"), P("/prefix/one", "/one"), P("/strip-prefix/three", "/three"), P("/strip-prefix", "/"),
                P("/full/one/two", "/one"), P("/full/one", "/one"),
                WithHeaders("/full/rewrite-path-and-modify-headers/test", "infra-backend-v1", [("X-Header-Remove", "remove-val"), ("X-Header-Add-Append", "append-val-1"), ("X-Header-Set", "some-value")],
                    H(("X-Header-Add", "header-val-1"), ("X-Header-Add-Append", "append-val-1,header-val-2"), ("X-Header-Set", "set-overwrites-values")), ["X-Header-Remove"]) is var a
                    ? a with { ExpectedRequest = a.ExpectedRequest! with { Path = "/test" } } : a,
                WithHeaders("/prefix/rewrite-path-and-modify-headers/one", "infra-backend-v1", [("X-Header-Remove", "remove-val"), ("X-Header-Add-Append", "append-val-1"), ("X-Header-Set", "some-value")],
                    H(("X-Header-Add", "header-val-1"), ("X-Header-Add-Append", "append-val-1,header-val-2"), ("X-Header-Set", "set-overwrites-values")), ["X-Header-Remove"]) is var b
                    ? b with { ExpectedRequest = b.ExpectedRequest! with { Path = "/prefix/one" } } : b,
            ]);
        });

        yield return new("HTTPRouteTimeoutBackendRequest", "timeouts.backendRequest answers 504 when the backend is slower; 0s disables it.", ["HTTPRouteBackendTimeout"], ["tests/httproute-timeout-backend-request.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("backend-request-timeout")], t.Ct);
            await ExpectAllAsync(t, gw, [Ok("/backend-timeout", "infra-backend-v1"), Status("/backend-timeout?delay=1s", 504), Ok("/disable-backend-timeout?delay=1s", "infra-backend-v1")]);
        });

        yield return new("HTTPRouteTimeoutRequest", "timeouts.request answers 504 when the request takes longer; 0s disables it.", ["HTTPRouteRequestTimeout"], ["tests/httproute-timeout-request.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("request-timeout")], t.Ct);
            await ExpectAllAsync(t, gw, [Ok("/request-timeout", "infra-backend-v1"), Status("/request-timeout?delay=1s", 504), Ok("/disable-request-timeout?delay=1s", "infra-backend-v1")]);
        });
    }

    private static ExpectedResponse M(string method, ExpectedResponse r) => r with { Request = r.Request with { Method = method } };

    private static async Task RedirectsAsync(TestContext t, string route, ExpectedResponse[] cases)
    {
        var gw = Gw("same-namespace");
        await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route(route)], t.Ct);
        await ExpectAllAsync(t, gw, cases);
    }

    /// <summary>
    /// Upstream's percentage-mirror check: many requests, each answered by the primary backend, and the share the mirror
    /// backend received is the configured one. The tolerance is five binomial standard deviations, so a correct
    /// implementation fails about once in two million runs while one that ignores the percentage fails every time.
    /// </summary>
    private static async Task MirroredShareAsync(TestContext t, NN gw, ExpectedResponse expected, string mirror, int percent)
    {
        const int Requests = 400;
        await t.ExpectAsync(gw, expected);
        var address = await t.GatewayAddressAsync(gw);
        await Task.Delay(TimeSpan.FromMilliseconds(300), t.Ct);
        var since = DateTimeOffset.UtcNow;
        var path = expected.ExpectedRequest?.Path ?? expected.Request.Path;
        using var gate = new SemaphoreSlim(8);
        var sends = Enumerable.Range(0, Requests).Select(async _ =>
        {
            await gate.WaitAsync(t.Ct);
            try
            {
                return await t.TryOnceAsync(address, expected, t.Ct);
            }
            finally
            {
                gate.Release();
            }
        });
        var failures = (await Task.WhenAll(sends)).Where(w => w is not null).ToList();
        if (failures.Count > 0)
        {
            throw new ConformanceException($"{failures.Count} of {Requests} requests to {path} failed: {failures[0]}");
        }

        var p = percent / 100.0;
        var tolerance = 5 * Math.Sqrt(p * (1 - p) / Requests);
        var mirrored = 0;
        await Poll.UntilAsync($"{mirror} to receive about {percent}% of {Requests} requests to {path}", t.Options.Timeout, async _ =>
        {
            // Mirrors are fire-and-forget: wait until the count stops growing before judging it.
            var before = await CountAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(500), t.Ct);
            mirrored = await CountAsync();
            return (mirrored == before, $"still receiving ({mirrored})");
        }, t.Ct);
        var share = mirrored / (double)Requests;
        if (Math.Abs(share - p) > tolerance)
        {
            throw new ConformanceException($"{mirror} received {mirrored} of {Requests} requests to {path} ({share:P1}), expected {percent}% ± {tolerance:P1}");
        }

        async Task<int> CountAsync() => (await t.Env.RequestsReceivedAsync(mirror, Infra, since, t.Ct).ConfigureAwait(false)).Count(r => r.Path == path);
    }

    /// <summary>
    /// Upstream's mirror check: the request is answered by the primary backend, and each mirror backend receives a
    /// copy (upstream reads the mirror pods' logs; in-process the echo pods keep the same record).
    /// </summary>
    private static async Task MirroredAsync(TestContext t, NN gw, ExpectedResponse expected, string[] mirrors)
    {
        var since = DateTimeOffset.UtcNow;
        await t.ExpectAsync(gw, expected);
        var path = expected.ExpectedRequest?.Path ?? expected.Request.Path;
        foreach (var mirror in mirrors)
        {
            await Poll.UntilAsync($"{mirror} to receive a mirrored {path}", t.Options.Timeout, async ct =>
            {
                var received = await t.Env.RequestsReceivedAsync(mirror, Infra, since, ct).ConfigureAwait(false);
                var hit = received.FirstOrDefault(r => r.Path == path);
                if (hit is null)
                {
                    return (false, $"{received.Count} requests, none to {path}");
                }

                // Upstream checks the path only (echo-basic logs no headers); where headers were seen, they are checked too.
                if (hit.Headers is { } seen)
                {
                    foreach (var (name, value) in expected.ExpectedRequest?.Headers ?? new Dictionary<string, string>())
                    {
                        if (!seen.TryGetValue(name, out var v) || v != value)
                        {
                            return (false, $"mirrored request has {name}: '{v}', expected '{value}'");
                        }
                    }
                }

                return (true, "");
            }, t.Ct);
        }
    }
}

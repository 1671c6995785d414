using System.Text;
using System.Text.Json.Nodes;
using Switchyard.Conformance.Http;
using Switchyard.Conformance.Kube;
using Switchyard.Kubernetes.Client;
using static Switchyard.Conformance.Scenarios.Dsl;

namespace Switchyard.Conformance.Scenarios;

/// <summary>
/// The BackendTLSPolicy tests of GATEWAY-HTTP v1.6.1 and the Gateway backend client certificate ones. The TLS backends
/// report the server name and client certificate they received (echo-basic's <c>tls</c> block); the suite generates
/// their CA (<c>tls-checks-ca-certificate</c>) and certificates as upstream's does.
/// </summary>
internal static class BackendTlsPolicyTests
{
    public const string BackendTlsPolicy = "BackendTLSPolicy";
    public const string SanValidation = "BackendTLSPolicySANValidation";
    public const string BackendClientCertificate = "GatewayBackendClientCertificate";

    public static IEnumerable<ConformanceTest> All()
    {
        yield return new(BackendTlsPolicy, "BackendTLSPolicy must be used to configure TLS connection between gateway and backend.", [BackendTlsPolicy], ["tests/backendtlspolicy.yaml"], async t =>
        {
            // Re-encryption: TLS terminated at an HTTPS listener, then TLS again to the backend with the policy's SNI.
            var https = Gw("same-namespace-with-https-listener");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(https, [Route("backendtlspolicy-reencrypt")], t.Ct);
            await t.Waiters.HttpRoutesMustHaveResolvedRefsAsync(https, [Route("backendtlspolicy-reencrypt")], t.Ct);
            await PolicyMustBeAcceptedAndResolvedAsync(t, "normative-test", https);
            await t.ExpectAsync(https, new ExpectedResponse
            {
                Request = new Request { Host = "https-listener.org", Path = "/backendtlspolicy", Scheme = "https" },
                ExpectedRequest = new ExpectedRequest { Path = "/backendtlspolicy", Sni = "abc.example.com" },
                Namespace = Infra,
            }, 443);

            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("backendtlspolicy")], t.Ct);
            await t.Waiters.HttpRoutesMustHaveResolvedRefsAsync(gw, [Route("backendtlspolicy")], t.Ct);
            await PolicyMustBeAcceptedAndResolvedAsync(t, "normative-test", gw);
            await t.ExpectAsync(gw, Tls("/backendtlspolicy", "abc.example.com", "abc.example.com"));

            // The backend's certificate does not carry the policy's hostname: refused.
            await PolicyMustBeAcceptedAndResolvedAsync(t, "host-mismatch", gw);
            await ExpectFailureAsync(t, gw, new Request { Host = "abc.example.org", Path = "/backendtlspolicy-host-mismatch" });

            // The policy's CA did not sign the backend's certificate: refused.
            await PolicyMustBeAcceptedAndResolvedAsync(t, "cert-mismatch", gw);
            await ExpectFailureAsync(t, gw, new Request { Host = "abc.example.com", Path = "/backendtlspolicy-cert-mismatch" });
        });

        yield return new("BackendTLSPolicyConflictResolution", "Of BackendTLSPolicies targeting the same Service (or port) the oldest is accepted and the rest are Conflicted; a port's policy and the Service's do not conflict.", [BackendTlsPolicy], ["tests/backendtlspolicy-conflict-resolution.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            var route = Route("backendtlspolicy-conflict-resolution");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [route], t.Ct);
            await t.Waiters.HttpRoutesMustHaveResolvedRefsAsync(gw, [route], t.Ct);
            foreach (var kind in new[] { "without-section-name", "with-section-name" })
            {
                await PolicyMustHaveAsync(t, $"conflicted-{kind}-1", gw, T("Accepted"));
                await PolicyMustHaveAsync(t, $"conflicted-{kind}-2", gw, F("Accepted", "Conflicted"));
                await t.ExpectAsync(gw, Tls($"/backendtlspolicy-conflicted-{kind}", "abc.example.com", "other.example.com"));
            }

            await PolicyMustHaveAsync(t, "not-conflicted-with-section-name", gw, T("Accepted"));
            await PolicyMustHaveAsync(t, "not-conflicted-without-section-name", gw, T("Accepted"));
            await t.ExpectAsync(gw, Tls("/backendtlspolicy-not-conflicted-with-section-name", "abc.example.com", "other.example.com"));
            await t.ExpectAsync(gw, Tls("/backendtlspolicy-not-conflicted-without-section-name", "abc.example.com", "abc.example.com"));
        });

        yield return new("BackendTLSPolicyInvalidCACertificateRef", "A BackendTLSPolicy whose only CA reference is missing or malformed is not accepted (NoValidCACertificate, InvalidCACertificateRef) and its backend answers 5xx.", [BackendTlsPolicy], ["tests/backendtlspolicy-invalid-ca-certificate-ref.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("backendtlspolicy-invalid-ca-certificate-ref")], t.Ct);
            foreach (var policy in new[] { "nonexistent-ca-certificate-ref", "malformed-ca-certificate-ref" })
            {
                await PolicyMustHaveAsync(t, policy, gw, F("Accepted", "NoValidCACertificate"));
                await PolicyMustHaveAsync(t, policy, gw, F("ResolvedRefs", "InvalidCACertificateRef"));
                await t.ExpectAsync(gw, Status("/backendtlspolicy-" + policy, 500, "abc.example.com") with { StatusCodes = [500, 502, 503] });
            }
        });

        yield return new("BackendTLSPolicyInvalidKind", "A BackendTLSPolicy whose only CA reference is of an unsupported kind is not accepted (NoValidCACertificate, InvalidKind) and its backend answers 5xx.", [BackendTlsPolicy], ["tests/backendtlspolicy-invalid-kind.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("backendtlspolicy-invalid-kind-test")], t.Ct);
            await PolicyMustHaveAsync(t, "invalid-kind", gw, F("Accepted", "NoValidCACertificate"));
            await PolicyMustHaveAsync(t, "invalid-kind", gw, F("ResolvedRefs", "InvalidKind"));
            await t.ExpectAsync(gw, Status("/backendtlspolicy-invalid-kind", 500, "abc.example.com") with { StatusCodes = [500, 502, 503] });
        });

        yield return new("BackendTLSPolicyObservedGenerationBump", "A BackendTLSPolicy's ancestor conditions follow its generation after a spec change.", [BackendTlsPolicy], ["tests/backendtlspolicy-observed-generation-bump.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            var nn = new NN(Infra, "observed-generation-bump");
            var original = await t.Kube.GetAsync(Kinds.BackendTlsPolicy, nn.Namespace, nn.Name, t.Ct);
            MustHaveLatestConditions(original);

            var patched = await t.Kube.For(Kinds.BackendTlsPolicy).PatchAsync(nn.Namespace, nn.Name, PatchType.Merge,
                new JsonObject { ["spec"] = new JsonObject { ["validation"] = new JsonObject { ["hostname"] = "foo.example.com" } } }, cancellationToken: t.Ct);
            await PolicyMustHaveAsync(t, nn.Name, gw, new ExpectedCondition("Accepted", "True"));

            var updated = await t.Kube.GetAsync(Kinds.BackendTlsPolicy, nn.Namespace, nn.Name, t.Ct);
            MustHaveLatestConditions(updated);
            if (Conditions.Generation(original) == Conditions.Generation(updated) || Conditions.Generation(patched) != Conditions.Generation(updated))
            {
                throw new ConformanceException($"generation should change after an update: {Conditions.Generation(original)} → {Conditions.Generation(updated)}");
            }
        });

        yield return new(SanValidation, "BackendTLSPolicy subjectAltNames (DNS and URI) replace the hostname check.", [BackendTlsPolicy, SanValidation], ["tests/backendtlspolicy-san.yaml"], async t =>
        {
            var gw = Gw("same-namespace");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [Route("backendtlspolicy-san-test")], t.Ct);
            await t.Waiters.HttpRoutesMustHaveResolvedRefsAsync(gw, [Route("backendtlspolicy-san-test")], t.Ct);
            foreach (var (policy, matches) in new[] { ("san-dns", true), ("san-dns-mismatch", false), ("san-uri", true), ("san-uri-mismatch", false), ("multiple-sans", true), ("multiple-mismatch-sans", false) })
            {
                await PolicyMustHaveAsync(t, policy, gw, T("Accepted"));
                if (matches)
                {
                    await t.ExpectAsync(gw, Tls("/backendtlspolicy-" + policy, "abc.example.com", "abc.example.com"));
                }
                else
                {
                    await ExpectFailureAsync(t, gw, new Request { Host = "abc.example.com", Path = "/backendtlspolicy-" + policy });
                }
            }
        });

        yield return new("GatewayInvalidTLSBackendConfiguration", "A Gateway whose backend client certificate reference is invalid has ResolvedRefs False (InvalidClientCertificateRef, RefNotPermitted) and stays Accepted.", [BackendClientCertificate, BackendTlsPolicy], ["tests/gateway-invalid-tls-backend-configuration.yaml"], async t =>
        {
            foreach (var (name, reason) in new[]
            {
                ("gateway-client-certificate-nonexistent-secret", "InvalidClientCertificateRef"),
                ("gateway-client-certificate-unsupported-group", "InvalidClientCertificateRef"),
                ("gateway-client-certificate-unsupported-kind", "InvalidClientCertificateRef"),
                ("gateway-client-certificate-malformed-secret", "InvalidClientCertificateRef"),
                ("gateway-client-certificate-missing-reference-grant", "RefNotPermitted"),
            })
            {
                var gw = Gw(name);
                await t.Waiters.GatewayMustHaveLatestConditionsAsync(gw, t.Ct);
                await t.Waiters.GatewayMustHaveConditionAsync(gw, F("ResolvedRefs", reason), t.Ct);
                await t.Waiters.GatewayMustHaveConditionAsync(gw, T("Accepted"), t.Ct);
            }
        });

        yield return new("GatewayBackendClientCertificateFeature", "A Gateway with a backend client certificate presents it to backends reached over TLS.", [BackendClientCertificate, BackendTlsPolicy], ["tests/gateway-tls-backend-client-certificate.yaml"], async t =>
        {
            var gw = Gw("gateway-tls-backend-client-certificate");
            var route = Route("gateway-tls-backend-client-certificate");
            await t.Waiters.GatewayAndHttpRoutesMustBeAcceptedAsync(gw, [route], t.Ct);
            await t.Waiters.HttpRoutesMustHaveResolvedRefsAsync(gw, [route], t.Ct);
            await PolicyMustHaveAsync(t, "gateway-tls-backend-client-certificate-test", gw, T("Accepted"));
            await t.Waiters.GatewayMustHaveConditionAsync(gw, T("ResolvedRefs"), t.Ct);

            var secret = await t.Kube.GetAsync(ResourceType.Secrets, Infra, "tls-checks-client-certificate", t.Ct);
            var clientPem = Encoding.ASCII.GetString(Convert.FromBase64String(Conditions.Str(secret["data"], "tls.crt") ?? ""));
            await t.ExpectAsync(gw, Tls("/", "abc.example.com", "abc.example.com") with
            {
                ExpectedRequest = new ExpectedRequest { Sni = "abc.example.com", ClientCertificatePem = clientPem },
            });
        });
    }

    /// <summary>A request through a cleartext listener to a TLS backend, which must be sent <paramref name="sni"/>.</summary>
    private static ExpectedResponse Tls(string path, string host, string sni) => new()
    {
        Request = new Request { Host = host, Path = path },
        ExpectedRequest = new ExpectedRequest { Sni = sni },
        Namespace = Infra,
    };

    private static async Task PolicyMustBeAcceptedAndResolvedAsync(TestContext t, string policy, NN gw)
    {
        await PolicyMustHaveAsync(t, policy, gw, T("Accepted"));
        await PolicyMustHaveAsync(t, policy, gw, T("ResolvedRefs"));
    }

    private static Task PolicyMustHaveAsync(TestContext t, string policy, NN gw, ExpectedCondition condition) =>
        t.Waiters.BackendTlsPolicyMustHaveConditionAsync(new NN(Infra, policy), gw, condition, t.Ct);

    /// <summary>Upstream's <c>BackendTLSPolicyMustHaveLatestConditions</c>: no ancestor condition is from an older generation.</summary>
    private static void MustHaveLatestConditions(JsonObject policy)
    {
        var generation = Conditions.Generation(policy);
        foreach (var ancestor in policy["status"]?["ancestors"] as JsonArray ?? [])
        {
            foreach (var condition in ancestor?["conditions"] as JsonArray ?? [])
            {
                if (Conditions.Long(condition, "observedGeneration") != generation)
                {
                    throw new ConformanceException($"BackendTLSPolicy {Names.Read(policy)} ancestor {Conditions.Str(ancestor?["ancestorRef"], "name")}: {Conditions.Str(condition, "type")} is from generation {Conditions.Long(condition, "observedGeneration")}, not {generation}");
                }
            }
        }
    }

    /// <summary>
    /// Upstream's <c>MakeRequestAndExpectFailure</c>: once answers come (not a transport error, not 408 or 504), five in a
    /// row must not be 200; a 200 fails the test at once.
    /// </summary>
    private static async Task ExpectFailureAsync(TestContext t, NN gw, Request request, int port = 80)
    {
        var expected = new ExpectedResponse { Request = request, StatusCodes = [] };
        var failures = 0;
        await Poll.UntilAsync($"{request.Host}{request.Path} to fail consistently", t.Options.Timeout, async ct =>
        {
            var address = await t.Env.TryGetGatewayAddressAsync(gw, port, ct).ConfigureAwait(false);
            if (address is null)
            {
                return (false, "the Gateway has no address");
            }

            CapturedResponse actual;
            try
            {
                actual = await t.Http.SendAsync(address, expected, ct).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                failures = 0;
                return (false, "request failed: " + ex.Message);
            }

            if (actual.StatusCode == 200)
            {
                throw new ConformanceException($"{request.Host}{request.Path} should fail, answered 200");
            }

            if (actual.StatusCode is 408 or 504)
            {
                failures = 0;
                return (false, $"status {actual.StatusCode}");
            }

            return (++failures >= 5, $"{failures} failures so far");
        }, t.Ct).ConfigureAwait(false);
    }
}

using System.Security.Cryptography.X509Certificates;
using Switchyard.Conformance.Http;
using Switchyard.Conformance.Kube;
using Switchyard.Kubernetes.Client;
using static Switchyard.Conformance.Scenarios.Dsl;

namespace Switchyard.Conformance.Scenarios;

/// <summary>
/// The extended tests of Gateway <c>spec.tls.frontend</c> (client certificate validation, GEP-91). The CAs and client
/// certificates are the suite's own (<see cref="ClientCertificates"/>), made at setup under upstream's names.
/// </summary>
internal static class FrontendTlsTests
{
    private const string Validation = "GatewayFrontendClientCertificateValidation";
    private const string InsecureFallback = "GatewayFrontendClientCertificateValidationInsecureFallback";

    public static IEnumerable<ConformanceTest> All()
    {
        yield return new("GatewayFrontendClientCertificateValidation", "The default validation guards port 443 and the per-port one 8443: each takes only a client certificate from its own CA.", [Validation], ["tests/gateway-with-clientcertificate-validation.yaml"], async t =>
        {
            var gw = Gw("client-validation-default");
            await RoutesMustBeAcceptedAsync(t, gw, "client-certificate-validation-https-test", "client-certificate-validation-https-test-no-hostname");
            var (server, client, perPortClient) = await CertificatesAsync(t);
            using (server)
            using (client)
            using (perPortClient)
            {
                await t.ExpectAsync(gw, Tls(Ok("/", "infra-backend-v1", "example.org"), server, client), 443);
                await t.ExpectFailureAsync(gw, Tls(Ok("/", "infra-backend-v1", "example.org"), server, perPortClient), 443);

                await t.ExpectAsync(gw, Tls(Ok("/", "infra-backend-v2", "second-example.org"), server, perPortClient), 8443);
                await t.ExpectFailureAsync(gw, Tls(Ok("/", "infra-backend-v2", "second-example.org"), server, client), 8443);
            }
        });

        yield return new("GatewayFrontendClientCertificateValidationInsecureFallback", "AllowInsecureFallback asks for a client certificate but serves clients with another CA's certificate or none.", [Validation, InsecureFallback], ["tests/gateway-with-clientcertificate-validation-insecure-fallback.yaml"], async t =>
        {
            var gw = Gw("client-validation-insecure-fallback");
            await RoutesMustBeAcceptedAsync(t, gw, "client-cert-validation-insecure-fallback-test", "client-cert-validation-insecure-fallback-test-no-hostname");
            await t.Waiters.GatewayMustHaveConditionAsync(gw, T("InsecureFrontendValidationMode", "ConfigurationChanged"), t.Ct);
            var (server, client, perPortClient) = await CertificatesAsync(t);
            using (server)
            using (client)
            using (perPortClient)
            {
                foreach (var (port, host, backend, own, other) in new[] { (443, "example.org", "infra-backend-v1", client, perPortClient), (8443, "second-example.org", "infra-backend-v2", perPortClient, client) })
                {
                    await t.ExpectAsync(gw, Tls(Ok("/", backend, host), server, own), port);
                    await t.ExpectAsync(gw, Tls(Ok("/", backend, host), server, other), port);
                    await t.ExpectAsync(gw, Tls(Ok("/", backend, host), server, null), port);
                }
            }
        });

        yield return new("GatewayFrontendInvalidDefaultClientCertificateValidation", "A default validation whose CA ConfigMap does not exist disables the HTTPS listener but not the HTTP one.", [Validation], ["tests/gateway-invalid-default-frontend-client-certificate-validation.yaml"], async t =>
        {
            var gw = Gw("invalid-default-client-validation-config");
            await t.GatewayAddressAsync(gw, 80);
            await t.Waiters.GatewayListenerMustHaveConditionsAsync(gw, "http", Healthy, t.Ct);
            await t.ExpectAsync(gw, Ok("/", "infra-backend-v1", "example.org"), 80);

            await t.Waiters.GatewayListenerMustHaveConditionsAsync(gw, "https", NotServed("InvalidCACertificateRef"), t.Ct);
            using var server = ClientCertificates.FromSecret(await t.Kube.GetAsync(ResourceType.Secrets, Infra, "tls-validity-checks-certificate", t.Ct));
            await t.ExpectFailureAsync(gw, Tls(Ok("/", "infra-backend-v1", "example.org"), server, null), 443);
        });

        yield return new("GatewayInvalidFrontendClientCertificateValidation", "A missing CA ConfigMap, a CA of another kind and a CA in another namespace without a ReferenceGrant each disable only their port's listener.", [Validation], ["tests/gateway-with-invalid-clientcertificate-validation.yaml"], async t =>
        {
            var gw = Gw("gateway-with-invalid-client-cert-validation");
            await t.Waiters.GatewayListenerMustHaveConditionsAsync(gw, "https", Healthy, t.Ct);
            await t.Waiters.GatewayListenerMustHaveConditionsAsync(gw, "https-unresolved", NotServed("InvalidCACertificateRef"), t.Ct);
            await t.Waiters.GatewayListenerMustHaveConditionsAsync(gw, "https-invalid-kind", NotServed("InvalidCACertificateKind"), t.Ct);
            await t.Waiters.GatewayListenerMustHaveConditionsAsync(gw, "https-grant-missing", NotServed("RefNotPermitted"), t.Ct);
        });
    }

    /// <summary>Accepted, ResolvedRefs and Programmed True, with any reason.</summary>
    private static ExpectedCondition[] Healthy =>
        [new("ResolvedRefs", "True"), new("Accepted", "True"), new("Programmed", "True")];

    /// <summary>A listener whose every CA reference is invalid: ResolvedRefs False for the reason, not accepted, not programmed.</summary>
    private static ExpectedCondition[] NotServed(string reason) =>
        [F("ResolvedRefs", reason), F("Accepted", "NoValidCACertificate"), F("Programmed")];

    /// <summary>Upstream's GatewayAndRoutesMustBeAccepted and HTTPRouteMustHaveResolvedRefsConditionsTrue.</summary>
    private static async Task RoutesMustBeAcceptedAsync(TestContext t, NN gw, params string[] routes)
    {
        await t.Waiters.GatewayMustBeReadyAsync(gw, t.Ct);
        foreach (var route in routes)
        {
            await t.Waiters.HttpRouteMustHaveConditionAsync(Route(route), gw, T("Accepted"), t.Ct);
            await t.Waiters.HttpRouteMustHaveConditionAsync(Route(route), gw, T("ResolvedRefs"), t.Ct);
        }
    }

    /// <summary>Upstream's GetTLSSecret for the listeners' certificate and the two client certificates.</summary>
    private static async Task<(X509Certificate2 Server, X509Certificate2 Client, X509Certificate2 PerPortClient)> CertificatesAsync(TestContext t)
    {
        async Task<X509Certificate2> Read(string name) => ClientCertificates.FromSecret(await t.Kube.GetAsync(ResourceType.Secrets, Infra, name, t.Ct).ConfigureAwait(false));
        return (await Read("tls-validity-checks-certificate"), await Read("tls-validity-checks-client-certificate"), await Read("tls-validity-checks-per-port-client-certificate"));
    }

    /// <summary>Upstream's MakeTLSRequest: https with the Host as server name, the Gateway's certificate checked against <paramref name="server"/>.</summary>
    private static ExpectedResponse Tls(ExpectedResponse expected, X509Certificate2 server, X509Certificate2? client) => expected with
    {
        Request = expected.Request with { Scheme = "https", ServerName = expected.Request.Host, ServerCertificate = server, ClientCertificate = client },
    };
}

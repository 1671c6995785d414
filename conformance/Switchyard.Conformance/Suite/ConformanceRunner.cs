using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Switchyard.Conformance.Environments;
using Switchyard.Conformance.Http;
using Switchyard.Conformance.Kube;
using Switchyard.Conformance.Scenarios;
using Switchyard.Controller.Translation;

namespace Switchyard.Conformance;

/// <summary>
/// Runs the Gateway API v1.6.1 GATEWAY-HTTP conformance tests, ported to C#, and reports the upstream way.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>Start the environment: in-process (API server double with the CRDs, GatewayClass, controller and data
/// plane) or a cluster through a kubeconfig.</item>
/// <item>Apply the base manifests, the TLS Secrets and the client CA ConfigMaps and certificates, and wait until the
/// shared Gateways are Accepted and Programmed.</item>
/// <item>Run each selected test: apply its manifests, run its checks, delete its objects.</item>
/// <item>Count core and extended results into a <see cref="ConformanceReport"/>.</item>
/// </list>
/// </remarks>
public static class ConformanceRunner
{
    /// <summary>
    /// The extended features Switchyard claims: each of their tests passes in-process. The same list the controller
    /// publishes in GatewayClass <c>status.supportedFeatures</c> (<see cref="SupportedFeatures.Extended"/>).
    /// </summary>
    public static IReadOnlyList<string> ClaimedFeatures => SupportedFeatures.Extended;

    /// <summary>Every test the suite has, by upstream name, with whether it is core.</summary>
    public static IReadOnlyList<(string Name, bool Core, IReadOnlyList<string> Features)> Tests =>
        [.. AllTests.Get().Select(t => (t.ShortName, t.IsCore, (IReadOnlyList<string>)t.Features))];

    /// <summary>The tests of Switchyard's own profiles (WebTransportRoute), by name, with the features they need.</summary>
    public static IReadOnlyList<(string Name, string Profile, IReadOnlyList<string> Features)> SwitchyardTests =>
        [.. AllTests.Switchyard().Select(t => (t.ShortName, t.Profile, (IReadOnlyList<string>)t.Features))];

    /// <summary>Runs the suite.</summary>
    /// <param name="options">What to run and where.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The report.</returns>
    public static async Task<ConformanceReport> RunAsync(ConformanceOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var log = options.Log ?? (_ => { });
        var supported = (options.SupportedFeatures ?? [.. ClaimedFeatures, .. SwitchyardFeatures.All]).Distinct(StringComparer.Ordinal).ToList();
        var tests = AllTests.Get().Concat(AllTests.Switchyard()).ToList();
        if (options.RunTest is { } only && tests.All(t => t.ShortName != only))
        {
            throw new ArgumentException($"no test named {only}", nameof(options));
        }

        // :: Step 1
        var controllerName = TranslatorOptions.DefaultControllerName;
        IConformanceEnvironment env;
        if (options.Kubeconfig is { } kubeconfig)
        {
            var cluster = ClusterEnvironment.Connect(kubeconfig);
            env = cluster;
            var gc = await cluster.Kube.GetAsync(Kinds.GatewayClass, null, options.GatewayClassName, cancellationToken).ConfigureAwait(false);
            controllerName = Conditions.Str(gc["spec"], "controllerName") ?? throw new ConformanceException($"GatewayClass {options.GatewayClassName} has no controllerName");
        }
        else
        {
            env = await InProcessEnvironment.StartAsync(options.GatewayClassName, controllerName, options.UsableNetworkAddresses, log, cancellationToken).ConfigureAwait(false);
        }

        var results = new List<TestResult>();
        await using (env.ConfigureAwait(false))
        {
            using var http = new GatewayHttp(TimeSpan.FromSeconds(10));
            var placeholders = new Dictionary<string, string>
            {
                ["GATEWAY_CLASS_NAME"] = options.GatewayClassName,
                ["GATEWAY_CONTROLLER_NAME"] = controllerName,
                ["ECHO_IMAGE"] = options.EchoImage,
            };

            // :: Step 2
            var setup = new TestContext(env, http, options.GatewayClassName, controllerName, placeholders, options, log, cancellationToken);
            log($"conformance: {env.Mode} mode, GatewayClass {options.GatewayClassName} ({controllerName})");
            // Namespaces first, then the generated TLS material, then the rest: echo pods that serve TLS read their
            // Secrets and ConfigMaps when they start.
            foreach (var ns in SuiteManifests.Load("base.yaml", placeholders).Where(o => o["kind"]?.GetValue<string>() == "Namespace"))
            {
                await setup.ApplyObjectAsync(ns, cleanup: false).ConfigureAwait(false);
            }

            await setup.ApplyObjectAsync(TlsSecret(TestContext.Infra, "tls-validity-checks-certificate", ["*.org", "example.org", "second-example.org", "*.wildcard.org", "secure.test.com"]), cleanup: false).ConfigureAwait(false);
            await setup.ApplyObjectAsync(TlsSecret(TestContext.WebBackend, "certificate", ["*.example.com", "example.com"]), cleanup: false).ConfigureAwait(false);
            foreach (var (caName, clientName, commonName) in new[] { ("tls-validity-checks-ca-certificate", "tls-validity-checks-client-certificate", "default"), ("tls-validity-checks-per-port-ca-certificate", "tls-validity-checks-per-port-client-certificate", "per-port") })
            {
                var (ca, client) = ClientCertificates.Create(TestContext.Infra, caName, clientName, commonName);
                await setup.ApplyObjectAsync(ca, cleanup: false).ConfigureAwait(false);
                await setup.ApplyObjectAsync(client, cleanup: false).ConfigureAwait(false);
            }

            foreach (var obj in BackendTlsMaterial(TestContext.Infra))
            {
                await setup.ApplyObjectAsync(obj, cleanup: false).ConfigureAwait(false);
            }

            await setup.ApplyAsync("base.yaml", cleanup: false).ConfigureAwait(false);
            if (options.Kubeconfig is not null)
            {
                await DeploymentsMustBeReadyAsync(setup, cancellationToken).ConfigureAwait(false);
            }

            foreach (var gw in new[] { "same-namespace", "same-namespace-with-https-listener", "all-namespaces", "backend-namespaces" })
            {
                await setup.Waiters.GatewayMustBeReadyAsync(new NN(TestContext.Infra, gw), cancellationToken).ConfigureAwait(false);
            }

            // :: Step 3
            foreach (var test in tests)
            {
                var missing = test.Features.Where(f => !supported.Contains(f)).ToList();
                if (options.RunTest is { } name && name != test.ShortName)
                {
                    results.Add(new TestResult(test.ShortName, test.IsCore, test.Features, TestOutcome.Skipped, TimeSpan.Zero, "not selected", test.Profile));
                    continue;
                }

                if (options.RunProfile is { } profile && profile != test.Profile)
                {
                    results.Add(new TestResult(test.ShortName, test.IsCore, test.Features, TestOutcome.Skipped, TimeSpan.Zero, "profile not selected", test.Profile));
                    continue;
                }

                if (missing.Count > 0)
                {
                    results.Add(new TestResult(test.ShortName, test.IsCore, test.Features, TestOutcome.Skipped, TimeSpan.Zero, $"unsupported features: {string.Join(", ", missing)}", test.Profile));
                    continue;
                }

                results.Add(await RunOneAsync(test, env, http, controllerName, placeholders, options, log, cancellationToken).ConfigureAwait(false));
            }
        }

        // :: Step 4
        return new ConformanceReport
        {
            Implementation = options.Implementation,
            Mode = env.Mode,
            Date = DateTimeOffset.UtcNow,
            Results = results,
            SupportedFeatures = [.. supported.Where(f => Features.Extended.Contains(f)).Order(StringComparer.Ordinal)],
            SwitchyardSupportedFeatures = [.. supported.Where(f => SwitchyardFeatures.All.Contains(f)).Order(StringComparer.Ordinal)],
        };
    }

    private static async Task<TestResult> RunOneAsync(ConformanceTest test, IConformanceEnvironment env, GatewayHttp http, string controllerName, Dictionary<string, string> placeholders, ConformanceOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var context = new TestContext(env, http, options.GatewayClassName, controllerName, placeholders, options, log, cancellationToken);
        string? failure = null;
        try
        {
            foreach (var manifest in test.Manifests)
            {
                await context.ApplyAsync(manifest).ConfigureAwait(false);
            }

            await test.Body(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ConformanceException or Kubernetes.Client.KubernetesApiException or HttpRequestException or FormatException or InvalidOperationException)
        {
            failure = ex.Message;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Anything else a test body throws (a transport error of the QUIC client, say) fails that test, not the
            // run: the report must still be written with every other result.
            failure = $"{ex.GetType().Name}: {ex.Message}";
        }
        finally
        {
            try
            {
                await context.CleanupAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ConformanceException or Kubernetes.Client.KubernetesApiException or HttpRequestException)
            {
                failure ??= "cleanup failed: " + ex.Message;
            }
        }

        var outcome = failure is null ? TestOutcome.Passed : TestOutcome.Failed;
        log($"conformance: {outcome} {test.ShortName} in {watch.Elapsed.TotalSeconds:0.0}s{(failure is null ? "" : ": " + failure)}");
        return new TestResult(test.ShortName, test.IsCore, test.Features, outcome, watch.Elapsed, failure ?? "", test.Profile);
    }

    /// <summary>Upstream's NamespacesMustBeReady for the echo backends: every Deployment of the base namespaces has all replicas ready.</summary>
    private static async Task DeploymentsMustBeReadyAsync(TestContext setup, CancellationToken cancellationToken)
    {
        foreach (var ns in new[] { TestContext.Infra, TestContext.AppBackend, TestContext.WebBackend })
        {
            await Poll.UntilAsync($"Deployments in {ns} to be ready", setup.Options.Timeout * 5, async ct =>
            {
                var list = await setup.Kube.For(KubeObjects.Deployments).ListAsync(ns, null, ct).ConfigureAwait(false);
                var pending = list.Items.Where(d => (Conditions.Long(d["status"], "readyReplicas") ?? 0) < (Conditions.Long(d["spec"], "replicas") ?? 1)).Select(d => Names.Read(d).Name).ToList();
                return (pending.Count == 0, "not ready: " + string.Join(", ", pending));
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Upstream's backend TLS material: a CA (ConfigMap <c>tls-checks-ca-certificate</c>, key <c>ca.crt</c>), the TLS
    /// backends' serving certificate it signed (Secret <c>tls-checks-certificate</c>: abc.example.com,
    /// other.example.com and the URI spiffe://abc.example.com/test-identity) and a client certificate it signed for
    /// Gateways to present to backends (Secret <c>tls-checks-client-certificate</c>).
    /// </summary>
    internal static IEnumerable<JsonObject> BackendTlsMaterial(string ns)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=gateway-conformance-ca", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));

        yield return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = "tls-checks-ca-certificate", ["namespace"] = ns },
            ["data"] = new JsonObject { ["ca.crt"] = ca.ExportCertificatePem() + "\n" },
        };

        var server = new SubjectAlternativeNameBuilder();
        server.AddDnsName("abc.example.com");
        server.AddDnsName("other.example.com");
        server.AddUri(new Uri("spiffe://abc.example.com/test-identity"));
        yield return Signed(ns, "tls-checks-certificate", "abc.example.com", server.Build(), "1.3.6.1.5.5.7.3.1");

        var client = new SubjectAlternativeNameBuilder();
        client.AddDnsName("gateway.example.com");
        yield return Signed(ns, "tls-checks-client-certificate", "gateway-conformance-client", client.Build(), "1.3.6.1.5.5.7.3.2");

        JsonObject Signed(string secretNs, string name, string commonName, X509Extension san, string usage)
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(san);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7F; // RFC 5280 §4.1.2.2: a positive integer.
            using var cert = request.Create(ca, now.AddMinutes(-5), now.AddDays(30), serial);
            return new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Secret",
                ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = secretNs },
                ["type"] = "kubernetes.io/tls",
                ["data"] = new JsonObject
                {
                    ["tls.crt"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(cert.ExportCertificatePem())),
                    ["tls.key"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem())),
                },
            };
        }
    }

    /// <summary>A <c>kubernetes.io/tls</c> Secret with a new self-signed certificate (upstream's MustCreateSelfSignedCertSecret).</summary>
    internal static JsonObject TlsSecret(string ns, string name, string[] hosts)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=" + hosts[0].Replace("*", "wildcard", StringComparison.Ordinal), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var ip))
            {
                san.AddIpAddress(ip);
            }
            else
            {
                san.AddDnsName(host);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        var now = DateTimeOffset.UtcNow;
        using var cert = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(30));
        var crt = Convert.ToBase64String(Encoding.ASCII.GetBytes(cert.ExportCertificatePem()));
        var pem = Convert.ToBase64String(Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem()));
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
            ["type"] = "kubernetes.io/tls",
            ["data"] = new JsonObject { ["tls.crt"] = crt, ["tls.key"] = pem },
        };
    }
}

using System.Net;
using System.Text.Json.Nodes;
using Switchyard.Api.Serialization;
using Switchyard.Controller.Providers;
using Switchyard.Controller.Provisioning;
using Switchyard.Controller.Translation;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Config;
using Switchyard.Kubernetes.DevApiServer;

namespace Switchyard.Controller.Tests.Provisioning;

/// <summary>
/// <see cref="GatewayProvisioner"/> against the in-process API server double: Gateways translated from YAML become
/// LoadBalancer Services, which follow later translations, and the local load balancer fills their status.
/// </summary>
public sealed class GatewayProvisionerTests : IAsyncLifetime
{
    private const string GatewayClass = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata:
          name: switchyard
        spec:
          controllerName: switchyard.dev/gateway-controller
        """;

    private static readonly LocalLoadBalancerOptions LocalLb = new()
    {
        Pools = [IPNetwork.Parse("192.0.2.0/24")],
        SharedAddress = IPAddress.Parse("192.0.2.1"),
    };

    private DevApiServer? server;
    private KubernetesClient? client;

    private ResourceClient<JsonObject> Services => client!.Resource(ResourceType.Services);

    public async Task InitializeAsync()
    {
        server = new DevApiServer(new DevApiServerOptions());
        await server.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
        client = new KubernetesClient(KubernetesClientConfiguration.FromKubeconfigText(server.KubeconfigText));
        await client.Resource(ResourceType.Namespaces).CreateAsync(null, new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Namespace",
            ["metadata"] = new JsonObject { ["name"] = "infra" },
        });
    }

    public async Task DisposeAsync()
    {
        client?.Dispose();
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Reconcile_AcceptedGateway_CreatesItsLoadBalancerServiceWithInfrastructureMetadata()
    {
        var provisioner = new GatewayProvisioner(client!, new GatewayProvisionerOptions { LocalLoadBalancer = LocalLb });
        var (result, snapshot) = await TranslateAsync(Gateway("media", "uid-1", labels: "team: media", annotations: "example.com/owner: ops", address: "192.0.2.10"));

        var report = await provisioner.ReconcileAsync(result, snapshot, CancellationToken.None);

        Assert.Equal(new ProvisioningReport(1, 0, 0, 0), report);
        var service = await Services.GetAsync("infra", "switchyard-media", CancellationToken.None);
        Assert.Equal("LoadBalancer", (string?)service["spec"]!["type"]);
        Assert.Equal("media", (string?)service["metadata"]!["labels"]!["team"]);
        Assert.Equal("media", (string?)service["metadata"]!["labels"]![GatewayInfrastructureNames.GatewayNameLabel]);
        Assert.Equal("ops", (string?)service["metadata"]!["annotations"]!["example.com/owner"]);
        Assert.Equal("192.0.2.10", (string?)service["metadata"]!["annotations"]![GatewayInfrastructureNames.MetalLbLegacyLoadBalancerIPs]);
        Assert.Equal("uid-1", (string?)service["metadata"]!["ownerReferences"]![0]!["uid"]);
        Assert.Equal("switchyard", (string?)service["spec"]!["selector"]!["app.kubernetes.io/name"]);
        Assert.Equal(["tcp-80 TCP 80", "tcp-443 TCP 443", "udp-443 UDP 443"],
            service["spec"]!["ports"]!.AsArray().Select(p => $"{(string?)p!["name"]} {(string?)p["protocol"]} {(int?)p["port"]}"));

        // The local load balancer assigned the pinned address, as MetalLB would.
        Assert.Equal("192.0.2.10", (string?)service["status"]!["loadBalancer"]!["ingress"]![0]!["ip"]);
    }

    [Fact]
    public async Task Reconcile_InfrastructureChanged_PatchesOnlyWhatItPropagated_AndIsIdempotent()
    {
        var provisioner = new GatewayProvisioner(client!);
        var ct = CancellationToken.None;
        var (first, snapshot) = await TranslateAsync(Gateway("media", "", labels: "team: media", annotations: "example.com/owner: ops", address: "192.0.2.10"));
        await provisioner.ReconcileAsync(first, snapshot, ct);

        // Another tool labels the Service; the Gateway then drops its label, changes its annotation and its address.
        await Services.PatchAsync("infra", "switchyard-media", PatchType.Merge, new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["other-tool"] = "x" } } }, cancellationToken: ct);
        var (second, snapshot2) = await TranslateAsync(Gateway("media", "", labels: null, annotations: "example.com/owner: platform", address: null));
        var report = await provisioner.ReconcileAsync(second, snapshot2, ct);

        Assert.Equal(new ProvisioningReport(0, 1, 0, 0), report);
        var service = await Services.GetAsync("infra", "switchyard-media", ct);
        var labels = service["metadata"]!["labels"]!.AsObject();
        var annotations = service["metadata"]!["annotations"]!.AsObject();
        Assert.False(labels.ContainsKey("team"));
        Assert.Equal("x", (string?)labels["other-tool"]);
        Assert.Equal("platform", (string?)annotations["example.com/owner"]);
        Assert.False(annotations.ContainsKey(GatewayInfrastructureNames.MetalLbLegacyLoadBalancerIPs));

        // Once the cache shows the patched Service, nothing is left to do.
        var (third, snapshot3) = await TranslateAsync(Gateway("media", "", labels: null, annotations: "example.com/owner: platform", address: null));
        Assert.Equal(new ProvisioningReport(0, 0, 0, 0), await provisioner.ReconcileAsync(third, snapshot3, ct));
    }

    [Fact]
    public async Task Reconcile_GatewayGone_DeletesItsService_ButNotOneOfAnotherControllersGateway()
    {
        var provisioner = new GatewayProvisioner(client!);
        var ct = CancellationToken.None;
        var (both, snapshot) = await TranslateAsync(Gateway("a", "", null, null, null) + "\n---\n" + Gateway("b", "", null, null, null));
        await provisioner.ReconcileAsync(both, snapshot, ct);

        // Gateway a is deleted; Gateway b now belongs to another controller's class (it still exists, not ours).
        var other = Gateway("b", "", null, null, null).Replace("gatewayClassName: switchyard", "gatewayClassName: someone-else", StringComparison.Ordinal);
        var (none, snapshot2) = await TranslateAsync(other);
        var report = await provisioner.ReconcileAsync(none, snapshot2, ct);

        Assert.Equal(new ProvisioningReport(0, 0, 1, 0), report);
        Assert.Null(await Services.TryGetAsync("infra", "switchyard-a", ct));
        Assert.NotNull(await Services.TryGetAsync("infra", "switchyard-b", ct));
    }

    [Fact]
    public async Task Reconcile_UsersServiceHasTheName_ReportsAFailureAndLeavesItAlone()
    {
        var ct = CancellationToken.None;
        await Services.CreateAsync("infra", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Service",
            ["metadata"] = new JsonObject { ["name"] = "switchyard-media", ["namespace"] = "infra" },
            ["spec"] = new JsonObject { ["ports"] = new JsonArray(new JsonObject { ["port"] = 1234 }) },
        }, ct);
        var (result, snapshot) = await TranslateAsync(Gateway("media", "", null, null, null));

        var report = await new GatewayProvisioner(client!).ReconcileAsync(result, snapshot, ct);

        Assert.Equal(1, report.Failed);
        var service = await Services.GetAsync("infra", "switchyard-media", ct);
        Assert.Equal(1234, (int?)service["spec"]!["ports"]![0]!["port"]);
    }

    [Theory]
    [InlineData("192.0.2.10", "192.0.2.10")] // a pinned address in the pool is assigned
    [InlineData("203.0.113.1", "")] // a pinned address in no pool leaves the Service pending
    [InlineData(null, "192.0.2.1")] // no pin: the shared address
    public void LocalLoadBalancer_AssignsLikeMetalLb(string? pin, string expected)
    {
        var lb = new LocalLoadBalancer(LocalLb);
        var service = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject() } };
        if (pin is not null)
        {
            service["metadata"]!["annotations"]![GatewayInfrastructureNames.MetalLbLegacyLoadBalancerIPs] = pin;
        }

        var ingress = lb.Ingress(service, [], "infra/switchyard-x", out var why);

        Assert.Equal(expected, string.Join(",", ingress));
        Assert.Equal(expected.Length == 0, why is not null);
    }

    [Fact]
    public void LocalLoadBalancer_AddressHeldByAnotherService_IsNotAssignedTwice()
    {
        var lb = new LocalLoadBalancer(LocalLb);
        var service = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [GatewayInfrastructureNames.MetalLbLegacyLoadBalancerIPs] = "192.0.2.10" } } };
        var held = new Dictionary<IPAddress, string>();

        Assert.Single(lb.Ingress(service, held, "infra/switchyard-a", out _));
        Assert.Empty(lb.Ingress(service, held, "infra/switchyard-b", out var why));
        Assert.Contains("infra/switchyard-a", why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("media", "switchyard-media")] // short names are kept
    [InlineData("a.b", "switchyard-a-b-")] // dots are not allowed in a Service name: replaced, and hashed to stay unique
    [InlineData("a-very-long-gateway-name-that-goes-on-and-on-past-the-limit", "switchyard-a-very-long-gateway-name-that-goes-on")] // cut and hashed
    public void ServiceName_IsAValidUniqueDnsLabel(string gateway, string prefix)
    {
        var name = GatewayInfrastructureNames.ServiceName(gateway);

        Assert.StartsWith(prefix, name, StringComparison.Ordinal);
        Assert.True(name.Length <= 63, name);
        Assert.Matches("^[a-z]([-a-z0-9]*[a-z0-9])?$", name);
        Assert.NotEqual(GatewayInfrastructureNames.ServiceName("a-b"), GatewayInfrastructureNames.ServiceName("a.b"));
    }

    private static string Gateway(string name, string uid, string? labels, string? annotations, string? address)
    {
        var lines = new List<string>
        {
            "apiVersion: gateway.networking.k8s.io/v1",
            "kind: Gateway",
            "metadata:",
            "  name: " + name,
            "  namespace: infra",
        };
        if (uid.Length > 0)
        {
            lines.Add("  uid: " + uid);
        }

        lines.Add("spec:");
        lines.Add("  gatewayClassName: switchyard");
        lines.Add("  infrastructure:");
        lines.Add("    labels: {" + labels + "}");
        lines.Add("    annotations: {" + annotations + "}");
        if (address is not null)
        {
            lines.Add("  addresses:");
            lines.Add("  - value: " + address);
        }

        lines.AddRange(["  listeners:", "  - name: http", "    port: 80", "    protocol: HTTP", "  - name: https", "    port: 443", "    protocol: HTTPS"]);
        return string.Join("\n", lines);
    }

    /// <summary>Translates the Gateways together with the Services the API holds now, as the provider would.</summary>
    private async Task<(TranslationResult, ResourceSnapshot)> TranslateAsync(string gateways)
    {
        var errors = new List<ManifestError>();
        var objects = ManifestDecoder.Decode("test.yaml", GatewayClass + "\n---\n" + gateways, errors);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        var services = await client!.Resource(ResourceType.Services, ApiJsonContext.Default.Service).ListAsync(null);
        var snapshot = ResourceSnapshot.Create([.. objects, .. services.Items]);
        return (Translator.Translate(snapshot, new TranslatorOptions { DataPlaneSuppliesMissingCertificates = true }), snapshot);
    }

}

using System.Text.Json.Nodes;
using Switchyard.Controller.Providers.Kubernetes;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Config;

namespace Switchyard.Controller.Tests.Integration;

/// <summary><c>config/gateway</c>: the install builds, its copies match their sources, and its RBAC matches what the code does.</summary>
[Collection(ProcessCollection.Name)]
public sealed class InstallManifestTests
{
    [Fact]
    public void Kustomization_BuildsWithKubectl_AndHoldsEveryPieceButTheGatewayApiCrds()
    {
        var (code, output) = Repo.Run("/usr/bin/kubectl", ["kustomize", Repo.Path("config", "gateway")], TimeSpan.FromSeconds(30));
        Assert.True(code == 0, output);

        var kinds = Documents(output).Select(d => $"{(string?)d["kind"]}/{(string?)d["metadata"]!["name"]}").Order().ToList();
        Assert.Equal(
        [
            "ClusterRole/switchyard-controller", "ClusterRoleBinding/switchyard-controller",
            "CustomResourceDefinition/webtransportroutes.switchyard.dev", "Deployment/switchyard-controller", "GatewayClass/switchyard",
            "Namespace/switchyard-system", "Role/switchyard-controller-leader-election", "RoleBinding/switchyard-controller-leader-election",
            "ServiceAccount/switchyard-controller",
        ], kinds);
    }

    [Theory]
    [InlineData("crds/switchyard.dev_webtransportroutes.yaml", "api/crds/switchyard.dev_webtransportroutes.yaml")] // the CRD
    [InlineData("gatewayclass.yaml", "api/gatewayclass.yaml")] // the GatewayClass
    public void Copies_MatchTheirSourcesByteForByte(string copy, string source) =>
        Assert.Equal(File.ReadAllText(Repo.Path(source.Split('/'))), File.ReadAllText(Repo.Path(["config", "gateway", .. copy.Split('/')])));

    [Fact]
    public void ClusterRole_GrantsListAndWatchOnEveryWatchedKind_AndStatusPatchOnEveryStatusKind()
    {
        var rules = Rules("ClusterRole");
        using var client = new KubernetesClient(new HttpClient { BaseAddress = new Uri("http://127.0.0.1:1") });
        var provider = new KubernetesProvider(client);

        foreach (var type in provider.WatchedResources)
        {
            Assert.True(Grants(rules, type.Group, type.Plural, "list") && Grants(rules, type.Group, type.Plural, "watch"), $"list/watch {type.Plural}.{type.Group}");
        }

        foreach (var type in new[] { KubernetesResources.GatewayClasses, KubernetesResources.Gateways, KubernetesResources.HttpRoutes, KubernetesResources.WebTransportRoutes })
        {
            Assert.True(Grants(rules, type.Group, type.Plural + "/status", "patch"), $"patch {type.Plural}/status");
            Assert.True(Grants(rules, type.Group, type.Plural, "get"), $"get {type.Plural} (re-read after a conflict)");
        }

        // The provisioner's Services: created, merge-patched and deleted (GatewayProvisioner).
        foreach (var verb in new[] { "create", "patch", "delete" })
        {
            Assert.True(Grants(rules, "", "services", verb), $"{verb} services (the Gateways' LoadBalancer Services)");
        }

        // Nothing beyond reading, status and those Services: no write to any other object, no wildcard.
        static bool Provisioned(Rule r) => r.Groups.SetEquals([""]) && r.Resources.SetEquals(["services"]);
        Assert.DoesNotContain(rules, r => r.Verbs.Overlaps(["deletecollection", "*"]) || r.Resources.Contains("*"));
        Assert.DoesNotContain(rules, r => !Provisioned(r) && r.Verbs.Overlaps(["create", "delete"]));
        Assert.DoesNotContain(rules, r => !Provisioned(r) && r.Verbs.Overlaps(["patch", "update"]) && r.Resources.Any(res => !res.EndsWith("/status", StringComparison.Ordinal)));

        var lease = Rules("Role");
        Assert.True(Grants(lease, ResourceType.Leases.Group, "leases", "get") && Grants(lease, ResourceType.Leases.Group, "leases", "create") && Grants(lease, ResourceType.Leases.Group, "leases", "update"));
    }

    [Fact]
    public void DeploymentArgs_ParseAsTheControllerCommand()
    {
        var deployment = Documents(File.ReadAllText(Repo.Path("config", "gateway", "deployment.yaml"))).Single();
        var container = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!;
        Assert.Equal("ghcr.io/switchyard/switchyard:0.1.0", (string?)container["image"]);
        var args = container["args"]!.AsArray().Select(a => ((string?)a)!.Replace("$(POD_NAME)", "pod-0", StringComparison.Ordinal).Replace("$(POD_NAMESPACE)", "switchyard-system", StringComparison.Ordinal)).ToList();
        Assert.Equal(["controller", "--in-cluster"], args.Take(2));

        // Outside a pod, the only complaint is that there is no cluster: every argument parsed.
        var (code, output) = Repo.Run("dotnet", [Repo.SwitchyardDll, .. args], TimeSpan.FromSeconds(60));
        Assert.True(code == 2 && output.Contains("not running in a cluster", StringComparison.Ordinal), $"exit {code}: {output}");
    }

    [Fact]
    public void DeploymentPods_BindListenerPortsBelow1024_AsNonRoot()
    {
        // Gateways listen on 80 and 443: without this the data plane's bind fails in a cluster (EACCES).
        var pod = Documents(File.ReadAllText(Repo.Path("config", "gateway", "deployment.yaml"))).Single()["spec"]!["template"]!["spec"]!;
        Assert.True((bool?)pod["securityContext"]!["runAsNonRoot"]);
        var sysctl = pod["securityContext"]!["sysctls"]!.AsArray().Single(s => (string?)s!["name"] == "net.ipv4.ip_unprivileged_port_start");
        Assert.Equal("0", (string?)sysctl!["value"]);
    }

    private static List<JsonObject> Documents(string yaml) =>
        yaml.Split("\n---", StringSplitOptions.RemoveEmptyEntries)
            .Select(d => YamlJson.ParseOne(d))
            .OfType<JsonObject>()
            .ToList();

    private static List<Rule> Rules(string kind)
    {
        var doc = Documents(File.ReadAllText(Repo.Path("config", "gateway", "rbac.yaml"))).Single(d => (string?)d["kind"] == kind);
        return doc["rules"]!.AsArray().Select(r => new Rule(
            [.. r!["apiGroups"]!.AsArray().Select(x => (string)x!)],
            [.. r["resources"]!.AsArray().Select(x => (string)x!)],
            [.. r["verbs"]!.AsArray().Select(x => (string)x!)])).ToList();
    }

    private static bool Grants(List<Rule> rules, string group, string resource, string verb) =>
        rules.Exists(r => r.Groups.Contains(group) && r.Resources.Contains(resource) && r.Verbs.Contains(verb));

    private sealed record Rule(HashSet<string> Groups, HashSet<string> Resources, HashSet<string> Verbs);
}

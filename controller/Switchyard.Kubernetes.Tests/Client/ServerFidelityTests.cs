using System.Text.Json.Nodes;
using Switchyard.Kubernetes.Client;

namespace Switchyard.Kubernetes.Tests.Client;

public sealed class ServerFidelityTests : IAsyncLifetime
{
    private readonly TestServer _t = new();

    public Task InitializeAsync() => _t.InitializeAsync();

    public Task DisposeAsync() => _t.DisposeAsync();

    [Fact]
    public async Task MultiVersionCrd_ServesEveryVersionFromOneStore()
    {
        var crd = TestServer.WidgetCrd();
        var v1 = crd["spec"]!["versions"]![0]!.AsObject();
        var beta = (JsonObject)v1.DeepClone();
        beta["name"] = "v1beta1";
        beta["storage"] = false;
        crd["spec"]!["versions"]!.AsArray().Add(beta);
        await _t.Client.Resource(ResourceType.CustomResourceDefinitions).CreateAsync(null, crd);

        var betaType = TestServer.Widgets with { Version = "v1beta1" };
        var w = TestServer.Widget("mv", 2);
        w["apiVersion"] = "test.switchyard.dev/v1beta1";
        await _t.Client.Resource(betaType).CreateAsync("default", w);
        var asV1 = await _t.Client.Resource(TestServer.Widgets).GetAsync("default", "mv");
        Assert.Equal("test.switchyard.dev/v1", asV1.Str("apiVersion"));
        var asBeta = await _t.Client.Resource(betaType).GetAsync("default", "mv");
        Assert.Equal("test.switchyard.dev/v1beta1", asBeta.Str("apiVersion"));
        Assert.Equal(asV1.Rv(), asBeta.Rv());
        var groups = await _t.Client.GetJsonAsync("/apis/test.switchyard.dev");
        Assert.Equal("test.switchyard.dev/v1", groups.Str("preferredVersion.groupVersion"));
    }

    [Fact]
    public async Task AnnotationsOver256KiB_Answer422()
    {
        var cm = TestServer.ConfigMap("big", "1");
        cm["metadata"]!["annotations"] = new JsonObject { ["kubectl.kubernetes.io/last-applied-configuration"] = new string('x', 300 * 1024) };
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => _t.Client.Resource(ResourceType.ConfigMaps).CreateAsync("default", cm));
        Assert.Equal(422, ex.Code);
        Assert.Contains(ex.Status.Causes, c => c.Field == "metadata.annotations" && c.Message == "Too long: must have at most 262144 bytes");
    }

    [Fact]
    public async Task WrongKindOrNamespaceInBody_Answers400()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        var wrongKind = TestServer.ConfigMap("k", "1");
        wrongKind["kind"] = "Secret";
        Assert.Equal(400, (await Assert.ThrowsAsync<KubernetesApiException>(() => cms.CreateAsync("default", wrongKind))).Code);
        var wrongNs = TestServer.ConfigMap("k", "1", "kube-system");
        Assert.Equal(400, (await Assert.ThrowsAsync<KubernetesApiException>(() => cms.CreateAsync("default", wrongNs))).Code);
    }

    [Fact]
    public async Task DeletingNamespace_RemovesItsObjects()
    {
        var nss = _t.Client.Resource(ResourceType.Namespaces);
        await nss.CreateAsync(null, new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "tmp" } });
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        await cms.CreateAsync("tmp", TestServer.ConfigMap("c", "1", "tmp"));
        await nss.DeleteAsync(null, "tmp");
        Assert.Empty((await cms.ListAsync("tmp")).Items);
    }

    [Fact]
    public async Task Deployment_IsServedWithDefaultsAndGeneration()
    {
        var deploys = _t.Client.Resource(new ResourceType("apps", "v1", "deployments", "Deployment", true));
        var d = (JsonObject)JsonNode.Parse("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"dp"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}""")!;
        var created = await deploys.CreateAsync("default", d);
        Assert.Equal("1", created.Str("spec.replicas"));
        Assert.Equal(1, created.Generation());
        var scaled = await deploys.PatchAsync("default", "dp", PatchType.StrategicMerge, """{"spec":{"replicas":3}}""");
        Assert.Equal(2, scaled.Generation());
    }

    [Fact]
    public async Task UnknownResourceAndBadJson_AnswerStatusObjects()
    {
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => _t.Client.GetJsonAsync("/apis/nope.example/v1/things"));
        Assert.Equal(404, ex.Code);
        using var http = new HttpClient { BaseAddress = _t.Server.BaseAddress };
        using var response = await http.PostAsync("/api/v1/namespaces/default/configmaps", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        var status = KubernetesStatus.FromJson(JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        Assert.Equal("BadRequest", status!.Reason);
    }
}

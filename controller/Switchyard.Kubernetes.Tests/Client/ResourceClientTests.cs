using System.Text.Json.Nodes;
using Switchyard.Kubernetes.Client;

namespace Switchyard.Kubernetes.Tests.Client;

public sealed class ResourceClientTests : IAsyncLifetime
{
    private readonly TestServer _t = new();

    public Task InitializeAsync() => _t.InitializeAsync();

    public Task DisposeAsync() => _t.DisposeAsync();

    [Fact]
    public async Task CreateGetReplaceDelete_RoundTripsWithServerFields()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        var created = await cms.CreateAsync("default", TestServer.ConfigMap("a", "1"));
        Assert.False(string.IsNullOrEmpty(created.Str("metadata.uid")));
        Assert.False(string.IsNullOrEmpty(created.Str("metadata.creationTimestamp")));
        Assert.Null(created["metadata"]!["managedFields"]);

        var got = await cms.GetAsync("default", "a");
        Assert.Equal(created.Rv(), got.Rv());
        got["data"]!["k"] = "2";
        var replaced = await cms.ReplaceAsync("default", "a", got);
        Assert.Equal("2", replaced.Str("data.k"));
        Assert.True(long.Parse(replaced.Rv()) > long.Parse(created.Rv()));

        await cms.DeleteAsync("default", "a");
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => cms.GetAsync("default", "a"));
        Assert.True(ex.IsNotFound);
        Assert.Equal("configmaps \"a\" not found", ex.Status.Message);
        Assert.Null(await cms.TryGetAsync("default", "a"));
    }

    [Fact]
    public async Task CreateExisting_Answers409AlreadyExists()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        await cms.CreateAsync("default", TestServer.ConfigMap("dup", "1"));
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => cms.CreateAsync("default", TestServer.ConfigMap("dup", "2")));
        Assert.True(ex.IsAlreadyExists);
        Assert.Equal(409, ex.Code);
        Assert.Equal("dup", ex.Status.Name);
        Assert.Equal("configmaps", ex.Status.Kind);
    }

    [Fact]
    public async Task CreateInMissingNamespace_Answers404ForTheNamespace()
    {
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() =>
            _t.Client.Resource(ResourceType.ConfigMaps).CreateAsync("nowhere", TestServer.ConfigMap("x", "1", "nowhere")));
        Assert.Equal(404, ex.Code);
        Assert.Equal("namespaces \"nowhere\" not found", ex.Status.Message);
    }

    [Fact]
    public async Task GenerateName_AppendsFiveCharacters()
    {
        var cm = TestServer.ConfigMap("", "1");
        cm["metadata"]!.AsObject().Remove("name");
        cm["metadata"]!["generateName"] = "gen-";
        var created = await _t.Client.Resource(ResourceType.ConfigMaps).CreateAsync("default", cm);
        Assert.Matches("^gen-[a-z0-9]{5}$", created.Str("metadata.name"));
    }

    [Fact]
    public async Task ReplaceWithStaleResourceVersion_Answers409ConflictVerbatim()
    {
        var widgets = await _t.InstallWidgetsAsync();
        var v1 = await widgets.CreateAsync("default", TestServer.Widget("w", 1));
        var v2 = (JsonObject)v1.DeepClone();
        v2["spec"]!["size"] = 2;
        await widgets.ReplaceAsync("default", "w", v2);
        v1["spec"]!["size"] = 3;
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => widgets.ReplaceAsync("default", "w", v1));
        Assert.True(ex.IsConflict);
        Assert.Equal(
            "Operation cannot be fulfilled on widgets.test.switchyard.dev \"w\": the object has been modified; please apply your changes to the latest version and try again",
            ex.Status.Message);
    }

    [Fact]
    public async Task ReplaceCustomResourceWithoutResourceVersion_Answers422()
    {
        var widgets = await _t.InstallWidgetsAsync();
        await widgets.CreateAsync("default", TestServer.Widget("w", 1));
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => widgets.ReplaceAsync("default", "w", TestServer.Widget("w", 5)));
        Assert.Equal(422, ex.Code);
        Assert.Equal("Invalid", ex.Reason);
        Assert.Contains(ex.Status.Causes, c => c.Field == "metadata.resourceVersion");
    }

    [Fact]
    public async Task ReplaceBuiltInWithoutResourceVersion_IsUnconditional()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        await cms.CreateAsync("default", TestServer.ConfigMap("u", "1"));
        var replaced = await cms.ReplaceAsync("default", "u", TestServer.ConfigMap("u", "2"));
        Assert.Equal("2", replaced.Str("data.k"));
    }

    [Fact]
    public async Task StatusSubresource_MainWritesIgnoreStatusAndStatusWritesIgnoreTheRest()
    {
        var widgets = await _t.InstallWidgetsAsync();
        var w = TestServer.Widget("s", 1);
        w["status"] = new JsonObject { ["ready"] = true };
        var created = await widgets.CreateAsync("default", w);
        Assert.Null(created["status"]);

        // Status write: spec change ignored, status taken.
        var forStatus = (JsonObject)created.DeepClone();
        forStatus["spec"]!["size"] = 99;
        forStatus["status"] = new JsonObject { ["ready"] = true };
        var afterStatus = await widgets.ReplaceStatusAsync("default", "s", forStatus);
        Assert.Equal("1", afterStatus.Str("spec.size"));
        Assert.Equal("true", afterStatus.Str("status.ready"));
        Assert.Equal(1, afterStatus.Generation());

        // Main write: status change ignored, spec taken, generation bumped.
        var forMain = (JsonObject)afterStatus.DeepClone();
        forMain["spec"]!["size"] = 2;
        forMain["status"] = new JsonObject { ["ready"] = false };
        var afterMain = await widgets.ReplaceAsync("default", "s", forMain);
        Assert.Equal("2", afterMain.Str("spec.size"));
        Assert.Equal("true", afterMain.Str("status.ready"));
        Assert.Equal(2, afterMain.Generation());

        // Status patch ignores spec; main patch ignores status.
        var p1 = await widgets.PatchStatusAsync("default", "s", PatchType.Merge, """{"spec":{"size":7},"status":{"ready":false}}""");
        Assert.Equal("2", p1.Str("spec.size"));
        Assert.Equal("false", p1.Str("status.ready"));
        var p2 = await widgets.PatchAsync("default", "s", PatchType.Merge, """{"spec":{"size":8},"status":{"ready":true}}""");
        Assert.Equal("8", p2.Str("spec.size"));
        Assert.Equal("false", p2.Str("status.ready"));
        Assert.Equal(3, p2.Generation());
    }

    [Fact]
    public async Task Generation_IgnoresMetadataAndStatusChanges()
    {
        var widgets = await _t.InstallWidgetsAsync();
        await widgets.CreateAsync("default", TestServer.Widget("g", 1));
        var labelled = await widgets.PatchAsync("default", "g", PatchType.Merge, """{"metadata":{"labels":{"a":"b"}}}""");
        Assert.Equal(1, labelled.Generation());
        var status = await widgets.PatchStatusAsync("default", "g", PatchType.Merge, """{"status":{"ready":true}}""");
        Assert.Equal(1, status.Generation());
        var spec = await widgets.PatchAsync("default", "g", PatchType.Merge, """{"spec":{"size":4}}""");
        Assert.Equal(2, spec.Generation());
    }

    [Fact]
    public async Task NoOpWrite_KeepsResourceVersion()
    {
        var widgets = await _t.InstallWidgetsAsync();
        var created = await widgets.CreateAsync("default", TestServer.Widget("n", 1));
        var same = await widgets.PatchAsync("default", "n", PatchType.Merge, """{"spec":{"size":1}}""");
        Assert.Equal(created.Rv(), same.Rv());
    }

    [Fact]
    public async Task JsonPatch_AppliesAndTestFailureRejectsWholePatch()
    {
        var widgets = await _t.InstallWidgetsAsync();
        await widgets.CreateAsync("default", TestServer.Widget("j", 1));
        var patched = await widgets.PatchAsync("default", "j", PatchType.Json,
            """[{"op":"test","path":"/spec/size","value":1},{"op":"replace","path":"/spec/size","value":5},{"op":"add","path":"/spec/tags","value":["x"]},{"op":"add","path":"/spec/tags/-","value":"y"}]""");
        Assert.Equal("5", patched.Str("spec.size"));
        Assert.Equal("""["x","y"]""", patched["spec"]!["tags"]!.ToJsonString());
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => widgets.PatchAsync("default", "j", PatchType.Json,
            """[{"op":"replace","path":"/spec/size","value":6},{"op":"test","path":"/spec/size","value":1}]"""));
        Assert.Equal(422, ex.Code);
        Assert.Equal("5", (await widgets.GetAsync("default", "j")).Str("spec.size"));
    }

    [Fact]
    public async Task MergePatchWithStaleResourceVersion_Answers409()
    {
        var widgets = await _t.InstallWidgetsAsync();
        var created = await widgets.CreateAsync("default", TestServer.Widget("m", 1));
        await widgets.PatchAsync("default", "m", PatchType.Merge, """{"spec":{"size":2}}""");
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => widgets.PatchAsync("default", "m", PatchType.Merge,
            new JsonObject { ["metadata"] = new JsonObject { ["resourceVersion"] = created.Rv() }, ["spec"] = new JsonObject { ["size"] = 3 } }));
        Assert.True(ex.IsConflict);
    }

    [Fact]
    public async Task StrategicMergePatchOnCustomResource_Answers415ButWorksOnBuiltIns()
    {
        var widgets = await _t.InstallWidgetsAsync();
        await widgets.CreateAsync("default", TestServer.Widget("smp", 1));
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => widgets.PatchAsync("default", "smp", PatchType.StrategicMerge, """{"spec":{"size":2}}"""));
        Assert.Equal(415, ex.Code);

        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        await cms.CreateAsync("default", TestServer.ConfigMap("smp", "1"));
        var patched = await cms.PatchAsync("default", "smp", PatchType.StrategicMerge, """{"data":{"k":"2","$retainKeys":["k"]}}""");
        Assert.Equal("2", patched.Str("data.k"));
        Assert.Null(patched["data"]!["$retainKeys"]);
    }

    [Fact]
    public async Task Apply_NeedsFieldManagerAndForceNeedsApply()
    {
        var widgets = await _t.InstallWidgetsAsync();
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => widgets.PatchAsync("default", "a", PatchType.Apply, TestServer.Widget("a", 1)));
        Assert.Equal(422, ex.Code);
        var created = await widgets.PatchAsync("default", "a", PatchType.Apply, "apiVersion: test.switchyard.dev/v1\nkind: Widget\nmetadata:\n  name: a\nspec:\n  size: 2\n", fieldManager: "me", force: true);
        Assert.Equal("2", created.Str("spec.size"));
        var forced = await Assert.ThrowsAsync<KubernetesApiException>(() => widgets.PatchAsync("default", "a", PatchType.Merge, """{"spec":{"size":3}}""", force: true));
        Assert.Equal(422, forced.Code);
    }

    [Fact]
    public async Task Schema_RejectsMissingRequiredAndBadEnumAndDefaultsAndPrunes()
    {
        var widgets = await _t.InstallWidgetsAsync();
        var bad = TestServer.Widget("bad", 1);
        bad["spec"] = new JsonObject { ["color"] = "purple" };
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => widgets.CreateAsync("default", bad));
        Assert.Equal(422, ex.Code);
        Assert.Contains(ex.Status.Causes, c => c.Field == "spec.size" && c.Reason == "FieldValueRequired");
        Assert.Contains(ex.Status.Causes, c => c.Field == "spec.color" && c.Reason == "FieldValueNotSupported");
        Assert.StartsWith("Widget.test.switchyard.dev \"bad\" is invalid: [", ex.Status.Message);

        var typed = TestServer.Widget("typed", 1);
        typed["spec"]!["size"] = "three";
        Assert.Equal(422, (await Assert.ThrowsAsync<KubernetesApiException>(() => widgets.CreateAsync("default", typed))).Code);

        var good = TestServer.Widget("good", 2);
        good["spec"]!["extra"] = "pruned";
        var created = await widgets.CreateAsync("default", good);
        Assert.Equal("red", created.Str("spec.color"));
        Assert.Null(created["spec"]!["extra"]);
    }

    [Fact]
    public async Task List_PagesFromOneSnapshotAndLastPageHasEmptyContinue()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        for (var i = 0; i < 7; i++)
        {
            await cms.CreateAsync("default", TestServer.ConfigMap($"p{i}", "v"));
        }

        var first = await cms.ListAsync("default", new ListOptions { Limit = 3 });
        Assert.Equal(3, first.Items.Count);
        Assert.NotNull(first.Continue);

        // Changes after the first page do not show up in later pages.
        await cms.CreateAsync("default", TestServer.ConfigMap("p9", "v"));
        await cms.DeleteAsync("default", "p5");

        var names = first.Items.Names().ToList();
        var cont = first.Continue;
        while (cont is not null)
        {
            var page = await cms.ListAsync("default", new ListOptions { Limit = 3, Continue = cont });
            Assert.Equal(first.ResourceVersion, page.ResourceVersion);
            names.AddRange(page.Items.Names());
            cont = page.Continue;
        }

        Assert.Equal(new[] { "p0", "p1", "p2", "p3", "p4", "p5", "p6" }, names);
        Assert.Equal(7, (await cms.ListAllAsync("default").ToListAsync()).Count);
    }

    [Fact]
    public async Task List_ExpiredContinue_Answers410()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        for (var i = 0; i < 3; i++)
        {
            await cms.CreateAsync("default", TestServer.ConfigMap($"e{i}", "v"));
        }

        var first = await cms.ListAsync("default", new ListOptions { Limit = 1 });
        _t.Server.ExpireWatchHistory();
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => cms.ListAsync("default", new ListOptions { Limit = 1, Continue = first.Continue }));
        Assert.True(ex.IsGone);
        Assert.Equal("Expired", ex.Reason);
    }

    [Fact]
    public async Task List_FiltersByLabelAndFieldSelector()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        foreach (var (name, tier) in new[] { ("l1", "web"), ("l2", "db"), ("l3", "web") })
        {
            var cm = TestServer.ConfigMap(name, "v");
            cm["metadata"]!["labels"] = new JsonObject { ["tier"] = tier };
            await cms.CreateAsync("default", cm);
        }

        var web = await cms.ListAsync("default", new ListOptions { LabelSelector = "tier=web" });
        Assert.Equal(new[] { "l1", "l3" }, web.Items.Names());
        var notWeb = await cms.ListAsync(null, new ListOptions { LabelSelector = "tier notin (web)" });
        Assert.Equal(new[] { "l2" }, notWeb.Items.Names());
        var byName = await cms.ListAsync(null, new ListOptions { FieldSelector = "metadata.name=l3" });
        Assert.Equal(new[] { "l3" }, byName.Items.Names());
        var bad = await Assert.ThrowsAsync<KubernetesApiException>(() => cms.ListAsync(null, new ListOptions { FieldSelector = "spec.x=1" }));
        Assert.Equal(400, bad.Code);
    }

    [Fact]
    public async Task DeleteWithFinalizers_MarksThenRemovesWhenLastFinalizerGoes()
    {
        var widgets = await _t.InstallWidgetsAsync();
        var w = TestServer.Widget("f", 1);
        w["metadata"]!["finalizers"] = new JsonArray("test.switchyard.dev/cleanup");
        await widgets.CreateAsync("default", w);
        var marked = await widgets.DeleteAsync("default", "f");
        Assert.NotNull(marked);
        Assert.NotNull(marked!["metadata"]!["deletionTimestamp"]);
        Assert.Equal(2, marked.Generation());

        var still = await widgets.GetAsync("default", "f");
        Assert.NotNull(still["metadata"]!["deletionTimestamp"]);

        var add = await Assert.ThrowsAsync<KubernetesApiException>(() => widgets.PatchAsync("default", "f", PatchType.Merge, """{"metadata":{"finalizers":["a","test.switchyard.dev/cleanup"]}}"""));
        Assert.Equal(422, add.Code);

        await widgets.PatchAsync("default", "f", PatchType.Json, """[{"op":"remove","path":"/metadata/finalizers"}]""");
        Assert.Null(await widgets.TryGetAsync("default", "f"));
    }

    [Fact]
    public async Task Crd_RegistersDiscoveryAndDeletionRemovesResource()
    {
        await _t.InstallWidgetsAsync();
        var list = await _t.Client.GetJsonAsync("/apis/test.switchyard.dev/v1");
        var resources = list!["resources"]!.AsArray();
        Assert.Contains(resources, r => r.Str("name") == "widgets" && r!["shortNames"]![0]!.ToString() == "wd" && (bool)r["namespaced"]!);
        Assert.Contains(resources, r => r.Str("name") == "widgets/status");
        var groups = await _t.Client.GetJsonAsync("/apis");
        Assert.Contains(groups!["groups"]!.AsArray(), g => g.Str("name") == "test.switchyard.dev");
        var crd = await _t.Client.Resource(ResourceType.CustomResourceDefinitions).GetAsync(null, "widgets.test.switchyard.dev");
        Assert.Contains(crd["status"]!["conditions"]!.AsArray(), c => c.Str("type") == "Established" && c.Str("status") == "True");

        await _t.Client.Resource(ResourceType.CustomResourceDefinitions).DeleteAsync(null, "widgets.test.switchyard.dev");
        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() => _t.Client.Resource(TestServer.Widgets).ListAsync("default"));
        Assert.Equal(404, ex.Code);
    }

    [Fact]
    public async Task Service_IsDefaultedAndKeepsClusterIpAcrossUpdates()
    {
        var svcs = _t.Client.Resource(ResourceType.Services);
        var svc = (JsonObject)JsonNode.Parse("""{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"type":"LoadBalancer","ports":[{"name":"https","port":443},{"name":"quic","port":443,"protocol":"UDP"}]}}""")!;
        var created = await svcs.CreateAsync("default", svc);
        var ip = created.Str("spec.clusterIP");
        Assert.Matches(@"^10\.96\.\d+\.\d+$", ip);
        Assert.Equal("TCP", created["spec"]!["ports"]![0].Str("protocol"));
        Assert.Equal("443", created["spec"]!["ports"]![0].Str("targetPort"));
        Assert.NotNull(created["spec"]!["ports"]![1]!["nodePort"]);
        var replaced = await svcs.ReplaceAsync("default", "web", svc);
        Assert.Equal(ip, replaced.Str("spec.clusterIP"));
    }
}

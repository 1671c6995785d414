using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Switchyard.Kubernetes.DevApiServer.Cel;

namespace Switchyard.Kubernetes.Tests.Cel;

public sealed class CelCrdRulesTests : IAsyncLifetime
{
    private readonly TestServer _t = new();

    public Task InitializeAsync() => _t.InitializeAsync();

    public Task DisposeAsync() => _t.DisposeAsync();

    [Fact]
    public void EveryRuleInTheRepositoryCrds_Compiles()
    {
        var total = 0;
        foreach (var file in CelRepoFiles.CrdFiles())
        {
            foreach (var doc in CelRepoFiles.Documents(file))
            {
                foreach (var (rule, _) in CelRepoFiles.Rules(doc))
                {
                    var ex = Record.Exception(() => CelProgram.Compile(rule));
                    Assert.True(ex is null, $"{file}: {rule}: {ex?.Message}");
                    total++;
                }
            }
        }

        // The WebTransportRoute CRD has 9 rules (twice: api/ and config/), the conformance Gateway API CRDs many more.
        Assert.True(total > 100, $"only {total} rules found");
    }

    [Fact]
    public async Task EveryRepositoryCrd_RegistersWithItsRulesCompiled()
    {
        using var http = new HttpClient { BaseAddress = _t.Server.BaseAddress };
        foreach (var file in CelRepoFiles.CrdFiles().Where(f => !f.StartsWith("config/gateway/crds", StringComparison.Ordinal)))
        {
            foreach (var doc in CelRepoFiles.Documents(file))
            {
                using var response = await http.PostAsJsonAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", doc);
                Assert.True(response.StatusCode == HttpStatusCode.Created, $"{file}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");

                // Two folders define the same Gateway API kinds: remove each before the next file registers it again.
                using var deleted = await http.DeleteAsync($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{(string?)doc["metadata"]!["name"]}");
                Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            }
        }
    }

    [Fact]
    public async Task CrdWithUnknownFunctionOrBadSyntax_IsRefusedAtRegistrationWith422()
    {
        using var http = new HttpClient { BaseAddress = _t.Server.BaseAddress };
        var crd = TestServer.WidgetCrd();
        var spec = crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!.AsObject();
        spec["x-kubernetes-validations"] = new JsonArray(
            new JsonObject { ["rule"] = "self.size > 0", ["message"] = "fine" },
            new JsonObject { ["rule"] = "self.color.quantity() > 1" },
            new JsonObject { ["rule"] = "self.size >" });
        using var response = await http.PostAsJsonAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("Invalid", (string?)status["reason"]);
        var causes = status["details"]!["causes"]!.AsArray();
        Assert.Equal(2, causes.Count);
        Assert.Equal("spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].rule", (string?)causes[0]!["field"]);
        Assert.Contains("undeclared reference to 'quantity'", (string?)causes[0]!["message"], StringComparison.Ordinal);
        Assert.Equal("spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[2].rule", (string?)causes[1]!["field"]);
        Assert.Contains("Syntax error", (string?)causes[1]!["message"], StringComparison.Ordinal);

        // Nothing was registered.
        using var list = await http.GetAsync("/apis/test.switchyard.dev/v1/widgets");
        Assert.Equal(HttpStatusCode.NotFound, list.StatusCode);
    }

    [Fact]
    public async Task TransitionRule_RunsOnUpdateOnly_AndRatchetingSkipsUnchangedValues()
    {
        using var http = new HttpClient { BaseAddress = _t.Server.BaseAddress };
        var crd = TestServer.WidgetCrd();
        var spec = crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!.AsObject();
        spec["properties"]!["color"]!.AsObject()["x-kubernetes-validations"] = new JsonArray(
            new JsonObject { ["rule"] = "self == oldSelf", ["message"] = "color is immutable" });
        spec["x-kubernetes-validations"] = new JsonArray(
            new JsonObject { ["rule"] = "self.size <= 10", ["messageExpression"] = "'size ' + string(self.size) + ' is over 10'" });
        (await http.PostAsJsonAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)).EnsureSuccessStatusCode();
        var widgets = _t.Client.Resource(TestServer.Widgets);

        // Create: no oldSelf, so the transition rule is skipped; the messageExpression explains the other failure.
        var tooBig = await Assert.ThrowsAsync<Switchyard.Kubernetes.Client.KubernetesApiException>(() => widgets.CreateAsync("default", TestServer.Widget("w", 11)));
        Assert.Equal(422, tooBig.Status.Code);
        Assert.Contains("spec: Invalid value: \"object\": size 11 is over 10", tooBig.Message, StringComparison.Ordinal);
        var created = await widgets.CreateAsync("default", TestServer.Widget("w", 3));

        // Update: changing the color breaks the transition rule.
        var changed = (JsonObject)created.DeepClone();
        changed["spec"]!["color"] = "blue";
        var immutable = await Assert.ThrowsAsync<Switchyard.Kubernetes.Client.KubernetesApiException>(() => widgets.ReplaceAsync("default", "w", changed));
        Assert.Contains("spec.color: Invalid value: \"string\": color is immutable", immutable.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RuntimeErrorAndCostExhaustion_Answer422NotA500()
    {
        using var http = new HttpClient { BaseAddress = _t.Server.BaseAddress };
        var crd = TestServer.WidgetCrd();
        var spec = crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!.AsObject();
        spec["x-kubernetes-validations"] = new JsonArray(
            new JsonObject { ["rule"] = "self.color != 'green' || self.tags[0] == 'x'", ["message"] = "green needs tag x" },
            new JsonObject { ["rule"] = "!has(self.tags) || self.tags.all(a, self.tags.all(b, self.tags.all(c, a + b + c != '')))", ["message"] = "tags" });
        (await http.PostAsJsonAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)).EnsureSuccessStatusCode();
        var widgets = _t.Client.Resource(TestServer.Widgets);

        // No tags: indexing fails at runtime, and the rule fails with the server's wording.
        var green = TestServer.Widget("g", 1);
        green["spec"]!["color"] = "green";
        var error = await Assert.ThrowsAsync<Switchyard.Kubernetes.Client.KubernetesApiException>(() => widgets.CreateAsync("default", green));
        Assert.Equal(422, error.Status.Code);
        Assert.Contains("spec: Invalid value: \"object\": no such key: tags evaluating rule: green needs tag x", error.Message, StringComparison.Ordinal);

        // 500 tags make the triple loop cost 125 million steps: the budget stops it quickly.
        var hostile = TestServer.Widget("h", 1);
        hostile["spec"]!["tags"] = new JsonArray([.. Enumerable.Range(0, 500).Select(i => (JsonNode)JsonValue.Create($"t{i}"))]);
        var started = DateTime.UtcNow;
        var exhausted = await Assert.ThrowsAsync<Switchyard.Kubernetes.Client.KubernetesApiException>(() => widgets.CreateAsync("default", hostile));
        Assert.Equal(422, exhausted.Status.Code);
        Assert.Contains("no further validation rules will be run", exhausted.Message, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), $"took {DateTime.UtcNow - started}");

        // The server still answers.
        var fine = await widgets.CreateAsync("default", TestServer.Widget("fine", 1));
        Assert.Equal("fine", (string?)fine["metadata"]!["name"]);
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Switchyard.Kubernetes.Tests.Cel;

/// <summary>
/// The double refuses objects that break the CEL rules of the CRDs we ship, over its HTTP API and through a real
/// kubectl, with the Status a real API server sends.
/// </summary>
public sealed class CelAdmissionTests : IAsyncLifetime
{
    private const string Routes = "/apis/switchyard.dev/v1alpha1/namespaces/default/webtransportroutes";
    private const string HttpRoutes = "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes";
    private readonly TestServer _t = new();
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        await _t.InitializeAsync();
        _http = new HttpClient { BaseAddress = _t.Server.BaseAddress };
        foreach (var file in new[] { "api/crds/switchyard.dev_webtransportroutes.yaml", "conformance/Switchyard.Conformance/Manifests/crds/httproutes.yaml" })
        {
            foreach (var crd in CelRepoFiles.Documents(file))
            {
                (await _http.PostAsJsonAsync("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)).EnsureSuccessStatusCode();
            }
        }
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _t.DisposeAsync();
    }

    private static JsonObject QuickstartRoute(string name)
    {
        var route = CelRepoFiles.Documents("examples/quickstart/webtransportroute.yaml").Single();
        route["metadata"]!["name"] = name;
        return route;
    }

    private static JsonNode Yaml(string yaml) => Switchyard.Kubernetes.Config.YamlJson.ParseOne(yaml)!;

    public static TheoryData<string, string, string, string> Violations => new()
    {
        // Rule 1 of parentRefs: one reference names a listener, the other the whole Gateway.
        { "parentRefs", "[{name: quickstart, sectionName: wt}, {name: quickstart}]", "spec.parentRefs: Invalid value: \"array\"",
          "sectionName or port must be specified when parentRefs includes 2 or more references to the same parent" },
        // Rule 2 of parentRefs: the same listener twice.
        { "parentRefs", "[{name: quickstart, sectionName: wt}, {name: quickstart, sectionName: wt}]", "spec.parentRefs: Invalid value: \"array\"",
          "sectionName or port must be unique when parentRefs includes 2 or more references to the same parent" },
        // Session path rules.
        { "rules[0].matches[0].path", "{type: Exact, value: wt}", "spec.rules[0].matches[0].path: Invalid value: \"object\"",
          "value must be an absolute path and start with '/'" },
        { "rules[0].matches[0].path", "{type: PathPrefix, value: /a/../b}", "spec.rules[0].matches[0].path: Invalid value: \"object\"",
          "must not contain '//', '/./' or '/../'" },
        // trackId: a NUL, and 10 characters that take 20 bytes (within maxLength, beyond the 16-byte field).
        { "rules[0].matches[0].trackId", "{value: \"a\\0b\"}", "spec.rules[0].matches[0].trackId: Invalid value: \"object\"",
          "value must fit the 16-byte track_id field and contain no NUL" },
        { "rules[0].matches[0].trackId", "{value: éééééééééé}", "spec.rules[0].matches[0].trackId: Invalid value: \"object\"",
          "value must fit the 16-byte track_id field and contain no NUL" },
        // A Service backend without a port.
        { "rules[0].backendRefs", "[{name: video-processor}]", "spec.rules[0].backendRefs[0]: Invalid value: \"object\"",
          "Must have port for Service reference" },
        // Every weight set (the schema defaults the rest to 1), none above 0.
        { "rules[0].backendRefs", "[{name: a, port: 80, weight: 0}, {name: b, port: 80, weight: 0}]", "spec.rules[0].backendRefs: Invalid value: \"array\"",
          "when every backendRef sets a weight, the weights must sum to more than 0" },
        // Delivery settings.
        { "rules[0].delivery", "{mode: Message, path: process}", "spec.rules[0].delivery: Invalid value: \"object\"", "path must start with '/'" },
        { "rules[0].delivery", "{mode: Message, path: /p, timeout: 0s}", "spec.rules[0].delivery: Invalid value: \"object\"", "timeout must be positive" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task RouteBreakingACelRule_IsRefusedWith422AndTheRuleMessage(string at, string valueYaml, string fieldPrefix, string message)
    {
        var route = QuickstartRoute("bad");
        Set(route["spec"]!.AsObject(), at, Yaml(valueYaml));

        using var response = await _http.PostAsJsonAsync(Routes, route);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, body);
        var status = JsonNode.Parse(body)!;
        Assert.Equal("Status", (string?)status["kind"]);
        Assert.Equal("Failure", (string?)status["status"]);
        Assert.Equal("Invalid", (string?)status["reason"]);
        Assert.Equal(422, (int?)status["code"]);
        Assert.Equal("bad", (string?)status["details"]!["name"]);
        Assert.Equal("switchyard.dev", (string?)status["details"]!["group"]);
        Assert.Equal("WebTransportRoute", (string?)status["details"]!["kind"]);
        var cause = Assert.Single(status["details"]!["causes"]!.AsArray());
        var field = fieldPrefix[..fieldPrefix.IndexOf(':', StringComparison.Ordinal)];
        Assert.Equal(field, (string?)cause!["field"]);
        Assert.Equal("FieldValueInvalid", (string?)cause["reason"]);
        Assert.Equal($"{fieldPrefix[(field.Length + 2)..]}: {message}", (string?)cause["message"]);
        Assert.Equal($"WebTransportRoute.switchyard.dev \"bad\" is invalid: {fieldPrefix}: {message}", (string?)status["message"]);

        // Nothing was stored.
        using var get = await _http.GetAsync($"{Routes}/bad");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task QuickstartObjects_AreStillAccepted()
    {
        using var created = await _http.PostAsJsonAsync(Routes, QuickstartRoute("media"));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());

        // An update that keeps every rule satisfied, and one that breaks a rule in a changed value.
        var stored = JsonNode.Parse(await created.Content.ReadAsStringAsync())!.AsObject();
        stored["spec"]!["rules"]![0]!["delivery"]!["timeout"] = "7s";
        using var updated = await _http.PutAsJsonAsync($"{Routes}/media", stored);
        Assert.True(updated.StatusCode == HttpStatusCode.OK, await updated.Content.ReadAsStringAsync());
        var again = JsonNode.Parse(await updated.Content.ReadAsStringAsync())!.AsObject();
        again["spec"]!["rules"]![1]!["delivery"]!["path"] = "nope";
        using var refused = await _http.PutAsJsonAsync($"{Routes}/media", again);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var cause = Assert.Single(JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["details"]!["causes"]!.AsArray());
        Assert.Equal("spec.rules[1].delivery", (string?)cause!["field"]);
        Assert.Equal("Invalid value: \"object\": path must start with '/'", (string?)cause["message"]);
    }

    [Theory]
    // Path rules of HTTPRouteMatch (Gateway API v1.6.1).
    [InlineData("{matches: [{path: {type: PathPrefix, value: foo}}]}", "spec.rules[0].matches[0].path",
        "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']")]
    [InlineData("{matches: [{path: {type: Exact, value: \"/a#b\"}}]}", "spec.rules[0].matches[0].path",
        "must not contain '#' when type one of ['Exact', 'PathPrefix']")]
    [InlineData("{matches: [{path: {type: Exact, value: \"/a b\"}}]}", "spec.rules[0].matches[0].path",
        "must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']")]
    // Filter rules: the type and its field must agree, and a redirect excludes backends.
    [InlineData("{filters: [{type: RequestHeaderModifier}]}", "spec.rules[0].filters[0]",
        "filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type")]
    [InlineData("{filters: [{type: RequestRedirect, requestRedirect: {statusCode: 301}}], backendRefs: [{name: web, port: 80}]}", "spec.rules[0]",
        "RequestRedirect filter must not be used together with backendRefs")]
    [InlineData("{matches: [{path: {type: Exact, value: /a}}], filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}}]}", "spec.rules[0]",
        "When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified")]
    public async Task HttpRouteBreakingAGatewayApiRule_IsRefused(string ruleYaml, string field, string message)
    {
        var route = new JsonObject
        {
            ["apiVersion"] = "gateway.networking.k8s.io/v1",
            ["kind"] = "HTTPRoute",
            ["metadata"] = new JsonObject { ["name"] = "r", ["namespace"] = "default" },
            ["spec"] = new JsonObject { ["parentRefs"] = new JsonArray(new JsonObject { ["name"] = "gw" }), ["rules"] = new JsonArray(Yaml(ruleYaml)) },
        };
        using var response = await _http.PostAsJsonAsync(HttpRoutes, route);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, body);
        var causes = JsonNode.Parse(body)!["details"]!["causes"]!.AsArray();
        Assert.Contains(causes, c => (string?)c!["field"] == field && (string?)c["message"] == $"Invalid value: \"object\": {message}");

        // The same route without the offending rule is accepted: the refusal came from that rule.
        route["spec"]!["rules"] = new JsonArray(Yaml("{matches: [{path: {type: PathPrefix, value: /ok}}], backendRefs: [{name: web, port: 80}]}"));
        using var ok = await _http.PostAsJsonAsync(HttpRoutes, route);
        Assert.True(ok.StatusCode == HttpStatusCode.Created, await ok.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task KubectlApply_ShowsTheRuleMessage()
    {
        var dir = Directory.CreateTempSubdirectory("kubectl-cel-").FullName;
        try
        {
            var kubeconfig = Path.Combine(dir, "kubeconfig");
            _t.Server.WriteKubeconfig(kubeconfig);
            var good = File.ReadAllText(CelRepoFiles.PathOf("examples/quickstart/webtransportroute.yaml"));
            var bad = good.Replace("name: media", "name: bad", StringComparison.Ordinal).Replace("path: /process_video", "path: process_video", StringComparison.Ordinal);
            Assert.NotEqual(good, bad);
            File.WriteAllText(Path.Combine(dir, "bad.yaml"), bad);
            File.WriteAllText(Path.Combine(dir, "good.yaml"), good);

            var (code, _, err) = await KubectlAsync(dir, kubeconfig, "apply", "--validate=false", "-f", Path.Combine(dir, "bad.yaml"));
            Assert.NotEqual(0, code);
            Assert.Contains("The WebTransportRoute \"bad\" is invalid: spec.rules[0].delivery: Invalid value: \"object\": path must start with '/'", err, StringComparison.Ordinal);

            var (okCode, okOut, okErr) = await KubectlAsync(dir, kubeconfig, "apply", "--validate=false", "-f", Path.Combine(dir, "good.yaml"));
            Assert.True(okCode == 0, okErr);
            Assert.Equal("webtransportroute.switchyard.dev/media created\n", okOut);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static Task<(int Code, string Out, string Err)> KubectlAsync(string home, string kubeconfig, params string[] args) =>
        Kubectl.KubectlProcess.RunAsync(home, kubeconfig, args);

    /// <summary>Sets <paramref name="value"/> at a path like <c>rules[0].matches[0].path</c> under <paramref name="root"/>.</summary>
    private static void Set(JsonObject root, string path, JsonNode value)
    {
        JsonNode current = root;
        var parts = path.Split('.');
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            var name = bracket < 0 ? part : part[..bracket];
            var last = i == parts.Length - 1;
            if (bracket < 0)
            {
                if (last)
                {
                    current[name] = value;
                    return;
                }

                current = current[name]!;
                continue;
            }

            var index = int.Parse(part[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture);
            if (last)
            {
                current[name]![index] = value;
                return;
            }

            current = current[name]![index]!;
        }
    }
}

using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Api.GatewayApi;
using Switchyard.Api.Serialization;
using Switchyard.Api.WebTransport;
using Switchyard.Controller.Providers;
using Switchyard.Controller.Translation;
using Switchyard.Ir;
using YamlDotNet.RepresentationModel;

namespace Switchyard.Controller.Tests.Translation;

/// <summary>Checks the manifests shipped in the repository: the quickstart and the WebTransportRoute CRD.</summary>
public sealed class RepositoryManifestTests
{
    [Fact]
    public void Quickstart_LoadsAndTranslatesToThreeTrackRules()
    {
        var load = FileProvider.LoadDirectory(Repo("examples", "quickstart"));
        Assert.True(load.Succeeded, string.Join("\n", load.Errors));

        var result = Translator.Translate(load.Snapshot!, new TranslatorOptions { DataPlaneSuppliesMissingCertificates = true });

        var gateway = Assert.Single(result.Statuses.Gateways);
        Assert.All(gateway.Status.Conditions, c => Assert.Equal("True", c.Status));
        var route = Assert.Single(result.Statuses.WebTransportRoutes);
        Assert.All(Assert.Single(route.Status.Parents).Conditions, c => Assert.Equal("True", c.Status));
        var listener = Assert.Single(Assert.Single(result.Snapshots).Listeners);
        Assert.Equal(4433, listener.Port);
        Assert.True(listener.Tls!.SuppliedByDataPlane);
        var wt = Assert.Single(listener.WebTransportRoutes);
        Assert.Empty(wt.Hostnames);
        var expected = new[] { ("video", "/process_video", 5001), ("audio", "/process_audio", 5002), ("chat", "/process_chat", 5003) };
        Assert.Equal(expected.Length, wt.Rules.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var rule = wt.Rules[i];
            var match = Assert.Single(rule.Matches);
            Assert.Equal(expected[i].Item1, match.TrackType);
            Assert.Equal(new PathMatchIr { Type = PathMatchType.Exact, Value = "/wt" }, match.Path);
            Assert.Equal(DeliveryMode.Message, rule.Delivery.Mode);
            Assert.Equal(expected[i].Item2, rule.Delivery.Path);
            Assert.Equal(new EndpointIr { Host = "127.0.0.1", Port = expected[i].Item3 }, Assert.Single(Assert.Single(rule.Backends).Endpoints));
        }
    }

    [Fact]
    public void Quickstart_WithoutStandaloneCertificates_ListenerIsNotProgrammed()
    {
        var load = FileProvider.LoadDirectory(Repo("examples", "quickstart"));

        var result = Translator.Translate(load.Snapshot!, new TranslatorOptions());

        var listener = Assert.Single(Assert.Single(result.Statuses.Gateways).Status.Listeners!);
        Assert.Contains(listener.Conditions, c => c.Type == "ResolvedRefs" && c.Reason == "InvalidCertificateRef");
        Assert.Empty(Assert.Single(result.Snapshots).Listeners);
    }

    [Fact]
    public void GatewayClassManifest_NamesTheDefaultController()
    {
        var load = FileProvider.LoadDirectory(Repo("examples", "quickstart"));
        var fromApi = File.ReadAllText(Repo("api", "gatewayclass.yaml"));

        var gc = Assert.Single(load.Snapshot!.GatewayClasses);
        Assert.Equal(TranslatorOptions.DefaultControllerName, gc.Spec.ControllerName);
        Assert.Equal(fromApi, File.ReadAllText(Repo("examples", "quickstart", "gatewayclass.yaml")));
    }

    [Fact]
    public void Crd_SchemaCoversEveryFieldOfTheCSharpTypes()
    {
        var schema = LoadCrdSchema();
        var route = new WebTransportRoute
        {
            ApiVersion = SwitchyardApiNames.V1Alpha1,
            Kind = SwitchyardApiNames.WebTransportRouteKind,
            Spec = new WebTransportRouteSpec
            {
                ParentRefs = [new ParentReference { Group = "g", Kind = "k", Namespace = "n", Name = "x", SectionName = "s", Port = 1 }],
                Hostnames = ["a.example.com"],
                Rules =
                [
                    new WebTransportRouteRule
                    {
                        Name = "r",
                        Matches = [new WebTransportRouteMatch { Path = new HttpPathMatch { Type = "Exact", Value = "/" }, TrackType = "video", TrackId = new TrackIdMatch { Type = "Exact", Value = "v" } }],
                        BackendRefs = [new BackendRef { Group = "", Kind = "Service", Name = "s", Namespace = "n", Port = 80, Weight = 1 }],
                        Delivery = new WebTransportDelivery { Mode = "Message", Path = "/", Timeout = "1s", Retry = new WebTransportRetry { Attempts = 1, Backoff = "1s" } },
                    },
                ],
            },
            Status = new RouteStatus { Parents = [new RouteParentStatus { ParentRef = new ParentReference { Name = "x", Group = "g", Kind = "k", Namespace = "n", SectionName = "s", Port = 1 }, ControllerName = "a/b", Conditions = [new Api.Meta.Condition { Type = "Accepted", Status = "True", Reason = "Accepted", Message = "m", ObservedGeneration = 1, LastTransitionTime = DateTimeOffset.UnixEpoch }] }] },
        };
        var json = JsonSerializer.SerializeToNode(route, ApiJsonContext.Default.WebTransportRoute)!.AsObject();
        json.Remove("metadata");

        var missing = new List<string>();
        Walk(json, schema, "", missing);

        Assert.Empty(missing);
    }

    [Fact]
    public void Crd_DeclaresScopeStatusSubresourceShortNameAndValidations()
    {
        var yaml = File.ReadAllText(Repo("api", "crds", "switchyard.dev_webtransportroutes.yaml"));
        var crd = LoadCrd();

        Assert.Equal("Namespaced", (string?)crd["spec"]!["scope"]);
        Assert.Equal("wtr", (string?)crd["spec"]!["names"]!["shortNames"]![0]);
        var version = crd["spec"]!["versions"]![0]!;
        Assert.Equal("v1alpha1", (string?)version["name"]);
        Assert.NotNull(version["subresources"]!["status"]);
        Assert.Contains(version["additionalPrinterColumns"]!.AsArray(), c => (string?)c!["name"] == "Hostnames");
        Assert.True(yaml.Split("x-kubernetes-validations").Length - 1 >= 6);
    }

    private static void Walk(JsonNode? value, JsonNode? schema, string path, List<string> missing)
    {
        switch (value)
        {
            case JsonObject obj:
                var properties = schema?["properties"];
                foreach (var (key, child) in obj)
                {
                    if (properties?[key] is null)
                    {
                        missing.Add($"{path}.{key}");
                        continue;
                    }

                    Walk(child, properties[key], $"{path}.{key}", missing);
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Walk(item, schema?["items"], path + "[]", missing);
                }

                break;
        }
    }

    private static JsonNode LoadCrdSchema() => LoadCrd()["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!;

    private static JsonNode LoadCrd()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Repo("api", "crds", "switchyard.dev_webtransportroutes.yaml"))));
        var lines = new Dictionary<string, int>();
        return YamlToJson.Convert(stream.Documents[0].RootNode, lines)!;
    }

    private static string Repo(params string[] parts) => Path.Combine([RepoRoot(), .. parts]);

    private static string RepoRoot([CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", ".."));
}

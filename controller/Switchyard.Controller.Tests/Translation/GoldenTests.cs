using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Api.Serialization;
using Switchyard.Controller.Providers;
using Switchyard.Controller.Translation;
using Switchyard.Ir.Printing;

namespace Switchyard.Controller.Tests.Translation;

/// <summary>
/// Golden tests in the Envoy Gateway manner: <c>case.in.yaml</c> holds API objects (strictly decoded),
/// <c>case.out.yaml</c> the statuses and snapshots. <c>SWITCHYARD_UPDATE_GOLDEN=1</c> rewrites the expected files.
/// A case whose input contains <c># switchyard-test: data-plane-certificates</c> runs in standalone mode; one with
/// <c># switchyard-test: address-pools CIDR,…</c> gives the translator those load balancer pools.
/// </summary>
public sealed class GoldenTests
{
    private const string StandaloneMarker = "# switchyard-test: data-plane-certificates";
    private const string PoolsMarker = "# switchyard-test: address-pools ";

    public static TheoryData<string> ValidCases() => Cases("translator");

    public static TheoryData<string> InvalidCases() => Cases("translator-invalid");

    [Theory]
    [MemberData(nameof(ValidCases))]
    public void Translate_ValidCase_MatchesGoldenAndEverythingIsHealthy(string name)
    {
        var output = RunCase("translator", name, out var result);

        Assert.All(AllConditions(result), c =>
            Assert.True(c.Type == "Conflicted" ? c.Status == "False" : c.Status == "True", $"{name}: {c.Type}={c.Status} {c.Reason}: {c.Message}"));
        Assert.NotEmpty(result.Snapshots);
        Assert.All(result.Snapshots, s => Assert.Empty(s.Validate()));
        Assert.NotEmpty(output);
    }

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Translate_InvalidCase_MatchesGoldenAndReportsAFailure(string name)
    {
        RunCase("translator-invalid", name, out var result);

        Assert.Contains(AllConditions(result), c => c.Type == "Conflicted" ? c.Status == "True" : c.Status == "False");
        Assert.All(result.Snapshots, s => Assert.Empty(s.Validate()));
    }

    [Fact]
    public void Translate_SameInputTwice_GivesEqualSnapshots()
    {
        foreach (var dir in new[] { "translator", "translator-invalid" })
        {
            foreach (var name in CaseNames(dir))
            {
                var (snapshot, options) = Load(dir, name);
                var a = Translator.Translate(snapshot, options);
                var b = Translator.Translate(snapshot, options);
                Assert.Equal(a.Snapshots.Length, b.Snapshots.Length);
                for (var i = 0; i < a.Snapshots.Length; i++)
                {
                    Assert.Equal(a.Snapshots[i], b.Snapshots[i]);
                    Assert.Equal(a.Snapshots[i].GetHashCode(), b.Snapshots[i].GetHashCode());
                    Assert.NotSame(a.Snapshots[i], b.Snapshots[i]);
                }
            }
        }
    }

    internal static string Render(TranslationResult result)
    {
        var root = new JsonObject
        {
            ["gatewayClasses"] = Statuses(result.Statuses.GatewayClasses, ApiJsonContext.Default.GatewayClassStatus),
            ["gateways"] = Statuses(result.Statuses.Gateways, ApiJsonContext.Default.GatewayStatus),
            ["httpRoutes"] = Statuses(result.Statuses.HttpRoutes, ApiJsonContext.Default.RouteStatus),
            ["webTransportRoutes"] = Statuses(result.Statuses.WebTransportRoutes, ApiJsonContext.Default.RouteStatus),
            ["snapshots"] = new JsonArray([.. result.Snapshots.Select(s => (JsonNode)IrPrinter.ToNode(s))]),
            ["infrastructure"] = new JsonArray([.. result.Infrastructure.Select(Infrastructure)]),
        };

        // Only cases with ListenerSets show the key, so the other cases' golden files keep their shape.
        if (!result.Statuses.ListenerSets.IsEmpty)
        {
            root["listenerSets"] = Statuses(result.Statuses.ListenerSets, ApiJsonContext.Default.ListenerSetStatus);
        }

        if (!result.Statuses.BackendTlsPolicies.IsEmpty)
        {
            // Only cases with policies show the key, so the other cases' expected files stay as they were.
            root["backendTlsPolicies"] = Statuses(result.Statuses.BackendTlsPolicies, ApiJsonContext.Default.PolicyStatus);
        }

        return YamlEmitter.Emit(root);
    }

    private static JsonNode Infrastructure(GatewayInfrastructureIntent intent)
    {
        var labels = new JsonObject();
        foreach (var (key, value) in intent.Labels)
        {
            labels[key] = value;
        }

        var annotations = new JsonObject();
        foreach (var (key, value) in intent.Annotations)
        {
            annotations[key] = value;
        }

        return new JsonObject
        {
            ["namespace"] = intent.Namespace,
            ["gateway"] = intent.Gateway,
            ["service"] = intent.ServiceName,
            ["labels"] = labels,
            ["annotations"] = annotations,
            ["loadBalancerIPs"] = new JsonArray([.. intent.LoadBalancerIPs.Select(ip => (JsonNode)ip)]),
            ["ports"] = new JsonArray([.. intent.Ports.Select(p => (JsonNode)$"{p.Name} {p.Protocol}/{p.Port}")]),
        };
    }

    private static JsonArray Statuses<T>(IEnumerable<ObjectStatus<T>> statuses, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var array = new JsonArray();
        foreach (var s in statuses)
        {
            var entry = new JsonObject();
            if (s.Namespace is not null)
            {
                entry["namespace"] = s.Namespace;
            }

            entry["name"] = s.Name;
            entry["status"] = JsonSerializer.SerializeToNode(s.Status, type);
            array.Add(entry);
        }

        return array;
    }

    private static IEnumerable<Api.Meta.Condition> AllConditions(TranslationResult result) =>
        result.Statuses.GatewayClasses.SelectMany(s => s.Status.Conditions)
            .Concat(result.Statuses.Gateways.SelectMany(s => s.Status.Conditions.Concat(s.Status.Listeners!.SelectMany(l => l.Conditions))))
            .Concat(result.Statuses.HttpRoutes.Concat(result.Statuses.WebTransportRoutes).SelectMany(s => s.Status.Parents.SelectMany(p => p.Conditions)))
            .Concat(result.Statuses.ListenerSets.SelectMany(s => s.Status.Conditions.Concat((s.Status.Listeners ?? []).SelectMany(l => l.Conditions))));

    private static string RunCase(string dir, string name, out TranslationResult result)
    {
        var (snapshot, options) = Load(dir, name);
        result = Translator.Translate(snapshot, options);
        var actual = Render(result);
        var expectedPath = Path.Combine(TestData(dir), name + ".out.yaml");
        if (Environment.GetEnvironmentVariable("SWITCHYARD_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(expectedPath, actual);
        }

        Assert.True(File.Exists(expectedPath), $"{expectedPath} is missing; run with SWITCHYARD_UPDATE_GOLDEN=1 to create it");
        Assert.Equal(File.ReadAllText(expectedPath), actual);
        return actual;
    }

    private static (ResourceSnapshot Snapshot, TranslatorOptions Options) Load(string dir, string name)
    {
        var path = Path.Combine(TestData(dir), name + ".in.yaml");
        var text = File.ReadAllText(path);
        var errors = new List<ManifestError>();
        var objects = ManifestDecoder.Decode(path, text, errors);
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        var pools = text.Split('\n').Where(l => l.StartsWith(PoolsMarker, StringComparison.Ordinal))
            .SelectMany(l => l[PoolsMarker.Length..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(c => System.Net.IPNetwork.Parse(c));
        var options = new TranslatorOptions
        {
            DataPlaneSuppliesMissingCertificates = text.Contains(StandaloneMarker, StringComparison.Ordinal),
            AddressPools = [.. pools],
        };
        return (ResourceSnapshot.Create(objects), options);
    }

    private static TheoryData<string> Cases(string dir)
    {
        var data = new TheoryData<string>();
        foreach (var name in CaseNames(dir))
        {
            data.Add(name);
        }

        return data;
    }

    private static IEnumerable<string> CaseNames(string dir) =>
        Directory.EnumerateFiles(TestData(dir), "*.in.yaml").Order(StringComparer.Ordinal).Select(f => Path.GetFileName(f)[..^".in.yaml".Length]);

    private static string TestData(string dir, [CallerFilePath] string source = "") =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(source))!, "testdata", dir);
}

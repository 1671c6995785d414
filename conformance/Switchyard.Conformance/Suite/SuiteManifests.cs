using System.Text.Json.Nodes;
using Switchyard.Kubernetes.Config;

namespace Switchyard.Conformance;

/// <summary>The suite's embedded manifests (CRDs, base objects, one file per test) with placeholders filled in.</summary>
internal static class SuiteManifests
{
    /// <summary>The echo image a real cluster runs for the backends (upstream's echo-basic).</summary>
    public const string DefaultEchoImage = "registry.k8s.io/gateway-api/echo-basic:v1.5.1";

    public static IReadOnlyList<string> Names =>
        [.. typeof(SuiteManifests).Assembly.GetManifestResourceNames().Where(n => n.StartsWith("Manifests/", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    public static string Text(string name)
    {
        using var stream = typeof(SuiteManifests).Assembly.GetManifestResourceStream("Manifests/" + name)
            ?? throw new ConformanceException($"no embedded manifest {name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static IReadOnlyList<JsonObject> Crds() =>
        [.. Names.Where(n => n.StartsWith("Manifests/crds/", StringComparison.Ordinal)).SelectMany(n => Parse(Text(n["Manifests/".Length..]), new Dictionary<string, string>()))];

    /// <summary>Loads a manifest and replaces <c>{GATEWAY_CLASS_NAME}</c>, <c>{GATEWAY_CONTROLLER_NAME}</c> and <c>{ECHO_IMAGE}</c>.</summary>
    public static IReadOnlyList<JsonObject> Load(string name, IReadOnlyDictionary<string, string> placeholders) => Parse(Text(name), placeholders);

    public static IReadOnlyList<JsonObject> Parse(string text, IReadOnlyDictionary<string, string> placeholders)
    {
        foreach (var (key, value) in placeholders)
        {
            text = text.Replace("{" + key + "}", value, StringComparison.Ordinal);
        }

        return [.. YamlJson.ParseAll(text).Select(n => n as JsonObject ?? throw new ConformanceException("a manifest document is not an object"))];
    }
}

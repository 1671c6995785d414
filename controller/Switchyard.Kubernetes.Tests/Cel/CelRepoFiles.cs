using System.Text.Json.Nodes;
using Switchyard.Kubernetes.Config;

namespace Switchyard.Kubernetes.Tests.Cel;

/// <summary>The repository's own manifests (tests never read anything outside the repository).</summary>
internal static class CelRepoFiles
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Controller.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("Controller.sln not found");
        }
    }

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public static IReadOnlyList<JsonObject> Documents(string relative) =>
        YamlJson.ParseAll(File.ReadAllText(PathOf(relative))).OfType<JsonObject>().ToList();

    /// <summary>Every CRD manifest in the repository that carries CEL rules or is applied to the double.</summary>
    public static IEnumerable<string> CrdFiles()
    {
        foreach (var dir in new[] { "api/crds", "config/gateway/crds", "config/gateway/testing", "conformance/Switchyard.Conformance/Manifests/crds" })
        {
            foreach (var file in Directory.GetFiles(PathOf(dir), "*.yaml").Order(StringComparer.Ordinal))
            {
                yield return Path.GetRelativePath(Root, file);
            }
        }
    }

    /// <summary>Every (rule, message) under a schema node.</summary>
    public static IEnumerable<(string Rule, string? Message)> Rules(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["x-kubernetes-validations"] is JsonArray rules)
                {
                    foreach (var r in rules.OfType<JsonObject>())
                    {
                        yield return ((string)r["rule"]!, (string?)r["message"]);
                    }
                }

                foreach (var (_, child) in o)
                {
                    foreach (var rule in Rules(child))
                    {
                        yield return rule;
                    }
                }

                break;
            case JsonArray a:
                foreach (var child in a)
                {
                    foreach (var rule in Rules(child))
                    {
                        yield return rule;
                    }
                }

                break;
        }
    }
}

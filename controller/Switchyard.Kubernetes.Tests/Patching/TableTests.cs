using System.Text.Json.Nodes;
using Switchyard.Kubernetes.DevApiServer.Http;
using Switchyard.Kubernetes.DevApiServer.Selectors;

namespace Switchyard.Kubernetes.Tests.Patching;

public sealed class TableTests
{
    [Theory]
    // Boundaries of k8s.io/apimachinery/pkg/util/duration.HumanDuration.
    [InlineData(0, "0s")]
    [InlineData(119, "119s")]
    [InlineData(120, "2m")]
    [InlineData(125, "2m5s")]
    [InlineData(600, "10m")]
    [InlineData(3 * 3600, "3h")]
    [InlineData((3 * 3600) + 60, "3h1m")]
    [InlineData(8 * 3600, "8h")]
    [InlineData(48 * 3600, "2d")]
    [InlineData((49 * 3600), "2d1h")]
    [InlineData(8 * 24 * 3600, "8d")]
    [InlineData(2 * 365 * 24 * 3600, "2y")]
    [InlineData(((2 * 365) + 3) * 24 * 3600, "2y3d")]
    [InlineData(9 * 365 * 24 * 3600, "9y")]
    public void HumanDuration_MatchesApimachinery(long seconds, string expected)
    {
        Assert.Equal(expected, Tables.HumanDuration(TimeSpan.FromSeconds(seconds)));
    }

    [Theory]
    // Plain member path.
    [InlineData(".spec.size", "3")]
    // Array index.
    [InlineData(".status.conditions[1].type", "\"Ready\"")]
    // Filter, as Gateway API printer columns use.
    [InlineData(".status.conditions[?(@.type==\"Ready\")].status", "\"True\"")]
    // Negated filter.
    [InlineData(".status.conditions[?(@.type!=\"Ready\")].type", "\"Other\"")]
    // Wildcard yields the first element first.
    [InlineData(".status.conditions[*].type", "\"Other\"")]
    public void SimpleJsonPath_EvaluatesPrinterColumnPaths(string path, string expected)
    {
        var obj = JsonNode.Parse("""{"spec":{"size":3},"status":{"conditions":[{"type":"Other","status":"False"},{"type":"Ready","status":"True"}]}}""");
        Assert.Equal(expected, SimpleJsonPath.Evaluate(obj, path).First()!.ToJsonString());
    }

    [Fact]
    public void SimpleJsonPath_MissingPathYieldsNothing()
    {
        Assert.Empty(SimpleJsonPath.Evaluate(JsonNode.Parse("""{"a":1}"""), ".b.c"));
        Assert.Throws<FormatException>(() => SimpleJsonPath.Evaluate(JsonNode.Parse("{}"), ".a[").ToList());
    }
}

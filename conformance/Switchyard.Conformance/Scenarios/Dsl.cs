using Switchyard.Conformance.Http;
using Switchyard.Conformance.Kube;

namespace Switchyard.Conformance.Scenarios;

/// <summary>Short constructors for the expectations the scenarios list.</summary>
internal static class Dsl
{
    public const string Infra = TestContext.Infra;
    public const string HttpRoute = "HTTPRoute";

    public static NN Gw(string name) => new(Infra, name);

    public static NN Route(string name, string ns = Infra) => new(ns, name);

    public static ExpectedCondition T(string type, string? reason = null) => ExpectedCondition.True(type, reason);

    public static ExpectedCondition F(string type, string? reason = null) => ExpectedCondition.False(type, reason);

    /// <summary>A request answered by a pod of <paramref name="backend"/>.</summary>
    public static ExpectedResponse Ok(string path, string backend, string host = "", string ns = Infra, params (string Name, string Value)[] headers) => new()
    {
        Request = new Request { Path = path, Host = host, Headers = [.. headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value))] },
        Backend = backend,
        Namespace = ns,
    };

    /// <summary>A request answered with <paramref name="status"/> and no backend.</summary>
    public static ExpectedResponse Status(string path, int status, string host = "", params (string Name, string Value)[] headers) => new()
    {
        Request = new Request { Path = path, Host = host, Headers = [.. headers.Select(h => new KeyValuePair<string, string>(h.Name, h.Value))] },
        StatusCodes = [status],
    };

    public static Dictionary<string, string> H(params (string Name, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Name, p => p.Value, StringComparer.OrdinalIgnoreCase);

    /// <summary>Listener status with the three healthy conditions.</summary>
    public static ExpectedListener Healthy(string name, int attached, params string[] kinds) =>
        new(name, kinds.Length == 0 ? [HttpRoute] : kinds, attached, [T("Accepted"), T("ResolvedRefs"), T("Programmed")]);

    public static async Task ExpectAllAsync(TestContext t, NN gw, IEnumerable<ExpectedResponse> cases, int port = 80)
    {
        foreach (var c in cases)
        {
            await t.ExpectAsync(gw, c, port).ConfigureAwait(false);
        }
    }
}

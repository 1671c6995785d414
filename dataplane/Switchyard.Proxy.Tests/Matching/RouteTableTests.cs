using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Switchyard.Ir;
using Switchyard.Proxy.Matching;

namespace Switchyard.Proxy.Tests.Matching;

public class RouteTableTests
{
    private static HttpRouteIr R(string name, PathMatchType type = PathMatchType.PathPrefix, string path = "/", string? method = null,
        (string, string)[]? headers = null, (string, string)[]? query = null, StringMatchType valueType = StringMatchType.Exact) => new()
    {
        Name = name,
        Match = new HttpMatchIr
        {
            Path = new PathMatchIr { Type = type, Value = path },
            Method = method,
            Headers = [.. (headers ?? []).Select(h => new StringMatchIr { Name = h.Item1, Value = h.Item2, Type = valueType })],
            QueryParams = [.. (query ?? []).Select(q => new StringMatchIr { Name = q.Item1, Value = q.Item2, Type = valueType })],
        },
        DirectResponseStatus = 200,
    };

    private static HttpRequest Request(string path, string method = "GET", string host = "example.com", string query = "", params (string, string)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Host = new HostString(host);
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }

        return context.Request;
    }

    private static RouteTable Table(params HttpRouteIr[] routes) =>
        RouteTable.Build([new ListenerIr { Name = "l", Protocol = ListenerProtocol.Http, Port = 80, VirtualHosts = [new VirtualHostIr { Name = "v", Hostname = "*", Routes = [.. routes] }] }]);

    public static TheoryData<string, string, string> PathRows => new()
    {
        // Exact beats every prefix, even a longer one and one listed first.
        { "/foo", "GET", "exact" },
        // The longest matching prefix wins over a shorter one.
        { "/foo/bar/baz", "GET", "prefix-foo-bar" },
        // Prefix matching is element-wise: /foobar is not under /foo, so only / matches.
        { "/foobar", "GET", "prefix-root" },
        // A prefix with a trailing slash ignores it: /foo/ matches prefix /foo/bar/ only from /foo/bar on.
        { "/foo/bar", "GET", "prefix-foo-bar" },
        // A regular expression ranks below any prefix that matches, even /.
        { "/img/x.png", "GET", "prefix-root" },
        // Same prefix: the rule with a method match wins over the one without.
        { "/api/items", "POST", "prefix-api-post" },
        // Without the method the bare /api prefix is next.
        { "/api/items", "GET", "prefix-api" },
    };

    [Theory]
    [MemberData(nameof(PathRows))]
    public void PathPrecedence_PicksMostSpecificRule(string path, string method, string expected)
    {
        var table = Table(
            R("prefix-root"),
            R("regex", PathMatchType.RegularExpression, "/img/.*\\.png"),
            R("prefix-foo", path: "/foo"),
            R("prefix-foo-bar", path: "/foo/bar/"),
            R("exact", PathMatchType.Exact, "/foo"),
            R("prefix-api", path: "/api"),
            R("prefix-api-post", path: "/api", method: "POST"));
        Assert.Equal(expected, table.Match(Request(path, method)).Route?.Ir.Name);
    }

    [Fact]
    public void RegularExpression_MatchesWhenNoPrefixDoes()
    {
        var table = Table(R("regex", PathMatchType.RegularExpression, "/img/[a-z]+\\.png"), R("prefix", path: "/api"));
        Assert.Equal("regex", table.Match(Request("/img/cat.png")).Route?.Ir.Name);
        // The expression is anchored at both ends.
        Assert.Null(table.Match(Request("/img/cat.png/more")).Route);
        Assert.Null(table.Match(Request("/x/img/cat.png")).Route);
    }

    public static TheoryData<string, (string, string)[], string?> HeaderRows => new()
    {
        // Two header matches beat one and none.
        { "", [("x-a", "1"), ("x-b", "2")], "two-headers" },
        // With only one header present the one-header rule wins.
        { "", [("x-a", "1")], "one-header" },
        // Header names compare case-insensitively; values exactly.
        { "", [("X-A", "1")], "one-header" },
        { "", [("x-a", "ONE")], "none" },
        // Query matches break a tie on header count.
        { "?q=1", [], "query" },
        // A query parameter name is case-sensitive.
        { "?Q=1", [], "none" },
        // The first value of a repeated query parameter is compared.
        { "?q=2&q=1", [], "none" },
    };

    [Theory]
    [MemberData(nameof(HeaderRows))]
    public void HeaderAndQueryPrecedence_MoreMatchesWin(string query, (string, string)[] headers, string? expected)
    {
        var table = Table(
            R("none"),
            R("query", query: [("q", "1")]),
            R("one-header", headers: [("x-a", "1")]),
            R("two-headers", headers: [("x-a", "1"), ("x-b", "2")]));
        Assert.Equal(expected, table.Match(Request("/", query: query, headers: headers)).Route?.Ir.Name);
    }

    [Fact]
    public void RegexHeaderAndQueryValues_AreAnchored()
    {
        var table = Table(R("re", headers: [("x-v", "v[0-9]+")], query: [("id", "[a-f]{2}")], valueType: StringMatchType.RegularExpression));
        Assert.NotNull(table.Match(Request("/", query: "?id=ab", headers: [("x-v", "v12")])).Route);
        Assert.Null(table.Match(Request("/", query: "?id=abc", headers: [("x-v", "v12")])).Route);
        Assert.Null(table.Match(Request("/", query: "?id=ab", headers: [("x-v", "xv12")])).Route);
    }

    [Theory]
    // Plain pair.
    [InlineData("?a=1&q=x", "q", "x")]
    // Percent and plus decoding of the value.
    [InlineData("?q=a%20b+c", "q", "a b c")]
    // An encoded name.
    [InlineData("?%71=v", "q", "v")]
    // A name without '=' has an empty value.
    [InlineData("?q", "q", "")]
    // Absent (names are case-sensitive).
    [InlineData("?Q=1", "q", null)]
    public void QueryValue_IsFoundAndDecoded(string query, string name, string? expected)
    {
        var found = CompiledRoute.TryFindQueryValue(query, name, out var value);
        Assert.Equal(expected is not null, found);
        Assert.Equal(expected ?? string.Empty, value);
    }

    [Fact]
    public void EqualPrecedence_KeepsIrOrder()
    {
        // Same path, method and match counts: the IR's order (creation time, then name) decides.
        var table = Table(R("older", path: "/a"), R("newer", path: "/a"));
        Assert.Equal("older", table.Match(Request("/a/b")).Route?.Ir.Name);
    }

    [Fact]
    public void MethodMatch_IsExactAndRequired()
    {
        var table = Table(R("post", method: "POST"));
        Assert.NotNull(table.Match(Request("/", "POST")).Route);
        Assert.Null(table.Match(Request("/", "GET")).Route);
    }

    public static TheoryData<string, string?> HostRows => new()
    {
        // An exact hostname beats every wildcard.
        { "a.b.example.com", "exact" },
        // The longest wildcard wins.
        { "x.b.example.com", "wild-b" },
        // A wildcard covers several labels.
        { "x.y.example.com", "wild" },
        // Case and a trailing dot do not matter; the port is ignored.
        { "A.B.EXAMPLE.COM.:8080", "exact" },
        // A wildcard does not match its own suffix; the catch-all takes it.
        { "example.com", "any" },
        { "other.org", "any" },
    };

    [Theory]
    [MemberData(nameof(HostRows))]
    public void HostPrecedence_ExactThenLongestWildcardThenAny(string host, string? expected)
    {
        var table = RouteTable.Build([new ListenerIr
        {
            Name = "l",
            Protocol = ListenerProtocol.Http,
            Port = 80,
            VirtualHosts =
            [
                new VirtualHostIr { Name = "any", Hostname = "*", Routes = [R("any")] },
                new VirtualHostIr { Name = "wild", Hostname = "*.example.com", Routes = [R("wild")] },
                new VirtualHostIr { Name = "wild-b", Hostname = "*.b.example.com", Routes = [R("wild-b")] },
                new VirtualHostIr { Name = "exact", Hostname = "a.b.example.com", Routes = [R("exact")] },
            ],
        }]);
        Assert.Equal(expected, table.Match(Request("/", host: host)).Route?.Ir.Name);
    }

    [Fact]
    public void ListenerHostname_SelectsListenerBeforeVirtualHost()
    {
        ListenerIr L(string name, string? hostname) => new()
        {
            Name = name,
            Protocol = ListenerProtocol.Http,
            Port = 80,
            Hostname = hostname,
            VirtualHosts = [new VirtualHostIr { Name = "v", Hostname = "*", Routes = [R(name)] }],
        };
        var table = RouteTable.Build([L("catchall", null), L("wild", "*.example.com"), L("exact", "api.example.com")]);
        Assert.Equal("exact", table.Match(Request("/", host: "api.example.com")).Route?.Ir.Name);
        Assert.Equal("wild", table.Match(Request("/", host: "www.example.com")).Route?.Ir.Name);
        Assert.Equal("catchall", table.Match(Request("/", host: "example.org")).Route?.Ir.Name);
    }

    [Fact]
    public void PrefixMatching_AgreesWithElementwiseModel()
    {
        // Property: a prefix matches exactly when the path's segments start with the prefix's segments.
        var random = new Random(1234);
        string[] parts = ["a", "b", "ab", "a.b", ""];
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(2))
        {
            var prefix = "/" + string.Join('/', Enumerable.Range(0, random.Next(0, 3)).Select(_ => parts[random.Next(parts.Length - 1)])) + (random.Next(2) == 0 ? "/" : "");
            var path = "/" + string.Join('/', Enumerable.Range(0, random.Next(0, 4)).Select(_ => parts[random.Next(parts.Length)]));
            var route = new CompiledRoute(R("p", path: prefix), 0);
            var p = prefix.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var s = path.Split('/');
            var pathSegments = s.Skip(1).ToArray();
            var expected = p.Length == 0 || (pathSegments.Length >= p.Length && p.SequenceEqual(pathSegments.Take(p.Length)));
            Assert.True(expected == route.MatchesPath(path), $"prefix {prefix} path {path}");
        }
    }

    [Fact]
    public void Match_AllocatesNothingOnExactAndPrefixPaths()
    {
        var table = Table(R("root"), R("a", path: "/a"), R("exact", PathMatchType.Exact, "/a/b"), R("h", path: "/a", headers: [("x-h", "1")]));
        var request = Request("/a/b", headers: [("x-h", "2")]);
        table.Match(request);
        var expected = table.Match(request).Route;
        var hits = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            hits += ReferenceEquals(table.Match(request).Route, expected) ? 1 : 0;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("exact", expected?.Ir.Name);
        Assert.Equal(1000, hits);
        Assert.Equal(0, allocated);
    }
}

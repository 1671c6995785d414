using Microsoft.AspNetCore.Http;
using Switchyard.Ir;
using Switchyard.Proxy.Filters;
using Switchyard.Proxy.Matching;

namespace Switchyard.Proxy.Tests.Filters;

public class FilterTests
{
    private static CompiledRoute Prefix(string prefix) =>
        new(new HttpRouteIr { Name = "r", Match = new HttpMatchIr { Path = new PathMatchIr { Type = PathMatchType.PathPrefix, Value = prefix } }, DirectResponseStatus = 200 }, 0);

    [Theory]
    // The Gateway API HTTPPathModifier table, row by row.
    [InlineData("/foo/bar", "/foo", "/xyz", "/xyz/bar")]
    [InlineData("/foo/bar", "/foo", "/xyz/", "/xyz/bar")]
    [InlineData("/foo/bar", "/foo/", "/xyz", "/xyz/bar")]
    [InlineData("/foo/bar", "/foo/", "/xyz/", "/xyz/bar")]
    [InlineData("/foo", "/foo", "/xyz", "/xyz")]
    [InlineData("/foo/", "/foo", "/xyz", "/xyz/")]
    [InlineData("/foo/bar", "/", "/xyz", "/xyz/foo/bar")]
    // A replacement of "/" strips the prefix (the conformance strip-prefix case), leaving "/" when nothing is left.
    [InlineData("/strip-prefix/three", "/strip-prefix", "/", "/three")]
    [InlineData("/strip-prefix", "/strip-prefix", "/", "/")]
    [InlineData("/foo/", "/", "/", "/foo/")]
    public void ReplacePrefixMatch_FollowsSpecTable(string path, string prefix, string replacement, string expected)
    {
        var modifier = new PathModifierIr { Type = PathModifierType.ReplacePrefixMatch, Value = replacement };
        Assert.Equal(expected, PathModifiers.Apply(modifier, Prefix(prefix), path));
    }

    [Fact]
    public void ReplaceFullPath_ReplacesWholePath()
    {
        var modifier = new PathModifierIr { Type = PathModifierType.ReplaceFullPath, Value = "/one" };
        Assert.Equal("/one", PathModifiers.Apply(modifier, Prefix("/full"), "/full/one/two"));
    }

    private static HttpRequest Request(string scheme, string host, string path, string query = "")
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = scheme;
        context.Request.Host = new HostString(host);
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        return context.Request;
    }

    public static TheoryData<string?, string?, int?, string, string, int, string> RedirectRows => new()
    {
        // Only a scheme: the port becomes the scheme's well-known one and is left out.
        { "https", null, null, "http", "example.com:8080", 8080, "https://example.com/p?q=1" },
        // Nothing given: the listener port is used, and printed because it is not 80 for http.
        { null, "other.com", null, "http", "example.com:8080", 8080, "http://other.com:8080/p?q=1" },
        // Nothing given on a port-80 http listener: the port is left out.
        { null, null, null, "http", "example.com", 80, "http://example.com/p?q=1" },
        // An explicit port that is the scheme's default is left out.
        { "https", null, 443, "http", "example.com", 80, "https://example.com/p?q=1" },
        // An explicit non-default port is printed.
        { "https", null, 8443, "http", "example.com", 80, "https://example.com:8443/p?q=1" },
        // An https listener on 443 redirecting to http only by scheme goes to port 80, not printed.
        { "http", null, null, "https", "example.com", 443, "http://example.com/p?q=1" },
        // An explicit port without a scheme keeps the request's scheme.
        { null, null, 8081, "http", "example.com", 80, "http://example.com:8081/p?q=1" },
    };

    [Theory]
    [MemberData(nameof(RedirectRows))]
    public void RedirectLocation_FollowsSpecPortRules(string? scheme, string? hostname, int? port, string requestScheme, string requestHost, int listenerPort, string expected)
    {
        var redirect = new RedirectIr { Scheme = scheme, Hostname = hostname, Port = port };
        Assert.Equal(expected, RequestRedirect.Location(redirect, Prefix("/"), Request(requestScheme, requestHost, "/p", "?q=1"), listenerPort));
    }

    [Fact]
    public void RedirectLocation_AppliesPathModifier()
    {
        var redirect = new RedirectIr { Path = new PathModifierIr { Type = PathModifierType.ReplacePrefixMatch, Value = "/new" } };
        Assert.Equal("http://example.com/new/x", RequestRedirect.Location(redirect, Prefix("/old"), Request("http", "example.com", "/old/x"), 80));
    }

    [Fact]
    public void ResponseHeaderModifier_RemovesThenSetsThenAdds()
    {
        var headers = new HeaderDictionary { ["X-Remove"] = "r", ["X-Set"] = "old", ["X-Add"] = "first" };
        HeaderModifiers.Apply(
            new HeaderModifierIr
            {
                Remove = ["x-remove"],
                Set = [new HeaderValueIr { Name = "x-set", Value = "new" }],
                Add = [new HeaderValueIr { Name = "X-Add", Value = "second" }, new HeaderValueIr { Name = "X-New", Value = "n" }],
            },
            headers);
        Assert.False(headers.ContainsKey("X-Remove"));
        Assert.Equal("new", headers["X-Set"].ToString());
        Assert.Equal("first,second", headers["X-Add"].ToString());
        Assert.Equal("n", headers["X-New"].ToString());
    }
}

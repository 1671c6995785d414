using Microsoft.AspNetCore.Http;
using Switchyard.Ir;
using Switchyard.Proxy.Filters;

namespace Switchyard.Proxy.Tests.Filters;

public class CorsTests
{
    private static CorsPolicy Policy(string[] origins, string[]? methods = null, string[]? headers = null, string[]? expose = null, bool credentials = false, int maxAge = CorsIr.DefaultMaxAgeSeconds) => new(new CorsIr
    {
        AllowOrigins = [.. origins],
        AllowMethods = [.. methods ?? []],
        AllowHeaders = [.. headers ?? []],
        ExposeHeaders = [.. expose ?? []],
        AllowCredentials = credentials,
        MaxAgeSeconds = maxAge,
    });

    private static HttpContext Preflight(string origin, string method, string? requestHeaders = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "OPTIONS";
        context.Request.Headers.Origin = origin;
        context.Request.Headers.AccessControlRequestMethod = method;
        if (requestHeaders is not null)
        {
            context.Request.Headers.AccessControlRequestHeaders = requestHeaders;
        }

        return context;
    }

    [Theory]
    // Exact origins compare scheme, host (case-insensitively) and port, with the scheme's default port implied.
    [InlineData("https://www.foo.com", "https://www.foo.com", true)]
    [InlineData("https://www.foo.com", "https://WWW.foo.com", true)]
    [InlineData("https://www.foo.com", "https://www.foo.com:443", true)]
    [InlineData("https://www.foo.com", "http://www.foo.com", false)]
    [InlineData("https://www.foo.com", "https://www.foo.com:8443", false)]
    [InlineData("http://www.foo.com:8080", "http://www.foo.com:8080", true)]
    // "*." matches one or more labels to its left, never the bare domain or a mere suffix.
    [InlineData("https://*.bar.com", "https://www.bar.com", true)]
    [InlineData("https://*.bar.com", "https://xpto.www.bar.com", true)]
    [InlineData("https://*.bar.com", "https://bar.com", false)]
    [InlineData("https://*.bar.com", "https://foobar.com", false)]
    [InlineData("https://*.bar.com", "http://www.bar.com", false)]
    // A host of "*" alone is any host of that scheme and port; "*" alone is any origin at all.
    [InlineData("https://*", "https://anything.example", true)]
    [InlineData("https://*", "http://anything.example", false)]
    [InlineData("*", "https://foobar.com:12345", true)]
    [InlineData("*", "null", true)]
    // Origins that are not scheme://host[:port] never match a pattern.
    [InlineData("https://www.foo.com", "null", false)]
    [InlineData("https://www.foo.com", "https://www.foo.com/path", false)]
    [InlineData("https://*.bar.com", "https://*.bar.com", false)]
    public void AllowsOrigin_FollowsGatewayApiWildcards(string allowed, string origin, bool expected) =>
        Assert.Equal(expected, Policy([allowed]).AllowsOrigin(origin));

    [Fact]
    public void Preflight_AllowedOrigin_GetsTheConfiguredLists()
    {
        var context = Preflight("https://www.bar.com", "GET", "x-header-1, x-header-2");
        Policy(["https://www.foo.com", "https://*.bar.com"], ["GET", "OPTIONS"], ["x-header-1", "x-header-2"], ["x-header-3"], credentials: true, maxAge: 3600)
            .AnswerPreflight(context.Request, context.Response);

        var h = context.Response.Headers;
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal(0, context.Response.ContentLength);
        Assert.Equal("https://www.bar.com", h.AccessControlAllowOrigin);
        Assert.Equal("GET, OPTIONS", h.AccessControlAllowMethods);
        Assert.Equal("x-header-1, x-header-2", h.AccessControlAllowHeaders);
        Assert.Equal("x-header-3", h.AccessControlExposeHeaders);
        Assert.Equal("3600", h.AccessControlMaxAge);
        Assert.Equal("true", h.AccessControlAllowCredentials);
        Assert.Equal("Origin", h.Vary);
    }

    [Fact]
    public void Preflight_RefusedOrigin_Gets200WithoutCorsHeaders()
    {
        var context = Preflight("https://foobar.com", "GET");
        Policy(["https://www.foo.com"], ["GET"], credentials: true).AnswerPreflight(context.Request, context.Response);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.DoesNotContain(context.Response.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Preflight_WildcardsWithCredentials_EchoTheRequestInsteadOfStar()
    {
        var context = Preflight("https://other.foo.com", "PUT", "x-header-1, x-header-2");
        Policy(["*"], ["*"], ["*"], ["*"], credentials: true).AnswerPreflight(context.Request, context.Response);

        var h = context.Response.Headers;
        Assert.Equal("https://other.foo.com", h.AccessControlAllowOrigin);
        Assert.Equal("PUT", h.AccessControlAllowMethods);
        Assert.Equal("x-header-1, x-header-2", h.AccessControlAllowHeaders);
        Assert.Equal("true", h.AccessControlAllowCredentials);

        // A browser reads '*' literally on credentialed requests, so a wildcard expose list is left out.
        Assert.False(h.ContainsKey("Access-Control-Expose-Headers"));
        Assert.Equal("5", h.AccessControlMaxAge);
    }

    [Fact]
    public void Preflight_WildcardsWithoutCredentials_AnswerStar()
    {
        var context = Preflight("https://other.foo.com", "PUT", "x-header-1");
        Policy(["*"], ["*"], ["*"], ["*"]).AnswerPreflight(context.Request, context.Response);

        var h = context.Response.Headers;
        Assert.Equal("https://other.foo.com", h.AccessControlAllowOrigin);
        Assert.Equal("*", h.AccessControlAllowMethods);
        Assert.Equal("*", h.AccessControlAllowHeaders);
        Assert.Equal("*", h.AccessControlExposeHeaders);
        Assert.False(h.ContainsKey("Access-Control-Allow-Credentials"));
    }

    [Fact]
    public void ApplyToResponse_AllowedOriginOnly_ReplacesBackendHeaders()
    {
        var policy = Policy(["https://www.foo.com"], ["GET"], expose: ["x-header-3"], credentials: true);
        IHeaderDictionary allowed = new HeaderDictionary { ["Access-Control-Allow-Origin"] = "*" };
        policy.ApplyToResponse("https://www.foo.com", allowed);
        Assert.Equal("https://www.foo.com", allowed.AccessControlAllowOrigin);
        Assert.Equal("true", allowed.AccessControlAllowCredentials);
        Assert.Equal("x-header-3", allowed.AccessControlExposeHeaders);

        IHeaderDictionary refused = new HeaderDictionary();
        policy.ApplyToResponse("https://evil.example", refused);
        Assert.False(refused.ContainsKey("Access-Control-Allow-Origin"));
        Assert.Equal("Origin", refused.Vary);
    }

    [Theory]
    // OPTIONS with Origin and Access-Control-Request-Method is a preflight; anything less is an ordinary request.
    [InlineData("OPTIONS", true, true, true)]
    [InlineData("OPTIONS", true, false, false)]
    [InlineData("OPTIONS", false, true, false)]
    [InlineData("GET", true, true, false)]
    public void IsPreflight_NeedsOptionsOriginAndRequestMethod(string method, bool origin, bool requestMethod, bool expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        if (origin)
        {
            context.Request.Headers.Origin = "https://a.example";
        }

        if (requestMethod)
        {
            context.Request.Headers.AccessControlRequestMethod = "PUT";
        }

        Assert.Equal(expected, CorsPolicy.IsPreflight(context.Request));
    }
}

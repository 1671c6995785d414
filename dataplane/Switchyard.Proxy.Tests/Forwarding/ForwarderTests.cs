using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Switchyard.Ir;

namespace Switchyard.Proxy.Tests.Forwarding;

public class ForwarderTests
{
    [Fact]
    public async Task NoMatchingRoute_Answers404()
    {
        await using var backend = await TestBackend.StartAsync("a");
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(backend)], path: "/api")));
        using var hit = await proxy.GetAsync("/api/x");
        using var miss = await proxy.GetAsync("/apix");
        Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, miss.StatusCode);
    }

    [Fact]
    public async Task AllBackendsInvalid_Answers500()
    {
        var invalid = new HttpBackendIr { Backend = Ir.Backend("missing", 1), Invalid = true };
        var direct = Ir.Route("direct", path: "/direct") with { DirectResponseStatus = 500 };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [invalid], path: "/invalid"), direct));
        using var a = await proxy.GetAsync("/invalid");
        using var b = await proxy.GetAsync("/direct");
        Assert.Equal(HttpStatusCode.InternalServerError, a.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, b.StatusCode);
    }

    [Fact]
    public async Task BackendWithoutEndpoints_Answers503()
    {
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [new HttpBackendIr { Backend = Ir.Backend("empty", 1) }])));
        using var response = await proxy.GetAsync("/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task DeadBackend_Answers503()
    {
        int deadPort;
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            deadPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
        }

        var dead = new HttpBackendIr { Backend = Ir.Backend("dead", 1, new EndpointIr { Host = "127.0.0.1", Port = deadPort }) };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [dead])));
        using var response = await proxy.GetAsync("/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task BackendClosesWithoutResponse_Answers502()
    {
        await using var backend = await TestBackend.StartAsync("rude", context =>
        {
            context.Abort();
            return Task.CompletedTask;
        });
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(backend)])));
        using var response = await proxy.GetAsync("/");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Theory]
    // timeouts.request elapses first.
    [InlineData(300, null)]
    // timeouts.backendRequest elapses first.
    [InlineData(null, 300)]
    // Both set: the tighter one wins.
    [InlineData(10_000, 300)]
    public async Task SlowBackend_Answers504(int? requestMs, int? backendMs)
    {
        await using var backend = await TestBackend.StartAsync("slow", async context => await Task.Delay(5000, context.RequestAborted));
        var route = Ir.Route("r", [Ir.To(backend)]) with
        {
            RequestTimeout = requestMs is null ? null : TimeSpan.FromMilliseconds(requestMs.Value),
            BackendRequestTimeout = backendMs is null ? null : TimeSpan.FromMilliseconds(backendMs.Value),
        };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));
        var started = DateTime.UtcNow;
        using var response = await proxy.GetAsync("/");
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task ZeroTimeout_DisablesIt()
    {
        await using var backend = await TestBackend.StartAsync("slowish", async context =>
        {
            await Task.Delay(300);
            await context.Response.WriteAsync("ok");
        });
        var route = Ir.Route("r", [Ir.To(backend)]) with { RequestTimeout = TimeSpan.Zero };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));
        using var response = await proxy.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task BackendFailsMidBody_ClientResponseIsAbortedNotTruncated()
    {
        await using var backend = await TestBackend.StartAsync("cut", async context =>
        {
            context.Response.ContentLength = 1_000_000;
            await context.Response.Body.WriteAsync(new byte[1000]);
            await context.Response.Body.FlushAsync();
            await Task.Delay(100);
            context.Abort();
        });
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(backend)])));
        using var response = await proxy.Client.GetAsync(proxy.Url("/"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Assert.ThrowsAnyAsync<Exception>(() => response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task HopByHopHeaders_AreNotForwardedEitherWay()
    {
        await using var backend = await TestBackend.StartAsync("hop", async context =>
        {
            context.Response.Headers["Connection"] = "X-Resp-Hop";
            context.Response.Headers["X-Resp-Hop"] = "1";
            context.Response.Headers["Keep-Alive"] = "timeout=5";
            context.Response.Headers["Proxy-Thing"] = "p";
            context.Response.Headers["X-End-To-End"] = "e";
            await context.Response.WriteAsync("ok");
        });
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(backend)])));
        using var response = await proxy.GetAsync("/", configure: r =>
        {
            r.Headers.TryAddWithoutValidation("Connection", "X-Custom-Hop");
            r.Headers.TryAddWithoutValidation("X-Custom-Hop", "1");
            r.Headers.TryAddWithoutValidation("Keep-Alive", "timeout=5");
            r.Headers.TryAddWithoutValidation("Proxy-Authorization", "Basic Zm9vOmJhcg==");
            r.Headers.TryAddWithoutValidation("TE", "trailers");
            r.Headers.TryAddWithoutValidation("X-Kept", "k");
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(backend.Requests).Headers;
        Assert.False(seen.ContainsKey("X-Custom-Hop"));
        Assert.False(seen.ContainsKey("Keep-Alive"));
        Assert.False(seen.ContainsKey("Proxy-Authorization"));
        Assert.False(seen.ContainsKey("TE"));
        Assert.Equal("k", seen["X-Kept"]);
        Assert.Null(response.Header("X-Resp-Hop"));
        Assert.Null(response.Header("Keep-Alive"));
        Assert.Null(response.Header("Proxy-Thing"));
        Assert.Equal("e", response.Header("X-End-To-End"));
    }

    [Fact]
    public async Task ForwardingHeaders_DescribeClientAndAppendToEarlierHops()
    {
        await using var backend = await TestBackend.StartAsync("xff");
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(backend)])));
        using var response = await proxy.GetAsync("/", host: "app.example.com:8080", configure: r =>
        {
            r.Headers.TryAddWithoutValidation("X-Forwarded-For", "10.0.0.1");
            r.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "forged");
            r.Headers.TryAddWithoutValidation("Forwarded", "for=10.0.0.1");
        });
        var seen = Assert.Single(backend.Requests).Headers;
        Assert.Equal("10.0.0.1, 127.0.0.1", seen["X-Forwarded-For"]);
        Assert.Equal("http", seen["X-Forwarded-Proto"]);
        Assert.Equal("app.example.com:8080", seen["X-Forwarded-Host"]);
        Assert.Equal("8080", seen["X-Forwarded-Port"]);
        Assert.Equal("for=10.0.0.1, for=127.0.0.1;host=\"app.example.com:8080\";proto=http", seen["Forwarded"]);
        // The Host header passes through unchanged.
        Assert.Equal("app.example.com:8080", seen["Host"]);
    }

    [Fact]
    public async Task UrlRewrite_ChangesHostAndPath()
    {
        await using var backend = await TestBackend.StartAsync("rw");
        var prefix = Ir.Route("p", [Ir.To(backend)], path: "/prefix/one") with
        {
            Rewrite = new UrlRewriteIr { Hostname = "internal.svc", Path = new PathModifierIr { Type = PathModifierType.ReplacePrefixMatch, Value = "/one" } },
        };
        var full = Ir.Route("f", [Ir.To(backend)], path: "/full") with
        {
            Rewrite = new UrlRewriteIr { Path = new PathModifierIr { Type = PathModifierType.ReplaceFullPath, Value = "/replaced" } },
        };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(prefix, full));
        using var a = await proxy.GetAsync("/prefix/one/two?x=1", host: "outside.example");
        using var b = await proxy.GetAsync("/full/anything", host: "outside.example");
        Assert.Equal("/one/two?x=1", a.Header("X-Echo-Path"));
        Assert.Equal("/replaced", b.Header("X-Echo-Path"));
        var requests = backend.Requests.ToArray();
        Assert.Equal("internal.svc", requests[0].Headers["Host"]);
        Assert.Equal("outside.example", requests[1].Headers["Host"]);
    }

    [Fact]
    public async Task HeaderModifiers_ApplyToRequestAndResponse_RouteAndBackendLevel()
    {
        await using var backend = await TestBackend.StartAsync("hm", async context =>
        {
            context.Response.Headers["X-Resp-Remove"] = "gone";
            context.Response.Headers["X-Resp-Set"] = "backend";
            await context.Response.WriteAsync("ok");
        });
        var backendRef = Ir.To(backend) with
        {
            RequestHeaders = new HeaderModifierIr { Set = [new HeaderValueIr { Name = "X-Backend-Level", Value = "b" }] },
            ResponseHeaders = new HeaderModifierIr { Add = [new HeaderValueIr { Name = "X-Resp-Backend", Value = "rb" }] },
        };
        var route = Ir.Route("r", [backendRef]) with
        {
            RequestHeaders = new HeaderModifierIr
            {
                Set = [new HeaderValueIr { Name = "X-Set", Value = "set-overwrites" }],
                Add = [new HeaderValueIr { Name = "X-Add", Value = "added" }],
                Remove = ["X-Remove"],
            },
            ResponseHeaders = new HeaderModifierIr
            {
                Set = [new HeaderValueIr { Name = "X-Resp-Set", Value = "gateway" }],
                Add = [new HeaderValueIr { Name = "X-Resp-Add", Value = "a" }],
                Remove = ["X-Resp-Remove"],
            },
        };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));
        using var response = await proxy.GetAsync("/", configure: r =>
        {
            r.Headers.TryAddWithoutValidation("X-Set", "client");
            r.Headers.TryAddWithoutValidation("X-Add", "client");
            r.Headers.TryAddWithoutValidation("X-Remove", "client");
        });
        var seen = Assert.Single(backend.Requests).Headers;
        Assert.Equal("set-overwrites", seen["X-Set"]);
        Assert.Equal("client,added", seen["X-Add"]);
        Assert.False(seen.ContainsKey("X-Remove"));
        Assert.Equal("b", seen["X-Backend-Level"]);
        Assert.Equal("gateway", response.Header("X-Resp-Set"));
        Assert.Equal("a", response.Header("X-Resp-Add"));
        Assert.Equal("rb", response.Header("X-Resp-Backend"));
        Assert.Null(response.Header("X-Resp-Remove"));
    }

    [Theory]
    // Each redirect status Gateway API allows.
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(303)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task Redirect_AnswersStatusAndLocation(int status)
    {
        var route = Ir.Route("r") with { Redirect = new RedirectIr { StatusCode = status, Scheme = "https", Hostname = "secure.example" } };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));
        using var response = await proxy.GetAsync("/a/b?c=d", host: "plain.example:8080");
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("https://secure.example/a/b?c=d", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Weights_SplitTrafficProportionally()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        await using var zero = await TestBackend.StartAsync("zero");
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(a, 3), Ir.To(b, 1), Ir.To(zero, 0)])));
        const int N = 400;
        for (var i = 0; i < N; i++)
        {
            using var response = await proxy.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Empty(zero.Requests);
        Assert.Equal(N, a.Requests.Count + b.Requests.Count);
        var share = a.Requests.Count / (double)N;
        Assert.InRange(share, 0.65, 0.85);
    }

    [Fact]
    public async Task SomeBackendsInvalid_ThatShareAnswers500()
    {
        await using var a = await TestBackend.StartAsync("a");
        var invalid = new HttpBackendIr { Backend = Ir.Backend("missing", 1), Invalid = true };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(Ir.Route("r", [Ir.To(a), invalid])));
        var errors = 0;
        for (var i = 0; i < 200; i++)
        {
            using var response = await proxy.GetAsync("/");
            errors += response.StatusCode == HttpStatusCode.InternalServerError ? 1 : 0;
        }

        Assert.InRange(errors, 60, 140);
        Assert.Equal(200 - errors, a.Requests.Count);
    }
}

using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Switchyard.Ir;

namespace Switchyard.Proxy.Tests.Filters;

public class MirrorTests
{
    private static MirrorIr Mirror(TestBackend backend, int numerator = 100, int denominator = 100) =>
        new() { Backend = Ir.Backend(backend.Name, 1, backend.Endpoint), Numerator = numerator, Denominator = denominator };

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task MultipleMirrors_EachReceiveACopyWithBody()
    {
        await using var main = await TestBackend.StartAsync("main");
        await using var m1 = await TestBackend.StartAsync("m1");
        await using var m2 = await TestBackend.StartAsync("m2");
        var route = Ir.Route("r", [Ir.To(main)]) with { Mirrors = [Mirror(m1), Mirror(m2)] };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));
        using var response = await proxy.Client.PostAsync(proxy.Url("/echo?x=1"), new ByteArrayContent(new byte[1234]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("main", await response.Content.ReadAsStringAsync());
        await WaitForAsync(() => m1.Requests.Count == 1 && m2.Requests.Count == 1);
        foreach (var mirror in new[] { m1, m2 })
        {
            var copy = Assert.Single(mirror.Requests);
            Assert.Equal("POST", copy.Method);
            Assert.Equal("/echo?x=1", copy.PathAndQuery);
            Assert.Equal(1234, copy.BodyLength);
        }

        Assert.Equal(1234, Assert.Single(main.Requests).BodyLength);
    }

    [Fact]
    public async Task FailingMirror_DoesNotAffectResponse()
    {
        await using var main = await TestBackend.StartAsync("main");
        await using var slow = await TestBackend.StartAsync("slow", async c => await Task.Delay(3000, c.RequestAborted));
        var dead = new MirrorIr { Backend = Ir.Backend("dead", 1, new EndpointIr { Host = "127.0.0.1", Port = 1 }) };
        var route = Ir.Route("r", [Ir.To(main)]) with { Mirrors = [dead, Mirror(slow)] };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));
        var started = DateTime.UtcNow;
        for (var i = 0; i < 5; i++)
        {
            using var response = await proxy.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("main", await response.Content.ReadAsStringAsync());
        }

        // The slow mirror holds each copy for seconds; the main responses did not wait for it.
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2.5));
    }

    [Fact]
    public async Task MirrorFraction_SamplesRequests()
    {
        await using var main = await TestBackend.StartAsync("main");
        await using var half = await TestBackend.StartAsync("half");
        await using var none = await TestBackend.StartAsync("none");
        var route = Ir.Route("r", [Ir.To(main)]) with { Mirrors = [Mirror(half, 1, 2), Mirror(none, 0, 100)] };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));
        for (var i = 0; i < 200; i++)
        {
            using var response = await proxy.GetAsync("/");
        }

        await Task.Delay(500);
        Assert.InRange(half.Requests.Count, 60, 140);
        Assert.Empty(none.Requests);
    }

    [Theory]
    // Each copy is spoken to as its own backend declares, whatever the main backend speaks: an h2c-only mirror
    // answers HTTP/1.1 with a 400 before the handler, and an HTTP/1.1-only one refuses the HTTP/2 preface.
    [InlineData(BackendProtocol.Http1, BackendProtocol.H2c)]
    [InlineData(BackendProtocol.H2c, BackendProtocol.Http1)]
    public async Task MirrorProtocol_IsTheMirrorBackends(BackendProtocol mainProtocol, BackendProtocol mirrorProtocol)
    {
        static HttpProtocols Kestrel(BackendProtocol p) => p == BackendProtocol.H2c ? HttpProtocols.Http2 : HttpProtocols.Http1;
        await using var main = await TestBackend.StartAsync("main", null, Kestrel(mainProtocol));
        await using var mirror = await TestBackend.StartAsync("mirror", null, Kestrel(mirrorProtocol));
        var backend = new HttpBackendIr { Backend = Ir.Backend("main", 1, main.Endpoint) with { Protocol = mainProtocol } };
        var copy = new MirrorIr { Backend = Ir.Backend("mirror", 1, mirror.Endpoint) with { Protocol = mirrorProtocol } };
        var route = Ir.Route("r", [backend]) with { Mirrors = [copy] };
        await using var proxy = await ProxyHarness.StartAsync(Ir.HttpSnapshot(route));
        using var response = await proxy.Client.PostAsync(proxy.Url("/m"), new ByteArrayContent(new byte[10]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await WaitForAsync(() => !mirror.Requests.IsEmpty);
        var seen = Assert.Single(mirror.Requests);
        Assert.Equal("/m", seen.PathAndQuery);
        Assert.Equal(10, seen.BodyLength);
    }
}

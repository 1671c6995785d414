using System.Net;
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
}

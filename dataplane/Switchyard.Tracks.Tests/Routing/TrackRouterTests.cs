using System.Collections.Immutable;
using System.Text;
using Switchyard.Ir;
using Switchyard.Tracks.Routing;

namespace Switchyard.Tracks.Tests.Routing;

public class TrackRouterTests
{
    private static WeightedBackendIr Backend(string name, int weight, params int[] ports) => new()
    {
        Name = $"service/default/{name}/port/80",
        Weight = weight,
        Endpoints = ports.Select(p => new EndpointIr { Host = "127.0.0.1", Port = p }).ToImmutableArray(),
    };

    private static WebTransportRuleIr Rule(string name, WebTransportMatchIr[] matches, params WeightedBackendIr[] backends) => new()
    {
        Name = name,
        Matches = [.. matches],
        Backends = [.. backends],
        Delivery = new DeliveryIr { Path = "/process" },
    };

    private static WebTransportMatchIr Match(string? type = null, string? path = null, TrackIdMatchIr? id = null, PathMatchType pathType = PathMatchType.Exact) => new()
    {
        TrackType = type,
        Path = path is null ? null : new PathMatchIr { Type = pathType, Value = path },
        TrackId = id,
    };

    private static TrackRouter Router(params WebTransportRouteIr[] routes)
    {
        var router = new TrackRouter();
        router.Swap(TrackRouteTable.Build(1, routes));
        return router;
    }

    private static readonly WebTransportRouteIr Media = new()
    {
        Name = "webtransportroute/default/media",
        Rules =
        [
            Rule("webtransportroute/default/media/rule/0", [Match("video", "/wt")], Backend("video", 1, 5001)),
            Rule("webtransportroute/default/media/rule/1", [Match("audio", "/wt")], Backend("audio", 1, 5002)),
            Rule("webtransportroute/default/media/rule/2", [Match("chat", "/wt", new TrackIdMatchIr { Type = TrackIdMatchType.Prefix, Value = "room-" })], Backend("chat", 1, 5003)),
        ],
    };

    private static (TrackRouteFailure, TrackRoute) Route(StreamTrackRouter router, string type, string id)
    {
        var failure = router.TryRoute(Encoding.ASCII.GetBytes(type), Encoding.UTF8.GetBytes(id), out var route);
        return (failure, route);
    }

    [Theory]
    // Each track type reaches its own backend.
    [InlineData("video", "live_video", 5001)]
    [InlineData("audio", "live_audio", 5002)]
    // A track ID prefix match.
    [InlineData("chat", "room-42", 5003)]
    public void TrackType_SelectsItsBackend(string type, string id, int port)
    {
        var stream = new StreamTrackRouter(Router(Media), "127.0.0.1:4433", "/wt");
        var (failure, route) = Route(stream, type, id);
        Assert.Equal(TrackRouteFailure.None, failure);
        Assert.Equal(port, route.Endpoint.Port);
    }

    [Theory]
    // Unknown type.
    [InlineData("file", "f1")]
    // Type matches but the track ID prefix does not.
    [InlineData("chat", "lobby")]
    // Type matching is exact, not prefix.
    [InlineData("vide", "live_video")]
    public void UnmatchedMessage_HasNoRule(string type, string id)
    {
        var stream = new StreamTrackRouter(Router(Media), "127.0.0.1:4433", "/wt");
        Assert.Equal(TrackRouteFailure.NoRule, Route(stream, type, id).Item1);
    }

    [Theory]
    // Exact path match.
    [InlineData("/wt", true)]
    // Query strings do not take part in matching.
    [InlineData("/wt?room=1", true)]
    // Exact means exact.
    [InlineData("/wt/x", false)]
    [InlineData("/other", false)]
    public void SessionPath_DecidesAcceptance(string path, bool accepted)
    {
        var table = TrackRouteTable.Build(1, [Media]);
        Assert.Equal(accepted, table.MatchSession("example.com", path) is not null);
    }

    [Theory]
    // Element-wise prefix: the prefix itself and paths below it.
    [InlineData("/media", true)]
    [InlineData("/media/room/1", true)]
    // Not a character prefix.
    [InlineData("/mediax", false)]
    public void PathPrefix_IsElementWise(string path, bool accepted)
    {
        var route = new WebTransportRouteIr
        {
            Name = "webtransportroute/default/p",
            Rules = [Rule("webtransportroute/default/p/rule/0", [Match("video", "/media/", pathType: PathMatchType.PathPrefix)], Backend("v", 1, 1))],
        };
        Assert.Equal(accepted, TrackRouteTable.Build(1, [route]).MatchSession("h", path) is not null);
    }

    [Theory]
    // Exact host, case-insensitive, with a port.
    [InlineData("media.example.com:4433", true)]
    [InlineData("MEDIA.example.com", true)]
    // Wildcard matches one or more labels, never the bare domain.
    [InlineData("a.b.example.org", true)]
    [InlineData("example.org", false)]
    [InlineData("other.example.com", false)]
    public void Hostnames_FollowGatewayApiRules(string authority, bool accepted)
    {
        var route = Media with { Hostnames = ["*.example.org", "media.example.com"] };
        Assert.Equal(accepted, TrackRouteTable.Build(1, [route]).MatchSession(authority, "/wt") is not null);
    }

    [Fact]
    public void BackendChoice_IsStickyPerStreamAndRule()
    {
        var route = Media with
        {
            Rules = [Rule("webtransportroute/default/media/rule/0", [Match("video")], Backend("a", 1, 6001, 6002), Backend("b", 1, 6003))],
        };
        var router = Router(route);
        var seen = new HashSet<int>();
        for (var s = 0; s < 50; s++)
        {
            var stream = new StreamTrackRouter(router, "h", "/wt", new Random(s).Next);
            var first = Route(stream, "video", "v").Item2.Endpoint.Port;
            seen.Add(first);
            for (var m = 0; m < 20; m++)
            {
                Assert.Equal(first, Route(stream, "video", "v").Item2.Endpoint.Port);
            }
        }

        // Across streams every endpoint gets chosen.
        Assert.Equal([6001, 6002, 6003], seen.Order());
    }

    [Fact]
    public void Weights_SplitStreamsInProportion()
    {
        var route = Media with
        {
            Rules = [Rule("webtransportroute/default/media/rule/0", [Match("video")], Backend("heavy", 3, 7001), Backend("light", 1, 7002), Backend("off", 0, 7003))],
        };
        var router = Router(route);
        var random = new Random(1);
        var counts = new Dictionary<int, int>();
        for (var s = 0; s < 4000; s++)
        {
            var port = Route(new StreamTrackRouter(router, "h", "/wt", random.Next), "video", "v").Item2.Endpoint.Port;
            counts[port] = counts.GetValueOrDefault(port) + 1;
        }

        Assert.False(counts.ContainsKey(7003));
        Assert.InRange(counts[7001] / (double)counts[7002], 2.6, 3.4);
    }

    [Fact]
    public void BackendWithoutEndpoints_GivesNoEndpoint()
    {
        var route = Media with { Rules = [Rule("webtransportroute/default/media/rule/0", [Match("video")], Backend("empty", 1))] };
        Assert.Equal(TrackRouteFailure.NoEndpoint, Route(new StreamTrackRouter(Router(route), "h", "/wt"), "video", "v").Item1);
    }

    [Fact]
    public void Reload_MovedRule_SendsTheNextMessageToTheNewBackend()
    {
        var router = Router(Media);
        var stream = new StreamTrackRouter(router, "h", "/wt");
        Assert.Equal(5003, Route(stream, "chat", "room-1").Item2.Endpoint.Port);
        Assert.Equal(5001, Route(stream, "video", "v").Item2.Endpoint.Port);

        // The chat rule now points at another backend; video is unchanged.
        var moved = Media with
        {
            Rules = Media.Rules.SetItem(2, Media.Rules[2] with { Backends = [Backend("chat-v2", 1, 5004)] }),
        };
        router.Swap(TrackRouteTable.Build(2, [moved]));

        Assert.Equal(5004, Route(stream, "chat", "room-1").Item2.Endpoint.Port);
        Assert.Equal(5001, Route(stream, "video", "v").Item2.Endpoint.Port);
        Assert.Equal(5004, Route(new StreamTrackRouter(router, "h", "/wt"), "chat", "room-9").Item2.Endpoint.Port);
    }

    [Fact]
    public void Reload_RemovingTheRoute_LeavesMessagesUnrouted()
    {
        var router = Router(Media);
        var stream = new StreamTrackRouter(router, "h", "/wt");
        Assert.Equal(TrackRouteFailure.None, Route(stream, "audio", "a").Item1);
        router.Swap(TrackRouteTable.Build(2, []));
        Assert.Equal(TrackRouteFailure.NoRule, Route(stream, "audio", "a").Item1);
    }

    [Fact]
    public void RoutingAMessage_AllocatesNothing()
    {
        var stream = new StreamTrackRouter(Router(Media), "h", "/wt");
        var type = Encoding.ASCII.GetBytes("audio");
        var id = Encoding.ASCII.GetBytes("live_audio");
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(TrackRouteFailure.None, stream.TryRoute(type, id, out _));
        }

        const int messages = 20_000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < messages; i++)
        {
            stream.TryRoute(type, id, out _);
        }

        // Tiered JIT may allocate a little on this thread while the loop runs; one allocation per message would be
        // at least 24 bytes each, so anything under one byte per message proves there is none.
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, messages - 1);
    }
}

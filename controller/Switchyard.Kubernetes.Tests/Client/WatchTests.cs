using System.Text.Json.Nodes;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Watch;

namespace Switchyard.Kubernetes.Tests.Client;

public sealed class WatchTests : IAsyncLifetime
{
    private readonly TestServer _t = new();

    public Task InitializeAsync() => _t.InitializeAsync();

    public Task DisposeAsync() => _t.DisposeAsync();

    private static async Task<List<WatchEvent<JsonObject>>> TakeAsync(IAsyncEnumerable<WatchEvent<JsonObject>> stream, int count, Func<WatchEvent<JsonObject>, bool>? filter = null)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var events = new List<WatchEvent<JsonObject>>();
        await foreach (var ev in stream.WithCancellation(cts.Token))
        {
            if (filter is null || filter(ev))
            {
                events.Add(ev);
            }

            if (events.Count == count)
            {
                break;
            }
        }

        return events;
    }

    [Fact]
    public async Task WatchWithoutResourceVersion_StartsWithSyntheticAdded()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        await cms.CreateAsync("default", TestServer.ConfigMap("a", "1"));
        await cms.CreateAsync("default", TestServer.ConfigMap("b", "1"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var stream = cms.WatchAsync("default", null, cts.Token);
        var task = TakeAsync(stream, 3);
        await Task.Delay(200);
        await cms.DeleteAsync("default", "a");
        var events = await task;
        Assert.Equal(new[] { WatchEventType.Added, WatchEventType.Added, WatchEventType.Deleted }, events.Select(e => e.Type));
        Assert.Equal(new[] { "a", "b", "a" }, events.Select(e => e.Name));
        await cts.CancelAsync();
    }

    [Fact]
    public async Task WatchFromResourceVersion_DeliversOnlyLaterChangesInOrder()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        await cms.CreateAsync("default", TestServer.ConfigMap("old", "1"));
        var list = await cms.ListAsync("default");
        await cms.CreateAsync("default", TestServer.ConfigMap("new", "1"));
        await cms.PatchAsync("default", "old", PatchType.Merge, """{"data":{"k":"2"}}""");
        var events = await TakeAsync(cms.WatchAsync("default", new WatchOptions { ResourceVersion = list.ResourceVersion }), 2);
        Assert.Equal(WatchEventType.Added, events[0].Type);
        Assert.Equal("new", events[0].Name);
        Assert.Equal(WatchEventType.Modified, events[1].Type);
        Assert.Equal("2", events[1].Object!.Str("data.k"));
        Assert.True(long.Parse(events[1].ResourceVersion!) > long.Parse(events[0].ResourceVersion!));
    }

    [Fact]
    public async Task Bookmarks_OnlyWhenAskedAndCarryOnlyTypeMetaAndVersion()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        await cms.CreateAsync("default", TestServer.ConfigMap("x", "1"));
        var rv = (await cms.ListAsync("default")).ResourceVersion;
        var events = await TakeAsync(cms.WatchAsync("default", new WatchOptions { ResourceVersion = rv, AllowWatchBookmarks = true }), 1);
        Assert.Equal(WatchEventType.Bookmark, events[0].Type);
        Assert.Equal(rv, events[0].ResourceVersion);

        // Without the flag, a one-second watch sees nothing at all even though bookmarks are due every 200 ms.
        var none = new List<WatchEvent<JsonObject>>();
        await foreach (var ev in cms.WatchAsync("default", new WatchOptions { ResourceVersion = rv, TimeoutSeconds = 1 }))
        {
            none.Add(ev);
        }

        Assert.Empty(none);
    }

    [Fact]
    public async Task BookmarkWireShape_HasOnlyKindApiVersionAndResourceVersion()
    {
        using var http = new HttpClient { BaseAddress = _t.Server.BaseAddress };
        var rv = _t.Server.ResourceVersion;
        using var response = await http.GetAsync($"/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion={rv}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentLength);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var line = JsonNode.Parse((await reader.ReadLineAsync())!)!;
        Assert.Equal("BOOKMARK", line.Str("type"));
        Assert.Equal("ConfigMap", line.Str("object.kind"));
        Assert.Equal("v1", line.Str("object.apiVersion"));
        Assert.Equal(rv.ToString(System.Globalization.CultureInfo.InvariantCulture), line.Str("object.metadata.resourceVersion"));
        Assert.Null(line["object"]!["metadata"]!["name"]);
    }

    [Fact]
    public async Task WatchFromCompactedVersion_GetsInStreamExpiredError()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        await cms.CreateAsync("default", TestServer.ConfigMap("c", "1"));
        var old = (await cms.ListAsync("default")).ResourceVersion;
        await cms.CreateAsync("default", TestServer.ConfigMap("d", "1"));
        _t.Server.ExpireWatchHistory();
        var events = await TakeAsync(cms.WatchAsync("default", new WatchOptions { ResourceVersion = old }), 1);
        Assert.Equal(WatchEventType.Error, events[0].Type);
        Assert.Equal(410, events[0].Status!.Code);
        Assert.Equal("Expired", events[0].Status!.Reason);
        Assert.Matches(@"^too old resource version: \d+ \(\d+\)$", events[0].Status!.Message);
    }

    [Fact]
    public async Task WatchWithFieldSelector_SeesObjectsLeavingAsDeleted()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        var cm = TestServer.ConfigMap("sel", "1");
        cm["metadata"]!["labels"] = new JsonObject { ["app"] = "a" };
        await cms.CreateAsync("default", cm);
        var rv = (await cms.ListAsync("default")).ResourceVersion;
        await cms.PatchAsync("default", "sel", PatchType.Merge, """{"metadata":{"labels":{"app":"b"}}}""");
        var events = await TakeAsync(cms.WatchAsync("default", new WatchOptions { ResourceVersion = rv, LabelSelector = "app=a" }), 1);
        Assert.Equal(WatchEventType.Deleted, events[0].Type);
    }

    [Fact]
    public async Task WatchTimeoutSeconds_EndsTheStream()
    {
        var started = DateTime.UtcNow;
        await foreach (var _ in _t.Client.Resource(ResourceType.Secrets).WatchAsync("default", new WatchOptions { ResourceVersion = "1", TimeoutSeconds = 1 }))
        {
        }

        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(5));
    }
}

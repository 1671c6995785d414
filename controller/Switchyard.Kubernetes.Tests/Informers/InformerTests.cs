using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Informers;

namespace Switchyard.Kubernetes.Tests.Informers;

public sealed class InformerTests : IAsyncLifetime
{
    private readonly TestServer _t = new();

    public Task InitializeAsync() => _t.InitializeAsync();

    public Task DisposeAsync() => _t.DisposeAsync();

    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(25);
        }
    }

    private sealed class Recorder : IResourceEventHandler<JsonObject>
    {
        public ConcurrentQueue<string> Log { get; } = new();

        public void OnAdd(JsonObject obj, bool isInInitialList) => Log.Enqueue($"add {obj.Str("metadata.name")} {isInInitialList}");

        public void OnUpdate(JsonObject oldObj, JsonObject newObj) =>
            Log.Enqueue(oldObj.Rv() == newObj.Rv() ? $"resync {newObj.Str("metadata.name")}" : $"update {newObj.Str("metadata.name")} {newObj.Str("data.k")}");

        public void OnDelete(JsonObject obj) => Log.Enqueue($"delete {obj.Str("metadata.name")}");
    }

    [Fact]
    public async Task Informer_SyncsThenFollowsChanges()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        await cms.CreateAsync("default", TestServer.ConfigMap("a", "1"));
        var informer = new Informer<JsonObject>(cms, "default", new InformerOptions { PageSize = 1 });
        var rec = new Recorder();
        informer.AddHandler(rec);
        using var cts = new CancellationTokenSource();
        var run = informer.RunAsync(cts.Token);
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(informer.HasSynced);
        Assert.True(informer.TryGet("default", "a", out _));

        await cms.CreateAsync("default", TestServer.ConfigMap("b", "1"));
        await cms.PatchAsync("default", "a", PatchType.Merge, """{"data":{"k":"2"}}""");
        await cms.DeleteAsync("default", "b");
        await EventuallyAsync(() => rec.Log.Count >= 4, "four events");
        Assert.Equal(new[] { "add a True", "add b False", "update a 2", "delete b" }, rec.Log.ToArray());
        Assert.Equal(new[] { "default/a" }, informer.Keys());
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Informer_AfterExpiredWatch_RelistsAndConverges()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        await cms.CreateAsync("default", TestServer.ConfigMap("keep", "1"));
        await cms.CreateAsync("default", TestServer.ConfigMap("gone", "1"));
        var informer = new Informer<JsonObject>(cms, null, new InformerOptions { InitialBackoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(200) });
        var rec = new Recorder();
        informer.AddHandler(rec);
        using var cts = new CancellationTokenSource();
        var run = informer.RunAsync(cts.Token);
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, informer.ListCount);

        // Cut the watch, change things while the informer cannot see, then compact so its version is too old.
        _t.Server.PauseWatches();
        await cms.DeleteAsync("default", "gone");
        await cms.CreateAsync("default", TestServer.ConfigMap("new", "1"));
        await cms.PatchAsync("default", "keep", PatchType.Merge, """{"data":{"k":"2"}}""");
        _t.Server.ExpireWatchHistory();
        _t.Server.ResumeWatches();

        await EventuallyAsync(() => informer.ListCount >= 2 && informer.Count == 2 && rec.Log.Contains("update keep 2"), "relist to converge");
        Assert.Contains("delete gone", rec.Log);
        Assert.Contains("add new False", rec.Log);
        Assert.Equal(new[] { "default/keep", "default/new" }, informer.Keys().Order().ToArray());

        // After the relist the watch works again from the list's version.
        await cms.CreateAsync("default", TestServer.ConfigMap("after", "1"));
        await EventuallyAsync(() => informer.TryGet("default", "after", out _), "watch after relist");
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Informer_InStreamExpiryOnOpenWatch_Relists()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        var informer = new Informer<JsonObject>(cms, "default");
        using var cts = new CancellationTokenSource();
        var run = informer.RunAsync(cts.Token);
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(100);
        _t.Server.ExpireWatchHistory();
        await EventuallyAsync(() => informer.ListCount >= 2, "relist after in-stream 410");
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Informer_Resync_RedeliversCachedObjects()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        await cms.CreateAsync("default", TestServer.ConfigMap("r", "1"));
        var informer = new Informer<JsonObject>(cms, "default", new InformerOptions { ResyncPeriod = TimeSpan.FromMilliseconds(100) });
        var rec = new Recorder();
        informer.AddHandler(rec);
        using var cts = new CancellationTokenSource();
        var run = informer.RunAsync(cts.Token);
        await EventuallyAsync(() => rec.Log.Count(l => l == "resync r") >= 2, "two resyncs");
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task Informer_ServerUnavailable_RetriesWithBackoffUntilItComesBack()
    {
        var cms = _t.Client.Resource(ResourceType.ConfigMaps);
        var errors = 0;
        _t.Server.PauseWatches();
        var informer = new Informer<JsonObject>(cms, "default", new InformerOptions
        {
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            OnError = _ => Interlocked.Increment(ref errors),
        });
        using var cts = new CancellationTokenSource();
        var run = informer.RunAsync(cts.Token);
        await EventuallyAsync(() => Volatile.Read(ref errors) >= 2, "failed watches to be retried");
        _t.Server.ResumeWatches();
        await cms.CreateAsync("default", TestServer.ConfigMap("late", "1"));
        await EventuallyAsync(() => informer.TryGet("default", "late", out _), "watch to resume");
        await cts.CancelAsync();
        await run;
    }
}

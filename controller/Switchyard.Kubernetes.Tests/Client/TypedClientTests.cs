using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Informers;
using Switchyard.Kubernetes.Watch;

namespace Switchyard.Kubernetes.Tests.Client;

public sealed class TestMeta
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("namespace")]
    public string? Namespace { get; set; }

    [JsonPropertyName("resourceVersion")]
    public string? ResourceVersion { get; set; }

    [JsonPropertyName("generation")]
    public long Generation { get; set; }
}

public sealed class WidgetSpec
{
    [JsonPropertyName("size")]
    public int Size { get; set; }

    [JsonPropertyName("color")]
    public string? Color { get; set; }
}

public sealed class TypedWidget
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "test.switchyard.dev/v1";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "Widget";

    [JsonPropertyName("metadata")]
    public TestMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public WidgetSpec Spec { get; set; } = new();
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TypedWidget))]
public sealed partial class TestJsonContext : JsonSerializerContext;

public sealed class TypedClientTests : IAsyncLifetime
{
    private readonly TestServer _t = new();

    public Task InitializeAsync() => _t.InitializeAsync();

    public Task DisposeAsync() => _t.DisposeAsync();

    [Fact]
    public async Task SourceGeneratedType_CreateGetListWatch()
    {
        await _t.InstallWidgetsAsync();
        var widgets = _t.Client.Resource(TestServer.Widgets, TestJsonContext.Default.TypedWidget);
        var created = await widgets.CreateAsync("default", new TypedWidget { Metadata = { Name = "t1" }, Spec = { Size = 2 } });
        Assert.Equal("red", created.Spec.Color);
        Assert.Equal(1, created.Metadata.Generation);
        created.Spec.Size = 3;
        var replaced = await widgets.ReplaceAsync("default", "t1", created);
        Assert.Equal(2, replaced.Metadata.Generation);
        var list = await widgets.ListAsync("default");
        Assert.Equal("t1", Assert.Single(list.Items).Metadata.Name);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await foreach (var ev in widgets.WatchAsync("default", new WatchOptions { ResourceVersion = "0" }, cts.Token))
        {
            Assert.Equal(WatchEventType.Added, ev.Type);
            Assert.Equal(3, ev.Object!.Spec.Size);
            break;
        }
    }

    [Fact]
    public async Task InformerOverTypedObjects_CachesByNamespaceAndName()
    {
        await _t.InstallWidgetsAsync();
        var widgets = _t.Client.Resource(TestServer.Widgets, TestJsonContext.Default.TypedWidget);
        await widgets.CreateAsync("default", new TypedWidget { Metadata = { Name = "a" }, Spec = { Size = 1 } });
        var informer = new Informer<TypedWidget>(widgets);
        using var cts = new CancellationTokenSource();
        var run = informer.RunAsync(cts.Token);
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(informer.TryGet("default", "a", out var a));
        Assert.Equal(1, a!.Spec.Size);
        await cts.CancelAsync();
        await run;
    }

    /// <summary>Answers the first watch with HTTP 410 (what some servers and proxies do instead of an in-stream ERROR).</summary>
    private sealed class GoneOnceHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public int Armed = 1;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.Query.Contains("watch=1", StringComparison.Ordinal) && Interlocked.Exchange(ref Armed, 0) == 1)
            {
                var status = """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}""";
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.Gone) { Content = new StringContent(status, Encoding.UTF8, "application/json") });
            }

            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task InformerGivenHttp410OnWatch_RelistsAndKeepsWatching()
    {
        using var http = new HttpClient(new GoneOnceHandler(new SocketsHttpHandler())) { BaseAddress = _t.Server.BaseAddress };
        using var client = new KubernetesClient(http);
        var cms = client.Resource(ResourceType.ConfigMaps);
        var informer = new Informer<JsonObject>(cms, "default");
        using var cts = new CancellationTokenSource();
        var run = informer.RunAsync(cts.Token);
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (informer.ListCount < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "no relist after HTTP 410");
            await Task.Delay(20);
        }

        await cms.CreateAsync("default", TestServer.ConfigMap("after410", "1"));
        while (!informer.TryGet("default", "after410", out _))
        {
            Assert.True(DateTime.UtcNow < deadline, "watch did not resume after HTTP 410");
            await Task.Delay(20);
        }

        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task InformerBookmarks_AdvanceItsResourceVersionWithoutChangesToItsResource()
    {
        var informer = new Informer<JsonObject>(_t.Client.Resource(ResourceType.ConfigMaps), "default");
        using var cts = new CancellationTokenSource();
        var run = informer.RunAsync(cts.Token);
        await informer.WaitForSyncAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var before = long.Parse(informer.LastSyncResourceVersion!);
        var secret = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Secret", ["metadata"] = new JsonObject { ["name"] = "s" } };
        await _t.Client.Resource(ResourceType.Secrets).CreateAsync("default", secret);
        var target = _t.Server.ResourceVersion;
        Assert.True(target > before);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (long.Parse(informer.LastSyncResourceVersion!) < target)
        {
            Assert.True(DateTime.UtcNow < deadline, "bookmark never arrived");
            await Task.Delay(20);
        }

        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task FinalizerDeletion_WatchersSeeModifiedThenDeleted()
    {
        var widgets = await _t.InstallWidgetsAsync();
        var w = TestServer.Widget("fin", 1);
        w["metadata"]!["finalizers"] = new JsonArray("x/y");
        var created = await widgets.CreateAsync("default", w);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var events = new List<WatchEvent<JsonObject>>();
        var watching = Task.Run(async () =>
        {
            await foreach (var ev in widgets.WatchAsync("default", new WatchOptions { ResourceVersion = created.Rv() }, cts.Token))
            {
                events.Add(ev);
                if (ev.Type == WatchEventType.Deleted)
                {
                    break;
                }
            }
        });
        await widgets.DeleteAsync("default", "fin");
        await widgets.PatchAsync("default", "fin", PatchType.Merge, """{"metadata":{"finalizers":null}}""");
        await watching;
        Assert.Equal(new[] { WatchEventType.Modified, WatchEventType.Deleted }, events.Select(e => e.Type));
        Assert.NotNull(events[0].Object!["metadata"]!["deletionTimestamp"]);
        Assert.Equal(2, events[0].Object!.Generation());
    }
}

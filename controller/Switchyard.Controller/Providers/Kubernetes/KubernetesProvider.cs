using System.Text.Json.Serialization.Metadata;
using Switchyard.Api.Meta;
using Switchyard.Api.Serialization;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Informers;

namespace Switchyard.Controller.Providers.Kubernetes;

/// <summary>Options of a <see cref="KubernetesProvider"/>.</summary>
public sealed record KubernetesProviderOptions
{
    /// <summary>Quiet time after a change before a snapshot is built, so that a burst of events (an <c>apply -f</c>
    /// of a directory, a relist) produces one snapshot. Default 100 ms.</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest time a snapshot waits while changes keep arriving. Default 1 s.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Server-side timeout asked of each watch; the informers re-watch after it. Default 5 min.</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Receives errors the informers recover from (for example a kind whose CRD is not installed yet).</summary>
    public Action<ResourceType, Exception>? OnError { get; init; }
}

/// <summary>
/// Kubernetes-mode provider: one informer (list + watch) per kind the translator reads, joined into one
/// <see cref="ResourceSnapshot"/> whenever anything changes.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>Start every informer; each event only marks the provider dirty.</item>
/// <item>Wait until every informer has listed once, so the first snapshot is complete: a partial snapshot would
/// make the translator report, for example, BackendNotFound for a Service that is merely not listed yet.</item>
/// <item>Whenever dirty, wait for <see cref="KubernetesProviderOptions.Debounce"/> of quiet (at most
/// <see cref="KubernetesProviderOptions.MaxDelay"/>), then build a snapshot from every cache and publish it. The
/// snapshot is rebuilt whole from the caches, never patched from events: level-triggered, so a missed or
/// coalesced event cannot leave it wrong.</item>
/// </list>
/// </remarks>
public sealed class KubernetesProvider
{
    private readonly KubernetesProviderOptions options;
    private readonly List<ISource> sources = [];
    private readonly SemaphoreSlim dirty = new(0, 1);
    private ResourceSnapshot? current;
    private long published;

    /// <summary>Creates a provider over a client; nothing happens until <see cref="RunAsync"/>.</summary>
    /// <param name="client">The API client.</param>
    /// <param name="options">Options, or null for defaults.</param>
    public KubernetesProvider(KubernetesClient client, KubernetesProviderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        this.options = options ?? new KubernetesProviderOptions();
        Add(client, KubernetesResources.GatewayClasses, ApiJsonContext.Default.GatewayClass);
        Add(client, KubernetesResources.Gateways, ApiJsonContext.Default.Gateway);
        Add(client, KubernetesResources.HttpRoutes, ApiJsonContext.Default.HttpRoute);
        Add(client, KubernetesResources.ReferenceGrants, ApiJsonContext.Default.ReferenceGrant);
        Add(client, KubernetesResources.WebTransportRoutes, ApiJsonContext.Default.WebTransportRoute);
        Add(client, KubernetesResources.ListenerSets, ApiJsonContext.Default.ListenerSet);
        Add(client, ResourceType.Services, ApiJsonContext.Default.Service);
        Add(client, ResourceType.EndpointSlices, ApiJsonContext.Default.EndpointSlice);
        Add(client, ResourceType.Secrets, ApiJsonContext.Default.Secret);
        Add(client, ResourceType.Namespaces, ApiJsonContext.Default.Namespace);
        Add(client, ResourceType.ConfigMaps, ApiJsonContext.Default.ConfigMap);
        Add(client, KubernetesResources.BackendTlsPolicies, ApiJsonContext.Default.BackendTlsPolicy);
    }

    /// <summary>Every resource the provider lists and watches (the install's ClusterRole must grant list and watch on each).</summary>
    internal IEnumerable<ResourceType> WatchedResources => sources.Select(s => s.Type);

    /// <summary>Raised with each new snapshot, on the provider's loop; a handler's exception is not caught here.</summary>
    public event Action<ResourceSnapshot>? SnapshotPublished;

    /// <summary>The last published snapshot, or null before every informer has synced.</summary>
    public ResourceSnapshot? Current => Volatile.Read(ref current);

    /// <summary>How many snapshots have been published.</summary>
    public long PublishedCount => Interlocked.Read(ref published);

    /// <summary>Total lists done by the informers: one per kind after the first sync, more after watch expiries.</summary>
    public int ListCount => sources.Sum(s => s.ListCount);

    /// <summary>True once every informer has listed once.</summary>
    public bool HasSynced => sources.TrueForAll(s => s.HasSynced);

    /// <summary>Runs the informers and publishes snapshots until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="cancellationToken">Stops the provider.</param>
    /// <returns>Completes when stopped.</returns>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // :: Step 1
        var informers = sources.Select(s => s.RunAsync(cancellationToken)).ToList();
        try
        {
            // :: Step 2
            await Task.WhenAll(sources.Select(s => s.WaitForSyncAsync(cancellationToken))).ConfigureAwait(false);
            MarkDirty();

            // :: Step 3
            while (!cancellationToken.IsCancellationRequested)
            {
                await dirty.WaitAsync(cancellationToken).ConfigureAwait(false);
                var first = DateTime.UtcNow;
                while (DateTime.UtcNow - first < options.MaxDelay)
                {
                    // Every event during the quiet period re-arms it.
                    if (!await dirty.WaitAsync(options.Debounce, cancellationToken).ConfigureAwait(false))
                    {
                        break;
                    }
                }

                Publish();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Normal shutdown.
        }
        finally
        {
            await Task.WhenAll(informers).ConfigureAwait(false);
        }
    }

    /// <summary>Builds a snapshot from the caches now and publishes it (also used when a consumer asks to resync).</summary>
    internal void Publish()
    {
        var snapshot = ResourceSnapshot.Create(sources.SelectMany(s => s.Objects()));
        Volatile.Write(ref current, snapshot);
        Interlocked.Increment(ref published);
        SnapshotPublished?.Invoke(snapshot);
    }

    private void MarkDirty()
    {
        try
        {
            dirty.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already dirty: one pending signal is enough, the snapshot is rebuilt whole.
        }
    }

    private void Add<T>(KubernetesClient client, ResourceType type, JsonTypeInfo<T> typeInfo)
        where T : KubernetesObject =>
        sources.Add(new Source<T>(this, client.Resource(type, typeInfo), type));

    private interface ISource
    {
        ResourceType Type { get; }

        bool HasSynced { get; }

        int ListCount { get; }

        Task RunAsync(CancellationToken cancellationToken);

        Task WaitForSyncAsync(CancellationToken cancellationToken);

        IEnumerable<KubernetesObject> Objects();
    }

    private sealed class Source<T> : ISource
        where T : KubernetesObject
    {
        private readonly Informer<T> informer;

        public Source(KubernetesProvider owner, ResourceClient<T> client, ResourceType type)
        {
            Type = type;
            informer = new Informer<T>(client, null, new InformerOptions
            {
                WatchTimeout = owner.options.WatchTimeout,
                OnError = ex => owner.options.OnError?.Invoke(type, ex),
            });
            informer.AddHandler(new ResourceEventHandler<T>
            {
                Added = (_, _) => owner.MarkDirty(),
                Updated = (_, _) => owner.MarkDirty(),
                Deleted = _ => owner.MarkDirty(),
            });
        }

        public ResourceType Type { get; }

        public bool HasSynced => informer.HasSynced;

        public int ListCount => informer.ListCount;

        public Task RunAsync(CancellationToken cancellationToken) => informer.RunAsync(cancellationToken);

        public Task WaitForSyncAsync(CancellationToken cancellationToken) => informer.WaitForSyncAsync(cancellationToken);

        public IEnumerable<KubernetesObject> Objects() => informer.List();
    }
}

using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Switchyard.Kubernetes.Client;
using Switchyard.Kubernetes.Watch;

namespace Switchyard.Kubernetes.Informers;

/// <summary>Callbacks of an informer, invoked one at a time in the order the changes were observed.</summary>
/// <typeparam name="T">The object type.</typeparam>
public interface IResourceEventHandler<in T>
{
    /// <summary>An object appeared.</summary>
    /// <param name="obj">The object.</param>
    /// <param name="isInInitialList">True while the first list is being delivered.</param>
    void OnAdd(T obj, bool isInInitialList);

    /// <summary>An object changed (or a periodic resync re-delivered it: then <paramref name="oldObj"/> and
    /// <paramref name="newObj"/> have the same resourceVersion).</summary>
    void OnUpdate(T oldObj, T newObj);

    /// <summary>An object disappeared; <paramref name="obj"/> is its last known state.</summary>
    void OnDelete(T obj);
}

/// <summary>An <see cref="IResourceEventHandler{T}"/> made of optional delegates.</summary>
/// <typeparam name="T">The object type.</typeparam>
public sealed class ResourceEventHandler<T> : IResourceEventHandler<T>
{
    /// <summary>Called on add.</summary>
    public Action<T, bool>? Added { get; init; }

    /// <summary>Called on update.</summary>
    public Action<T, T>? Updated { get; init; }

    /// <summary>Called on delete.</summary>
    public Action<T>? Deleted { get; init; }

    /// <inheritdoc/>
    public void OnAdd(T obj, bool isInInitialList) => Added?.Invoke(obj, isInInitialList);

    /// <inheritdoc/>
    public void OnUpdate(T oldObj, T newObj) => Updated?.Invoke(oldObj, newObj);

    /// <inheritdoc/>
    public void OnDelete(T obj) => Deleted?.Invoke(obj);
}

/// <summary>Options of an <see cref="Informer{T}"/>.</summary>
public sealed record InformerOptions
{
    /// <summary>Label selector applied to list and watch.</summary>
    public string? LabelSelector { get; init; }

    /// <summary>Field selector applied to list and watch.</summary>
    public string? FieldSelector { get; init; }

    /// <summary>Re-deliver every cached object as an update this often; null disables resync.</summary>
    public TimeSpan? ResyncPeriod { get; init; }

    /// <summary>Page size of the (re)list.</summary>
    public int PageSize { get; init; } = 500;

    /// <summary>First delay after a failure; doubles up to <see cref="MaxBackoff"/>, with jitter.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest delay between attempts.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Server-side timeout asked of each watch (randomised up to twice this, as client-go does).</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Receives errors the informer recovers from (failed requests, handler exceptions).</summary>
    public Action<Exception>? OnError { get; init; }
}

/// <summary>
/// Keeps a thread-safe cache of one resource in step with the server by list + watch, the way client-go's
/// reflector and shared informer do.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>List (paged, one snapshot) and replace the cache, emitting add/update/delete for the differences.</item>
/// <item>Watch from the list's resourceVersion with bookmarks, applying each event and remembering its version.</item>
/// <item>When the watch ends, watch again from the last version; on 410 Expired (in-stream ERROR or HTTP 410) go
/// back to step 1; on any other failure wait with exponential backoff and retry.</item>
/// </list>
/// </remarks>
/// <typeparam name="T">The object type.</typeparam>
public sealed class Informer<T> where T : class
{
    private readonly ResourceClient<T> _client;
    private readonly string? _namespace;
    private readonly InformerOptions _options;
    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);
    private readonly List<IResourceEventHandler<T>> _handlers = [];
    private readonly Lock _dispatch = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _relists;

    /// <summary>Creates an informer; nothing happens until <see cref="RunAsync"/>.</summary>
    /// <param name="client">The resource client.</param>
    /// <param name="namespace">Limit to one namespace; null watches all namespaces.</param>
    /// <param name="options">Options.</param>
    public Informer(ResourceClient<T> client, string? @namespace = null, InformerOptions? options = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _namespace = @namespace;
        _options = options ?? new InformerOptions();
    }

    /// <summary>True once the first list has been delivered to the cache and the handlers.</summary>
    public bool HasSynced => _synced.Task.IsCompleted;

    /// <summary>How many times the informer has listed (1 after the first sync; more after 410s).</summary>
    public int ListCount => Volatile.Read(ref _relists);

    /// <summary>The resourceVersion the cache reflects.</summary>
    public string? LastSyncResourceVersion { get; private set; }

    /// <summary>Number of cached objects.</summary>
    public int Count => _cache.Count;

    /// <summary>Adds a handler. Objects already cached are delivered to it as adds first.</summary>
    public void AddHandler(IResourceEventHandler<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_dispatch)
        {
            _handlers.Add(handler);
            foreach (var entry in _cache.Values)
            {
                Invoke(() => handler.OnAdd(entry.Object, !HasSynced));
            }
        }
    }

    /// <summary>Completes when the first list has been delivered.</summary>
    public Task WaitForSyncAsync(CancellationToken cancellationToken = default) => _synced.Task.WaitAsync(cancellationToken);

    /// <summary>The cached object <c>namespace/name</c>.</summary>
    public bool TryGet(string? @namespace, string name, out T? obj)
    {
        var key = new ObjectKey(@namespace, name, null, null).CacheKey;
        if (_cache.TryGetValue(key, out var e))
        {
            obj = e.Object;
            return true;
        }

        obj = null;
        return false;
    }

    /// <summary>A snapshot of every cached object.</summary>
    public IReadOnlyList<T> List() => _cache.Values.Select(e => e.Object).ToList();

    /// <summary>The cache keys (<c>namespace/name</c>).</summary>
    public IReadOnlyCollection<string> Keys() => _cache.Keys.ToList();

    /// <summary>Runs list + watch until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var resyncCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var resync = _options.ResyncPeriod is { } period ? ResyncLoopAsync(period, resyncCts.Token) : Task.CompletedTask;
        var backoff = _options.InitialBackoff;
        string? rv = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    // :: Step 1
                    if (rv is null)
                    {
                        rv = await RelistAsync(cancellationToken).ConfigureAwait(false);
                        backoff = _options.InitialBackoff;
                    }

                    // :: Step 2
                    var started = DateTime.UtcNow;
                    var events = 0;
                    var timeout = (int)(_options.WatchTimeout.TotalSeconds * (1 + Random.Shared.NextDouble()));
                    var watch = new WatchOptions
                    {
                        ResourceVersion = rv,
                        AllowWatchBookmarks = true,
                        TimeoutSeconds = Math.Max(1, timeout),
                        LabelSelector = _options.LabelSelector,
                        FieldSelector = _options.FieldSelector,
                    };
                    var expired = false;
                    await foreach (var (ev, raw) in _client.WatchRawAsync(_namespace, watch, cancellationToken).ConfigureAwait(false))
                    {
                        events++;
                        if (ev.Type == WatchEventType.Error)
                        {
                            if (ev.Status!.Code == 410)
                            {
                                expired = true;
                                break;
                            }

                            throw new KubernetesApiException(ev.Status);
                        }

                        Apply(ev, raw!);
                        rv = ev.ResourceVersion ?? rv;
                        LastSyncResourceVersion = rv;
                        backoff = _options.InitialBackoff;
                    }

                    // :: Step 3
                    if (expired)
                    {
                        rv = null;
                        continue;
                    }

                    if (events == 0 && DateTime.UtcNow - started < TimeSpan.FromSeconds(1))
                    {
                        // A server that ends watches at once would otherwise be hammered.
                        await DelayAsync(ref backoff, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (KubernetesApiException ex) when (ex.IsGone)
                {
                    rv = null;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException or IOException or InvalidDataException or TimeoutException or OperationCanceledException)
                {
                    _options.OnError?.Invoke(ex);
                    try
                    {
                        await DelayAsync(ref backoff, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
            }
        }
        finally
        {
            await resyncCts.CancelAsync().ConfigureAwait(false);
            try
            {
                await resync.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Expected on shutdown.
            }
        }
    }

    private Task DelayAsync(ref TimeSpan backoff, CancellationToken cancellationToken)
    {
        var jittered = backoff * (0.8 + (0.4 * Random.Shared.NextDouble()));
        backoff = TimeSpan.FromTicks(Math.Min(_options.MaxBackoff.Ticks, backoff.Ticks * 2));
        return Task.Delay(jittered, cancellationToken);
    }

    private async Task<string> RelistAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var items = new List<JsonObject>();
            string? cont = null;
            string rv;
            try
            {
                do
                {
                    var page = await _client.ListRawAsync(_namespace, new ListOptions
                    {
                        LabelSelector = _options.LabelSelector,
                        FieldSelector = _options.FieldSelector,
                        Limit = _options.PageSize,
                        Continue = cont,
                    }, cancellationToken).ConfigureAwait(false);
                    items.AddRange(page.Items);
                    cont = page.Continue;
                    rv = page.ResourceVersion;
                }
                while (cont is not null);
            }
            catch (KubernetesApiException ex) when (ex.IsGone)
            {
                // The snapshot behind the continue token was compacted mid-list: start a fresh list.
                continue;
            }

            Replace(items, rv);
            Interlocked.Increment(ref _relists);
            LastSyncResourceVersion = rv;
            _synced.TrySetResult();
            return rv;
        }
    }

    private void Replace(List<JsonObject> items, string rv)
    {
        lock (_dispatch)
        {
            var initial = !HasSynced;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var raw in items)
            {
                var key = ObjectKey.From(raw);
                seen.Add(key.CacheKey);
                var obj = _client.Decode(raw);
                if (_cache.TryGetValue(key.CacheKey, out var old))
                {
                    if (old.ResourceVersion != key.ResourceVersion)
                    {
                        _cache[key.CacheKey] = new Entry(obj, key.ResourceVersion);
                        Dispatch(h => h.OnUpdate(old.Object, obj));
                    }
                }
                else
                {
                    _cache[key.CacheKey] = new Entry(obj, key.ResourceVersion);
                    Dispatch(h => h.OnAdd(obj, initial));
                }
            }

            foreach (var key in _cache.Keys)
            {
                if (!seen.Contains(key) && _cache.TryRemove(key, out var gone))
                {
                    Dispatch(h => h.OnDelete(gone.Object));
                }
            }

            LastSyncResourceVersion = rv;
        }
    }

    private void Apply(WatchEvent<T> ev, JsonObject raw)
    {
        if (ev.Type == WatchEventType.Bookmark)
        {
            return;
        }

        var key = ObjectKey.From(raw).CacheKey;
        lock (_dispatch)
        {
            switch (ev.Type)
            {
                case WatchEventType.Added:
                case WatchEventType.Modified:
                    var obj = ev.Object!;
                    if (_cache.TryGetValue(key, out var old))
                    {
                        _cache[key] = new Entry(obj, ev.ResourceVersion);
                        Dispatch(h => h.OnUpdate(old.Object, obj));
                    }
                    else
                    {
                        _cache[key] = new Entry(obj, ev.ResourceVersion);
                        Dispatch(h => h.OnAdd(obj, false));
                    }

                    break;
                case WatchEventType.Deleted:
                    if (_cache.TryRemove(key, out var gone))
                    {
                        Dispatch(h => h.OnDelete(gone.Object));
                    }

                    break;
            }
        }
    }

    private async Task ResyncLoopAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!HasSynced)
            {
                continue;
            }

            lock (_dispatch)
            {
                foreach (var entry in _cache.Values)
                {
                    Dispatch(h => h.OnUpdate(entry.Object, entry.Object));
                }
            }
        }
    }

    private void Dispatch(Action<IResourceEventHandler<T>> action)
    {
        foreach (var handler in _handlers)
        {
            Invoke(() => action(handler));
        }
    }

    private void Invoke(Action action)
    {
        try
        {
            action();
        }
#pragma warning disable CA1031 // A handler's bug must not stop the informer; it is reported instead.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _options.OnError?.Invoke(ex);
        }
    }

    private sealed record Entry(T Object, string? ResourceVersion);
}

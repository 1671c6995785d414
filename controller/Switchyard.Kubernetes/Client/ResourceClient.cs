using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Switchyard.Kubernetes.Watch;

namespace Switchyard.Kubernetes.Client;

/// <summary>Operations on one resource (group, version, plural), shaped like client-go's dynamic/typed clients.</summary>
/// <typeparam name="T">The object type; <see cref="JsonObject"/> for the untyped path.</typeparam>
public sealed class ResourceClient<T> where T : class
{
    private readonly KubernetesClient _client;
    private readonly JsonTypeInfo<T> _typeInfo;

    internal ResourceClient(KubernetesClient client, ResourceType type, JsonTypeInfo<T> typeInfo)
    {
        _client = client;
        Type = type;
        _typeInfo = typeInfo;
    }

    /// <summary>The resource this client talks to.</summary>
    public ResourceType Type { get; }

    /// <summary>GET one object.</summary>
    /// <exception cref="KubernetesApiException">Any error, including 404.</exception>
    public async Task<T> GetAsync(string? @namespace, string name, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Type.ObjectPath(@namespace, name));
        return Decode(await _client.SendAsync(request, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>GET one object, or null when it does not exist.</summary>
    public async Task<T?> TryGetAsync(string? @namespace, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            return await GetAsync(@namespace, name, cancellationToken).ConfigureAwait(false);
        }
        catch (KubernetesApiException ex) when (ex.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>List one page.</summary>
    /// <param name="namespace">The namespace; null lists across all namespaces.</param>
    /// <param name="options">Selectors and paging.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<ResourceList<T>> ListAsync(string? @namespace, ListOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (items, rv, cont) = await ListRawAsync(@namespace, options, cancellationToken).ConfigureAwait(false);
        return new ResourceList<T>(items.Select(i => Decode(i)).ToList(), rv, cont);
    }

    /// <summary>List every item, following continue tokens from one consistent snapshot.</summary>
    public async IAsyncEnumerable<T> ListAllAsync(string? @namespace, ListOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new ListOptions();
        while (true)
        {
            var page = await ListAsync(@namespace, options, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            if (string.IsNullOrEmpty(page.Continue))
            {
                yield break;
            }

            options = options with { Continue = page.Continue };
        }
    }

    internal async Task<(List<JsonObject> Items, string ResourceVersion, string? Continue)> ListRawAsync(string? @namespace, ListOptions? options, CancellationToken cancellationToken)
    {
        var query = new QueryBuilder();
        query.Add("labelSelector", options?.LabelSelector);
        query.Add("fieldSelector", options?.FieldSelector);
        query.Add("limit", options?.Limit?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        query.Add("continue", options?.Continue);
        query.Add("resourceVersion", options?.ResourceVersion);
        using var request = new HttpRequestMessage(HttpMethod.Get, Type.CollectionPath(@namespace) + query);
        var node = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false) as JsonObject
            ?? throw new KubernetesApiException("list answer is not a JSON object");
        var items = new List<JsonObject>();
        if (node["items"] is JsonArray arr)
        {
            foreach (var item in arr)
            {
                if (item is JsonObject o)
                {
                    items.Add(o);
                }
            }
        }

        var meta = node["metadata"] as JsonObject;
        var rv = (string?)meta?["resourceVersion"] ?? "";
        var cont = (string?)meta?["continue"];
        return (items, rv, string.IsNullOrEmpty(cont) ? null : cont);
    }

    /// <summary>
    /// Watch the collection. The stream ends when the server ends the watch (timeoutSeconds) or the token is
    /// cancelled; an expired resourceVersion arrives as an <see cref="WatchEventType.Error"/> event with code 410.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string? @namespace, WatchOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var (ev, _) in WatchRawAsync(@namespace, options, cancellationToken).ConfigureAwait(false))
        {
            yield return ev;
        }
    }

    internal async IAsyncEnumerable<(WatchEvent<T> Event, JsonObject? Raw)> WatchRawAsync(string? @namespace, WatchOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = new QueryBuilder();
        query.Add("watch", "1");
        query.Add("resourceVersion", options?.ResourceVersion);
        query.Add("allowWatchBookmarks", options?.AllowWatchBookmarks == true ? "true" : null);
        query.Add("timeoutSeconds", options?.TimeoutSeconds?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        query.Add("labelSelector", options?.LabelSelector);
        query.Add("fieldSelector", options?.FieldSelector);
        using var request = new HttpRequestMessage(HttpMethod.Get, Type.CollectionPath(@namespace) + query);
        using var response = await _client.SendStreamingAsync(request, cancellationToken).ConfigureAwait(false);
        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var line in JsonLineReader.ReadAsync(stream, cancellationToken).ConfigureAwait(false))
        {
            var type = (string?)line["type"] switch
            {
                "ADDED" => WatchEventType.Added,
                "MODIFIED" => WatchEventType.Modified,
                "DELETED" => WatchEventType.Deleted,
                "BOOKMARK" => WatchEventType.Bookmark,
                "ERROR" => WatchEventType.Error,
                var other => throw new InvalidDataException($"unknown watch event type '{other}'"),
            };
            var obj = line["object"] as JsonObject;
            if (type == WatchEventType.Error)
            {
                var status = KubernetesStatus.FromJson(obj) ?? new KubernetesStatus(500, "InternalError", "watch ERROR without Status", null, null, null, []);
                yield return (new WatchEvent<T> { Type = type, Status = status }, null);
                continue;
            }

            if (obj is null)
            {
                throw new InvalidDataException($"watch {line["type"]} event without an object");
            }

            var key = ObjectKey.From(obj);
            yield return (new WatchEvent<T>
            {
                Type = type,
                Object = type == WatchEventType.Bookmark ? null : Decode(obj),
                ResourceVersion = key.ResourceVersion,
                Namespace = key.Namespace,
                Name = key.Name,
            }, obj);
        }
    }

    /// <summary>POST a new object.</summary>
    /// <exception cref="KubernetesApiException">409 AlreadyExists, 422 Invalid, …</exception>
    public async Task<T> CreateAsync(string? @namespace, T body, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Type.CollectionPath(@namespace)) { Content = Encode(body) };
        return Decode(await _client.SendAsync(request, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>PUT (replace) an object; conditional on the body's metadata.resourceVersion.</summary>
    /// <exception cref="KubernetesApiException">409 Conflict when the resourceVersion is stale.</exception>
    public Task<T> ReplaceAsync(string? @namespace, string name, T body, CancellationToken cancellationToken = default) =>
        PutAsync(Type.ObjectPath(@namespace, name), body, cancellationToken);

    /// <summary>PUT the status subresource; only <c>.status</c> of the body is used.</summary>
    public Task<T> ReplaceStatusAsync(string? @namespace, string name, T body, CancellationToken cancellationToken = default) =>
        PutAsync(Type.ObjectPath(@namespace, name, "status"), body, cancellationToken);

    /// <summary>PATCH an object.</summary>
    /// <param name="namespace">The namespace.</param>
    /// <param name="name">The object name.</param>
    /// <param name="patchType">The patch format.</param>
    /// <param name="patch">The patch document.</param>
    /// <param name="fieldManager">The field manager (required for <see cref="PatchType.Apply"/>).</param>
    /// <param name="force">Force conflicts (server-side apply only).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<T> PatchAsync(string? @namespace, string name, PatchType patchType, string patch, string? fieldManager = null, bool? force = null, CancellationToken cancellationToken = default) =>
        SendPatchAsync(Type.ObjectPath(@namespace, name), patchType, patch, fieldManager, force, cancellationToken);

    /// <summary>PATCH an object with a JSON document.</summary>
    public Task<T> PatchAsync(string? @namespace, string name, PatchType patchType, JsonNode patch, string? fieldManager = null, bool? force = null, CancellationToken cancellationToken = default) =>
        PatchAsync(@namespace, name, patchType, (patch ?? throw new ArgumentNullException(nameof(patch))).ToJsonString(), fieldManager, force, cancellationToken);

    /// <summary>PATCH the status subresource.</summary>
    public Task<T> PatchStatusAsync(string? @namespace, string name, PatchType patchType, string patch, string? fieldManager = null, bool? force = null, CancellationToken cancellationToken = default) =>
        SendPatchAsync(Type.ObjectPath(@namespace, name, "status"), patchType, patch, fieldManager, force, cancellationToken);

    /// <summary>PATCH the status subresource with a JSON document.</summary>
    public Task<T> PatchStatusAsync(string? @namespace, string name, PatchType patchType, JsonNode patch, string? fieldManager = null, bool? force = null, CancellationToken cancellationToken = default) =>
        PatchStatusAsync(@namespace, name, patchType, (patch ?? throw new ArgumentNullException(nameof(patch))).ToJsonString(), fieldManager, force, cancellationToken);

    /// <summary>DELETE an object.</summary>
    /// <returns>The object when the server answers with it (it may still exist, with a deletionTimestamp, until its
    /// finalizers are removed); null when the server answers with a Status.</returns>
    public async Task<T?> DeleteAsync(string? @namespace, string name, DeleteOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Type.ObjectPath(@namespace, name));
        if (options is not null)
        {
            var body = new JsonObject { ["kind"] = "DeleteOptions", ["apiVersion"] = "v1" };
            if (options.PropagationPolicy is not null)
            {
                body["propagationPolicy"] = options.PropagationPolicy;
            }

            if (options.PreconditionResourceVersion is not null || options.PreconditionUid is not null)
            {
                var pre = new JsonObject();
                if (options.PreconditionResourceVersion is not null)
                {
                    pre["resourceVersion"] = options.PreconditionResourceVersion;
                }

                if (options.PreconditionUid is not null)
                {
                    pre["uid"] = options.PreconditionUid;
                }

                body["preconditions"] = pre;
            }

            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        var node = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return node is JsonObject o && (string?)o["kind"] != "Status" ? Decode(o) : null;
    }

    private async Task<T> PutAsync(string path, T body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = Encode(body) };
        return Decode(await _client.SendAsync(request, cancellationToken).ConfigureAwait(false));
    }

    private async Task<T> SendPatchAsync(string path, PatchType patchType, string patch, string? fieldManager, bool? force, CancellationToken cancellationToken)
    {
        var mediaType = patchType switch
        {
            PatchType.Merge => "application/merge-patch+json",
            PatchType.Json => "application/json-patch+json",
            PatchType.StrategicMerge => "application/strategic-merge-patch+json",
            PatchType.Apply => "application/apply-patch+yaml",
            _ => throw new ArgumentOutOfRangeException(nameof(patchType)),
        };
        var query = new QueryBuilder();
        query.Add("fieldManager", fieldManager);
        query.Add("force", force is null ? null : force.Value ? "true" : "false");
        var content = new StringContent(patch, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var request = new HttpRequestMessage(HttpMethod.Patch, path + query) { Content = content };
        return Decode(await _client.SendAsync(request, cancellationToken).ConfigureAwait(false));
    }

    internal T Decode(JsonNode? node)
    {
        if (node is not JsonObject obj)
        {
            throw new KubernetesApiException("API server answer is not a JSON object");
        }

        if (typeof(T) == typeof(JsonObject))
        {
            return (T)(object)obj;
        }

        try
        {
            return obj.Deserialize(_typeInfo) ?? throw new KubernetesApiException("API server answered null");
        }
        catch (JsonException ex)
        {
            throw new KubernetesApiException($"cannot decode {Type.Kind}: {ex.Message}", ex);
        }
    }

    private ByteArrayContent Encode(T body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, _typeInfo));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private sealed class QueryBuilder
    {
        private readonly StringBuilder _sb = new();

        public void Add(string key, string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                return;
            }

            _sb.Append(_sb.Length == 0 ? '?' : '&').Append(key).Append('=').Append(Uri.EscapeDataString(value));
        }

        public override string ToString() => _sb.ToString();
    }
}

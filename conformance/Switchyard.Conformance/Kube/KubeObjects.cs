using System.Text.Json.Nodes;
using Switchyard.Controller.Providers.Kubernetes;
using Switchyard.Kubernetes.Client;

namespace Switchyard.Conformance.Kube;

/// <summary>
/// Untyped access to the objects the suite creates: kind lookup, create-or-update, delete and wait-until-gone, the
/// way upstream's <c>Applier</c> and <c>kubernetes</c> helpers use controller-runtime's client.
/// </summary>
internal sealed class KubeObjects(KubernetesClient client)
{
    public static readonly ResourceType Pods = new("", "v1", "pods", "Pod", true);
    public static readonly ResourceType Deployments = new("apps", "v1", "deployments", "Deployment", true);

    private static readonly ResourceType[] Known =
    [
        ResourceType.Namespaces, ResourceType.Services, ResourceType.Secrets, ResourceType.ConfigMaps, ResourceType.EndpointSlices,
        ResourceType.CustomResourceDefinitions, Pods, Deployments,
        KubernetesResources.GatewayClasses, KubernetesResources.Gateways, KubernetesResources.HttpRoutes, KubernetesResources.ReferenceGrants,
        KubernetesResources.WebTransportRoutes, KubernetesResources.ListenerSets, KubernetesResources.BackendTlsPolicies,
    ];

    public KubernetesClient Client { get; } = client;

    public static ResourceType TypeOf(string apiVersion, string kind)
    {
        foreach (var type in Known)
        {
            if (type.Kind == kind && (type.ApiVersion == apiVersion || type.Group == GroupOf(apiVersion)))
            {
                // A manifest may name another served version (ReferenceGrant v1beta1); the object is read back at ours.
                return type;
            }
        }

        throw new ConformanceException($"the suite does not know kind {kind} ({apiVersion})");
    }

    public static ResourceType TypeOf(JsonObject obj) =>
        TypeOf(obj["apiVersion"]?.GetValue<string>() ?? "", obj["kind"]?.GetValue<string>() ?? "");

    public ResourceClient<JsonObject> For(ResourceType type) => Client.Resource(type);

    public Task<JsonObject?> TryGetAsync(ResourceType type, string? ns, string name, CancellationToken cancellationToken) =>
        For(type).TryGetAsync(type.Namespaced ? ns : null, name, cancellationToken);

    public async Task<JsonObject> GetAsync(ResourceType type, string? ns, string name, CancellationToken cancellationToken) =>
        await TryGetAsync(type, ns, name, cancellationToken).ConfigureAwait(false)
        ?? throw new ConformanceException($"{type.Kind} {Names.Of(ns, name)} not found");

    /// <summary>Creates the object, or replaces the spec of an existing one (keeping its status).</summary>
    public async Task<JsonObject> ApplyAsync(JsonObject obj, CancellationToken cancellationToken)
    {
        var type = TypeOf(obj);
        var (ns, name) = Names.Read(obj);
        var resource = For(type);
        for (var attempt = 0; ; attempt++)
        {
            var existing = await resource.TryGetAsync(type.Namespaced ? ns : null, name, cancellationToken).ConfigureAwait(false);
            try
            {
                if (existing is null)
                {
                    return await resource.CreateAsync(type.Namespaced ? ns : null, (JsonObject)obj.DeepClone(), cancellationToken).ConfigureAwait(false);
                }

                var next = (JsonObject)obj.DeepClone();
                var meta = (JsonObject)next["metadata"]!;
                meta["resourceVersion"] = existing["metadata"]?["resourceVersion"]?.DeepClone();
                if (existing["status"] is { } status)
                {
                    next["status"] = status.DeepClone();
                }

                return await resource.ReplaceAsync(type.Namespaced ? ns : null, name, next, cancellationToken).ConfigureAwait(false);
            }
            catch (KubernetesApiException ex) when ((ex.IsConflict || ex.IsAlreadyExists) && attempt < 5)
            {
                // Someone (the controller's status writer) wrote in between; read again.
            }
        }
    }

    /// <summary>Reads, changes and writes an object, retrying on conflicts (upstream's update-with-retry).</summary>
    public async Task<JsonObject> UpdateAsync(ResourceType type, string? ns, string name, Action<JsonObject> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = await GetAsync(type, ns, name, cancellationToken).ConfigureAwait(false);
            change(current);
            try
            {
                return await For(type).ReplaceAsync(type.Namespaced ? ns : null, name, current, cancellationToken).ConfigureAwait(false);
            }
            catch (KubernetesApiException ex) when (ex.IsConflict && attempt < 10)
            {
            }
        }
    }

    public async Task DeleteAsync(ResourceType type, string? ns, string name, CancellationToken cancellationToken)
    {
        try
        {
            await For(type).DeleteAsync(type.Namespaced ? ns : null, name, null, cancellationToken).ConfigureAwait(false);
        }
        catch (KubernetesApiException ex) when (ex.IsNotFound)
        {
        }
    }

    /// <summary>Deletes and waits until the object is gone (finalizers done).</summary>
    public async Task DeleteAndWaitAsync(ResourceType type, string? ns, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await DeleteAsync(type, ns, name, cancellationToken).ConfigureAwait(false);
        await Poll.UntilAsync($"{type.Kind} {Names.Of(ns, name)} to be deleted", timeout, async ct =>
            await TryGetAsync(type, ns, name, ct).ConfigureAwait(false) is null ? (true, "") : (false, "still present"), cancellationToken).ConfigureAwait(false);
    }

    private static string GroupOf(string apiVersion)
    {
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? "" : apiVersion[..slash];
    }
}

/// <summary>Namespace/name helpers.</summary>
internal static class Names
{
    public static string Of(string? ns, string name) => string.IsNullOrEmpty(ns) ? name : $"{ns}/{name}";

    public static (string? Namespace, string Name) Read(JsonObject obj)
    {
        var meta = obj["metadata"] as JsonObject ?? throw new ConformanceException("object without metadata");
        return (meta["namespace"]?.GetValue<string>(), meta["name"]?.GetValue<string>() ?? throw new ConformanceException("object without a name"));
    }
}

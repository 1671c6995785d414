using System.Collections.Immutable;
using Switchyard.Api.Core;
using Switchyard.Api.Discovery;
using Switchyard.Api.GatewayApi;
using Switchyard.Api.Meta;
using Switchyard.Api.WebTransport;

namespace Switchyard.Controller.Providers;

/// <summary>
/// Every object the translator reads, indexed by kind, namespace and name. Lists are sorted by namespace then
/// name so that everything derived from a snapshot is deterministic. Providers build it; nobody mutates it.
/// </summary>
public sealed class ResourceSnapshot
{
    private readonly Dictionary<(string Kind, string Namespace, string Name), KubernetesObject> index;
    private readonly ILookup<(string Namespace, string Service), EndpointSlice> slicesByService;

    private ResourceSnapshot(IEnumerable<KubernetesObject> objects)
    {
        var sorted = objects.OrderBy(o => o.Metadata.Namespace ?? "", StringComparer.Ordinal).ThenBy(o => o.Metadata.Name ?? "", StringComparer.Ordinal).ToList();
        index = new Dictionary<(string, string, string), KubernetesObject>();
        foreach (var o in sorted)
        {
            index[(KindOf(o), o.Metadata.Namespace ?? "", o.Metadata.Name ?? "")] = o;
        }

        GatewayClasses = sorted.OfType<GatewayClass>().ToImmutableArray();
        Gateways = sorted.OfType<Gateway>().ToImmutableArray();
        HttpRoutes = sorted.OfType<HttpRoute>().ToImmutableArray();
        WebTransportRoutes = sorted.OfType<WebTransportRoute>().ToImmutableArray();
        ReferenceGrants = sorted.OfType<ReferenceGrant>().ToImmutableArray();
        ListenerSets = sorted.OfType<ListenerSet>().ToImmutableArray();
        Secrets = sorted.OfType<Secret>().ToImmutableArray();
        Services = sorted.OfType<Service>().ToImmutableArray();
        EndpointSlices = sorted.OfType<EndpointSlice>().ToImmutableArray();
        Namespaces = sorted.OfType<Namespace>().ToImmutableArray();
        ConfigMaps = sorted.OfType<ConfigMap>().ToImmutableArray();
        BackendTlsPolicies = sorted.OfType<BackendTlsPolicy>().ToImmutableArray();
        slicesByService = EndpointSlices
            .Where(s => s.Metadata.Labels?.ContainsKey(EndpointSlice.ServiceNameLabel) == true)
            .ToLookup(s => (s.Metadata.Namespace ?? "", s.Metadata.Labels![EndpointSlice.ServiceNameLabel]));
    }

    /// <summary>An empty snapshot.</summary>
    public static ResourceSnapshot Empty { get; } = new([]);

    /// <summary>GatewayClasses, sorted by name.</summary>
    public ImmutableArray<GatewayClass> GatewayClasses { get; }

    /// <summary>Gateways, sorted by namespace and name.</summary>
    public ImmutableArray<Gateway> Gateways { get; }

    /// <summary>HTTPRoutes, sorted by namespace and name.</summary>
    public ImmutableArray<HttpRoute> HttpRoutes { get; }

    /// <summary>WebTransportRoutes, sorted by namespace and name.</summary>
    public ImmutableArray<WebTransportRoute> WebTransportRoutes { get; }

    /// <summary>ReferenceGrants, sorted by namespace and name.</summary>
    public ImmutableArray<ReferenceGrant> ReferenceGrants { get; }

    /// <summary>ListenerSets, sorted by namespace and name.</summary>
    public ImmutableArray<ListenerSet> ListenerSets { get; }

    /// <summary>Secrets, sorted by namespace and name.</summary>
    public ImmutableArray<Secret> Secrets { get; }

    /// <summary>Services, sorted by namespace and name.</summary>
    public ImmutableArray<Service> Services { get; }

    /// <summary>EndpointSlices, sorted by namespace and name.</summary>
    public ImmutableArray<EndpointSlice> EndpointSlices { get; }

    /// <summary>Namespaces, sorted by name.</summary>
    public ImmutableArray<Namespace> Namespaces { get; }

    /// <summary>ConfigMaps, sorted by namespace and name.</summary>
    public ImmutableArray<ConfigMap> ConfigMaps { get; }

    /// <summary>BackendTLSPolicies, sorted by namespace and name.</summary>
    public ImmutableArray<BackendTlsPolicy> BackendTlsPolicies { get; }

    /// <summary>Number of objects.</summary>
    public int Count => index.Count;

    /// <summary>Builds a snapshot; a later object with the same kind, namespace and name replaces an earlier one.</summary>
    /// <param name="objects">Objects of the supported kinds.</param>
    /// <returns>The snapshot.</returns>
    public static ResourceSnapshot Create(IEnumerable<KubernetesObject> objects) => new(objects);

    /// <summary>The kind of an object: its <c>kind</c> field, or the kind its C# type stands for.</summary>
    /// <param name="o">Object.</param>
    /// <returns>Kind name.</returns>
    public static string KindOf(KubernetesObject o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return o switch
        {
            GatewayClass => "GatewayClass",
            Gateway => "Gateway",
            HttpRoute => "HTTPRoute",
            WebTransportRoute => SwitchyardApiNames.WebTransportRouteKind,
            ReferenceGrant => "ReferenceGrant",
            ListenerSet => "ListenerSet",
            Secret => "Secret",
            Service => "Service",
            EndpointSlice => "EndpointSlice",
            Namespace => "Namespace",
            ConfigMap => "ConfigMap",
            BackendTlsPolicy => "BackendTLSPolicy",
            _ => o.Kind ?? o.GetType().Name,
        };
    }

    /// <summary>Looks an object up.</summary>
    /// <typeparam name="T">Expected type.</typeparam>
    /// <param name="kind">Kind, as <see cref="KindOf"/> names it.</param>
    /// <param name="ns">Namespace; empty for cluster-scoped kinds.</param>
    /// <param name="name">Name.</param>
    /// <returns>The object, or null.</returns>
    public T? Get<T>(string kind, string? ns, string name)
        where T : KubernetesObject =>
        index.TryGetValue((kind, ns ?? "", name), out var o) ? o as T : null;

    /// <summary>Looks a Service up.</summary>
    /// <param name="ns">Namespace.</param>
    /// <param name="name">Name.</param>
    /// <returns>The Service, or null.</returns>
    public Service? GetService(string ns, string name) => Get<Service>("Service", ns, name);

    /// <summary>Looks a Secret up.</summary>
    /// <param name="ns">Namespace.</param>
    /// <param name="name">Name.</param>
    /// <returns>The Secret, or null.</returns>
    public Secret? GetSecret(string ns, string name) => Get<Secret>("Secret", ns, name);

    /// <summary>Looks a ConfigMap up.</summary>
    /// <param name="ns">Namespace.</param>
    /// <param name="name">Name.</param>
    /// <returns>The ConfigMap, or null.</returns>
    public ConfigMap? GetConfigMap(string ns, string name) => Get<ConfigMap>("ConfigMap", ns, name);

    /// <summary>Looks a GatewayClass up.</summary>
    /// <param name="name">Name.</param>
    /// <returns>The GatewayClass, or null.</returns>
    public GatewayClass? GetGatewayClass(string name) => Get<GatewayClass>("GatewayClass", "", name);

    /// <summary>Looks a Gateway up.</summary>
    /// <param name="ns">Namespace.</param>
    /// <param name="name">Name.</param>
    /// <returns>The Gateway, or null.</returns>
    public Gateway? GetGateway(string ns, string name) => Get<Gateway>("Gateway", ns, name);

    /// <summary>Labels of a namespace, always including <c>kubernetes.io/metadata.name</c> as the API server sets it.</summary>
    /// <param name="name">Namespace name.</param>
    /// <returns>Labels (empty apart from the name label when the Namespace object is not known).</returns>
    public IReadOnlyDictionary<string, string> NamespaceLabels(string name)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Get<Namespace>("Namespace", "", name)?.Metadata.Labels is { } known)
        {
            foreach (var (k, v) in known)
            {
                labels[k] = v;
            }
        }

        labels["kubernetes.io/metadata.name"] = name;
        return labels;
    }

    /// <summary>The EndpointSlices of a Service (label <c>kubernetes.io/service-name</c>), sorted by name.</summary>
    /// <param name="ns">Namespace.</param>
    /// <param name="service">Service name.</param>
    /// <returns>Slices.</returns>
    public IEnumerable<EndpointSlice> EndpointSlicesFor(string ns, string service) => slicesByService[(ns, service)];
}

using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;

namespace Switchyard.Controller.Translation;

/// <summary>A port of a Gateway's LoadBalancer Service: one per listener port and transport.</summary>
/// <param name="Name">Port name, unique in the Service (<c>tcp-443</c>, <c>udp-443</c>).</param>
/// <param name="Protocol"><c>TCP</c> or <c>UDP</c>.</param>
/// <param name="Port">The listener port.</param>
public sealed record ServicePortIntent(string Name, string Protocol, int Port);

/// <summary>
/// What the provisioner must make exist for one accepted Gateway: a LoadBalancer Service in the Gateway's namespace
/// carrying the Gateway's <c>spec.infrastructure</c> labels and annotations, with the usable static addresses pinned
/// for the load balancer. The translator computes it (pure); <c>Provisioning.GatewayProvisioner</c> applies it.
/// </summary>
public sealed record GatewayInfrastructureIntent
{
    /// <summary>The Gateway's namespace (and the Service's).</summary>
    public required string Namespace { get; init; }

    /// <summary>The Gateway's name.</summary>
    public required string Gateway { get; init; }

    /// <summary>The Gateway's UID, for the Service's owner reference; empty when unknown (file mode, tests).</summary>
    public string GatewayUid { get; init; } = "";

    /// <summary>The Service's name (<see cref="GatewayInfrastructureNames.ServiceName"/>).</summary>
    public required string ServiceName { get; init; }

    /// <summary>Labels: <c>spec.infrastructure.labels</c> plus Switchyard's own, sorted by key.</summary>
    public ImmutableSortedDictionary<string, string> Labels { get; init; } = ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>Annotations: <c>spec.infrastructure.annotations</c> plus the load balancer's address pin, sorted by key.</summary>
    public ImmutableSortedDictionary<string, string> Annotations { get; init; } = ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>The static addresses the load balancer must assign (usable ones only); empty lets it pick.</summary>
    public ImmutableArray<string> LoadBalancerIPs { get; init; } = [];

    /// <summary>Ports, sorted by port then protocol.</summary>
    public ImmutableArray<ServicePortIntent> Ports { get; init; } = [];
}

/// <summary>Names and keys shared by the translator, the provisioner and the load balancer stand-in.</summary>
public static class GatewayInfrastructureNames
{
    /// <summary>Upstream's label naming the Gateway a generated resource serves (GEP-1762).</summary>
    public const string GatewayNameLabel = "gateway.networking.k8s.io/gateway-name";

    /// <summary>Marks the resources this controller generated, so that it deletes only its own.</summary>
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";

    /// <summary>The value of <see cref="ManagedByLabel"/>.</summary>
    public const string ManagedByValue = "switchyard";

    /// <summary>
    /// MetalLB's annotation pinning a LoadBalancer Service's addresses (comma-separated). MetalLB reads both this
    /// legacy key and <see cref="MetalLbLoadBalancerIPs"/>; the legacy one is also understood by older releases.
    /// </summary>
    public const string MetalLbLegacyLoadBalancerIPs = "metallb.universe.tf/loadBalancerIPs";

    /// <summary>MetalLB's current annotation key for pinned addresses.</summary>
    public const string MetalLbLoadBalancerIPs = "metallb.io/loadBalancerIPs";

    /// <summary>Records which label and annotation keys came from <c>spec.infrastructure</c>, so that a key removed
    /// from the Gateway is removed from the Service too (and keys other tools added are left alone).</summary>
    public const string PropagatedKeysAnnotation = "switchyard.dev/propagated-keys";

    /// <summary>
    /// The Service's name: <c>switchyard-GATEWAY</c>. A Service name is a DNS-1035 label of at most 63 characters
    /// without dots, while a Gateway name may be a longer DNS subdomain: such a name has its dots replaced, is cut, and is
    /// suffixed with a hash of the whole Gateway name, which keeps it unique per namespace.
    /// </summary>
    /// <param name="gateway">The Gateway's name.</param>
    /// <returns>The Service name.</returns>
    public static string ServiceName(string gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        var name = "switchyard-" + gateway.Replace('.', '-');
        if (name.Length <= 63 && !gateway.Contains('.', StringComparison.Ordinal))
        {
            return name;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(gateway)))[..10];
        return name[..Math.Min(name.Length, 52)].TrimEnd('-') + "-" + hash;
    }
}

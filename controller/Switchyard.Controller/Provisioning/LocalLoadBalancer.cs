using System.Collections.Immutable;
using System.Net;
using System.Text.Json.Nodes;
using Switchyard.Controller.Translation;
using Switchyard.Kubernetes.Client;

namespace Switchyard.Controller.Provisioning;

/// <summary>Settings of the <see cref="LocalLoadBalancer"/>.</summary>
public sealed record LocalLoadBalancerOptions
{
    /// <summary>The ranges it assigns pinned addresses from (MetalLB's IPAddressPools).</summary>
    public ImmutableArray<IPNetwork> Pools { get; init; } = [];

    /// <summary>The address every Service without a pinned address shares (the machine's default bind address).</summary>
    public IPAddress SharedAddress { get; init; } = IPAddress.Loopback;
}

/// <summary>
/// Plays the cluster's load balancer where there is none (the in-process API server): it fills a generated Service's
/// <c>status.loadBalancer.ingress</c> the way MetalLB would.
/// </summary>
/// <remarks>
/// A Service pinning addresses (<c>metallb.universe.tf/loadBalancerIPs</c>) gets exactly those when every one lies
/// in a pool and no other Service holds it; otherwise it gets none, as MetalLB leaves such a Service pending. A
/// Service pinning nothing gets <see cref="LocalLoadBalancerOptions.SharedAddress"/>, shared like MetalLB's
/// <c>allow-shared-ip</c>, because on one machine every Gateway's data plane listens on that address.
/// </remarks>
internal sealed class LocalLoadBalancer(LocalLoadBalancerOptions options)
{
    /// <summary>Assigns addresses to the generated Services; returns the number of failed status writes.</summary>
    public async Task<int> AssignAsync(ResourceClient<JsonObject> services, IReadOnlyList<JsonObject> generated, Action<string, Exception?>? log, CancellationToken cancellationToken)
    {
        var failed = 0;
        var held = new Dictionary<IPAddress, string>();
        foreach (var service in generated.OrderBy(Key, StringComparer.Ordinal))
        {
            var key = Key(service);
            var ingress = Ingress(service, held, key, out var why);
            var current = (service["status"]?["loadBalancer"]?["ingress"] as JsonArray ?? [])
                .Select(i => (string?)i?["ip"]).ToList();
            if (current.SequenceEqual(ingress.Select(ip => (string?)ip.ToString())))
            {
                continue;
            }

            if (why is not null)
            {
                log?.Invoke($"local load balancer: Service {key} gets no address: {why}", null);
            }

            var patch = new JsonObject
            {
                ["status"] = new JsonObject
                {
                    ["loadBalancer"] = new JsonObject { ["ingress"] = new JsonArray([.. ingress.Select(ip => (JsonNode)new JsonObject { ["ip"] = ip.ToString(), ["ipMode"] = "VIP" })]) },
                },
            };
            try
            {
                var slash = key.IndexOf('/', StringComparison.Ordinal);
                await services.PatchStatusAsync(key[..slash], key[(slash + 1)..], PatchType.Merge, patch, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is KubernetesApiException or HttpRequestException)
            {
                failed++;
                log?.Invoke($"local load balancer: writing the status of Service {key} failed", ex);
            }
        }

        return failed;
    }

    /// <summary>The addresses a Service gets; <paramref name="why"/> says why it gets none when it pinned some.</summary>
    internal List<IPAddress> Ingress(JsonObject service, Dictionary<IPAddress, string> held, string key, out string? why)
    {
        why = null;
        var pin = (string?)service["metadata"]?["annotations"]?[GatewayInfrastructureNames.MetalLbLegacyLoadBalancerIPs]
            ?? (string?)service["metadata"]?["annotations"]?[GatewayInfrastructureNames.MetalLbLoadBalancerIPs];
        if (string.IsNullOrWhiteSpace(pin))
        {
            return [options.SharedAddress];
        }

        var wanted = new List<IPAddress>();
        foreach (var text in pin.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!IPAddress.TryParse(text, out var ip))
            {
                why = $"\"{text}\" is not an IP address";
                return [];
            }

            if (!options.Pools.Any(p => p.Contains(ip)))
            {
                why = $"{ip} is in no address pool ({string.Join(", ", options.Pools)})";
                return [];
            }

            if (held.TryGetValue(ip, out var other) && other != key)
            {
                why = $"{ip} is already assigned to Service {other}";
                return [];
            }

            wanted.Add(ip);
        }

        foreach (var ip in wanted)
        {
            held[ip] = key;
        }

        return wanted;
    }

    private static string Key(JsonObject o) => $"{(string?)o["metadata"]?["namespace"]}/{(string?)o["metadata"]?["name"]}";
}

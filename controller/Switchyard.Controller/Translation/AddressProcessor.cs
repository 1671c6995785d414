using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using Switchyard.Api.Core;
using Switchyard.Api.GatewayApi;

namespace Switchyard.Controller.Translation;

/// <summary>
/// Validates each Gateway's <c>spec.addresses</c>, reads what the load balancer assigned to the Gateway's Service,
/// sets the address conditions and <c>status.addresses</c>, and states the Service every accepted Gateway needs
/// (<see cref="GatewayInfrastructureIntent"/>).
/// </summary>
/// <remarks>
/// Steps per Gateway of ours:
/// 1. Classify every requested address: only <c>IPAddress</c> is supported (Accepted False / UnsupportedAddress for any
///    other type or a value that is not an IP address); an empty value asks for any address (GatewayAddressEmpty).
/// 2. An address outside <see cref="TranslatorOptions.AddressPools"/> (when pools are configured) can never be
///    assigned: Programmed False / AddressNotUsable, naming it.
/// 3. Read the generated Service's <c>status.loadBalancer.ingress</c>: that is what the Gateway is reachable at
///    (<c>status.addresses</c>). A usable static address the load balancer has not assigned, or a request for any
///    address with nothing assigned yet, gives Programmed False / AddressNotAssigned.
/// 4. State the Service: spec.infrastructure labels and annotations, the usable static addresses pinned, one port
///    per usable listener port (TCP, and UDP too for HTTPS, which serves HTTP/3).
/// </remarks>
internal sealed class AddressProcessor : ITranslationProcessor
{
    public const string IpAddressType = "IPAddress";
    public const string HostnameType = "Hostname";
    public const string UnsupportedAddress = "UnsupportedAddress";
    public const string AddressNotUsable = "AddressNotUsable";
    public const string AddressNotAssigned = "AddressNotAssigned";

    public void Run(TranslationContext context)
    {
        foreach (var gateway in context.Gateways)
        {
            var requested = gateway.Gateway.Spec.Addresses ?? [];

            // :: Step 1
            var statics = new List<IPAddress>();
            var wantsAny = false;
            var unsupported = new List<string>();
            foreach (var address in requested)
            {
                var type = string.IsNullOrEmpty(address.Type) ? IpAddressType : address.Type;
                if (type != IpAddressType)
                {
                    unsupported.Add($"type {type} ({address.Value})");
                }
                else if (string.IsNullOrEmpty(address.Value))
                {
                    wantsAny = true;
                }
                else if (IPAddress.TryParse(address.Value, out var ip) && address.Value.Contains(ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? '.' : ':', StringComparison.Ordinal))
                {
                    statics.Add(ip);
                }
                else
                {
                    unsupported.Add($"\"{address.Value}\" (not an IP address)");
                }
            }

            if (unsupported.Count > 0)
            {
                gateway.Accepted = false;
                gateway.Conditions.Set(Cond.Accepted, false, UnsupportedAddress, $"unsupported address {string.Join(", ", unsupported)}: only type IPAddress is supported");
                gateway.Conditions.Set(Cond.Programmed, false, Cond.Invalid, "Gateway is not accepted");
            }

            if (!gateway.Accepted)
            {
                continue;
            }

            // :: Step 2
            var pools = context.Options.AddressPools;
            var unusable = pools.IsDefaultOrEmpty ? [] : statics.Where(ip => !pools.Any(p => p.Contains(ip))).ToList();
            var usable = statics.Except(unusable).Distinct().ToList();
            if (unusable.Count > 0)
            {
                gateway.Conditions.Set(Cond.Programmed, false, AddressNotUsable,
                    $"address {string.Join(", ", unusable)} is outside the load balancer's address pools ({string.Join(", ", pools)}); remove it from spec.addresses or use an address from the pools");
            }

            // :: Step 3
            var serviceName = GatewayInfrastructureNames.ServiceName(gateway.Name);
            var service = context.Snapshot.GetService(gateway.Namespace, serviceName);
            if (service is not null && !Generated(service, gateway.Name))
            {
                service = null;
            }

            var assigned = Assigned(service);
            gateway.Addresses.AddRange(assigned);
            var missing = usable.Where(ip => !assigned.Exists(a => a.Type == IpAddressType && IPAddress.TryParse(a.Value, out var x) && x.Equals(ip))).ToList();
            if (missing.Count > 0)
            {
                gateway.Conditions.Set(Cond.Programmed, false, AddressNotAssigned,
                    $"the load balancer has not assigned {string.Join(", ", missing)} to Service {gateway.Namespace}/{serviceName}");
            }
            else if (wantsAny && assigned.Count == 0)
            {
                gateway.Conditions.Set(Cond.Programmed, false, AddressNotAssigned,
                    $"the load balancer has not assigned an address to Service {gateway.Namespace}/{serviceName} yet");
            }

            // :: Step 4 (stated by GatewayServiceProcessor once ListenerSets have added their listeners)
            gateway.Service = (serviceName, usable);
        }
    }

    /// <summary>True when the Service is the one this controller generated for the Gateway, not a user's namesake.</summary>
    private static bool Generated(Service service, string gateway) =>
        service.Metadata.Labels is { } labels
        && labels.TryGetValue(GatewayInfrastructureNames.ManagedByLabel, out var by) && by == GatewayInfrastructureNames.ManagedByValue
        && labels.TryGetValue(GatewayInfrastructureNames.GatewayNameLabel, out var name) && name == gateway;

    private static List<GatewayStatusAddress> Assigned(Service? service)
    {
        var result = new List<GatewayStatusAddress>();
        foreach (var ingress in service?.Status?.LoadBalancer?.Ingress ?? [])
        {
            var entry = !string.IsNullOrEmpty(ingress.Ip) && IPAddress.TryParse(ingress.Ip, out var ip)
                ? new GatewayStatusAddress { Type = IpAddressType, Value = ip.ToString() }
                : !string.IsNullOrEmpty(ingress.Hostname) ? new GatewayStatusAddress { Type = HostnameType, Value = ingress.Hostname } : null;
            if (entry is not null && !result.Exists(a => a.Type == entry.Type && a.Value == entry.Value))
            {
                result.Add(entry);
            }
        }

        return result;
    }

    /// <summary>The Service <paramref name="gateway"/> needs: its own and its ListenerSets' usable listener ports.</summary>
    internal static GatewayInfrastructureIntent? Intent(GatewayState gateway, string serviceName, IReadOnlyList<IPAddress> usable)
    {
        var ports = new List<ServicePortIntent>();
        foreach (var port in gateway.AllListeners.Where(l => l.Usable).GroupBy(l => l.Listener.Port).OrderBy(g => g.Key))
        {
            var number = port.Key.ToString(CultureInfo.InvariantCulture);
            ports.Add(new ServicePortIntent("tcp-" + number, "TCP", port.Key));
            if (port.Any(l => l.Listener.Protocol == "HTTPS"))
            {
                ports.Add(new ServicePortIntent("udp-" + number, "UDP", port.Key));
            }
        }

        // A LoadBalancer Service needs at least one port; a Gateway with no usable listener has nothing to expose.
        if (ports.Count == 0)
        {
            return null;
        }

        var infrastructure = gateway.Gateway.Spec.Infrastructure;
        var labels = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var annotations = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in infrastructure?.Labels ?? [])
        {
            labels[key] = value;
        }

        foreach (var (key, value) in infrastructure?.Annotations ?? [])
        {
            annotations[key] = value;
        }

        // Switchyard's own keys win over a user's, or the provisioner could no longer find its Service.
        labels[GatewayInfrastructureNames.GatewayNameLabel] = gateway.Name;
        labels[GatewayInfrastructureNames.ManagedByLabel] = GatewayInfrastructureNames.ManagedByValue;
        var pinned = usable.Select(ip => ip.ToString()).ToImmutableArray();
        if (!pinned.IsEmpty)
        {
            annotations[GatewayInfrastructureNames.MetalLbLegacyLoadBalancerIPs] = string.Join(',', pinned);
        }

        return new GatewayInfrastructureIntent
        {
            Namespace = gateway.Namespace,
            Gateway = gateway.Name,
            GatewayUid = gateway.Gateway.Metadata.Uid ?? "",
            ServiceName = serviceName,
            Labels = labels.ToImmutable(),
            Annotations = annotations.ToImmutable(),
            LoadBalancerIPs = pinned,
            Ports = [.. ports],
        };
    }
}

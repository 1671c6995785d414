using System.Collections.Immutable;
using System.Globalization;
using Switchyard.Api.GatewayApi;
using Switchyard.Controller.Providers;
using Switchyard.Ir;

namespace Switchyard.Controller.Translation;

/// <summary>A resolved backend reference, or why it did not resolve (a ResolvedRefs reason).</summary>
internal sealed record BackendResolution(WeightedBackendIr Backend, string? Reason, string? Message)
{
    public bool Resolved => Reason is null;
}

/// <summary>Resolves backend references to Service ports and their ready endpoints.</summary>
internal static class Backends
{
    public static BackendResolution Resolve(ResourceSnapshot snapshot, string routeGroup, string routeKind, string routeNamespace, BackendObjectReference reference, int weight)
    {
        var group = reference.Group ?? "";
        var kind = reference.Kind ?? "Service";
        var ns = string.IsNullOrEmpty(reference.Namespace) ? routeNamespace : reference.Namespace;
        var port = reference.Port;
        var name = $"service/{ns}/{reference.Name}/port/{(port is { } p ? p.ToString(CultureInfo.InvariantCulture) : "none")}";
        var unresolved = new WeightedBackendIr { Name = name, Weight = weight };
        if (group.Length != 0 || kind != "Service")
        {
            return new(unresolved with { Name = $"{(group.Length == 0 ? "core" : group)}/{kind}/{ns}/{reference.Name}" }, Cond.InvalidKind, $"backend kind {kind} in group \"{group}\" is not supported; only Service is");
        }

        if (!References.Permitted(snapshot, routeGroup, routeKind, routeNamespace, "", "Service", ns, reference.Name))
        {
            return new(unresolved, Cond.RefNotPermitted, $"backend Service {ns}/{reference.Name} is in another namespace and no ReferenceGrant allows it");
        }

        var service = snapshot.GetService(ns, reference.Name);
        if (service is null)
        {
            return new(unresolved, Cond.BackendNotFound, $"Service {ns}/{reference.Name} not found");
        }

        if (port is null)
        {
            return new(unresolved, Cond.UnsupportedValue, $"backend Service {ns}/{reference.Name} needs a port");
        }

        var servicePort = service.Spec.Ports?.Find(sp => sp.Port == port);
        if (servicePort is null)
        {
            return new(unresolved, Cond.BackendNotFound, $"Service {ns}/{reference.Name} has no port {port}");
        }

        var endpoints = new SortedSet<(string Host, int Port)>(Comparer<(string Host, int Port)>.Create((a, b) => string.CompareOrdinal(a.Host, b.Host) is var c && c != 0 ? c : a.Port.CompareTo(b.Port)));
        if (service.Spec.Type == "ExternalName" && !string.IsNullOrEmpty(service.Spec.ExternalName))
        {
            endpoints.Add((service.Spec.ExternalName, port.Value));
        }
        else
        {
            foreach (var slice in snapshot.EndpointSlicesFor(ns, reference.Name))
            {
                // The slice port is the one named like the Service port (both may be unnamed).
                var slicePort = slice.Ports?.Find(sp => (sp.Name ?? "") == (servicePort.Name ?? ""));
                if (slicePort?.Port is not { } target)
                {
                    continue;
                }

                foreach (var endpoint in slice.Endpoints ?? [])
                {
                    if (endpoint.Addresses.Count > 0 && endpoint.IsServing())
                    {
                        endpoints.Add((endpoint.Addresses[0], target));
                    }
                }
            }
        }

        var resolved = unresolved with
        {
            Endpoints = endpoints.Select(e => new EndpointIr { Host = e.Host, Port = e.Port }).ToImmutableArray(),
            Protocol = ProtocolOf(servicePort.AppProtocol),
        };
        return new(resolved, null, null);
    }

    /// <summary>
    /// The protocol of a Service port's appProtocol (Gateway API GEP-1911). Only the Kubernetes-standard cleartext
    /// values change how the gateway talks to the backend; anything else is sent HTTP/1.1 as before.
    /// </summary>
    internal static BackendProtocol ProtocolOf(string? appProtocol) => appProtocol switch
    {
        "kubernetes.io/h2c" => BackendProtocol.H2c,
        "kubernetes.io/ws" => BackendProtocol.WebSocket,
        _ => BackendProtocol.Http1,
    };
}

using Switchyard.Api.Meta;

namespace Switchyard.Api.Core;

/// <summary>A core/v1 Service.</summary>
public sealed class Service : KubernetesObject
{
    /// <summary>Desired state.</summary>
    public ServiceSpec Spec { get; set; } = new();

    /// <summary>Observed state.</summary>
    public ServiceStatus? Status { get; set; }
}

/// <summary>Service spec.</summary>
public sealed class ServiceSpec
{
    /// <summary>ClusterIP, NodePort, LoadBalancer or ExternalName.</summary>
    public string? Type { get; set; }

    /// <summary>Ports.</summary>
    public List<ServicePort>? Ports { get; set; }

    /// <summary>Pod selector; absent for Services whose EndpointSlices are managed by hand.</summary>
    public Dictionary<string, string>? Selector { get; set; }

    /// <summary>Cluster IP, or <c>None</c> for headless Services.</summary>
    public string? ClusterIP { get; set; }

    /// <summary>Cluster IPs (dual stack).</summary>
    public List<string>? ClusterIPs { get; set; }

    /// <summary>DNS name for ExternalName Services.</summary>
    public string? ExternalName { get; set; }

    /// <summary>External IPs.</summary>
    public List<string>? ExternalIPs { get; set; }

    /// <summary>Cluster or Local.</summary>
    public string? ExternalTrafficPolicy { get; set; }

    /// <summary>Cluster or Local.</summary>
    public string? InternalTrafficPolicy { get; set; }

    /// <summary>IP families.</summary>
    public List<string>? IpFamilies { get; set; }

    /// <summary>SingleStack, PreferDualStack or RequireDualStack.</summary>
    public string? IpFamilyPolicy { get; set; }

    /// <summary>Requested load balancer IP (deprecated).</summary>
    public string? LoadBalancerIP { get; set; }

    /// <summary>Load balancer class.</summary>
    public string? LoadBalancerClass { get; set; }

    /// <summary>Allowed client ranges.</summary>
    public List<string>? LoadBalancerSourceRanges { get; set; }

    /// <summary>Whether node ports are allocated for LoadBalancer Services.</summary>
    public bool? AllocateLoadBalancerNodePorts { get; set; }

    /// <summary>Health check node port.</summary>
    public int? HealthCheckNodePort { get; set; }

    /// <summary>Whether not-ready endpoints are published.</summary>
    public bool? PublishNotReadyAddresses { get; set; }

    /// <summary>None or ClientIP.</summary>
    public string? SessionAffinity { get; set; }

    /// <summary>Session affinity settings; kept opaque.</summary>
    public System.Text.Json.JsonElement? SessionAffinityConfig { get; set; }

    /// <summary>Traffic distribution preference.</summary>
    public string? TrafficDistribution { get; set; }
}

/// <summary>A Service port.</summary>
public sealed class ServicePort
{
    /// <summary>Port name; required when there are several ports.</summary>
    public string? Name { get; set; }

    /// <summary>TCP, UDP or SCTP; defaults to TCP.</summary>
    public string? Protocol { get; set; }

    /// <summary>Application protocol hint.</summary>
    public string? AppProtocol { get; set; }

    /// <summary>Service port.</summary>
    public int Port { get; set; }

    /// <summary>Target port on the pods (number or name).</summary>
    public IntOrString? TargetPort { get; set; }

    /// <summary>Node port.</summary>
    public int? NodePort { get; set; }
}

/// <summary>Service status.</summary>
public sealed class ServiceStatus
{
    /// <summary>Load balancer status.</summary>
    public LoadBalancerStatus? LoadBalancer { get; set; }

    /// <summary>Conditions.</summary>
    public List<Condition>? Conditions { get; set; }
}

/// <summary>Load balancer status.</summary>
public sealed class LoadBalancerStatus
{
    /// <summary>Ingress points.</summary>
    public List<LoadBalancerIngress>? Ingress { get; set; }
}

/// <summary>A load balancer ingress point.</summary>
public sealed class LoadBalancerIngress
{
    /// <summary>IP address.</summary>
    public string? Ip { get; set; }

    /// <summary>Hostname.</summary>
    public string? Hostname { get; set; }

    /// <summary>VIP or Proxy.</summary>
    public string? IpMode { get; set; }

    /// <summary>Port status; kept opaque.</summary>
    public List<System.Text.Json.JsonElement>? Ports { get; set; }
}

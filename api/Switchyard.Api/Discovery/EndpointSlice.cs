using Switchyard.Api.Meta;

namespace Switchyard.Api.Discovery;

/// <summary>A discovery.k8s.io/v1 EndpointSlice.</summary>
public sealed class EndpointSlice : KubernetesObject
{
    /// <summary>The label that names the owning Service.</summary>
    public const string ServiceNameLabel = "kubernetes.io/service-name";

    /// <summary>IPv4, IPv6 or FQDN.</summary>
    public string AddressType { get; set; } = "";

    /// <summary>Endpoints.</summary>
    public List<Endpoint>? Endpoints { get; set; }

    /// <summary>Ports served by every endpoint.</summary>
    public List<EndpointPort>? Ports { get; set; }
}

/// <summary>One endpoint.</summary>
public sealed class Endpoint
{
    /// <summary>Addresses; the first one is used.</summary>
    public List<string> Addresses { get; set; } = [];

    /// <summary>Readiness.</summary>
    public EndpointConditions? Conditions { get; set; }

    /// <summary>Hostname.</summary>
    public string? Hostname { get; set; }

    /// <summary>Node name.</summary>
    public string? NodeName { get; set; }

    /// <summary>Zone.</summary>
    public string? Zone { get; set; }

    /// <summary>Object backing the endpoint; kept opaque.</summary>
    public System.Text.Json.JsonElement? TargetRef { get; set; }

    /// <summary>Topology hints; kept opaque.</summary>
    public System.Text.Json.JsonElement? Hints { get; set; }

    /// <summary>
    /// Whether the endpoint may receive new traffic: <c>serving</c> (nil means <c>ready</c>, whose nil means true),
    /// and not terminating.
    /// </summary>
    public bool IsServing()
    {
        var ready = Conditions?.Ready ?? true;
        var serving = Conditions?.Serving ?? ready;
        var terminating = Conditions?.Terminating ?? false;
        return serving && !terminating;
    }
}

/// <summary>Endpoint conditions.</summary>
public sealed class EndpointConditions
{
    /// <summary>Ready; nil means ready.</summary>
    public bool? Ready { get; set; }

    /// <summary>Serving; nil means use ready.</summary>
    public bool? Serving { get; set; }

    /// <summary>Terminating; nil means not terminating.</summary>
    public bool? Terminating { get; set; }
}

/// <summary>A port of an EndpointSlice.</summary>
public sealed class EndpointPort
{
    /// <summary>Name, matching the Service port name.</summary>
    public string? Name { get; set; }

    /// <summary>Port number.</summary>
    public int? Port { get; set; }

    /// <summary>Protocol; defaults to TCP.</summary>
    public string? Protocol { get; set; }

    /// <summary>Application protocol.</summary>
    public string? AppProtocol { get; set; }
}

using Switchyard.Api.Meta;

namespace Switchyard.Api.GatewayApi;

/// <summary>A class of Gateways implemented by one controller (gateway.networking.k8s.io/v1 GatewayClass).</summary>
public sealed class GatewayClass : KubernetesObject
{
    /// <summary>Desired state.</summary>
    public GatewayClassSpec Spec { get; set; } = new();

    /// <summary>Observed state.</summary>
    public GatewayClassStatus? Status { get; set; }
}

/// <summary>GatewayClass spec.</summary>
public sealed class GatewayClassSpec
{
    /// <summary>Name of the controller that manages Gateways of this class.</summary>
    public string ControllerName { get; set; } = "";

    /// <summary>Optional controller-specific configuration.</summary>
    public ParametersReference? ParametersRef { get; set; }

    /// <summary>Free-form description.</summary>
    public string? Description { get; set; }
}

/// <summary>GatewayClass status.</summary>
public sealed class GatewayClassStatus
{
    /// <summary>Accepted and SupportedVersion conditions.</summary>
    public List<Condition> Conditions { get; set; } = [];

    /// <summary>Features this class supports, sorted by name.</summary>
    public List<SupportedFeature>? SupportedFeatures { get; set; }
}

/// <summary>A named supported feature.</summary>
public sealed class SupportedFeature
{
    /// <summary>Feature name, for example <c>HTTPRoute</c>.</summary>
    public string Name { get; set; } = "";
}

using Switchyard.Api.Meta;

namespace Switchyard.Api.GatewayApi;

/// <summary>Permits references from other namespaces into this one (gateway.networking.k8s.io/v1beta1 ReferenceGrant).</summary>
public sealed class ReferenceGrant : KubernetesObject
{
    /// <summary>Desired state.</summary>
    public ReferenceGrantSpec Spec { get; set; } = new();
}

/// <summary>ReferenceGrant spec.</summary>
public sealed class ReferenceGrantSpec
{
    /// <summary>Who may refer.</summary>
    public List<ReferenceGrantFrom> From { get; set; } = [];

    /// <summary>What may be referred to.</summary>
    public List<ReferenceGrantTo> To { get; set; } = [];
}

/// <summary>A trusted source.</summary>
public sealed class ReferenceGrantFrom
{
    /// <summary>Group of the referring kind.</summary>
    public string Group { get; set; } = "";

    /// <summary>Referring kind.</summary>
    public string Kind { get; set; } = "";

    /// <summary>Namespace of the referring objects.</summary>
    public string Namespace { get; set; } = "";
}

/// <summary>A permitted target.</summary>
public sealed class ReferenceGrantTo
{
    /// <summary>Group of the target.</summary>
    public string Group { get; set; } = "";

    /// <summary>Kind of the target.</summary>
    public string Kind { get; set; } = "";

    /// <summary>Name of the target; empty means every object of the kind.</summary>
    public string? Name { get; set; }
}

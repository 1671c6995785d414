using Switchyard.Api.Meta;

namespace Switchyard.Api.Core;

/// <summary>A core/v1 Namespace; Switchyard reads its labels for allowedRoutes selectors.</summary>
public sealed class Namespace : KubernetesObject
{
    /// <summary>Spec.</summary>
    public NamespaceSpec? Spec { get; set; }

    /// <summary>Status.</summary>
    public NamespaceStatus? Status { get; set; }
}

/// <summary>Namespace spec.</summary>
public sealed class NamespaceSpec
{
    /// <summary>Finalizers.</summary>
    public List<string>? Finalizers { get; set; }
}

/// <summary>Namespace status.</summary>
public sealed class NamespaceStatus
{
    /// <summary>Active or Terminating.</summary>
    public string? Phase { get; set; }

    /// <summary>Conditions; kept opaque.</summary>
    public List<System.Text.Json.JsonElement>? Conditions { get; set; }
}

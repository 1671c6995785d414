using System.Text.Json.Serialization;
using Switchyard.Api.Meta;

namespace Switchyard.Api.Coordination;

/// <summary>A coordination.k8s.io/v1 Lease used for leader election.</summary>
public sealed class Lease : KubernetesObject
{
    /// <summary>Spec.</summary>
    public LeaseSpec Spec { get; set; } = new();
}

/// <summary>Lease spec.</summary>
public sealed class LeaseSpec
{
    /// <summary>Current holder.</summary>
    public string? HolderIdentity { get; set; }

    /// <summary>Lease duration in seconds.</summary>
    public int? LeaseDurationSeconds { get; set; }

    /// <summary>When the current holder acquired the lease (MicroTime).</summary>
    [JsonConverter(typeof(KubeTimeConverter))]
    public DateTimeOffset? AcquireTime { get; set; }

    /// <summary>When the holder last renewed (MicroTime).</summary>
    [JsonConverter(typeof(KubeTimeConverter))]
    public DateTimeOffset? RenewTime { get; set; }

    /// <summary>Number of holder changes.</summary>
    public int? LeaseTransitions { get; set; }

    /// <summary>Coordinated leader election strategy.</summary>
    public string? Strategy { get; set; }

    /// <summary>Preferred holder.</summary>
    public string? PreferredHolder { get; set; }
}

using System.Collections.Immutable;
using Switchyard.Api.GatewayApi;
using Switchyard.Ir;

namespace Switchyard.Controller.Translation;

/// <summary>Settings of a translation.</summary>
public sealed record TranslatorOptions
{
    /// <summary>The default controller name.</summary>
    public const string DefaultControllerName = "switchyard.dev/gateway-controller";

    /// <summary>GatewayClasses whose <c>controllerName</c> equals this are ours.</summary>
    public string ControllerName { get; init; } = DefaultControllerName;

    /// <summary>
    /// When true (standalone mode), an HTTPS listener without <c>certificateRefs</c> is valid and the data plane
    /// supplies its own certificate (<see cref="TlsIr.SuppliedByDataPlane"/>); otherwise such a listener has an
    /// invalid certificate reference.
    /// </summary>
    public bool DataPlaneSuppliesMissingCertificates { get; init; }

    /// <summary>
    /// The address ranges the load balancer in front of the data plane can assign (for example MetalLB's
    /// IPAddressPools). A static Gateway address outside them is reported AddressNotUsable at once. Empty means the
    /// ranges are unknown: every address is asked of the load balancer, and one it does not assign is reported
    /// AddressNotAssigned.
    /// </summary>
    public ImmutableArray<System.Net.IPNetwork> AddressPools { get; init; } = [];
}

/// <summary>A computed status for one object.</summary>
/// <typeparam name="TStatus">Status type.</typeparam>
/// <param name="Namespace">Namespace, or null for cluster-scoped objects.</param>
/// <param name="Name">Name.</param>
/// <param name="Generation">The <c>metadata.generation</c> the status was computed from.</param>
/// <param name="Status">The status, with <c>lastTransitionTime</c> left for the status writer.</param>
public sealed record ObjectStatus<TStatus>(string? Namespace, string Name, long? Generation, TStatus Status);

/// <summary>
/// The statuses a translation computed. Route statuses hold only this controller's <c>parents</c> entries
/// (possibly none, which clears stale entries); the status writer merges them with other controllers' entries.
/// </summary>
public sealed record TranslationStatuses
{
    /// <summary>GatewayClasses of this controller.</summary>
    public ImmutableArray<ObjectStatus<GatewayClassStatus>> GatewayClasses { get; init; } = [];

    /// <summary>Gateways of this controller's classes.</summary>
    public ImmutableArray<ObjectStatus<GatewayStatus>> Gateways { get; init; } = [];

    /// <summary>HTTPRoutes that refer to, or were attached to, this controller's Gateways.</summary>
    public ImmutableArray<ObjectStatus<RouteStatus>> HttpRoutes { get; init; } = [];

    /// <summary>WebTransportRoutes that refer to, or were attached to, this controller's Gateways.</summary>
    public ImmutableArray<ObjectStatus<RouteStatus>> WebTransportRoutes { get; init; } = [];

    /// <summary>ListenerSets whose parent is one of this controller's Gateways.</summary>
    public ImmutableArray<ObjectStatus<ListenerSetStatus>> ListenerSets { get; init; } = [];

    /// <summary>
    /// BackendTLSPolicies with an ancestor (a Gateway) of this controller, or that had one: only this controller's
    /// <c>ancestors</c> entries, merged by the status writer with other controllers' entries.
    /// </summary>
    public ImmutableArray<ObjectStatus<PolicyStatus>> BackendTlsPolicies { get; init; } = [];
}

/// <summary>What a translation produces.</summary>
public sealed record TranslationResult
{
    /// <summary>Statuses to write.</summary>
    public required TranslationStatuses Statuses { get; init; }

    /// <summary>One valid snapshot per programmed Gateway, sorted by name.</summary>
    public ImmutableArray<GatewaySnapshot> Snapshots { get; init; } = [];

    /// <summary>The Service each accepted Gateway needs, sorted by namespace and name (for the provisioner).</summary>
    public ImmutableArray<GatewayInfrastructureIntent> Infrastructure { get; init; } = [];
}

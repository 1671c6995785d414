using Switchyard.Api.Meta;

namespace Switchyard.Api.GatewayApi;

/// <summary>
/// Extra listeners for a Gateway, owned by another team or namespace (gateway.networking.k8s.io/v1 ListenerSet,
/// standard channel since v1.6). The parent Gateway decides through <c>spec.allowedListeners</c> whether they attach.
/// </summary>
public sealed class ListenerSet : KubernetesObject
{
    /// <summary>Desired state.</summary>
    public ListenerSetSpec Spec { get; set; } = new();

    /// <summary>Observed state.</summary>
    public ListenerSetStatus? Status { get; set; }
}

/// <summary>ListenerSet spec.</summary>
public sealed class ListenerSetSpec
{
    /// <summary>The Gateway the listeners attach to.</summary>
    public ParentGatewayReference ParentRef { get; set; } = new();

    /// <summary>Listeners (ListenerEntry: the same fields as a Gateway listener).</summary>
    public List<Listener> Listeners { get; set; } = [];
}

/// <summary>A reference from a ListenerSet to its Gateway (ParentGatewayReference).</summary>
public sealed class ParentGatewayReference
{
    /// <summary>Group; defaults to <c>gateway.networking.k8s.io</c>.</summary>
    public string? Group { get; set; }

    /// <summary>Kind; defaults to <c>Gateway</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>Name of the Gateway.</summary>
    public string Name { get; set; } = "";

    /// <summary>Namespace of the Gateway; defaults to the ListenerSet's namespace.</summary>
    public string? Namespace { get; set; }
}

/// <summary>ListenerSet status.</summary>
public sealed class ListenerSetStatus
{
    /// <summary>Accepted and Programmed conditions.</summary>
    public List<Condition> Conditions { get; set; } = [];

    /// <summary>Per-listener status (ListenerEntryStatus: the same fields as a Gateway's).</summary>
    public List<ListenerStatus>? Listeners { get; set; }
}

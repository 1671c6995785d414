using Switchyard.Api.Meta;

namespace Switchyard.Api.GatewayApi;

/// <summary>Well-known Gateway API names.</summary>
public static class GatewayApiNames
{
    /// <summary>The Gateway API group.</summary>
    public const string Group = "gateway.networking.k8s.io";

    /// <summary>The v1 API version string.</summary>
    public const string V1 = Group + "/v1";

    /// <summary>The v1beta1 API version string (ReferenceGrant).</summary>
    public const string V1Beta1 = Group + "/v1beta1";

    /// <summary>Bundle version this implementation follows.</summary>
    public const string BundleVersion = "v1.6.1";
}

/// <summary>A reference from a route to its parent, normally a Gateway (ParentReference).</summary>
public sealed class ParentReference
{
    /// <summary>Group of the parent; defaults to <c>gateway.networking.k8s.io</c>.</summary>
    public string? Group { get; set; }

    /// <summary>Kind of the parent; defaults to <c>Gateway</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>Namespace of the parent; defaults to the route's namespace.</summary>
    public string? Namespace { get; set; }

    /// <summary>Name of the parent.</summary>
    public string Name { get; set; } = "";

    /// <summary>Name of a listener within the parent.</summary>
    public string? SectionName { get; set; }

    /// <summary>Port of the listeners to attach to.</summary>
    public int? Port { get; set; }
}

/// <summary>A reference to a backend object (BackendObjectReference).</summary>
public class BackendObjectReference
{
    /// <summary>Group of the backend; empty means the core group.</summary>
    public string? Group { get; set; }

    /// <summary>Kind of the backend; defaults to <c>Service</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>Name of the backend.</summary>
    public string Name { get; set; } = "";

    /// <summary>Namespace of the backend; defaults to the route's namespace.</summary>
    public string? Namespace { get; set; }

    /// <summary>Destination port; required for Service backends.</summary>
    public int? Port { get; set; }
}

/// <summary>A weighted backend reference (BackendRef).</summary>
public class BackendRef : BackendObjectReference
{
    /// <summary>Proportion of requests sent to this backend; defaults to 1.</summary>
    public int? Weight { get; set; }
}

/// <summary>A reference to a Secret holding certificate material (SecretObjectReference).</summary>
public sealed class SecretObjectReference
{
    /// <summary>Group; empty means core.</summary>
    public string? Group { get; set; }

    /// <summary>Kind; defaults to <c>Secret</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>Name of the referent.</summary>
    public string Name { get; set; } = "";

    /// <summary>Namespace of the referent; defaults to the Gateway's namespace.</summary>
    public string? Namespace { get; set; }
}

/// <summary>A typed reference to a namespaced or cluster object (ParametersReference and friends).</summary>
public sealed class ParametersReference
{
    /// <summary>Group of the referent.</summary>
    public string Group { get; set; } = "";

    /// <summary>Kind of the referent.</summary>
    public string Kind { get; set; } = "";

    /// <summary>Name of the referent.</summary>
    public string Name { get; set; } = "";

    /// <summary>Namespace of the referent, when namespaced.</summary>
    public string? Namespace { get; set; }
}

/// <summary>Status of a route with respect to one parent (RouteParentStatus).</summary>
public sealed class RouteParentStatus
{
    /// <summary>The parent reference this status is for, as written in the spec.</summary>
    public ParentReference ParentRef { get; set; } = new();

    /// <summary>Controller that wrote this entry.</summary>
    public string ControllerName { get; set; } = "";

    /// <summary>Accepted, ResolvedRefs and PartiallyInvalid conditions.</summary>
    public List<Condition> Conditions { get; set; } = [];
}

/// <summary>Status shared by route kinds (RouteStatus).</summary>
public sealed class RouteStatus
{
    /// <summary>One entry per parent handled by a controller.</summary>
    public List<RouteParentStatus> Parents { get; set; } = [];
}

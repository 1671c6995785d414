using Switchyard.Api.Meta;

namespace Switchyard.Api.GatewayApi;

/// <summary>
/// How a Gateway connects to a backend over TLS: the server name to send and the certificates to trust
/// (gateway.networking.k8s.io/v1 BackendTLSPolicy, GEP-1897).
/// </summary>
public sealed class BackendTlsPolicy : KubernetesObject
{
    /// <summary>Desired state.</summary>
    public BackendTlsPolicySpec Spec { get; set; } = new();

    /// <summary>Observed state, one entry per ancestor (Gateway) and controller.</summary>
    public PolicyStatus? Status { get; set; }
}

/// <summary>BackendTLSPolicy spec.</summary>
public sealed class BackendTlsPolicySpec
{
    /// <summary>The Services (optionally one named port each) the policy applies to.</summary>
    public List<LocalPolicyTargetReferenceWithSectionName> TargetRefs { get; set; } = [];

    /// <summary>How the backend's certificate is validated.</summary>
    public BackendTlsPolicyValidation Validation { get; set; } = new();

    /// <summary>Implementation-specific TLS options.</summary>
    public Dictionary<string, string>? Options { get; set; }
}

/// <summary>A same-namespace target of a policy, optionally narrowed to a section (a Service port name).</summary>
public sealed class LocalPolicyTargetReferenceWithSectionName
{
    /// <summary>Group of the target; empty means core.</summary>
    public string Group { get; set; } = "";

    /// <summary>Kind of the target, for example <c>Service</c>.</summary>
    public string Kind { get; set; } = "";

    /// <summary>Name of the target.</summary>
    public string Name { get; set; } = "";

    /// <summary>Section of the target (the Service port name); null means the whole target.</summary>
    public string? SectionName { get; set; }
}

/// <summary>Backend certificate validation settings.</summary>
public sealed class BackendTlsPolicyValidation
{
    /// <summary>ConfigMaps (or other kinds) holding PEM CA certificates to trust.</summary>
    public List<LocalObjectReference>? CaCertificateRefs { get; set; }

    /// <summary><c>System</c> to trust the platform's CA bundle instead of <see cref="CaCertificateRefs"/>.</summary>
    public string? WellKnownCACertificates { get; set; }

    /// <summary>The server name sent as SNI and, without <see cref="SubjectAltNames"/>, matched against the certificate.</summary>
    public string Hostname { get; set; } = "";

    /// <summary>Names one of which the backend certificate must carry; when set, they replace the hostname check.</summary>
    public List<SubjectAltName>? SubjectAltNames { get; set; }
}

/// <summary>A same-namespace object reference by group, kind and name.</summary>
public sealed class LocalObjectReference
{
    /// <summary>Group; empty means core.</summary>
    public string Group { get; set; } = "";

    /// <summary>Kind, for example <c>ConfigMap</c>.</summary>
    public string Kind { get; set; } = "";

    /// <summary>Name.</summary>
    public string Name { get; set; } = "";
}

/// <summary>A subject alternative name a backend certificate may carry.</summary>
public sealed class SubjectAltName
{
    /// <summary><c>Hostname</c> or <c>URI</c>.</summary>
    public string Type { get; set; } = "";

    /// <summary>The DNS name, for type Hostname.</summary>
    public string? Hostname { get; set; }

    /// <summary>The URI (for example a SPIFFE id), for type URI.</summary>
    public string? Uri { get; set; }
}

/// <summary>Status of a policy (PolicyStatus).</summary>
public sealed class PolicyStatus
{
    /// <summary>One entry per ancestor the policy affects, per controller.</summary>
    public List<PolicyAncestorStatus> Ancestors { get; set; } = [];
}

/// <summary>Status of a policy with respect to one ancestor (PolicyAncestorStatus).</summary>
public sealed class PolicyAncestorStatus
{
    /// <summary>The ancestor, normally a Gateway.</summary>
    public ParentReference AncestorRef { get; set; } = new();

    /// <summary>Controller that wrote this entry.</summary>
    public string ControllerName { get; set; } = "";

    /// <summary>Accepted and ResolvedRefs conditions.</summary>
    public List<Condition> Conditions { get; set; } = [];
}

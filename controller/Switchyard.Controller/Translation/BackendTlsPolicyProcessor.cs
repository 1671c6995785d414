using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Switchyard.Api.Core;
using Switchyard.Api.GatewayApi;
using Switchyard.Controller.Providers;
using Switchyard.Ir;

namespace Switchyard.Controller.Translation;

/// <summary>A Service port a backendRef reaches: the unit a BackendTLSPolicy applies to.</summary>
/// <param name="Namespace">The Service's namespace.</param>
/// <param name="Service">The Service's name.</param>
/// <param name="PortName">The Service port's name (null when unnamed), matched against a target's <c>sectionName</c>.</param>
internal readonly record struct PolicyTarget(string Namespace, string Service, string? PortName);

/// <summary>What the translation learns about one BackendTLSPolicy.</summary>
internal sealed class PolicyState
{
    public PolicyState(BackendTlsPolicy policy)
    {
        Policy = policy;
        Conditions = new ConditionSet(policy.Metadata.Generation);
    }

    public BackendTlsPolicy Policy { get; }

    public string Namespace => Policy.Metadata.Namespace ?? "";

    public string Name => Policy.Metadata.Name ?? "";

    public ConditionSet Conditions { get; }

    /// <summary>The TLS settings, or null when the policy has no usable CA (backends it covers are refused).</summary>
    public BackendTlsIr? Tls { get; set; }

    /// <summary>Gateways whose routes reach a Service port the policy targets, in namespace/name order.</summary>
    public SortedDictionary<string, GatewayState> Ancestors { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The BackendTLSPolicies in force, by target. A policy naming a Service port (<c>sectionName</c>) takes precedence
/// over one naming the whole Service; among policies naming the same target the oldest wins (GEP-713).
/// </summary>
internal sealed class BackendTlsPolicies
{
    private readonly Dictionary<(string Namespace, string Service, string? Section), PolicyState> winners;
    private readonly List<((string Namespace, string Service, string? Section) Target, PolicyState Policy)> all;

    public BackendTlsPolicies(Dictionary<(string, string, string?), PolicyState> winners, List<((string, string, string?), PolicyState)> all, List<PolicyState> policies)
    {
        this.winners = winners;
        this.all = all;
        Policies = policies;
    }

    public static BackendTlsPolicies Empty { get; } = new([], [], []);

    /// <summary>Every policy, in namespace/name order.</summary>
    public IReadOnlyList<PolicyState> Policies { get; }

    /// <summary>The Service port a backendRef names, when it is a Service port that exists.</summary>
    public static PolicyTarget? TargetOf(ResourceSnapshot snapshot, string routeNamespace, BackendObjectReference reference)
    {
        if ((reference.Group ?? "").Length != 0 || (reference.Kind ?? "Service") != "Service" || reference.Port is not { } port)
        {
            return null;
        }

        var ns = string.IsNullOrEmpty(reference.Namespace) ? routeNamespace : reference.Namespace;
        var servicePort = snapshot.GetService(ns, reference.Name)?.Spec.Ports?.Find(p => p.Port == port);
        return servicePort is null ? null : new PolicyTarget(ns, reference.Name, string.IsNullOrEmpty(servicePort.Name) ? null : servicePort.Name);
    }

    /// <summary>The policy in force for a Service port: the one naming the port, else the one naming the Service.</summary>
    public PolicyState? For(PolicyTarget target)
    {
        if (target.PortName is { } section && winners.TryGetValue((target.Namespace, target.Service, section), out var specific))
        {
            return specific;
        }

        return winners.GetValueOrDefault((target.Namespace, target.Service, null));
    }

    /// <summary>
    /// Records that <paramref name="gateway"/>'s routes reach <paramref name="target"/>: the Gateway becomes an ancestor
    /// of every policy naming that port or the whole Service, conflicted ones included (they report to it).
    /// </summary>
    public void Reached(PolicyTarget target, GatewayState gateway)
    {
        foreach (var (t, policy) in all)
        {
            if (t.Namespace == target.Namespace && t.Service == target.Service && (t.Section is null || t.Section == target.PortName))
            {
                policy.Ancestors[$"{gateway.Namespace}/{gateway.Name}"] = gateway;
            }
        }
    }
}

/// <summary>
/// Validates every BackendTLSPolicy (CA references, well-known CAs, names), resolves conflicts between policies
/// naming the same target, and publishes the policies in force as <see cref="TranslationContext.Policies"/>.
/// Routes apply them to their backends; <see cref="BackendTlsPolicyStatusProcessor"/> writes the statuses.
/// </summary>
/// <remarks>
/// Steps: 1. Per policy, in namespace/name order: resolve the CA certificates, build the TLS settings.
/// 2. Per target, oldest policy first (creationTimestamp, then namespace/name): the first wins, the rest are Conflicted.
/// </remarks>
internal sealed class BackendTlsPolicyProcessor : ITranslationProcessor
{
    public void Run(TranslationContext context)
    {
        // :: Step 1
        var policies = context.Snapshot.BackendTlsPolicies.Select(p => Validate(context.Snapshot, p)).ToList();

        // :: Step 2
        var winners = new Dictionary<(string, string, string?), PolicyState>();
        var all = new List<((string, string, string?), PolicyState)>();
        var byAge = policies
            .OrderBy(p => p.Policy.Metadata.CreationTimestamp ?? DateTimeOffset.MinValue)
            .ThenBy(p => p.Namespace, StringComparer.Ordinal)
            .ThenBy(p => p.Name, StringComparer.Ordinal);
        foreach (var policy in byAge)
        {
            var lost = false;
            var targets = new List<(string, string, string?)>();
            foreach (var target in policy.Policy.Spec.TargetRefs)
            {
                if (target.Group.Length != 0 || target.Kind != "Service")
                {
                    // Only Services are backends here; other targets are not ours to judge.
                    continue;
                }

                var key = (policy.Namespace, target.Name, string.IsNullOrEmpty(target.SectionName) ? null : target.SectionName);
                all.Add((key, policy));
                if (winners.TryGetValue(key, out var older) && !ReferenceEquals(older, policy))
                {
                    lost = true;
                    policy.Conditions.Set(Cond.Accepted, false, Cond.Conflicted, $"BackendTLSPolicy {older.Namespace}/{older.Name} is older and targets the same Service{(key.Item3 is { } s ? " port " + s : "")}");
                }
                else
                {
                    targets.Add(key);
                }
            }

            // A policy that lost one target is not in force anywhere: half a policy would surprise its author.
            if (!lost)
            {
                foreach (var key in targets)
                {
                    winners[key] = policy;
                }
            }
        }

        context.Policies = new BackendTlsPolicies(winners, all, policies);
    }

    private static PolicyState Validate(ResourceSnapshot snapshot, BackendTlsPolicy policy)
    {
        var state = new PolicyState(policy);
        var validation = policy.Spec.Validation;
        var refs = validation.CaCertificateRefs ?? [];
        var wellKnown = validation.WellKnownCACertificates;
        if (refs.Count > 0 && !string.IsNullOrEmpty(wellKnown))
        {
            state.Conditions.Set(Cond.Accepted, false, Cond.Invalid, "caCertificateRefs and wellKnownCACertificates are mutually exclusive");
            return state;
        }

        var pem = new List<byte>();
        foreach (var reference in refs)
        {
            if (reference.Group.Length != 0 || reference.Kind != "ConfigMap")
            {
                state.Conditions.Set(Cond.ResolvedRefs, false, Cond.InvalidKind, $"caCertificateRef kind {reference.Kind} in group \"{reference.Group}\" is not supported; only ConfigMap is");
                continue;
            }

            var configMap = snapshot.GetConfigMap(state.Namespace, reference.Name);
            if (configMap is null)
            {
                state.Conditions.Set(Cond.ResolvedRefs, false, Cond.InvalidCACertificateRef, $"ConfigMap {state.Namespace}/{reference.Name} not found");
                continue;
            }

            if (CaBundles.Read(configMap) is not { } bundle)
            {
                state.Conditions.Set(Cond.ResolvedRefs, false, Cond.InvalidCACertificateRef, $"ConfigMap {state.Namespace}/{reference.Name} has no PEM certificate in {ConfigMapKeys.CaCertificate}");
                continue;
            }

            pem.AddRange(bundle);
        }

        var system = false;
        if (!string.IsNullOrEmpty(wellKnown))
        {
            if (wellKnown != "System")
            {
                state.Conditions.Set(Cond.Accepted, false, Cond.Invalid, $"wellKnownCACertificates {wellKnown} is not supported; only System is");
                return state;
            }

            system = true;
        }
        else if (pem.Count == 0)
        {
            // GEP-1897: without a single usable CA the policy cannot be applied, and its backends must not be reached in the clear.
            state.Conditions.Set(Cond.Accepted, false, Cond.NoValidCACertificate, "no caCertificateRef resolves to a valid CA certificate");
            return state;
        }

        state.Tls = new BackendTlsIr
        {
            Name = $"backendtlspolicy/{state.Namespace}/{state.Name}",
            Hostname = validation.Hostname,
            SystemTrust = system,
            CaCertificatesPem = [.. pem],
            SubjectAltNames = [.. (validation.SubjectAltNames ?? []).Select(n => n.Type == "URI"
                ? new SubjectAltNameIr(SubjectAltNameType.Uri, n.Uri ?? "")
                : new SubjectAltNameIr(SubjectAltNameType.Hostname, n.Hostname ?? ""))],
        };
        return state;
    }
}

/// <summary>Writes each BackendTLSPolicy's status: one <c>ancestors</c> entry per Gateway of ours its targets are reached from.</summary>
internal sealed class BackendTlsPolicyStatusProcessor : ITranslationProcessor
{
    public void Run(TranslationContext context)
    {
        foreach (var policy in context.Policies.Policies)
        {
            var ours = policy.Policy.Status?.Ancestors?.Exists(a => a.ControllerName == context.Options.ControllerName) == true;
            if (policy.Ancestors.Count == 0 && !ours)
            {
                continue;
            }

            var conditions = policy.Conditions.Commit(
                (Cond.Accepted, true, Cond.Accepted, "policy is accepted"),
                (Cond.ResolvedRefs, true, Cond.ResolvedRefs, "all references are resolved"));
            var status = new PolicyStatus
            {
                Ancestors = [.. policy.Ancestors.Values.Select(g => new PolicyAncestorStatus
                {
                    AncestorRef = new ParentReference { Group = GatewayApiNames.Group, Kind = "Gateway", Namespace = g.Namespace, Name = g.Name },
                    ControllerName = context.Options.ControllerName,
                    Conditions = [.. conditions.Select(c => new Api.Meta.Condition
                    {
                        Type = c.Type,
                        Status = c.Status,
                        Reason = c.Reason,
                        Message = c.Message,
                        ObservedGeneration = c.ObservedGeneration,
                    })],
                })],
            };
            context.BackendTlsPolicyStatuses.Add(new(policy.Namespace, policy.Name, policy.Policy.Metadata.Generation, status));
        }
    }
}

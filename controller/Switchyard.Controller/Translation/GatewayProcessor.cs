using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Switchyard.Api.Core;
using Switchyard.Api.GatewayApi;
using Switchyard.Api.WebTransport;
using Switchyard.Ir;

namespace Switchyard.Controller.Translation;

/// <summary>
/// Validates the Gateways of accepted classes and their listeners: protocol, route kinds, conflicts and TLS
/// certificate references. Route attachment comes later; statuses are committed by <see cref="StatusProcessor"/>.
/// </summary>
/// <remarks>
/// Steps per Gateway: 1. Gateway-level checks (parameters, the backend client certificate). 2. Per listener:
/// protocol, allowed kinds, TLS (with the port's client certificate validation). 3. Conflicts between listeners
/// sharing a port.
/// </remarks>
internal sealed class GatewayProcessor : ITranslationProcessor
{
    internal static readonly RouteGroupKind HttpRouteKind = new() { Group = GatewayApiNames.Group, Kind = "HTTPRoute" };
    internal static readonly RouteGroupKind WebTransportRouteKind = new() { Group = SwitchyardApiNames.Group, Kind = SwitchyardApiNames.WebTransportRouteKind };

    public void Run(TranslationContext context)
    {
        foreach (var gateway in context.Snapshot.Gateways)
        {
            if (!context.Classes.ContainsKey(gateway.Spec.GatewayClassName))
            {
                continue;
            }

            var state = new GatewayState(gateway);
            context.Gateways.Add(state);

            // :: Step 1
            if (gateway.Spec.Infrastructure?.ParametersRef is { } p)
            {
                state.Accepted = false;
                state.Conditions.Set(Cond.Accepted, false, Cond.InvalidParameters, $"infrastructure.parametersRef {p.Group}/{p.Kind} {p.Name} is not supported");
                state.Conditions.Set(Cond.Programmed, false, Cond.Invalid, "Gateway is not accepted");
            }

            if (gateway.Spec.Tls?.Backend?.ClientCertificateRef is { } clientRef)
            {
                ResolveBackendClientCertificate(context, state, clientRef);
            }

            // :: Step 2
            foreach (var listener in state.Listeners)
            {
                ValidateListener(context, state, "Gateway", listener);
            }

            // The Gateway says when a port lets clients through without a valid certificate (GEP-91).
            if (FrontendValidation.AnyInsecureFallback(gateway))
            {
                state.Conditions.Set(Cond.InsecureFrontendValidationMode, true, Cond.ConfigurationChanged, "an HTTPS listener accepts clients whose certificate is missing or does not validate (AllowInsecureFallback)");
            }

            // :: Step 3
            MarkConflicts(state);
            if (state.Listeners.Count > 0 && state.Listeners.TrueForAll(l => !l.Usable))
            {
                state.Conditions.Set(Cond.Accepted, false, Cond.ListenersNotValid, "no listener is valid");
            }
        }
    }

    /// <summary>
    /// Validates one listener of a Gateway or of a ListenerSet (<paramref name="ownerKind"/>, for ReferenceGrants).
    /// <paramref name="gateway"/> is the Gateway that serves it (the ListenerSet's parent): its
    /// <c>spec.tls.frontend</c> governs every HTTPS listener on a port, whoever declared the listener.
    /// </summary>
    internal static void ValidateListener(TranslationContext context, GatewayState gateway, string ownerKind, ListenerState state)
    {
        var listener = state.Listener;
        var https = listener.Protocol == "HTTPS";
        if (listener.Protocol is not "HTTP" and not "HTTPS")
        {
            state.Usable = false;
            state.Conditions.Set(Cond.Accepted, false, Cond.UnsupportedProtocol, $"protocol {listener.Protocol} is not supported; use HTTP or HTTPS");
            state.Conditions.Set(Cond.Programmed, false, Cond.Invalid, "listener is not accepted");
            return;
        }

        // Route kinds: HTTP listeners take HTTPRoute; HTTPS listeners also take WebTransportRoute.
        var allowed = https ? new[] { HttpRouteKind, WebTransportRouteKind } : [HttpRouteKind];
        if (listener.AllowedRoutes?.Kinds is { Count: > 0 } kinds)
        {
            foreach (var kind in kinds)
            {
                var group = kind.Group ?? GatewayApiNames.Group;
                var match = Array.Find(allowed, a => a.Group == group && a.Kind == kind.Kind);
                if (match is null)
                {
                    state.Conditions.Set(Cond.ResolvedRefs, false, Cond.InvalidRouteKinds, $"route kind {group}/{kind.Kind} is not supported on {listener.Protocol} listeners");
                }
                else if (!state.SupportedKinds.Exists(k => k.Kind == match.Kind && k.Group == match.Group))
                {
                    state.SupportedKinds.Add(new RouteGroupKind { Group = match.Group, Kind = match.Kind });
                }
            }
        }
        else
        {
            state.SupportedKinds.AddRange(allowed.Select(a => new RouteGroupKind { Group = a.Group, Kind = a.Kind }));
        }

        if (https)
        {
            ValidateTls(context, gateway, ownerKind, state);
        }
        else if (listener.Tls is not null)
        {
            state.Usable = false;
            state.Conditions.Set(Cond.Accepted, false, Cond.UnsupportedValue, "HTTP listeners take no tls");
            state.Conditions.Set(Cond.Programmed, false, Cond.Invalid, "listener is not accepted");
        }
    }

    private static void ValidateTls(TranslationContext context, GatewayState gateway, string ownerKind, ListenerState state)
    {
        var tls = state.Listener.Tls;
        if (tls?.Mode is { } mode && mode != "Terminate")
        {
            state.Usable = false;
            state.Conditions.Set(Cond.Accepted, false, Cond.UnsupportedValue, $"TLS mode {mode} is not supported on HTTPS listeners; use Terminate");
            state.Conditions.Set(Cond.Programmed, false, Cond.Invalid, "listener is not accepted");
            return;
        }

        var refs = tls?.CertificateRefs ?? [];
        if (refs.Count == 0)
        {
            if (context.Options.DataPlaneSuppliesMissingCertificates)
            {
                Serve(new TlsIr { SuppliedByDataPlane = true });
                return;
            }

            state.Usable = false;
            state.Conditions.Set(Cond.ResolvedRefs, false, Cond.InvalidCertificateRef, "HTTPS listener has no certificateRefs");
            state.Conditions.Set(Cond.Programmed, false, Cond.Invalid, "listener has no usable certificate");
            return;
        }

        var certificates = ImmutableArray.CreateBuilder<CertificateIr>();
        foreach (var reference in refs)
        {
            if (ResolveCertificateRef(context, ownerKind, state.OwnerNamespace, reference, "certificateRef", Cond.InvalidCertificateRef, state.Conditions) is { } certificate)
            {
                certificates.Add(certificate);
            }
        }

        if (certificates.Count == 0)
        {
            state.Usable = false;
            state.Conditions.Set(Cond.Programmed, false, Cond.Invalid, "listener has no usable certificate");
            return;
        }

        Serve(new TlsIr { Certificates = certificates.ToImmutable() });

        // The port's client certificate validation (spec.tls.frontend) completes the listener's TLS.
        void Serve(TlsIr resolved)
        {
            if (!FrontendValidation.TryResolve(context, gateway, state, out var clientValidation))
            {
                state.Usable = false;
                return;
            }

            state.Tls = resolved with { ClientValidation = clientValidation };
        }
    }

    /// <summary>
    /// Resolves <c>spec.tls.backend.clientCertificateRef</c> into the Gateway-level ResolvedRefs condition. An invalid
    /// reference leaves the Gateway accepted (GEP-3155): backends are then reached without a client certificate.
    /// </summary>
    private static void ResolveBackendClientCertificate(TranslationContext context, GatewayState gateway, SecretObjectReference reference)
    {
        if (ResolveCertificateRef(context, "Gateway", gateway.Namespace, reference, "tls.backend.clientCertificateRef", Cond.InvalidClientCertificateRef, gateway.Conditions) is { } certificate)
        {
            gateway.BackendClientCertificate = certificate;
            gateway.Conditions.Set(Cond.ResolvedRefs, true, Cond.ResolvedRefs, "all references are resolved");
        }
    }

    /// <summary>
    /// Resolves a reference to a TLS Secret (a listener's certificateRef, the Gateway's backend client certificate):
    /// kind Secret only, a ReferenceGrant across namespaces, and a parsable certificate and key. A reference that does
    /// not resolve sets ResolvedRefs False on <paramref name="conditions"/> with <paramref name="invalidReason"/> (or
    /// RefNotPermitted) and gives null.
    /// </summary>
    private static CertificateIr? ResolveCertificateRef(
        TranslationContext context, string ownerKind, string ownerNamespace, SecretObjectReference reference, string field, string invalidReason, ConditionSet conditions)
    {
        var group = reference.Group ?? "";
        var kind = reference.Kind ?? "Secret";
        var ns = string.IsNullOrEmpty(reference.Namespace) ? ownerNamespace : reference.Namespace;
        if (group.Length != 0 || kind != "Secret")
        {
            conditions.Set(Cond.ResolvedRefs, false, invalidReason, $"{field} kind {kind} in group \"{group}\" is not supported; only Secret is");
            return null;
        }

        if (!References.Permitted(context.Snapshot, GatewayApiNames.Group, ownerKind, ownerNamespace, "", "Secret", ns, reference.Name))
        {
            conditions.Set(Cond.ResolvedRefs, false, Cond.RefNotPermitted, $"Secret {ns}/{reference.Name} is in another namespace and no ReferenceGrant allows it");
            return null;
        }

        if (context.Snapshot.GetSecret(ns, reference.Name) is not { } secret)
        {
            conditions.Set(Cond.ResolvedRefs, false, invalidReason, $"Secret {ns}/{reference.Name} not found");
            return null;
        }

        if (LoadCertificate(secret) is not { } certificate)
        {
            conditions.Set(Cond.ResolvedRefs, false, invalidReason, $"Secret {ns}/{reference.Name} does not hold a valid PEM certificate and private key in tls.crt and tls.key");
            return null;
        }

        return certificate with { Name = $"secret/{ns}/{reference.Name}" };
    }

    /// <summary>Reads a TLS Secret; null when the certificate or key is missing or does not parse.</summary>
    private static CertificateIr? LoadCertificate(Secret secret)
    {
        var cert = secret.Get(SecretKeys.TlsCert);
        var key = secret.Get(SecretKeys.TlsKey);
        if (cert is null || key is null || cert.Length == 0 || key.Length == 0)
        {
            return null;
        }

        try
        {
            using var parsed = X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(cert), Encoding.ASCII.GetString(key));
        }
        catch (CryptographicException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null;
        }

        return new CertificateIr { Name = "", CertificatePem = [.. cert], PrivateKeyPem = [.. key] };
    }

    private static void MarkConflicts(GatewayState gateway)
    {
        foreach (var group in gateway.Listeners.Where(l => l.Usable).GroupBy(l => l.Listener.Port))
        {
            var listeners = group.ToList();
            if (listeners.Select(l => l.Listener.Protocol).Distinct(StringComparer.Ordinal).Count() > 1)
            {
                foreach (var l in listeners)
                {
                    Conflict(l, Cond.ProtocolConflict, $"port {group.Key} is used with several protocols");
                }

                continue;
            }

            foreach (var same in listeners.GroupBy(l => (l.Listener.Hostname ?? "").ToLowerInvariant()).Where(g => g.Count() > 1))
            {
                foreach (var l in same)
                {
                    Conflict(l, Cond.HostnameConflict, $"another listener on port {group.Key} has the same hostname");
                }
            }
        }

        static void Conflict(ListenerState l, string reason, string message)
        {
            l.Usable = false;
            l.Conditions.Set(Cond.Conflicted, true, reason, message);
            l.Conditions.Set(Cond.Programmed, false, Cond.Invalid, "listener conflicts with another listener");
        }
    }
}

using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Switchyard.Api.Core;
using Switchyard.Api.GatewayApi;
using Switchyard.Ir;

namespace Switchyard.Controller.Translation;

/// <summary>
/// Gateway <c>spec.tls.frontend</c>: which client certificate validation applies to an HTTPS listener's port, and
/// whether its CA certificate references resolve.
/// </summary>
/// <remarks>
/// Gateway API v1.6.1 (GEP-91): a <c>perPort</c> entry for the listener's port replaces <c>default</c> for every
/// HTTPS listener on that port, even when the entry holds no validation. An invalid reference sets the listener's
/// ResolvedRefs to False (InvalidCACertificateRef, InvalidCACertificateKind or RefNotPermitted); when no reference is
/// valid the listener is also not Accepted (NoValidCACertificate) and not served. When some are valid, the valid ones
/// are the trust anchors. Only ConfigMaps with a PEM bundle under <c>ca.crt</c> are supported (the Core support level).
/// </remarks>
internal static class FrontendValidation
{
    /// <summary>The validation configured for HTTPS listeners on <paramref name="port"/>, or null for none.</summary>
    public static FrontendTlsValidation? For(Gateway gateway, int port)
    {
        var frontend = gateway.Spec.Tls?.Frontend;
        if (frontend is null)
        {
            return null;
        }

        var perPort = frontend.PerPort?.Find(p => p.Port == port);
        return perPort is not null ? perPort.Tls?.Validation : frontend.Default?.Validation;
    }

    /// <summary>True when any HTTPS listener of the Gateway accepts clients whose certificate did not validate.</summary>
    public static bool AnyInsecureFallback(Gateway gateway) =>
        gateway.Spec.Listeners.Exists(l => l.Protocol == "HTTPS" && For(gateway, l.Port)?.Mode == "AllowInsecureFallback");

    /// <summary>
    /// Resolves the validation of one HTTPS listener's port, setting the listener's conditions for every problem.
    /// </summary>
    /// <param name="context">The translation.</param>
    /// <param name="gateway">The listener's Gateway.</param>
    /// <param name="state">The listener.</param>
    /// <param name="validation">The validation to serve, or null when the port validates no client certificate.</param>
    /// <returns>False when the listener cannot be served (no valid CA certificate, or an unknown mode).</returns>
    public static bool TryResolve(TranslationContext context, GatewayState gateway, ListenerState state, out ClientValidationIr? validation)
    {
        validation = null;
        var spec = For(gateway.Gateway, state.Listener.Port);
        if (spec is null)
        {
            return true;
        }

        FrontendValidationMode mode;
        switch (spec.Mode)
        {
            case null or "" or "AllowValidOnly":
                mode = FrontendValidationMode.AllowValidOnly;
                break;
            case "AllowInsecureFallback":
                mode = FrontendValidationMode.AllowInsecureFallback;
                break;
            default:
                state.Conditions.Set(Cond.Accepted, false, Cond.UnsupportedValue, $"frontend validation mode {spec.Mode} is not supported; use AllowValidOnly or AllowInsecureFallback");
                state.Conditions.Set(Cond.Programmed, false, Cond.Invalid, "listener is not accepted");
                return false;
        }

        var anchors = ImmutableArray.CreateBuilder<CaCertificateIr>();
        foreach (var reference in spec.CaCertificateRefs ?? [])
        {
            if (Resolve(context, gateway, state, reference) is { } anchor)
            {
                anchors.Add(anchor);
            }
        }

        if (anchors.Count == 0)
        {
            state.Conditions.Set(Cond.ResolvedRefs, false, Cond.InvalidCACertificateRef, $"frontend validation for port {state.Listener.Port} has no caCertificateRefs");
            state.Conditions.Set(Cond.Accepted, false, Cond.NoValidCACertificate, $"no caCertificateRef of the client certificate validation for port {state.Listener.Port} is valid");
            state.Conditions.Set(Cond.Programmed, false, Cond.Invalid, "listener is not accepted");
            return false;
        }

        validation = new ClientValidationIr { Mode = mode, CaCertificates = anchors.ToImmutable() };
        return true;
    }

    private static CaCertificateIr? Resolve(TranslationContext context, GatewayState gateway, ListenerState state, ParametersReference reference)
    {
        var ns = string.IsNullOrEmpty(reference.Namespace) ? gateway.Namespace : reference.Namespace;
        if (reference.Group.Length != 0 || reference.Kind != "ConfigMap")
        {
            state.Conditions.Set(Cond.ResolvedRefs, false, Cond.InvalidCACertificateKind, $"caCertificateRef kind {reference.Kind} in group \"{reference.Group}\" is not supported; only ConfigMap is");
            return null;
        }

        if (!References.Permitted(context.Snapshot, GatewayApiNames.Group, "Gateway", gateway.Namespace, "", "ConfigMap", ns, reference.Name))
        {
            state.Conditions.Set(Cond.ResolvedRefs, false, Cond.RefNotPermitted, $"ConfigMap {ns}/{reference.Name} is in another namespace and no ReferenceGrant allows it");
            return null;
        }

        var configMap = context.Snapshot.GetConfigMap(ns, reference.Name);
        if (configMap is null)
        {
            state.Conditions.Set(Cond.ResolvedRefs, false, Cond.InvalidCACertificateRef, $"ConfigMap {ns}/{reference.Name} not found");
            return null;
        }

        if (CaBundles.Read(configMap) is not { } pem)
        {
            state.Conditions.Set(Cond.ResolvedRefs, false, Cond.InvalidCACertificateRef, $"ConfigMap {ns}/{reference.Name} does not hold PEM certificates under {ConfigMapKeys.CaCertificate}");
            return null;
        }

        return new CaCertificateIr { Name = $"configmap/{ns}/{reference.Name}", CertificatePem = [.. pem] };
    }
}

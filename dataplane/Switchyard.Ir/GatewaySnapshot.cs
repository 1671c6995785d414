using System.Collections.Immutable;
using Switchyard.Ir.Printing;

namespace Switchyard.Ir;

/// <summary>
/// The immutable, validated data-plane configuration of one Gateway. It is deterministic (every collection
/// sorted), compared structurally so a no-op update can be skipped, and printed with secrets redacted.
/// </summary>
public sealed record GatewaySnapshot
{
    /// <summary>The Gateway, as <c>namespace/name</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Listeners, sorted by port then name.</summary>
    public ImmutableArray<ListenerIr> Listeners { get; init; } = [];

    /// <summary>Addresses the load balancer assigned to the Gateway (its <c>status.addresses</c>); the data plane may bind them.</summary>
    public ImmutableArray<string> Addresses { get; init; } = [];

    /// <summary>
    /// The client certificate presented to backends reached over TLS (Gateway <c>spec.tls.backend.clientCertificateRef</c>),
    /// or null for none.
    /// </summary>
    public CertificateIr? BackendClientCertificate { get; init; }

    /// <summary>Checks every invariant the data plane relies on and returns every violation found.</summary>
    /// <returns>Errors, each prefixed by the path-like name of the offending element; empty when valid.</returns>
    public ImmutableArray<string> Validate() => SnapshotValidator.Validate(this);

    /// <inheritdoc />
    public bool Equals(GatewaySnapshot? other) =>
        other is not null && Name == other.Name && IrEquality.Seq(Listeners, other.Listeners) && IrEquality.Seq(Addresses, other.Addresses)
        && BackendClientCertificate == other.BackendClientCertificate;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, IrEquality.Hash(Listeners), IrEquality.Hash(Addresses), BackendClientCertificate);

    /// <summary>Prints the snapshot as YAML with certificate and key material redacted.</summary>
    /// <returns>The YAML text.</returns>
    public override string ToString() => YamlEmitter.Emit(IrPrinter.ToNode(this));
}

/// <summary>A listener and the routes attached to it.</summary>
public sealed record ListenerIr
{
    /// <summary>Path-like name, for example <c>listener/default/gw/https</c>.</summary>
    public required string Name { get; init; }

    /// <summary>HTTP or HTTPS.</summary>
    public required ListenerProtocol Protocol { get; init; }

    /// <summary>Port, 1–65535.</summary>
    public required int Port { get; init; }

    /// <summary>Hostname (exact or <c>*.</c> wildcard), or null for any.</summary>
    public string? Hostname { get; init; }

    /// <summary>TLS material; required for HTTPS.</summary>
    public TlsIr? Tls { get; init; }

    /// <summary>HTTP routes grouped by hostname, most specific first.</summary>
    public ImmutableArray<VirtualHostIr> VirtualHosts { get; init; } = [];

    /// <summary>WebTransport routes, sorted by name (HTTPS only).</summary>
    public ImmutableArray<WebTransportRouteIr> WebTransportRoutes { get; init; } = [];

    /// <inheritdoc />
    public bool Equals(ListenerIr? other) =>
        other is not null && Name == other.Name && Protocol == other.Protocol && Port == other.Port && Hostname == other.Hostname
        && Tls == other.Tls && IrEquality.Seq(VirtualHosts, other.VirtualHosts) && IrEquality.Seq(WebTransportRoutes, other.WebTransportRoutes);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Protocol, Port, Hostname, Tls, IrEquality.Hash(VirtualHosts), IrEquality.Hash(WebTransportRoutes));
}

/// <summary>TLS material of a listener.</summary>
public sealed record TlsIr
{
    /// <summary>Certificates in reference order; the data plane selects by SNI.</summary>
    public ImmutableArray<CertificateIr> Certificates { get; init; } = [];

    /// <summary>
    /// True when the listener names no certificate and the data plane supplies its own (standalone mode
    /// generates one at start-up); then <see cref="Certificates"/> is empty.
    /// </summary>
    public bool SuppliedByDataPlane { get; init; }

    /// <summary>
    /// Client certificate validation on this listener's port (Gateway <c>spec.tls.frontend</c>), or null when clients
    /// are not asked for a certificate. Every HTTPS listener of one port carries the same value: the TLS handshake
    /// happens before any listener is chosen by hostname.
    /// </summary>
    public ClientValidationIr? ClientValidation { get; init; }

    /// <inheritdoc />
    public bool Equals(TlsIr? other) =>
        other is not null && SuppliedByDataPlane == other.SuppliedByDataPlane && IrEquality.Seq(Certificates, other.Certificates)
        && ClientValidation == other.ClientValidation;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(SuppliedByDataPlane, IrEquality.Hash(Certificates), ClientValidation);
}

/// <summary>
/// Frontend (client) certificate validation of an HTTPS port: the CA certificates a client certificate must chain
/// to, and what happens to a client that presents none or an untrusted one.
/// </summary>
public sealed record ClientValidationIr
{
    /// <summary>Whether clients without a valid certificate are refused or let through.</summary>
    public required FrontendValidationMode Mode { get; init; }

    /// <summary>Trust anchors, in reference order; at least one.</summary>
    public ImmutableArray<CaCertificateIr> CaCertificates { get; init; } = [];

    /// <inheritdoc />
    public bool Equals(ClientValidationIr? other) =>
        other is not null && Mode == other.Mode && IrEquality.Seq(CaCertificates, other.CaCertificates);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Mode, IrEquality.Hash(CaCertificates));
}

/// <summary>A PEM CA certificate bundle (public material: no key).</summary>
public sealed record CaCertificateIr
{
    /// <summary>Path-like name of the source, for example <c>configmap/default/client-ca</c>.</summary>
    public required string Name { get; init; }

    /// <summary>One or more PEM certificates.</summary>
    public required ImmutableArray<byte> CertificatePem { get; init; }

    /// <inheritdoc />
    public bool Equals(CaCertificateIr? other) =>
        other is not null && Name == other.Name && IrEquality.Seq(CertificatePem, other.CertificatePem);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, CertificatePem.IsDefault ? 0 : CertificatePem.Length);
}

/// <summary>A certificate chain and private key in PEM. Printing never shows the bytes.</summary>
public sealed record CertificateIr
{
    /// <summary>Path-like name of the source, for example <c>secret/default/tls</c>.</summary>
    public required string Name { get; init; }

    /// <summary>PEM certificate chain.</summary>
    public required ImmutableArray<byte> CertificatePem { get; init; }

    /// <summary>PEM private key.</summary>
    public required ImmutableArray<byte> PrivateKeyPem { get; init; }

    /// <inheritdoc />
    public bool Equals(CertificateIr? other) =>
        other is not null && Name == other.Name && IrEquality.Seq(CertificatePem, other.CertificatePem) && IrEquality.Seq(PrivateKeyPem, other.PrivateKeyPem);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, CertificatePem.IsDefault ? 0 : CertificatePem.Length, PrivateKeyPem.IsDefault ? 0 : PrivateKeyPem.Length);

    /// <inheritdoc />
    public override string ToString() => $"CertificateIr {{ Name = {Name}, CertificatePem = {IrPrinter.Redacted(CertificatePem)}, PrivateKeyPem = {IrPrinter.Redacted(PrivateKeyPem)} }}";
}

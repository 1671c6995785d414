using System.Collections.Immutable;

namespace Switchyard.Ir;

/// <summary>
/// How the data plane connects to a backend over TLS (from a Gateway API BackendTLSPolicy): the server name it sends,
/// the certificates it trusts and the names the backend's certificate must carry.
/// </summary>
public sealed record BackendTlsIr
{
    /// <summary>Path-like name of the source, for example <c>backendtlspolicy/default/echo-tls</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The TLS server_name (SNI) sent, and the name checked when <see cref="SubjectAltNames"/> is empty.</summary>
    public required string Hostname { get; init; }

    /// <summary>PEM CA certificates to trust; empty when <see cref="SystemTrust"/> is set.</summary>
    public ImmutableArray<byte> CaCertificatesPem { get; init; } = [];

    /// <summary>True to trust the platform's CA bundle (<c>wellKnownCACertificates: System</c>).</summary>
    public bool SystemTrust { get; init; }

    /// <summary>Names one of which the certificate must carry; when set they replace the <see cref="Hostname"/> check.</summary>
    public ImmutableArray<SubjectAltNameIr> SubjectAltNames { get; init; } = [];

    /// <inheritdoc />
    public bool Equals(BackendTlsIr? other) =>
        other is not null && Name == other.Name && Hostname == other.Hostname && SystemTrust == other.SystemTrust
        && IrEquality.Seq(CaCertificatesPem, other.CaCertificatesPem) && IrEquality.Seq(SubjectAltNames, other.SubjectAltNames);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Hostname, SystemTrust, CaCertificatesPem.IsDefault ? 0 : CaCertificatesPem.Length, IrEquality.Hash(SubjectAltNames));
}

/// <summary>A subject alternative name a backend certificate may carry.</summary>
/// <param name="Type">DNS name or URI.</param>
/// <param name="Value">The name.</param>
public sealed record SubjectAltNameIr(SubjectAltNameType Type, string Value);

/// <summary>Kinds of subject alternative name checked for backends.</summary>
public enum SubjectAltNameType
{
    /// <summary>A DNS name (RFC 5280 dNSName), matched like a TLS server name (RFC 6125, one leading wildcard label).</summary>
    Hostname,

    /// <summary>A URI (RFC 5280 uniformResourceIdentifier), matched exactly, for example a SPIFFE id.</summary>
    Uri,
}

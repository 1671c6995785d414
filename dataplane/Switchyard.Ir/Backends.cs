using System.Collections.Immutable;

namespace Switchyard.Ir;

/// <summary>A resolved endpoint of a backend.</summary>
public sealed record EndpointIr
{
    /// <summary>IP address or DNS name.</summary>
    public required string Host { get; init; }

    /// <summary>Port, 1–65535.</summary>
    public required int Port { get; init; }

    /// <inheritdoc />
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>A backend (one Service port) with its weight and resolved endpoints, sorted.</summary>
public sealed record WeightedBackendIr
{
    /// <summary>Path-like name, for example <c>service/default/echo/port/8080</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Relative weight; 0 receives no traffic.</summary>
    public int Weight { get; init; } = 1;

    /// <summary>Endpoints that may receive new traffic, sorted by host then port; empty when none is ready.</summary>
    public ImmutableArray<EndpointIr> Endpoints { get; init; } = [];

    /// <summary>The protocol the Service port declares with its appProtocol.</summary>
    public BackendProtocol Protocol { get; init; }

    /// <summary>TLS to the backend (a BackendTLSPolicy), or null for cleartext.</summary>
    public BackendTlsIr? Tls { get; init; }

    /// <inheritdoc />
    public bool Equals(WeightedBackendIr? other) =>
        other is not null && Name == other.Name && Weight == other.Weight && IrEquality.Seq(Endpoints, other.Endpoints)
        && Protocol == other.Protocol && Tls == other.Tls;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Weight, IrEquality.Hash(Endpoints), Protocol, Tls);
}

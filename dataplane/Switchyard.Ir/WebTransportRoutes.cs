using System.Collections.Immutable;

namespace Switchyard.Ir;

/// <summary>A WebTransportRoute attached to a listener.</summary>
public sealed record WebTransportRouteIr
{
    /// <summary>Path-like name, for example <c>webtransportroute/default/media</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Hostnames accepted (exact or <c>*.</c> wildcard), sorted; empty means any.</summary>
    public ImmutableArray<string> Hostnames { get; init; } = [];

    /// <summary>Rules in precedence order.</summary>
    public ImmutableArray<WebTransportRuleIr> Rules { get; init; } = [];

    /// <inheritdoc />
    public bool Equals(WebTransportRouteIr? other) =>
        other is not null && Name == other.Name && IrEquality.Seq(Hostnames, other.Hostnames) && IrEquality.Seq(Rules, other.Rules);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, IrEquality.Hash(Hostnames), IrEquality.Hash(Rules));
}

/// <summary>One rule: what tracks it takes and where they go.</summary>
public sealed record WebTransportRuleIr
{
    /// <summary>Path-like name, for example <c>webtransportroute/default/media/rule/0</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Matches, any of which selects the rule; empty matches every track.</summary>
    public ImmutableArray<WebTransportMatchIr> Matches { get; init; } = [];

    /// <summary>Weighted backends; empty when no backend reference resolved.</summary>
    public ImmutableArray<WeightedBackendIr> Backends { get; init; } = [];

    /// <summary>Delivery settings.</summary>
    public required DeliveryIr Delivery { get; init; }

    /// <inheritdoc />
    public bool Equals(WebTransportRuleIr? other) =>
        other is not null && Name == other.Name && IrEquality.Seq(Matches, other.Matches) && IrEquality.Seq(Backends, other.Backends) && Delivery == other.Delivery;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, IrEquality.Hash(Matches), IrEquality.Hash(Backends), Delivery);
}

/// <summary>A track match; every non-null part must hold.</summary>
public sealed record WebTransportMatchIr
{
    /// <summary>Session CONNECT path match (Exact or PathPrefix), or null for any path.</summary>
    public PathMatchIr? Path { get; init; }

    /// <summary>Exact <c>track_type</c>, or null for any.</summary>
    public string? TrackType { get; init; }

    /// <summary>Track id match, or null for any.</summary>
    public TrackIdMatchIr? TrackId { get; init; }
}

/// <summary>A track id match.</summary>
public sealed record TrackIdMatchIr
{
    /// <summary>Exact or Prefix.</summary>
    public required TrackIdMatchType Type { get; init; }

    /// <summary>Value compared with the header's <c>track_id</c>.</summary>
    public required string Value { get; init; }
}

/// <summary>Delivery settings of a WebTransport rule.</summary>
public sealed record DeliveryIr
{
    /// <summary>Message or Stream.</summary>
    public DeliveryMode Mode { get; init; } = DeliveryMode.Message;

    /// <summary>Backend request path, starting with <c>/</c>.</summary>
    public string Path { get; init; } = "/";

    /// <summary>Timeout of one backend request; positive.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Additional attempts after the first, 0–10.</summary>
    public int RetryAttempts { get; init; }

    /// <summary>Delay between attempts.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(100);
}

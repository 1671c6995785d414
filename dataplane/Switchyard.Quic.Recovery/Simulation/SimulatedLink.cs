namespace Switchyard.Quic.Recovery.Simulation;

/// <summary>
/// The behaviour of one direction of a simulated path. Loss, duplication and reordering are
/// independent per datagram and drawn from the network's seeded generator.
/// </summary>
public sealed record SimulatedLink
{
    /// <summary>A lossless 10 ms link with unlimited bandwidth.</summary>
    public static SimulatedLink Default { get; } = new();

    /// <summary>The base one-way propagation delay in microseconds.</summary>
    public long OneWayDelayMicros { get; init; } = 10_000;

    /// <summary>Extra delay drawn uniformly from [0, jitter] for each datagram; jitter alone can reorder datagrams.</summary>
    public long JitterMicros { get; init; }

    /// <summary>The probability in [0, 1] that a datagram is dropped.</summary>
    public double LossRate { get; init; }

    /// <summary>The probability in [0, 1] that a delivered datagram arrives twice.</summary>
    public double DuplicationRate { get; init; }

    /// <summary>The probability in [0, 1] that a datagram is held back by <see cref="ReorderDelayMicros"/> so later ones overtake it.</summary>
    public double ReorderRate { get; init; }

    /// <summary>The extra delay of a reordered datagram in microseconds.</summary>
    public long ReorderDelayMicros { get; init; } = 5_000;

    /// <summary>The bottleneck bandwidth in bytes per second; 0 for unlimited. Datagrams queue behind each other at this rate.</summary>
    public long BandwidthBytesPerSecond { get; init; }

    /// <summary>The bottleneck queue size in bytes; a datagram that does not fit is dropped (tail drop). Used only with a bandwidth.</summary>
    public long QueueCapacityBytes { get; init; } = 256 * 1024;

    /// <summary>The path MTU for UDP payloads: larger datagrams are dropped.</summary>
    public int MaxDatagramBytes { get; init; } = 65_527;
}

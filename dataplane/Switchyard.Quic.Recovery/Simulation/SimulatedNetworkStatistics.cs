namespace Switchyard.Quic.Recovery.Simulation;

/// <summary>Counters kept by <see cref="SimulatedNetwork"/>.</summary>
public sealed class SimulatedNetworkStatistics
{
    /// <summary>Datagrams handed to the network by endpoints (or injected).</summary>
    public long DatagramsSent { get; internal set; }

    /// <summary>Datagrams delivered to an endpoint, duplicates included.</summary>
    public long DatagramsDelivered { get; internal set; }

    /// <summary>Bytes delivered to endpoints, duplicates included.</summary>
    public long BytesDelivered { get; internal set; }

    /// <summary>Datagrams dropped by <see cref="SimulatedNetwork.Filter"/>.</summary>
    public long DroppedByFilter { get; internal set; }

    /// <summary>Datagrams dropped by random loss.</summary>
    public long DroppedByLoss { get; internal set; }

    /// <summary>Datagrams dropped because the bottleneck queue was full.</summary>
    public long DroppedByQueue { get; internal set; }

    /// <summary>Datagrams dropped for exceeding the link MTU.</summary>
    public long DroppedOversize { get; internal set; }

    /// <summary>Datagrams addressed to no attached endpoint.</summary>
    public long DroppedNoRoute { get; internal set; }

    /// <summary>Extra copies created by duplication.</summary>
    public long Duplicated { get; internal set; }

    /// <summary>Datagrams held back to be reordered.</summary>
    public long Reordered { get; internal set; }
}

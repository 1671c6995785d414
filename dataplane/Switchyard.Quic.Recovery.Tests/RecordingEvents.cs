namespace Switchyard.Quic.Recovery.Tests;

/// <summary>Records every recovery callback in order.</summary>
internal sealed class RecordingEvents : IRecoveryEvents
{
    public List<(PacketNumberSpace Space, long Pn, object? Frames)> Acked { get; } = [];

    public List<(PacketNumberSpace Space, long Pn, object? Frames)> Lost { get; } = [];

    public List<(PacketNumberSpace Space, long Pn, object? Frames)> Discarded { get; } = [];

    public IEnumerable<long> AckedPns => Acked.Select(a => a.Pn);

    public IEnumerable<long> LostPns => Lost.Select(a => a.Pn);

    public void OnPacketAcked(PacketNumberSpace space, long packetNumber, object? frames) => Acked.Add((space, packetNumber, frames));

    public void OnPacketLost(PacketNumberSpace space, long packetNumber, object? frames) => Lost.Add((space, packetNumber, frames));

    public void OnPacketDiscarded(PacketNumberSpace space, long packetNumber, object? frames) => Discarded.Add((space, packetNumber, frames));

    public void Clear()
    {
        Acked.Clear();
        Lost.Clear();
        Discarded.Clear();
    }
}

namespace Switchyard.Quic.Recovery;

/// <summary>The fate of a sent packet record.</summary>
internal enum SentPacketState : byte
{
    Outstanding = 0,
    Acked,
    Lost,
}

/// <summary>One sent packet as recovery remembers it (RFC 9002 Appendix A.1.1).</summary>
internal struct SentPacket
{
    public long PacketNumber;
    public long TimeSent;
    public object? Frames;
    public int SentBytes;
    public bool AckEliciting;
    public bool InFlight;
    public SentPacketState State;
}

/// <summary>
/// Sent packet records of one packet number space, in increasing packet number order, in a ring
/// buffer that grows by doubling. Acknowledged and lost records stay as tombstones until they reach
/// the front, so the records between two outstanding packets show what happened to each packet
/// number; this is what persistent congestion needs (RFC 9002 §7.6.2). Memory is therefore bounded
/// by the span from the oldest outstanding packet to the newest.
/// </summary>
internal sealed class SentPacketQueue
{
    private SentPacket[] _items = new SentPacket[16];
    private int _head;

    public int Count { get; private set; }

    public int Capacity => _items.Length;

    public ref SentPacket this[int index] => ref _items[(_head + index) & (_items.Length - 1)];

    public void Add(in SentPacket packet)
    {
        if (Count == _items.Length)
        {
            Grow();
        }

        this[Count] = packet;
        Count++;
    }

    /// <summary>Drops acknowledged and lost records from the front.</summary>
    public void TrimFront()
    {
        while (Count > 0 && this[0].State != SentPacketState.Outstanding)
        {
            this[0] = default;
            _head = (_head + 1) & (_items.Length - 1);
            Count--;
        }

        if (Count == 0)
        {
            _head = 0;
        }
    }

    /// <summary>The index of the first record whose packet number is at least <paramref name="packetNumber"/>, or <see cref="Count"/>.</summary>
    public int LowerBound(long packetNumber)
    {
        int low = 0;
        int high = Count;
        while (low < high)
        {
            int mid = (int)((uint)(low + high) >> 1);
            if (this[mid].PacketNumber < packetNumber)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    public void Clear()
    {
        for (int i = 0; i < Count; i++)
        {
            this[i] = default;
        }

        _head = 0;
        Count = 0;
    }

    private void Grow()
    {
        var larger = new SentPacket[_items.Length * 2];
        for (int i = 0; i < Count; i++)
        {
            larger[i] = this[i];
        }

        _items = larger;
        _head = 0;
    }
}

using System.Buffers.Binary;
using System.Net;
using Switchyard.Quic.Recovery.Simulation;

namespace Switchyard.Quic.Recovery.Tests.Simulation;

/// <summary>
/// A toy reliable transport that exists only to prove that <see cref="LossRecovery"/>,
/// <see cref="NewRenoCongestionController"/>, <see cref="Pacer"/> and <see cref="ReceivedPacketTracker"/>
/// compose: a sender pushes numbered chunks, a receiver acknowledges packets, lost chunks are resent.
/// </summary>
/// <remarks>
/// Wire format (big-endian):
/// data packet  = 0x01 | pn (8) | sender's largest acked (8) | chunk id (4, -1 for PING) | length (2) | bytes;
/// ack packet   = 0x02 | ack delay µs (8) | range count (1) | (smallest (8) | largest (8)) * count.
/// </remarks>
internal static class ToyWire
{
    public const byte Data = 0x01;
    public const byte Ack = 0x02;
    public const int DataHeader = 1 + 8 + 8 + 4 + 2;

    public static byte ChunkByte(int chunk, int index) => (byte)((chunk * 31) + (index * 7));
}

internal sealed class ToySender : ISimulatedEndpoint, IRecoveryEvents
{
    private const int ChunkSize = 1_000;
    private readonly IPEndPoint _peer;
    private readonly int _chunkCount;
    private readonly bool[] _chunkAcked;
    private readonly Queue<int> _retransmit = new();
    private int _nextNewChunk;
    private int _ackedChunks;
    private long _nextPn;
    private int _probesPending;
    private long? _pacingWake;

    public ToySender(IPEndPoint peer, int chunkCount, ICongestionController? congestion = null)
    {
        _peer = peer;
        _chunkCount = chunkCount;
        _chunkAcked = new bool[chunkCount];
        Congestion = congestion ?? new NewRenoCongestionController(1200);
        Recovery = new LossRecovery(Congestion) { HandshakeConfirmed = true, HasHandshakeKeys = true };
        Pacer = new Pacer(Congestion, Recovery.Rtt);
    }

    public ICongestionController Congestion { get; }

    public LossRecovery Recovery { get; }

    public Pacer Pacer { get; }

    public bool Done => _ackedChunks == _chunkCount;

    public int PacketsSent { get; private set; }

    public int PacketsLost { get; private set; }

    public int ProbesSent { get; private set; }

    public int AckErrors { get; private set; }

    public long MinCongestionWindowSeen { get; private set; } = long.MaxValue;

    public long? NextDeadline
    {
        get
        {
            long? deadline = Recovery.LossDetectionDeadline;
            if (_pacingWake is { } wake && (deadline is null || wake < deadline))
            {
                deadline = wake;
            }

            return deadline;
        }
    }

    public void OnDeadline(long now)
    {
        if (_pacingWake is { } wake && wake <= now)
        {
            _pacingWake = null;
        }

        if (Recovery.LossDetectionDeadline is { } deadline && deadline <= now)
        {
            var result = Recovery.OnLossDetectionTimeout(now, this);
            if (result.Action == LossTimeoutAction.SendProbes)
            {
                _probesPending += result.ProbeCount;
            }
        }
    }

    public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now)
    {
        if (datagram.Length < 10 || datagram[0] != ToyWire.Ack)
        {
            return;
        }

        long ackDelay = BinaryPrimitives.ReadInt64BigEndian(datagram[1..]);
        int count = datagram[9];
        Span<AckRange> ranges = stackalloc AckRange[count];
        for (int i = 0; i < count; i++)
        {
            var slice = datagram[(10 + (16 * i))..];
            ranges[i] = new AckRange(BinaryPrimitives.ReadInt64BigEndian(slice), BinaryPrimitives.ReadInt64BigEndian(slice[8..]));
        }

        if (Recovery.OnAckReceived(PacketNumberSpace.ApplicationData, ranges, ackDelay, now, this) != AckOutcome.Accepted)
        {
            AckErrors++;
        }

        MinCongestionWindowSeen = Math.Min(MinCongestionWindowSeen, Congestion.CongestionWindow);
    }

    public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now)
    {
        to = _peer;
        length = 0;
        if (Done)
        {
            return false;
        }

        bool probe = _probesPending > 0;
        int chunk = PeekChunk(probe);
        if (chunk < 0 && !probe)
        {
            Congestion.IsApplicationLimited = true;
            return false;
        }

        int size = ToyWire.DataHeader + (chunk >= 0 ? ChunkSize : 0);
        if (!probe)
        {
            Congestion.IsApplicationLimited = false;
            // RFC 9002 §7.5: probes bypass the congestion window; pacing also lets them through.
            if (!Congestion.CanSend(size))
            {
                return false;
            }

            long sendAt = Pacer.NextSendTime(now, size);
            if (sendAt > now)
            {
                _pacingWake = sendAt;
                return false;
            }
        }
        else
        {
            _probesPending--;
            ProbesSent++;
        }

        TakeChunk(chunk);
        long pn = _nextPn++;
        buffer[0] = ToyWire.Data;
        BinaryPrimitives.WriteInt64BigEndian(buffer[1..], pn);
        BinaryPrimitives.WriteInt64BigEndian(buffer[9..], Recovery.LargestAcked(PacketNumberSpace.ApplicationData));
        BinaryPrimitives.WriteInt32BigEndian(buffer[17..], chunk);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[21..], (ushort)(size - ToyWire.DataHeader));
        for (int i = 0; i < size - ToyWire.DataHeader; i++)
        {
            buffer[ToyWire.DataHeader + i] = ToyWire.ChunkByte(chunk, i);
        }

        length = size;
        Recovery.OnPacketSent(PacketNumberSpace.ApplicationData, pn, size, true, true, now, chunk);
        Pacer.OnPacketSent(now, size);
        PacketsSent++;
        return true;
    }

    public void OnPacketAcked(PacketNumberSpace space, long packetNumber, object? frames)
    {
        int chunk = (int)frames!;
        if (chunk >= 0 && !_chunkAcked[chunk])
        {
            _chunkAcked[chunk] = true;
            _ackedChunks++;
        }
    }

    public void OnPacketLost(PacketNumberSpace space, long packetNumber, object? frames)
    {
        PacketsLost++;
        int chunk = (int)frames!;
        if (chunk >= 0 && !_chunkAcked[chunk])
        {
            _retransmit.Enqueue(chunk);
        }
    }

    public void OnPacketDiscarded(PacketNumberSpace space, long packetNumber, object? frames)
    {
    }

    /// <summary>Retransmissions first, then new data; a probe with neither resends the oldest unacknowledged chunk, else PINGs.</summary>
    private int PeekChunk(bool probe)
    {
        while (_retransmit.TryPeek(out int chunk))
        {
            if (!_chunkAcked[chunk])
            {
                return chunk;
            }

            _retransmit.Dequeue();
        }

        if (_nextNewChunk < _chunkCount)
        {
            return _nextNewChunk;
        }

        if (probe)
        {
            for (int i = 0; i < _chunkCount; i++)
            {
                if (!_chunkAcked[i])
                {
                    return i;
                }
            }
        }

        return -1;
    }

    private void TakeChunk(int chunk)
    {
        if (chunk < 0)
        {
            return;
        }

        if (_retransmit.TryPeek(out int head) && head == chunk)
        {
            _retransmit.Dequeue();
        }
        else if (chunk == _nextNewChunk)
        {
            _nextNewChunk++;
        }
    }
}

internal sealed class ToyReceiver(IPEndPoint peer, int chunkCount) : ISimulatedEndpoint
{
    private readonly AckRange[] _ranges = new AckRange[32];
    private readonly bool[] _received = new bool[chunkCount];

    public ReceivedPacketTracker Tracker { get; } = new(PacketNumberSpace.ApplicationData);

    public int ChunksReceived { get; private set; }

    public int DuplicatePackets { get; private set; }

    public int CorruptChunks { get; private set; }

    public int AcksSent { get; private set; }

    public bool HasChunk(int chunk) => _received[chunk];

    public long? NextDeadline => Tracker.AckDeadline;

    public void OnDeadline(long now)
    {
        // The ACK is written by the next TrySend poll.
    }

    public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now)
    {
        if (datagram.Length < ToyWire.DataHeader || datagram[0] != ToyWire.Data)
        {
            return;
        }

        long pn = BinaryPrimitives.ReadInt64BigEndian(datagram[1..]);
        long senderLargestAcked = BinaryPrimitives.ReadInt64BigEndian(datagram[9..]);
        int chunk = BinaryPrimitives.ReadInt32BigEndian(datagram[17..]);
        int length = BinaryPrimitives.ReadUInt16BigEndian(datagram[21..]);
        if (!Tracker.OnPacketReceived(pn, ackEliciting: true, now))
        {
            DuplicatePackets++;
            return;
        }

        // The sender has seen an ACK whose Largest Acknowledged is this: older ranges need not be repeated.
        if (senderLargestAcked >= 0)
        {
            Tracker.OnAckOfAckReceived(senderLargestAcked);
        }

        if (chunk < 0 || _received[chunk])
        {
            return;
        }

        var payload = datagram.Slice(ToyWire.DataHeader, length);
        for (int i = 0; i < payload.Length; i++)
        {
            if (payload[i] != ToyWire.ChunkByte(chunk, i))
            {
                CorruptChunks++;
                return;
            }
        }

        _received[chunk] = true;
        ChunksReceived++;
    }

    public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now)
    {
        to = peer;
        length = 0;
        if (!Tracker.IsAckDue(now))
        {
            return false;
        }

        int count = Tracker.CopyAckRanges(_ranges);
        long ackDelay = Tracker.GetAckDelay(now);
        Tracker.OnAckSent(now);
        if (count == 0)
        {
            return false;
        }

        buffer[0] = ToyWire.Ack;
        BinaryPrimitives.WriteInt64BigEndian(buffer[1..], ackDelay);
        buffer[9] = (byte)count;
        for (int i = 0; i < count; i++)
        {
            var slice = buffer[(10 + (16 * i))..];
            BinaryPrimitives.WriteInt64BigEndian(slice, _ranges[i].Smallest);
            BinaryPrimitives.WriteInt64BigEndian(slice[8..], _ranges[i].Largest);
        }

        length = 10 + (16 * count);
        AcksSent++;
        return true;
    }
}

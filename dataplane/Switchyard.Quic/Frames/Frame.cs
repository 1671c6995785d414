using Switchyard.Quic.Packets;

namespace Switchyard.Quic.Frames;

/// <summary>Frame types of RFC 9000 §19 and RFC 9221 §4.</summary>
internal static class FrameType
{
    public const long Padding = 0x00;
    public const long Ping = 0x01;
    public const long Ack = 0x02;
    public const long AckEcn = 0x03;
    public const long ResetStream = 0x04;
    public const long StopSending = 0x05;
    public const long Crypto = 0x06;
    public const long NewToken = 0x07;
    public const long Stream = 0x08;
    public const long StreamMax = 0x0f;
    public const long MaxData = 0x10;
    public const long MaxStreamData = 0x11;
    public const long MaxStreamsBidi = 0x12;
    public const long MaxStreamsUni = 0x13;
    public const long DataBlocked = 0x14;
    public const long StreamDataBlocked = 0x15;
    public const long StreamsBlockedBidi = 0x16;
    public const long StreamsBlockedUni = 0x17;
    public const long NewConnectionId = 0x18;
    public const long RetireConnectionId = 0x19;
    public const long PathChallenge = 0x1a;
    public const long PathResponse = 0x1b;
    public const long ConnectionCloseTransport = 0x1c;
    public const long ConnectionCloseApplication = 0x1d;
    public const long HandshakeDone = 0x1e;
    public const long Datagram = 0x30;
    public const long DatagramWithLength = 0x31;
}

/// <summary>One ACK range: packets <see cref="Smallest"/> to <see cref="Largest"/> inclusive.</summary>
internal readonly record struct AckRangeValue(long Smallest, long Largest);

/// <summary>
/// A parsed frame. Which fields mean something depends on <see cref="Type"/>; byte fields are slices of the packet,
/// valid only while the packet buffer is.
/// </summary>
internal ref struct Frame
{
    public long Type;
    public long StreamId;
    public long Offset;
    public bool Fin;
    public ReadOnlySpan<byte> Data;
    public long ErrorCode;
    public long FinalSize;

    /// <summary>The value of MAX_DATA, MAX_STREAM_DATA, MAX_STREAMS and the *_BLOCKED frames.</summary>
    public long Maximum;
    public long SequenceNumber;
    public long RetirePriorTo;
    public ReadOnlySpan<byte> ConnectionId;
    public ReadOnlySpan<byte> StatelessResetToken;

    /// <summary>CONNECTION_CLOSE 0x1c: the frame type that triggered the error.</summary>
    public long TriggeringFrameType;
    public ReadOnlySpan<byte> ReasonPhrase;

    public long LargestAcknowledged;
    public long AckDelay;
    public long FirstAckRange;
    public long AckRangeCount;

    /// <summary>The encoded gap/range pairs after the first range, decoded lazily by <see cref="AckRanges"/>.</summary>
    public ReadOnlySpan<byte> AckRangeBytes;

    public bool HasEcnCounts;

    /// <summary>Walks the ACK ranges from the largest down (RFC 9000 §19.3.1), allocating nothing.</summary>
    public readonly AckRangeEnumerator AckRanges => new(LargestAcknowledged, FirstAckRange, AckRangeCount, AckRangeBytes);
}

/// <summary>Decodes the ranges of an ACK frame in descending order. The frame parser has already validated them.</summary>
internal ref struct AckRangeEnumerator
{
    private QuicReader _reader;
    private long _remaining;
    private bool _started;
    private readonly long _largest;
    private readonly long _firstRange;

    public AckRangeEnumerator(long largest, long firstRange, long count, ReadOnlySpan<byte> rangeBytes)
    {
        _reader = new QuicReader(rangeBytes);
        _remaining = count;
        _largest = largest;
        _firstRange = firstRange;
        _started = false;
        Current = default;
    }

    public AckRangeValue Current { get; private set; }

    public readonly AckRangeEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (!_started)
        {
            _started = true;
            Current = new AckRangeValue(_largest - _firstRange, _largest);
            return true;
        }

        if (_remaining == 0)
        {
            return false;
        }

        _reader.TryReadVarInt(out var gap);
        _reader.TryReadVarInt(out var length);
        _remaining--;
        var largest = Current.Smallest - gap - 2;
        Current = new AckRangeValue(largest - length, largest);
        return true;
    }
}

using Switchyard.Quic.Packets;

namespace Switchyard.Quic.Streams;

/// <summary>
/// Reassembles stream or CRYPTO data received out of order. The caller bounds what may be written by the
/// flow-control window it advertised, so memory is bounded by construction (DESIGN.md).
/// </summary>
internal sealed class ReceiveBuffer
{
    private readonly RangeSet _received = new();
    private byte[] _data = new byte[1024];

    // Offset of _data[0]: everything before it has been read.
    private long _baseOffset;

    /// <summary>Everything before this offset has been read by the application.</summary>
    public long ReadOffset => _baseOffset;

    /// <summary>The highest offset seen (RFC 9000 §4.5).</summary>
    public long HighestOffset { get; private set; }

    /// <summary>Bytes ready to read now.</summary>
    public long ReadableBytes => _received.ContiguousEnd(_baseOffset) - _baseOffset;

    /// <summary>Stores [offset, offset + data.Length), ignoring bytes already received.</summary>
    /// <param name="offset">The offset of the data.</param>
    /// <param name="data">The data.</param>
    /// <param name="maxEnd">The limit the window allows; beyond it is the caller's error to raise.</param>
    public void Write(long offset, ReadOnlySpan<byte> data, long maxEnd)
    {
        var end = offset + data.Length;
        if (end > maxEnd)
        {
            throw new QuicTransportErrorException(TransportErrorCode.FlowControlError, "data beyond the advertised window (RFC 9000 §4.1)");
        }

        HighestOffset = Math.Max(HighestOffset, end);
        if (end <= _baseOffset)
        {
            return;
        }

        if (offset < _baseOffset)
        {
            data = data[(int)(_baseOffset - offset)..];
            offset = _baseOffset;
        }

        var needed = (int)(end - _baseOffset);
        if (needed > _data.Length)
        {
            var size = _data.Length;
            while (size < needed)
            {
                size *= 2;
            }

            var bigger = new byte[size];
            _data.AsSpan().CopyTo(bigger);
            _data = bigger;
        }

        // Overlapping data must be identical (RFC 9000 §2.2 allows treating a mismatch as an error); we keep the first copy.
        data.CopyTo(_data.AsSpan((int)(offset - _baseOffset)));
        _received.Add(offset, end);
    }

    /// <summary>Copies contiguous data into <paramref name="destination"/>; returns the count.</summary>
    public int Read(Span<byte> destination)
    {
        var count = (int)Math.Min(destination.Length, ReadableBytes);
        if (count == 0)
        {
            return 0;
        }

        _data.AsSpan(0, count).CopyTo(destination);
        Consume(count);
        return count;
    }

    /// <summary>Gives the contiguous readable bytes without consuming them.</summary>
    public ReadOnlySpan<byte> Peek() => _data.AsSpan(0, (int)ReadableBytes);

    /// <summary>Consumes <paramref name="count"/> bytes previously peeked (or drops them, for an aborted reader).</summary>
    public void Consume(int count)
    {
        count = (int)Math.Min(count, ReadableBytes);
        if (count == 0)
        {
            return;
        }

        var used = (int)(_received.ContiguousEnd(_baseOffset) - _baseOffset);
        var highest = (int)Math.Min(_data.Length, HighestOffset - _baseOffset);
        _data.AsSpan(count, Math.Max(used, highest) - count).CopyTo(_data);
        _baseOffset += count;
        _received.Remove(0, _baseOffset);
    }
}

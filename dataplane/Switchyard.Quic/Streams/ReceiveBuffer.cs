using Switchyard.Quic.Packets;

namespace Switchyard.Quic.Streams;

/// <summary>
/// Reassembles stream or CRYPTO data received out of order. The caller bounds what may be written by the
/// flow-control window it advertised, so memory is bounded by construction (DESIGN.md).
/// </summary>
internal sealed class ReceiveBuffer
{
    private readonly RangeSet _received = new();
    private readonly ByteRing _data = new(1024);

    // Everything before this offset has been read.
    private long _baseOffset;

    /// <summary>Everything before this offset has been read by the application.</summary>
    public long ReadOffset => _baseOffset;

    /// <summary>The highest offset seen (RFC 9000 §4.5).</summary>
    public long HighestOffset { get; private set; }

    /// <summary>Bytes ready to read now.</summary>
    public long ReadableBytes => _received.ContiguousEnd(_baseOffset) - _baseOffset;

    /// <summary>Stores [offset, offset + data.Length), ignoring bytes already read.</summary>
    /// <param name="offset">The offset of the data.</param>
    /// <param name="data">The data.</param>
    /// <param name="maxEnd">The limit the window allows; beyond it is a FLOW_CONTROL_ERROR.</param>
    public void Write(long offset, ReadOnlySpan<byte> data, long maxEnd)
    {
        var end = offset + data.Length;
        if (end > maxEnd)
        {
            throw new QuicTransportErrorException(TransportErrorCode.FlowControlError, "data beyond the advertised window (RFC 9000 §4.1)");
        }

        if (end <= _baseOffset)
        {
            HighestOffset = Math.Max(HighestOffset, end);
            return;
        }

        if (offset < _baseOffset)
        {
            data = data[(int)(_baseOffset - offset)..];
            offset = _baseOffset;
        }

        _data.Ensure(_baseOffset, HighestOffset, end);
        HighestOffset = Math.Max(HighestOffset, end);

        // Overlapping data must be identical (RFC 9000 §2.2); a retransmission rewrites the same bytes.
        _data.Write(offset, data);
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

        _data.Read(_baseOffset, destination[..count]);
        Consume(count);
        return count;
    }

    /// <summary>Drops <paramref name="count"/> readable bytes (an aborted reader).</summary>
    public void Consume(int count)
    {
        count = (int)Math.Min(count, ReadableBytes);
        if (count == 0)
        {
            return;
        }

        _baseOffset += count;
        _received.Remove(0, _baseOffset);
    }
}

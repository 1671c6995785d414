namespace Switchyard.Quic.Streams;

/// <summary>
/// The send side of a stream or CRYPTO stream: data written but not yet acknowledged, which bytes were sent, which
/// were declared lost and must go again (retransmission is by frame, RFC 9000 §13.3), and the FIN.
/// </summary>
internal sealed class SendBuffer
{
    private readonly RangeSet _acked = new();
    private readonly RangeSet _lost = new();
    private readonly ByteRing _data;
    private long _baseOffset;

    public SendBuffer(int capacity)
    {
        Capacity = capacity;
        _data = new ByteRing(Math.Min(capacity, 4096));
    }

    /// <summary>Most bytes held unacknowledged; a writer waits when it is reached.</summary>
    public int Capacity { get; }

    /// <summary>End of written data.</summary>
    public long WrittenEnd { get; private set; }

    /// <summary>Where new (never sent) data starts.</summary>
    public long SendOffset { get; private set; }

    /// <summary>Set once the application finished writing: the final size.</summary>
    public long? FinalSize { get; private set; }

    public bool FinSent { get; private set; }

    public bool FinLost { get; private set; }

    public bool FinAcked { get; private set; }

    public int FreeSpace => (int)Math.Max(0, Capacity - (WrittenEnd - _baseOffset));

    public bool HasLostData => !_lost.IsEmpty;

    public bool HasNewData => SendOffset < WrittenEnd || (FinalSize is not null && !FinSent);

    public bool HasDataToSend => HasLostData || HasNewData || FinLost;

    /// <summary>True when everything including the FIN is acknowledged.</summary>
    public bool AllAcked => FinalSize is { } size && FinAcked && _baseOffset >= size;

    /// <summary>Appends as much of <paramref name="data"/> as fits; returns the bytes taken.</summary>
    public int Append(ReadOnlySpan<byte> data)
    {
        if (FinalSize is not null)
        {
            throw new InvalidOperationException("The stream's writes were completed.");
        }

        var count = Math.Min(data.Length, FreeSpace);
        if (count == 0)
        {
            return 0;
        }

        _data.Ensure(_baseOffset, WrittenEnd, WrittenEnd + count);
        _data.Write(WrittenEnd, data[..count]);
        WrittenEnd += count;
        return count;
    }

    public void Finish() => FinalSize ??= WrittenEnd;

    /// <summary>
    /// Picks the next chunk: lost data first, then new data up to <paramref name="newDataLimit"/> (flow control).
    /// </summary>
    public bool TryGetChunk(int maxLength, long newDataLimit, out long offset, out int length, out bool fin, out bool isNew)
    {
        isNew = false;
        if (!_lost.IsEmpty)
        {
            var (start, end) = _lost[0];
            offset = start;
            length = (int)Math.Min(end - start, maxLength);
            fin = FinalSize == offset + length && (FinLost || !FinSent);
            return length > 0 || fin;
        }

        if (FinLost && FinalSize is { } finalSize && SendOffset >= finalSize)
        {
            offset = finalSize;
            length = 0;
            fin = true;
            return true;
        }

        var available = Math.Min(WrittenEnd, newDataLimit) - SendOffset;
        offset = SendOffset;
        length = (int)Math.Clamp(available, 0, maxLength);
        fin = FinalSize is { } size && offset + length == size && !FinSent;
        isNew = length > 0;
        return length > 0 || fin;
    }

    public void CopyTo(long offset, Span<byte> destination) => _data.Read(offset, destination);

    /// <summary>Records that [offset, offset+length) (and the FIN) went out in a packet.</summary>
    public void OnSent(long offset, int length, bool fin)
    {
        _lost.Remove(offset, offset + length);
        if (offset + length > SendOffset)
        {
            SendOffset = offset + length;
        }

        if (fin)
        {
            FinSent = true;
            FinLost = false;
        }
    }

    public void OnAcked(long offset, int length, bool fin)
    {
        _acked.Add(offset, offset + length);
        _lost.Remove(offset, offset + length);
        if (fin)
        {
            FinAcked = true;
            FinLost = false;
        }

        // Release the acknowledged prefix.
        var floor = _acked.ContiguousEnd(_baseOffset);
        if (floor > _baseOffset)
        {
            _baseOffset = floor;
            _acked.Remove(0, floor);
        }
    }

    public void OnLost(long offset, int length, bool fin)
    {
        // Only bytes not acknowledged since (a later copy may have been) go back in the queue.
        var start = Math.Max(offset, _baseOffset);
        var end = offset + length;
        if (end > start)
        {
            _lost.Add(start, end);
            for (var i = 0; i < _acked.Count; i++)
            {
                var (s, e) = _acked[i];
                if (s < end && e > start)
                {
                    _lost.Remove(Math.Max(s, start), Math.Min(e, end));
                }
            }
        }

        if (fin && !FinAcked)
        {
            FinLost = true;
        }
    }

    /// <summary>Marks everything sent as lost, so it goes again (after a Retry, RFC 9000 §17.2.5.3).</summary>
    public void RequeueAll()
    {
        if (SendOffset > _baseOffset)
        {
            OnLost(_baseOffset, (int)(SendOffset - _baseOffset), FinSent);
        }
    }
}

namespace Switchyard.Quic.Streams;

/// <summary>
/// Bytes addressed by absolute stream offset in a power-of-two ring, so releasing a prefix costs nothing and no data
/// is moved on the steady path. It grows (by doubling) only to hold the live window the caller allows.
/// </summary>
internal sealed class ByteRing
{
    private byte[] _data;

    public ByteRing(int initialSize = 4096) => _data = new byte[Math.Max(16, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)initialSize))];

    public int Size => _data.Length;

    /// <summary>Makes room so that offsets [liveStart, end) fit, keeping the bytes of [liveStart, liveEnd).</summary>
    public void Ensure(long liveStart, long liveEnd, long end)
    {
        var needed = end - liveStart;
        if (needed <= _data.Length)
        {
            return;
        }

        var size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)needed);
        var bigger = new byte[size];
        var old = _data;
        var oldMask = old.Length - 1;
        var newMask = size - 1;
        for (var offset = liveStart; offset < liveEnd;)
        {
            var from = (int)(offset & oldMask);
            var to = (int)(offset & newMask);
            var run = (int)Math.Min(liveEnd - offset, Math.Min(old.Length - from, size - to));
            old.AsSpan(from, run).CopyTo(bigger.AsSpan(to));
            offset += run;
        }

        _data = bigger;
    }

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        var mask = _data.Length - 1;
        while (!source.IsEmpty)
        {
            var index = (int)(offset & mask);
            var run = Math.Min(source.Length, _data.Length - index);
            source[..run].CopyTo(_data.AsSpan(index));
            source = source[run..];
            offset += run;
        }
    }

    public void Read(long offset, Span<byte> destination)
    {
        var mask = _data.Length - 1;
        while (!destination.IsEmpty)
        {
            var index = (int)(offset & mask);
            var run = Math.Min(destination.Length, _data.Length - index);
            _data.AsSpan(index, run).CopyTo(destination);
            destination = destination[run..];
            offset += run;
        }
    }
}

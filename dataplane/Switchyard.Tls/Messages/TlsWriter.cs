using System.Buffers.Binary;

namespace Switchyard.Tls.Messages;

/// <summary>Writes the TLS presentation language (RFC 8446 §3) into a growable buffer.</summary>
internal sealed class TlsWriter
{
    private byte[] _buffer;
    private int _length;

    public TlsWriter(int capacity = 512) => _buffer = new byte[capacity];

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => WrittenSpan.ToArray();

    public void WriteUInt8(byte value) => Reserve(1)[0] = value;

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Reserve(2), value);

    public void WriteUInt24(int value)
    {
        var span = Reserve(3);
        span[0] = (byte)(value >> 16);
        span[1] = (byte)(value >> 8);
        span[2] = (byte)value;
    }

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), value);

    public void WriteBytes(ReadOnlySpan<byte> value) => value.CopyTo(Reserve(value.Length));

    public void WriteVector8(ReadOnlySpan<byte> value)
    {
        var start = BeginVector(1);
        WriteBytes(value);
        EndVector(start, 1);
    }

    public void WriteVector16(ReadOnlySpan<byte> value)
    {
        var start = BeginVector(2);
        WriteBytes(value);
        EndVector(start, 2);
    }

    public void WriteVector24(ReadOnlySpan<byte> value)
    {
        var start = BeginVector(3);
        WriteBytes(value);
        EndVector(start, 3);
    }

    /// <summary>Reserves a length prefix of <paramref name="prefixBytes"/> bytes; returns its offset for <see cref="EndVector"/>.</summary>
    public int BeginVector(int prefixBytes)
    {
        var start = _length;
        Reserve(prefixBytes).Clear();
        return start;
    }

    /// <summary>Fills in the length prefix begun at <paramref name="start"/>.</summary>
    public void EndVector(int start, int prefixBytes)
    {
        var length = _length - start - prefixBytes;
        if (length >= 1 << (8 * prefixBytes))
        {
            throw new InvalidOperationException($"Vector of {length} bytes does not fit a {prefixBytes}-byte length.");
        }

        for (var i = prefixBytes - 1; i >= 0; i--)
        {
            _buffer[start + i] = (byte)(length >> (8 * (prefixBytes - 1 - i)));
        }
    }

    /// <summary>Starts a handshake message (RFC 8446 §4): type and a 24-bit length filled in by <see cref="EndMessage"/>.</summary>
    public int BeginMessage(HandshakeType type)
    {
        var start = _length;
        WriteUInt8((byte)type);
        BeginVector(3);
        return start;
    }

    /// <summary>Completes the handshake message begun at <paramref name="start"/>.</summary>
    public void EndMessage(int start) => EndVector(start + 1, 3);

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }

        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }
}

using System.Buffers.Binary;

namespace Switchyard.Quic.Packets;

/// <summary>
/// A forward-only reader over a span. Every read checks the remaining length first, so a length field from the
/// wire can never make it read (or allocate) past what arrived.
/// </summary>
internal ref struct QuicReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public QuicReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool End => _position >= _buffer.Length;

    public readonly ReadOnlySpan<byte> RemainingSpan => _buffer[_position..];

    public bool TryReadByte(out byte value)
    {
        if (_position >= _buffer.Length)
        {
            value = 0;
            return false;
        }

        value = _buffer[_position++];
        return true;
    }

    public bool TryReadVarInt(out long value)
    {
        if (!VarInt.TryRead(_buffer[_position..], out value, out var consumed))
        {
            return false;
        }

        _position += consumed;
        return true;
    }

    public bool TryReadUInt32(out uint value)
    {
        if (Remaining < 4)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt32BigEndian(_buffer.Slice(_position, 4));
        _position += 4;
        return true;
    }

    public bool TryReadUInt16(out ushort value)
    {
        if (Remaining < 2)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt16BigEndian(_buffer.Slice(_position, 2));
        _position += 2;
        return true;
    }

    /// <summary>Reads <paramref name="length"/> bytes; false (and nothing consumed) when fewer remain.</summary>
    public bool TryReadBytes(long length, out ReadOnlySpan<byte> value)
    {
        if (length < 0 || length > Remaining)
        {
            value = default;
            return false;
        }

        value = _buffer.Slice(_position, (int)length);
        _position += (int)length;
        return true;
    }

    public void Advance(int count) => _position += count;
}

/// <summary>A forward-only writer over a span; callers size the span first.</summary>
internal ref struct QuicWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public QuicWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly Span<byte> Written => _buffer[.._position];

    public readonly Span<byte> Buffer => _buffer;

    public void WriteByte(byte value) => _buffer[_position++] = value;

    public void WriteVarInt(long value) => _position += VarInt.Write(_buffer[_position..], value);

    public void WriteVarInt(long value, int length) => _position += VarInt.Write(_buffer[_position..], value, length);

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], value);
        _position += 2;
    }

    public void WriteBytes(scoped ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    public void Advance(int count) => _position += count;
}

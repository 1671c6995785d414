using System.Buffers.Binary;

namespace Switchyard.Tls.Messages;

/// <summary>
/// Reads the TLS presentation language (RFC 8446 §3): big-endian integers and length-prefixed vectors.
/// Every short read is a decode_error (RFC 8446 §6.2); nothing is allocated.
/// </summary>
internal ref struct TlsReader
{
    private ReadOnlySpan<byte> _data;
    private readonly string _what;

    public TlsReader(ReadOnlySpan<byte> data, string what)
    {
        _data = data;
        _what = what;
    }

    public readonly int Remaining => _data.Length;

    public readonly bool IsEmpty => _data.IsEmpty;

    public byte ReadUInt8()
    {
        Need(1);
        var value = _data[0];
        _data = _data[1..];
        return value;
    }

    public ushort ReadUInt16()
    {
        Need(2);
        var value = BinaryPrimitives.ReadUInt16BigEndian(_data);
        _data = _data[2..];
        return value;
    }

    public int ReadUInt24()
    {
        Need(3);
        var value = (_data[0] << 16) | (_data[1] << 8) | _data[2];
        _data = _data[3..];
        return value;
    }

    public uint ReadUInt32()
    {
        Need(4);
        var value = BinaryPrimitives.ReadUInt32BigEndian(_data);
        _data = _data[4..];
        return value;
    }

    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        Need(count);
        var value = _data[..count];
        _data = _data[count..];
        return value;
    }

    /// <summary>Reads <c>opaque x&lt;min..2^8-1&gt;</c>.</summary>
    public ReadOnlySpan<byte> ReadVector8(int min = 0) => ReadVectorBody(ReadUInt8(), min);

    /// <summary>Reads <c>opaque x&lt;min..2^16-1&gt;</c>.</summary>
    public ReadOnlySpan<byte> ReadVector16(int min = 0) => ReadVectorBody(ReadUInt16(), min);

    /// <summary>Reads <c>opaque x&lt;min..2^24-1&gt;</c>.</summary>
    public ReadOnlySpan<byte> ReadVector24(int min = 0) => ReadVectorBody(ReadUInt24(), min);

    /// <summary>Fails with decode_error when bytes are left over (RFC 8446 §4: a message's length is exact).</summary>
    public readonly void EnsureEnd()
    {
        if (!_data.IsEmpty)
        {
            throw TlsErrors.Decode($"{_what}: {_data.Length} trailing bytes (RFC 8446 §4)");
        }
    }

    private ReadOnlySpan<byte> ReadVectorBody(int length, int min)
    {
        if (length < min)
        {
            throw TlsErrors.Decode($"{_what}: vector of {length} bytes is shorter than its minimum {min} (RFC 8446 §3.4)");
        }

        return ReadBytes(length);
    }

    private readonly void Need(int count)
    {
        if (_data.Length < count)
        {
            throw TlsErrors.Decode($"{_what}: truncated, needed {count} bytes and {_data.Length} remain (RFC 8446 §3)");
        }
    }
}

using System.Buffers.Binary;

namespace Switchyard.Quic.Packets;

/// <summary>QUIC variable-length integers (RFC 9000 §16): a 2-bit length prefix and 6, 14, 30 or 62 bits of value.</summary>
internal static class VarInt
{
    /// <summary>The largest encodable value, 2^62 - 1.</summary>
    public const long MaxValue = (1L << 62) - 1;

    /// <summary>Bytes needed to encode <paramref name="value"/> in its shortest form.</summary>
    public static int GetLength(long value) => value switch
    {
        < 0 => throw new ArgumentOutOfRangeException(nameof(value)),
        <= 63 => 1,
        <= 16383 => 2,
        <= 1073741823 => 4,
        <= MaxValue => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Reads one varint; false when the span is shorter than the encoding says.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out long value, out int consumed)
    {
        if (source.IsEmpty)
        {
            value = 0;
            consumed = 0;
            return false;
        }

        var length = 1 << (source[0] >> 6);
        if (source.Length < length)
        {
            value = 0;
            consumed = 0;
            return false;
        }

        consumed = length;
        value = length switch
        {
            1 => source[0] & 0x3f,
            2 => BinaryPrimitives.ReadUInt16BigEndian(source) & 0x3fff,
            4 => BinaryPrimitives.ReadUInt32BigEndian(source) & 0x3fffffff,
            _ => (long)(BinaryPrimitives.ReadUInt64BigEndian(source) & 0x3fffffffffffffffUL),
        };
        return true;
    }

    /// <summary>Writes the shortest encoding; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, long value) => Write(destination, value, GetLength(value));

    /// <summary>Writes <paramref name="value"/> in exactly <paramref name="length"/> bytes (1, 2, 4 or 8).</summary>
    public static int Write(Span<byte> destination, long value, int length)
    {
        if (value < 0 || GetLength(value) > length)
        {
            throw new ArgumentOutOfRangeException(nameof(value));
        }

        switch (length)
        {
            case 1:
                destination[0] = (byte)value;
                break;
            case 2:
                BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(0x4000 | value));
                break;
            case 4:
                BinaryPrimitives.WriteUInt32BigEndian(destination, 0x80000000u | (uint)value);
                break;
            case 8:
                BinaryPrimitives.WriteUInt64BigEndian(destination, 0xc000000000000000UL | (ulong)value);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(length));
        }

        return length;
    }
}

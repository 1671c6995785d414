using System.Buffers;
using System.Buffers.Binary;

namespace Switchyard.Http3.Frames;

/// <summary>
/// QUIC variable-length integers (RFC 9000 §16): the two high bits of the first byte give the length
/// (1, 2, 4 or 8 bytes), the rest is the value in network byte order. HTTP/3 uses them for frame types, lengths,
/// stream types and settings (RFC 9114 §1.2).
/// </summary>
public static class VariableLengthInteger
{
    /// <summary>The largest encodable value, 2^62 - 1.</summary>
    public const long MaxValue = (1L << 62) - 1;

    /// <summary>How many bytes the encoding of <paramref name="value"/> takes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or above <see cref="MaxValue"/>.</exception>
    public static int GetByteCount(long value) => value switch
    {
        < 0 => throw new ArgumentOutOfRangeException(nameof(value), "Variable-length integers are non-negative (RFC 9000 §16)."),
        <= 63 => 1,
        <= 16383 => 2,
        <= 1073741823 => 4,
        <= MaxValue => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(value), "Variable-length integers hold at most 62 bits (RFC 9000 §16)."),
    };

    /// <summary>The total length of an encoding, read from its first byte.</summary>
    public static int GetLength(byte firstByte) => 1 << (firstByte >> 6);

    /// <summary>Reads one integer from the start of <paramref name="source"/>; false when it is incomplete.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out long value, out int bytesRead)
    {
        if (source.IsEmpty)
        {
            value = 0;
            bytesRead = 0;
            return false;
        }

        int length = GetLength(source[0]);
        if (source.Length < length)
        {
            value = 0;
            bytesRead = 0;
            return false;
        }

        value = length switch
        {
            1 => source[0] & 0x3f,
            2 => BinaryPrimitives.ReadUInt16BigEndian(source) & 0x3fff,
            4 => BinaryPrimitives.ReadUInt32BigEndian(source) & 0x3fffffff,
            _ => (long)(BinaryPrimitives.ReadUInt64BigEndian(source) & 0x3fffffffffffffff),
        };
        bytesRead = length;
        return true;
    }

    /// <summary>Reads one integer from <paramref name="reader"/>, advancing it only on success.</summary>
    public static bool TryRead(ref SequenceReader<byte> reader, out long value)
    {
        if (reader.UnreadSpan.Length >= 8 || (reader.UnreadSpan.Length > 0 && reader.UnreadSpan.Length >= GetLength(reader.UnreadSpan[0])))
        {
            bool ok = TryRead(reader.UnreadSpan, out value, out int n);
            reader.Advance(n);
            return ok;
        }

        Span<byte> scratch = stackalloc byte[8];
        if (!reader.TryPeek(out byte first))
        {
            value = 0;
            return false;
        }

        int length = GetLength(first);
        if (!reader.TryCopyTo(scratch[..length]))
        {
            value = 0;
            return false;
        }

        TryRead(scratch[..length], out value, out _);
        reader.Advance(length);
        return true;
    }

    /// <summary>Writes <paramref name="value"/> in its shortest encoding and returns the bytes written.</summary>
    /// <exception cref="ArgumentException">The destination is too small.</exception>
    public static int Write(Span<byte> destination, long value)
    {
        int length = GetByteCount(value);
        if (destination.Length < length)
        {
            throw new ArgumentException("Destination too small for the variable-length integer.", nameof(destination));
        }

        switch (length)
        {
            case 1:
                destination[0] = (byte)value;
                break;
            case 2:
                BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(value | 0x4000));
                break;
            case 4:
                BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)value | 0x80000000u);
                break;
            default:
                BinaryPrimitives.WriteUInt64BigEndian(destination, (ulong)value | 0xc000000000000000ul);
                break;
        }

        return length;
    }

    /// <summary>Writes <paramref name="value"/> to <paramref name="writer"/>.</summary>
    public static void Write(IBufferWriter<byte> writer, long value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        int n = Write(writer.GetSpan(8), value);
        writer.Advance(n);
    }

    /// <summary>Encodes <paramref name="value"/> into a new array.</summary>
    public static byte[] Encode(long value)
    {
        var bytes = new byte[GetByteCount(value)];
        Write(bytes, value);
        return bytes;
    }
}

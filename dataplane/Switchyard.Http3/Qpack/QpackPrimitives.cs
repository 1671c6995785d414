using System.Buffers;
using System.Text;

namespace Switchyard.Http3.Qpack;

/// <summary>
/// QPACK's prefixed integers (RFC 9204 §4.1.1, RFC 7541 §5.1) and string literals (RFC 9204 §4.1.2). Decoders return
/// false while the input is incomplete and throw the caller's error code for input that can never be valid.
/// </summary>
internal static class QpackPrimitives
{
    /// <summary>Integers above this are rejected: 2^62 - 1 bounds every quantity QPACK carries (RFC 9204 §4.1.1).</summary>
    public const long MaxInteger = (1L << 62) - 1;

    /// <summary>Decodes an N-bit prefix integer whose first byte is <c>source[0]</c>.</summary>
    public static bool TryDecodeInteger(ReadOnlySpan<byte> source, int prefixBits, out long value, out int consumed, Http3ErrorCode errorCode)
    {
        value = 0;
        consumed = 0;
        if (source.IsEmpty)
        {
            return false;
        }

        int mask = (1 << prefixBits) - 1;
        value = source[0] & mask;
        if (value < mask)
        {
            consumed = 1;
            return true;
        }

        int shift = 0;
        for (int i = 1; i < source.Length; i++)
        {
            byte b = source[i];
            if (shift > 56)
            {
                throw new Http3ConnectionException(errorCode, "A QPACK integer exceeds 62 bits (RFC 9204 §4.1.1).");
            }

            long add = (long)(b & 0x7f) << shift;
            value += add;
            if (value > MaxInteger || add < 0)
            {
                throw new Http3ConnectionException(errorCode, "A QPACK integer exceeds 62 bits (RFC 9204 §4.1.1).");
            }

            shift += 7;
            if ((b & 0x80) == 0)
            {
                consumed = i + 1;
                return true;
            }
        }

        value = 0;
        return false;
    }

    /// <summary>Encodes an N-bit prefix integer, OR-ing <paramref name="flags"/> into the first byte's high bits.</summary>
    public static int EncodeInteger(Span<byte> destination, long value, int prefixBits, byte flags)
    {
        int mask = (1 << prefixBits) - 1;
        if (value < mask)
        {
            destination[0] = (byte)(flags | value);
            return 1;
        }

        destination[0] = (byte)(flags | mask);
        value -= mask;
        int i = 1;
        while (value >= 0x80)
        {
            destination[i++] = (byte)((value & 0x7f) | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Writes a prefix integer to <paramref name="output"/>.</summary>
    public static void WriteInteger(IBufferWriter<byte> output, long value, int prefixBits, byte flags)
    {
        int n = EncodeInteger(output.GetSpan(10), value, prefixBits, flags);
        output.Advance(n);
    }

    /// <summary>
    /// Decodes a string literal: an H bit just above an N-bit length prefix, then the octets (RFC 9204 §4.1.2).
    /// </summary>
    /// <param name="source">Bytes starting at the byte holding the H bit.</param>
    /// <param name="prefixBits">The length prefix size N; the H bit is bit N.</param>
    /// <param name="maxLength">The longest string the caller accepts: checked before anything is allocated.</param>
    /// <param name="value">The decoded string (Latin-1: one char per octet).</param>
    /// <param name="consumed">The bytes used.</param>
    /// <param name="errorCode">The error raised for invalid input.</param>
    public static bool TryDecodeString(ReadOnlySpan<byte> source, int prefixBits, int maxLength, out string value, out int consumed, Http3ErrorCode errorCode)
    {
        value = string.Empty;
        consumed = 0;
        if (!TryDecodeInteger(source, prefixBits, out long length, out int n, errorCode))
        {
            return false;
        }

        bool huffman = (source[0] & (1 << prefixBits)) != 0;

        // A Huffman code is at least 5 bits, so n encoded bytes decode to at most 8n/5 octets; it is at most 30 bits,
        // so they decode to at least (8n - 7) / 30 octets. Both bounds are checked before anything is allocated.
        long maxDecoded = huffman ? (length * 8 / 5) + 1 : length;
        if (!huffman && length > maxLength)
        {
            throw new Http3ConnectionException(errorCode, $"A string literal of {length} bytes exceeds the limit of {maxLength} (RFC 9204 §4.1.2).");
        }

        if (huffman && length > ((long)maxLength * 4) + 1)
        {
            throw new Http3ConnectionException(errorCode, $"A Huffman string literal of {length} bytes exceeds the limit of {maxLength} (RFC 9204 §4.1.2).");
        }

        if (source.Length - n < length)
        {
            return false;
        }

        ReadOnlySpan<byte> raw = source.Slice(n, (int)length);
        if (huffman)
        {
            int capacity = (int)Math.Min(maxDecoded, maxLength);
            char[]? rented = null;
            Span<char> chars = capacity <= 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(capacity));
            try
            {
                int decoded = Huffman.Decode(raw, chars[..capacity], errorCode);
                if (decoded < 0)
                {
                    throw new Http3ConnectionException(errorCode, $"A Huffman string literal decodes past the limit of {maxLength} (RFC 9204 §4.1.2).");
                }

                value = new string(chars[..decoded]);
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<char>.Shared.Return(rented);
                }
            }
        }
        else
        {
            value = Encoding.Latin1.GetString(raw);
        }

        consumed = n + (int)length;
        return true;
    }

    /// <summary>Writes a string literal, Huffman-coded when that is shorter, with the H bit at bit <paramref name="prefixBits"/>.</summary>
    public static void WriteString(IBufferWriter<byte> output, string value, int prefixBits, byte flags)
    {
        int huffmanLength = Huffman.GetEncodedLength(value);
        if (huffmanLength < value.Length)
        {
            WriteInteger(output, huffmanLength, prefixBits, (byte)(flags | (1 << prefixBits)));
            Span<byte> span = output.GetSpan(huffmanLength);
            Huffman.Encode(value, span);
            output.Advance(huffmanLength);
        }
        else
        {
            WriteInteger(output, value.Length, prefixBits, flags);
            Span<byte> span = output.GetSpan(value.Length);
            Encoding.Latin1.GetBytes(value, span);
            output.Advance(value.Length);
        }
    }
}

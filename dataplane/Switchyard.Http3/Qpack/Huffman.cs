namespace Switchyard.Http3.Qpack;

/// <summary>
/// The static Huffman code of HPACK (RFC 7541 Appendix B), which QPACK reuses for string literals (RFC 9204 §4.1.2).
/// The code is canonical: symbols sorted by (code length, symbol) take consecutive codes, so the table is stored as
/// code lengths alone and the codes are derived once.
/// </summary>
internal static class Huffman
{
    /// <summary>The end-of-string symbol; it must never appear decoded (RFC 7541 §5.2).</summary>
    public const int Eos = 256;

    // Code length in bits of each symbol 0..256 (RFC 7541 Appendix B, column "len").
    private static readonly byte[] Lengths = [13,23,28,28,28,28,28,28,28,24,30,28,28,30,28,28,28,28,28,28,28,28,30,28,28,28,28,28,28,28,28,28,6,10,10,12,13,6,8,11,10,10,8,11,8,6,6,6,5,5,5,6,6,6,6,6,6,6,7,8,15,6,12,10,13,6,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,8,7,8,13,19,13,14,6,15,5,6,5,6,5,6,6,6,5,7,7,6,6,6,5,6,7,6,5,5,6,7,7,7,7,7,15,11,14,13,28,20,22,20,20,22,22,22,23,22,23,23,23,23,23,24,23,24,24,22,23,24,23,23,23,23,21,22,23,22,23,23,24,22,21,20,22,22,23,23,21,23,22,22,24,21,22,23,23,21,21,22,21,23,22,23,23,20,22,22,22,23,22,22,23,26,26,20,19,22,23,22,25,26,26,26,27,27,26,24,25,19,21,26,27,27,26,27,24,21,21,26,26,28,27,27,27,20,24,20,21,22,21,21,23,22,22,25,25,24,24,26,23,26,27,26,26,27,27,27,27,27,28,27,27,27,27,27,26,30];

    private static readonly uint[] Codes = new uint[257];

    // Canonical decoding tables: for each length, the first code, how many codes, and where they start in SortedSymbols.
    private static readonly uint[] FirstCode = new uint[31];
    private static readonly int[] CountAtLength = new int[31];
    private static readonly int[] OffsetAtLength = new int[31];
    private static readonly short[] SortedSymbols = new short[257];

    static Huffman()
    {
        int[] order = Enumerable.Range(0, 257).OrderBy(s => Lengths[s]).ThenBy(s => s).ToArray();
        uint code = 0;
        int previousLength = Lengths[order[0]];
        for (int i = 0; i < order.Length; i++)
        {
            int symbol = order[i];
            int length = Lengths[symbol];
            if (i > 0)
            {
                code = (code + 1) << (length - previousLength);
            }

            previousLength = length;
            Codes[symbol] = code;
            SortedSymbols[i] = (short)symbol;
            if (CountAtLength[length] == 0)
            {
                FirstCode[length] = code;
                OffsetAtLength[length] = i;
            }

            CountAtLength[length]++;
        }
    }

    /// <summary>The number of bytes <paramref name="source"/> takes once encoded.</summary>
    public static int GetEncodedLength(ReadOnlySpan<char> source)
    {
        long bits = 0;
        foreach (char c in source)
        {
            bits += Lengths[(byte)c];
        }

        return (int)((bits + 7) / 8);
    }

    /// <summary>Encodes octets (Latin-1 characters) and pads the last byte with the EOS prefix (all ones), RFC 7541 §5.2.</summary>
    /// <returns>The bytes written.</returns>
    public static int Encode(ReadOnlySpan<char> source, Span<byte> destination)
    {
        ulong accumulator = 0;
        int bitCount = 0;
        int written = 0;
        foreach (char c in source)
        {
            int symbol = (byte)c;
            accumulator = (accumulator << Lengths[symbol]) | Codes[symbol];
            bitCount += Lengths[symbol];
            while (bitCount >= 8)
            {
                bitCount -= 8;
                destination[written++] = (byte)(accumulator >> bitCount);
            }
        }

        if (bitCount > 0)
        {
            destination[written++] = (byte)((accumulator << (8 - bitCount)) | (0xffu >> bitCount));
        }

        return written;
    }

    /// <summary>
    /// Decodes a Huffman-coded string literal into <paramref name="destination"/> (one char per octet).
    /// </summary>
    /// <returns>The characters written, or -1 when the output would not fit <paramref name="destination"/>.</returns>
    /// <exception cref="Http3ConnectionException">
    /// QPACK_DECOMPRESSION_FAILED (or <paramref name="errorCode"/>) for padding longer than 7 bits, padding that is not
    /// the EOS prefix, or a decoded EOS (RFC 7541 §5.2).
    /// </exception>
    public static int Decode(ReadOnlySpan<byte> source, Span<char> destination, Http3ErrorCode errorCode = Http3ErrorCode.QpackDecompressionFailed)
    {
        uint code = 0;
        int length = 0;
        int written = 0;
        foreach (byte b in source)
        {
            for (int bit = 7; bit >= 0; bit--)
            {
                code = (code << 1) | (uint)((b >> bit) & 1);
                length++;
                if (length > 30)
                {
                    throw new Http3ConnectionException(errorCode, "Invalid Huffman code (RFC 7541 §5.2).");
                }

                int count = CountAtLength[length];
                if (count != 0 && code - FirstCode[length] < (uint)count && code >= FirstCode[length])
                {
                    int symbol = SortedSymbols[OffsetAtLength[length] + (int)(code - FirstCode[length])];
                    if (symbol == Eos)
                    {
                        throw new Http3ConnectionException(errorCode, "A Huffman-coded string contains EOS (RFC 7541 §5.2).");
                    }

                    if (written == destination.Length)
                    {
                        return -1;
                    }

                    destination[written++] = (char)symbol;
                    code = 0;
                    length = 0;
                }
            }
        }

        // What is left must be padding: at most 7 bits, all ones (the most significant bits of EOS).
        if (length > 7)
        {
            throw new Http3ConnectionException(errorCode, "Huffman padding longer than 7 bits (RFC 7541 §5.2).");
        }

        if (code != (1u << length) - 1)
        {
            throw new Http3ConnectionException(errorCode, "Huffman padding does not match the EOS prefix (RFC 7541 §5.2).");
        }

        return written;
    }
}

namespace Switchyard.Interop.Tests.Support;

/// <summary>What the long-header packets of one UDP datagram are (RFC 9000 §17.2), read without keys.</summary>
[Flags]
internal enum DatagramKinds
{
    None = 0,
    Initial = 1,
    InitialWithToken = 2,
    Handshake = 4,
    Retry = 8,
    ZeroRtt = 16,
    ShortHeader = 32,
}

/// <summary>
/// Walks the coalesced packets of a QUIC v1 datagram far enough to name their types and see whether an Initial carries
/// a token. It needs no keys: the long header's type bits, lengths and token length are not protected (RFC 9001 §5.4).
/// </summary>
internal static class QuicDatagramInspector
{
    public static DatagramKinds Inspect(ReadOnlySpan<byte> datagram)
    {
        var kinds = DatagramKinds.None;
        while (!datagram.IsEmpty)
        {
            var first = datagram[0];
            if ((first & 0x80) == 0)
            {
                // A short-header packet runs to the end of the datagram (RFC 9000 §12.2).
                return kinds | DatagramKinds.ShortHeader;
            }

            if (datagram.Length < 7 || (datagram[1] | datagram[2] | datagram[3] | datagram[4]) == 0)
            {
                // Truncated, or Version Negotiation (version 0): nothing more to name.
                return kinds;
            }

            var offset = 5;
            if (!SkipConnectionId(datagram, ref offset) || !SkipConnectionId(datagram, ref offset))
            {
                return kinds;
            }

            var type = (first >> 4) & 0x3;
            if (type == 3)
            {
                // Retry: no Length field; it fills the rest of the datagram (RFC 9000 §17.2.5).
                return kinds | DatagramKinds.Retry;
            }

            if (type == 0)
            {
                if (!TryReadVarint(datagram, ref offset, out var tokenLength) || tokenLength > datagram.Length - offset)
                {
                    return kinds;
                }

                kinds |= tokenLength > 0 ? DatagramKinds.Initial | DatagramKinds.InitialWithToken : DatagramKinds.Initial;
                offset += (int)tokenLength;
            }
            else
            {
                kinds |= type == 1 ? DatagramKinds.ZeroRtt : DatagramKinds.Handshake;
            }

            if (!TryReadVarint(datagram, ref offset, out var length) || length > datagram.Length - offset)
            {
                return kinds;
            }

            datagram = datagram[(offset + (int)length)..];
        }

        return kinds;
    }

    private static bool SkipConnectionId(ReadOnlySpan<byte> datagram, ref int offset)
    {
        if (offset >= datagram.Length)
        {
            return false;
        }

        var length = datagram[offset];
        offset += 1 + length;
        return length <= 20 && offset <= datagram.Length;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> data, ref int offset, out long value)
    {
        value = 0;
        if (offset >= data.Length)
        {
            return false;
        }

        var length = 1 << (data[offset] >> 6);
        if (offset + length > data.Length)
        {
            return false;
        }

        value = data[offset] & 0x3f;
        for (var i = 1; i < length; i++)
        {
            value = (value << 8) | data[offset + i];
        }

        offset += length;
        return true;
    }
}

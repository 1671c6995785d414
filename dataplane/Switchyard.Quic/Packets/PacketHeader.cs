using System.Buffers.Binary;

namespace Switchyard.Quic.Packets;

/// <summary>The packet types of RFC 9000 §17.</summary>
internal enum PacketType
{
    Initial = 0,
    ZeroRtt = 1,
    Handshake = 2,
    Retry = 3,
    VersionNegotiation = 4,
    OneRtt = 5,
}

/// <summary>
/// The header fields readable before header protection is removed (RFC 9000 §17.2, §17.3), as offsets into
/// the datagram so that parsing allocates nothing.
/// </summary>
internal readonly struct PacketHeader
{
    /// <summary>QUIC version 1 (RFC 9000 §15).</summary>
    public const uint Version1 = 1;

    /// <summary>The longest connection ID version 1 allows (RFC 9000 §17.2).</summary>
    public const int MaxConnectionIdLength = 20;

    public PacketType Type { get; init; }

    public uint Version { get; init; }

    public int DestinationCidOffset { get; init; }

    public int DestinationCidLength { get; init; }

    public int SourceCidOffset { get; init; }

    public int SourceCidLength { get; init; }

    public int TokenOffset { get; init; }

    public int TokenLength { get; init; }

    /// <summary>Where the (protected) packet number starts.</summary>
    public int PacketNumberOffset { get; init; }

    /// <summary>Bytes of this packet in the datagram, from its first byte: the next coalesced packet starts here.</summary>
    public int PacketLength { get; init; }

    public bool IsLongHeader => Type != PacketType.OneRtt;

    /// <summary>
    /// Parses the header of the packet at the start of <paramref name="packet"/>. Returns false for anything that
    /// must be dropped (RFC 9000 §5.2: malformed packets are discarded, not answered).
    /// </summary>
    /// <param name="packet">The datagram from this packet on.</param>
    /// <param name="shortHeaderCidLength">The length of our connection IDs, for short headers (RFC 9000 §17.3).</param>
    /// <param name="header">The parsed header.</param>
    public static bool TryParse(ReadOnlySpan<byte> packet, int shortHeaderCidLength, out PacketHeader header)
    {
        header = default;
        if (packet.IsEmpty)
        {
            return false;
        }

        var first = packet[0];
        if ((first & 0x80) == 0)
        {
            // Short header (RFC 9000 §17.3.1): the fixed bit must be set.
            if ((first & 0x40) == 0 || packet.Length < 1 + shortHeaderCidLength + 1)
            {
                return false;
            }

            header = new PacketHeader
            {
                Type = PacketType.OneRtt,
                Version = Version1,
                DestinationCidOffset = 1,
                DestinationCidLength = shortHeaderCidLength,
                PacketNumberOffset = 1 + shortHeaderCidLength,
                PacketLength = packet.Length,
            };
            return true;
        }

        // Long header (RFC 9000 §17.2).
        var reader = new QuicReader(packet);
        reader.Advance(1);
        if (!reader.TryReadUInt32(out var version) || !reader.TryReadByte(out var dcidLength))
        {
            return false;
        }

        var dcidOffset = reader.Position;
        if (!reader.TryReadBytes(dcidLength, out _) || !reader.TryReadByte(out var scidLength))
        {
            return false;
        }

        var scidOffset = reader.Position;
        if (!reader.TryReadBytes(scidLength, out _))
        {
            return false;
        }

        if (version == 0)
        {
            // Version Negotiation (RFC 9000 §17.2.1): the rest is a list of 32-bit versions.
            header = new PacketHeader
            {
                Type = PacketType.VersionNegotiation,
                DestinationCidOffset = dcidOffset,
                DestinationCidLength = dcidLength,
                SourceCidOffset = scidOffset,
                SourceCidLength = scidLength,
                PacketNumberOffset = reader.Position,
                PacketLength = packet.Length,
            };
            return true;
        }

        if (version != Version1)
        {
            // Unknown version: only the invariant fields are meaningful (RFC 8999 §5.1); the caller may negotiate.
            header = new PacketHeader
            {
                Type = PacketType.Initial,
                Version = version,
                DestinationCidOffset = dcidOffset,
                DestinationCidLength = dcidLength,
                SourceCidOffset = scidOffset,
                SourceCidLength = scidLength,
                PacketLength = packet.Length,
            };
            return true;
        }

        if (dcidLength > MaxConnectionIdLength || scidLength > MaxConnectionIdLength || (first & 0x40) == 0)
        {
            return false;
        }

        var type = (PacketType)((first >> 4) & 0x3);
        var tokenOffset = 0;
        var tokenLength = 0;
        if (type == PacketType.Retry)
        {
            // Retry (RFC 9000 §17.2.5): token then a 16-byte integrity tag.
            if (reader.Remaining < 16)
            {
                return false;
            }

            header = new PacketHeader
            {
                Type = PacketType.Retry,
                Version = version,
                DestinationCidOffset = dcidOffset,
                DestinationCidLength = dcidLength,
                SourceCidOffset = scidOffset,
                SourceCidLength = scidLength,
                TokenOffset = reader.Position,
                TokenLength = reader.Remaining - 16,
                PacketLength = packet.Length,
            };
            return true;
        }

        if (type == PacketType.Initial)
        {
            if (!reader.TryReadVarInt(out var tokenLen) || tokenLen > reader.Remaining)
            {
                return false;
            }

            tokenOffset = reader.Position;
            tokenLength = (int)tokenLen;
            reader.Advance(tokenLength);
        }

        if (!reader.TryReadVarInt(out var length) || length > reader.Remaining || length < 1)
        {
            return false;
        }

        header = new PacketHeader
        {
            Type = type,
            Version = version,
            DestinationCidOffset = dcidOffset,
            DestinationCidLength = dcidLength,
            SourceCidOffset = scidOffset,
            SourceCidLength = scidLength,
            TokenOffset = tokenOffset,
            TokenLength = tokenLength,
            PacketNumberOffset = reader.Position,
            PacketLength = reader.Position + (int)length,
        };
        return true;
    }

    /// <summary>
    /// Writes a Version Negotiation packet (RFC 9000 §17.2.1) answering a packet whose connection IDs are given:
    /// the IDs are echoed swapped, as §6.1 requires.
    /// </summary>
    public static int WriteVersionNegotiation(
        Span<byte> destination, byte randomByte, ReadOnlySpan<byte> peerSourceCid, ReadOnlySpan<byte> peerDestinationCid, ReadOnlySpan<uint> versions)
    {
        var writer = new QuicWriter(destination);
        writer.WriteByte((byte)(0x80 | (randomByte & 0x7f)));
        writer.WriteUInt32(0);
        writer.WriteByte((byte)peerSourceCid.Length);
        writer.WriteBytes(peerSourceCid);
        writer.WriteByte((byte)peerDestinationCid.Length);
        writer.WriteBytes(peerDestinationCid);
        foreach (var version in versions)
        {
            writer.WriteUInt32(version);
        }

        return writer.Position;
    }

    /// <summary>True when the Version Negotiation packet lists <paramref name="version"/>.</summary>
    public static bool VersionNegotiationLists(ReadOnlySpan<byte> packet, in PacketHeader header, uint version)
    {
        var list = packet[header.PacketNumberOffset..header.PacketLength];
        for (var i = 0; i + 4 <= list.Length; i += 4)
        {
            if (BinaryPrimitives.ReadUInt32BigEndian(list[i..]) == version)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Writes the long header up to (not including) the packet number (RFC 9000 §17.2). The Length field is
    /// written as a two-byte varint placeholder at the returned <paramref name="lengthOffset"/>, patched once the
    /// payload size is known.
    /// </summary>
    public static int WriteLongHeader(
        Span<byte> destination,
        PacketType type,
        int packetNumberLength,
        ReadOnlySpan<byte> destinationCid,
        ReadOnlySpan<byte> sourceCid,
        ReadOnlySpan<byte> token,
        out int lengthOffset)
    {
        var writer = new QuicWriter(destination);
        writer.WriteByte((byte)(0xc0 | ((int)type << 4) | (packetNumberLength - 1)));
        writer.WriteUInt32(Version1);
        writer.WriteByte((byte)destinationCid.Length);
        writer.WriteBytes(destinationCid);
        writer.WriteByte((byte)sourceCid.Length);
        writer.WriteBytes(sourceCid);
        if (type == PacketType.Initial)
        {
            writer.WriteVarInt(token.Length);
            writer.WriteBytes(token);
        }

        lengthOffset = writer.Position;
        writer.Advance(2);
        return writer.Position;
    }

    /// <summary>Writes a short header up to the packet number (RFC 9000 §17.3.1).</summary>
    public static int WriteShortHeader(Span<byte> destination, bool keyPhase, int packetNumberLength, ReadOnlySpan<byte> destinationCid)
    {
        destination[0] = (byte)(0x40 | (keyPhase ? 0x04 : 0) | (packetNumberLength - 1));
        destinationCid.CopyTo(destination[1..]);
        return 1 + destinationCid.Length;
    }
}

/// <summary>Packet number encoding and decoding (RFC 9000 §17.1, Appendix A).</summary>
internal static class PacketNumber
{
    /// <summary>
    /// The number of bytes to encode <paramref name="fullPacketNumber"/> with, given the largest packet number the
    /// peer acknowledged (or -1), so that the peer can decode it (RFC 9000 Appendix A.2).
    /// </summary>
    public static int GetEncodedLength(long fullPacketNumber, long largestAcked)
    {
        var unacked = largestAcked < 0 ? fullPacketNumber + 1 : fullPacketNumber - largestAcked;
        var minBits = 64 - long.LeadingZeroCount(unacked) + 1;
        var bytes = (int)((minBits + 7) / 8);
        return Math.Clamp(bytes, 1, 4);
    }

    /// <summary>Writes the low <paramref name="length"/> bytes of the packet number.</summary>
    public static void Write(Span<byte> destination, long packetNumber, int length)
    {
        for (var i = 0; i < length; i++)
        {
            destination[i] = (byte)(packetNumber >> (8 * (length - 1 - i)));
        }
    }

    /// <summary>Recovers the full packet number from its truncated form (RFC 9000 Appendix A.3).</summary>
    public static long Decode(long largestReceived, long truncated, int lengthBits)
    {
        var expected = largestReceived + 1;
        var window = 1L << lengthBits;
        var halfWindow = window / 2;
        var mask = window - 1;
        var candidate = (expected & ~mask) | truncated;
        if (candidate <= expected - halfWindow && candidate < (1L << 62) - window)
        {
            return candidate + window;
        }

        if (candidate > expected + halfWindow && candidate >= window)
        {
            return candidate - window;
        }

        return candidate;
    }
}

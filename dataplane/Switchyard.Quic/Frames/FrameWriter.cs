using Switchyard.Quic.Packets;

namespace Switchyard.Quic.Frames;

/// <summary>Writes frames (RFC 9000 §19). Callers check <see cref="QuicWriter.Remaining"/> first.</summary>
internal static class FrameWriter
{
    public static void WritePing(ref QuicWriter writer) => writer.WriteByte((byte)FrameType.Ping);

    public static void WriteHandshakeDone(ref QuicWriter writer) => writer.WriteByte((byte)FrameType.HandshakeDone);

    public static void WritePadding(ref QuicWriter writer, int count)
    {
        writer.Buffer.Slice(writer.Position, count).Clear();
        writer.Advance(count);
    }

    /// <summary>Writes an ACK frame from ranges given largest first (RFC 9000 §19.3).</summary>
    public static void WriteAck(ref QuicWriter writer, long ackDelay, ReadOnlySpan<AckRangeValue> descending)
    {
        writer.WriteByte((byte)FrameType.Ack);
        writer.WriteVarInt(descending[0].Largest);
        writer.WriteVarInt(ackDelay);
        writer.WriteVarInt(descending.Length - 1);
        writer.WriteVarInt(descending[0].Largest - descending[0].Smallest);
        for (var i = 1; i < descending.Length; i++)
        {
            writer.WriteVarInt(descending[i - 1].Smallest - descending[i].Largest - 2);
            writer.WriteVarInt(descending[i].Largest - descending[i].Smallest);
        }
    }

    /// <summary>The size of the ACK frame <see cref="WriteAck"/> would write.</summary>
    public static int GetAckLength(long ackDelay, ReadOnlySpan<AckRangeValue> descending)
    {
        var length = 1 + VarInt.GetLength(descending[0].Largest) + VarInt.GetLength(ackDelay) + VarInt.GetLength(descending.Length - 1)
            + VarInt.GetLength(descending[0].Largest - descending[0].Smallest);
        for (var i = 1; i < descending.Length; i++)
        {
            length += VarInt.GetLength(descending[i - 1].Smallest - descending[i].Largest - 2) + VarInt.GetLength(descending[i].Largest - descending[i].Smallest);
        }

        return length;
    }

    public static void WriteResetStream(ref QuicWriter writer, long streamId, long errorCode, long finalSize)
    {
        writer.WriteByte((byte)FrameType.ResetStream);
        writer.WriteVarInt(streamId);
        writer.WriteVarInt(errorCode);
        writer.WriteVarInt(finalSize);
    }

    public static void WriteStopSending(ref QuicWriter writer, long streamId, long errorCode)
    {
        writer.WriteByte((byte)FrameType.StopSending);
        writer.WriteVarInt(streamId);
        writer.WriteVarInt(errorCode);
    }

    /// <summary>Header bytes of a CRYPTO frame before its data.</summary>
    public static int GetCryptoHeaderLength(long offset, int length) => 1 + VarInt.GetLength(offset) + VarInt.GetLength(length);

    public static void WriteCrypto(ref QuicWriter writer, long offset, scoped ReadOnlySpan<byte> data)
    {
        writer.WriteByte((byte)FrameType.Crypto);
        writer.WriteVarInt(offset);
        writer.WriteVarInt(data.Length);
        writer.WriteBytes(data);
    }

    public static void WriteNewToken(ref QuicWriter writer, scoped ReadOnlySpan<byte> token)
    {
        writer.WriteByte((byte)FrameType.NewToken);
        writer.WriteVarInt(token.Length);
        writer.WriteBytes(token);
    }

    /// <summary>Header bytes of a STREAM frame carrying an explicit offset and length.</summary>
    public static int GetStreamHeaderLength(long streamId, long offset, int length) =>
        1 + VarInt.GetLength(streamId) + (offset == 0 ? 0 : VarInt.GetLength(offset)) + VarInt.GetLength(length);

    public static void WriteStream(ref QuicWriter writer, long streamId, long offset, scoped ReadOnlySpan<byte> data, bool fin)
    {
        var type = FrameType.Stream | 0x02L | (offset != 0 ? 0x04L : 0L) | (fin ? 0x01L : 0L);
        writer.WriteByte((byte)type);
        writer.WriteVarInt(streamId);
        if (offset != 0)
        {
            writer.WriteVarInt(offset);
        }

        writer.WriteVarInt(data.Length);
        writer.WriteBytes(data);
    }

    public static void WriteMaxData(ref QuicWriter writer, long maximum)
    {
        writer.WriteByte((byte)FrameType.MaxData);
        writer.WriteVarInt(maximum);
    }

    public static void WriteMaxStreamData(ref QuicWriter writer, long streamId, long maximum)
    {
        writer.WriteByte((byte)FrameType.MaxStreamData);
        writer.WriteVarInt(streamId);
        writer.WriteVarInt(maximum);
    }

    public static void WriteMaxStreams(ref QuicWriter writer, bool bidirectional, long maximum)
    {
        writer.WriteByte((byte)(bidirectional ? FrameType.MaxStreamsBidi : FrameType.MaxStreamsUni));
        writer.WriteVarInt(maximum);
    }

    public static void WriteDataBlocked(ref QuicWriter writer, long maximum)
    {
        writer.WriteByte((byte)FrameType.DataBlocked);
        writer.WriteVarInt(maximum);
    }

    public static void WriteStreamDataBlocked(ref QuicWriter writer, long streamId, long maximum)
    {
        writer.WriteByte((byte)FrameType.StreamDataBlocked);
        writer.WriteVarInt(streamId);
        writer.WriteVarInt(maximum);
    }

    public static void WriteStreamsBlocked(ref QuicWriter writer, bool bidirectional, long maximum)
    {
        writer.WriteByte((byte)(bidirectional ? FrameType.StreamsBlockedBidi : FrameType.StreamsBlockedUni));
        writer.WriteVarInt(maximum);
    }

    public static void WriteNewConnectionId(ref QuicWriter writer, long sequence, long retirePriorTo, scoped ReadOnlySpan<byte> connectionId, scoped ReadOnlySpan<byte> resetToken)
    {
        writer.WriteByte((byte)FrameType.NewConnectionId);
        writer.WriteVarInt(sequence);
        writer.WriteVarInt(retirePriorTo);
        writer.WriteByte((byte)connectionId.Length);
        writer.WriteBytes(connectionId);
        writer.WriteBytes(resetToken);
    }

    public static void WriteRetireConnectionId(ref QuicWriter writer, long sequence)
    {
        writer.WriteByte((byte)FrameType.RetireConnectionId);
        writer.WriteVarInt(sequence);
    }

    public static void WritePathChallenge(ref QuicWriter writer, scoped ReadOnlySpan<byte> data, bool response)
    {
        writer.WriteByte((byte)(response ? FrameType.PathResponse : FrameType.PathChallenge));
        writer.WriteBytes(data[..8]);
    }

    public static void WriteConnectionClose(ref QuicWriter writer, bool application, long errorCode, long frameType, scoped ReadOnlySpan<byte> reason)
    {
        writer.WriteByte((byte)(application ? FrameType.ConnectionCloseApplication : FrameType.ConnectionCloseTransport));
        writer.WriteVarInt(errorCode);
        if (!application)
        {
            writer.WriteVarInt(frameType);
        }

        writer.WriteVarInt(reason.Length);
        writer.WriteBytes(reason);
    }

    public static void WriteDatagram(ref QuicWriter writer, scoped ReadOnlySpan<byte> data)
    {
        writer.WriteByte((byte)FrameType.DatagramWithLength);
        writer.WriteVarInt(data.Length);
        writer.WriteBytes(data);
    }
}

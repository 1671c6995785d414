using Switchyard.Quic.Packets;

namespace Switchyard.Quic.Frames;

/// <summary>
/// Parses the frames of a decrypted packet payload (RFC 9000 §12.4, §19). A packet's payload is complete, so a
/// frame cut short is FRAME_ENCODING_ERROR, never "wait for more".
/// </summary>
internal static class FrameParser
{
    /// <summary>
    /// Reads the next frame. Returns false at the end of the payload. Consecutive PADDING bytes are folded into one
    /// frame.
    /// </summary>
    /// <exception cref="QuicTransportErrorException">The frame is malformed; the message cites the RFC section.</exception>
    public static bool TryReadFrame(scoped ref QuicReader reader, out Frame frame)
    {
        frame = default;
        if (reader.End)
        {
            return false;
        }

        var typeStart = reader.Position;
        if (!reader.TryReadVarInt(out var type))
        {
            throw Encoding(0, "truncated frame type (RFC 9000 §12.4)");
        }

        // A frame type must use the shortest encoding (RFC 9000 §12.4).
        if (reader.Position - typeStart != VarInt.GetLength(type))
        {
            throw new QuicTransportErrorException(TransportErrorCode.ProtocolViolation, type, "frame type not minimally encoded (RFC 9000 §12.4)");
        }

        frame.Type = type;
        switch (type)
        {
            case FrameType.Padding:
                while (!reader.End && reader.RemainingSpan[0] == 0)
                {
                    reader.Advance(1);
                }

                return true;
            case FrameType.Ping:
            case FrameType.HandshakeDone:
                return true;
            case FrameType.Ack:
            case FrameType.AckEcn:
                frame.AckRangeBytes = ReadAck(ref reader, type, out frame.LargestAcknowledged, out frame.AckDelay, out frame.AckRangeCount, out frame.FirstAckRange);
                frame.HasEcnCounts = type == FrameType.AckEcn;
                return true;
            case FrameType.ResetStream:
                frame.StreamId = ReadStreamId(ref reader, type);
                frame.ErrorCode = Read(ref reader, type, "RESET_STREAM (RFC 9000 §19.4)");
                frame.FinalSize = Read(ref reader, type, "RESET_STREAM (RFC 9000 §19.4)");
                return true;
            case FrameType.StopSending:
                frame.StreamId = ReadStreamId(ref reader, type);
                frame.ErrorCode = Read(ref reader, type, "STOP_SENDING (RFC 9000 §19.5)");
                return true;
            case FrameType.Crypto:
            {
                frame.Offset = Read(ref reader, type, "CRYPTO (RFC 9000 §19.6)");
                var length = Read(ref reader, type, "CRYPTO (RFC 9000 §19.6)");
                if (!reader.TryReadBytes(length, out frame.Data))
                {
                    throw Encoding(type, "CRYPTO data longer than the packet (RFC 9000 §19.6)");
                }

                if (frame.Offset + length > VarInt.MaxValue)
                {
                    throw new QuicTransportErrorException(TransportErrorCode.FrameEncodingError, type, "CRYPTO offset + length exceeds 2^62-1 (RFC 9000 §19.6)");
                }

                return true;
            }

            case FrameType.NewToken:
            {
                var length = Read(ref reader, type, "NEW_TOKEN (RFC 9000 §19.7)");
                if (length == 0)
                {
                    throw Encoding(type, "empty NEW_TOKEN token (RFC 9000 §19.7)");
                }

                if (!reader.TryReadBytes(length, out frame.Data))
                {
                    throw Encoding(type, "NEW_TOKEN token longer than the packet (RFC 9000 §19.7)");
                }

                return true;
            }

            case >= FrameType.Stream and <= FrameType.StreamMax:
            {
                frame.StreamId = ReadStreamId(ref reader, type);
                frame.Offset = (type & 0x04) != 0 ? Read(ref reader, type, "STREAM (RFC 9000 §19.8)") : 0;
                long length;
                if ((type & 0x02) != 0)
                {
                    length = Read(ref reader, type, "STREAM (RFC 9000 §19.8)");
                }
                else
                {
                    length = reader.Remaining;
                }

                if (!reader.TryReadBytes(length, out frame.Data))
                {
                    throw Encoding(type, "STREAM data longer than the packet (RFC 9000 §19.8)");
                }

                frame.Fin = (type & 0x01) != 0;
                if (frame.Offset + length > VarInt.MaxValue)
                {
                    throw Encoding(type, "STREAM offset + length exceeds 2^62-1 (RFC 9000 §19.8)");
                }

                return true;
            }

            case FrameType.MaxData:
            case FrameType.DataBlocked:
                frame.Maximum = Read(ref reader, type, "MAX_DATA/DATA_BLOCKED (RFC 9000 §19.9, §19.12)");
                return true;
            case FrameType.MaxStreamData:
            case FrameType.StreamDataBlocked:
                frame.StreamId = ReadStreamId(ref reader, type);
                frame.Maximum = Read(ref reader, type, "MAX_STREAM_DATA/STREAM_DATA_BLOCKED (RFC 9000 §19.10, §19.13)");
                return true;
            case FrameType.MaxStreamsBidi:
            case FrameType.MaxStreamsUni:
            case FrameType.StreamsBlockedBidi:
            case FrameType.StreamsBlockedUni:
                frame.Maximum = Read(ref reader, type, "MAX_STREAMS/STREAMS_BLOCKED (RFC 9000 §19.11, §19.14)");
                if (frame.Maximum > 1L << 60)
                {
                    throw Encoding(type, "stream count above 2^60 (RFC 9000 §19.11, §19.14)");
                }

                return true;
            case FrameType.NewConnectionId:
            {
                frame.SequenceNumber = Read(ref reader, type, "NEW_CONNECTION_ID (RFC 9000 §19.15)");
                frame.RetirePriorTo = Read(ref reader, type, "NEW_CONNECTION_ID (RFC 9000 §19.15)");
                if (!reader.TryReadByte(out var length))
                {
                    throw Encoding(type, "truncated NEW_CONNECTION_ID (RFC 9000 §19.15)");
                }

                if (length is 0 or > PacketHeader.MaxConnectionIdLength)
                {
                    throw Encoding(type, "NEW_CONNECTION_ID length must be 1..20 (RFC 9000 §19.15)");
                }

                if (!reader.TryReadBytes(length, out frame.ConnectionId) || !reader.TryReadBytes(16, out frame.StatelessResetToken))
                {
                    throw Encoding(type, "truncated NEW_CONNECTION_ID (RFC 9000 §19.15)");
                }

                if (frame.RetirePriorTo > frame.SequenceNumber)
                {
                    throw Encoding(type, "Retire Prior To greater than Sequence Number (RFC 9000 §19.15)");
                }

                return true;
            }

            case FrameType.RetireConnectionId:
                frame.SequenceNumber = Read(ref reader, type, "RETIRE_CONNECTION_ID (RFC 9000 §19.16)");
                return true;
            case FrameType.PathChallenge:
            case FrameType.PathResponse:
                if (!reader.TryReadBytes(8, out frame.Data))
                {
                    throw Encoding(type, "PATH_CHALLENGE/PATH_RESPONSE needs 8 bytes (RFC 9000 §19.17, §19.18)");
                }

                return true;
            case FrameType.ConnectionCloseTransport:
            case FrameType.ConnectionCloseApplication:
            {
                frame.ErrorCode = Read(ref reader, type, "CONNECTION_CLOSE (RFC 9000 §19.19)");
                if (type == FrameType.ConnectionCloseTransport)
                {
                    frame.TriggeringFrameType = Read(ref reader, type, "CONNECTION_CLOSE (RFC 9000 §19.19)");
                }

                var length = Read(ref reader, type, "CONNECTION_CLOSE (RFC 9000 §19.19)");
                if (!reader.TryReadBytes(length, out frame.ReasonPhrase))
                {
                    throw Encoding(type, "CONNECTION_CLOSE reason longer than the packet (RFC 9000 §19.19)");
                }

                return true;
            }

            case FrameType.Datagram:
                frame.Data = reader.RemainingSpan;
                reader.Advance(frame.Data.Length);
                return true;
            case FrameType.DatagramWithLength:
            {
                var length = Read(ref reader, type, "DATAGRAM (RFC 9221 §4)");
                if (!reader.TryReadBytes(length, out frame.Data))
                {
                    throw Encoding(type, "DATAGRAM data longer than the packet (RFC 9221 §4)");
                }

                return true;
            }

            default:
                throw Encoding(type, $"unknown frame type 0x{type:x} (RFC 9000 §12.4)");
        }
    }

    /// <summary>True for frames that make a packet ack-eliciting (RFC 9002 §2): all but ACK, PADDING and CONNECTION_CLOSE.</summary>
    public static bool IsAckEliciting(long type) =>
        type is not (FrameType.Ack or FrameType.AckEcn or FrameType.Padding or FrameType.ConnectionCloseTransport or FrameType.ConnectionCloseApplication);

    /// <summary>
    /// Checks that the frame may appear in a packet of <paramref name="packetType"/> (RFC 9000 §12.4, Table 3).
    /// </summary>
    public static void CheckAllowed(long type, PacketType packetType)
    {
        var allowed = packetType switch
        {
            // Initial and Handshake: PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE 0x1c only.
            PacketType.Initial or PacketType.Handshake => type is FrameType.Padding or FrameType.Ping or FrameType.Ack or FrameType.AckEcn
                or FrameType.Crypto or FrameType.ConnectionCloseTransport,
            PacketType.ZeroRtt => type is not (FrameType.Ack or FrameType.AckEcn or FrameType.Crypto or FrameType.HandshakeDone
                or FrameType.NewToken or FrameType.PathResponse or FrameType.RetireConnectionId),
            _ => true,
        };
        if (!allowed)
        {
            throw new QuicTransportErrorException(TransportErrorCode.ProtocolViolation, type, $"frame 0x{type:x} not allowed in a {packetType} packet (RFC 9000 §12.4)");
        }
    }

    private static ReadOnlySpan<byte> ReadAck(scoped ref QuicReader reader, long type, out long largestAcknowledged, out long ackDelay, out long rangeCount, out long firstRange)
    {
        largestAcknowledged = Read(ref reader, type, "ACK (RFC 9000 §19.3)");
        ackDelay = Read(ref reader, type, "ACK (RFC 9000 §19.3)");
        rangeCount = Read(ref reader, type, "ACK (RFC 9000 §19.3)");
        firstRange = Read(ref reader, type, "ACK (RFC 9000 §19.3)");
        var smallest = largestAcknowledged - firstRange;
        if (smallest < 0)
        {
            throw Encoding(type, "ACK first range below packet number 0 (RFC 9000 §19.3.1)");
        }

        // Validate every range now, so the lazy enumerator can trust them; the loop is bounded by the bytes present.
        var rangesStart = reader.RemainingSpan;
        var start = reader.Position;
        for (long i = 0; i < rangeCount; i++)
        {
            var gap = Read(ref reader, type, "ACK range (RFC 9000 §19.3.1)");
            var length = Read(ref reader, type, "ACK range (RFC 9000 §19.3.1)");
            var largest = smallest - gap - 2;
            smallest = largest - length;
            if (largest < 0 || smallest < 0)
            {
                throw Encoding(type, "ACK range below packet number 0 (RFC 9000 §19.3.1)");
            }
        }

        var rangeBytes = rangesStart[..(reader.Position - start)];
        if (type == FrameType.AckEcn)
        {
            Read(ref reader, type, "ACK ECN counts (RFC 9000 §19.3.2)");
            Read(ref reader, type, "ACK ECN counts (RFC 9000 §19.3.2)");
            Read(ref reader, type, "ACK ECN counts (RFC 9000 §19.3.2)");
        }

        return rangeBytes;
    }

    private static long ReadStreamId(ref QuicReader reader, long type) => Read(ref reader, type, "stream ID (RFC 9000 §19)");

    private static long Read(ref QuicReader reader, long type, string what)
    {
        if (!reader.TryReadVarInt(out var value))
        {
            throw Encoding(type, "truncated " + what);
        }

        return value;
    }

    private static QuicTransportErrorException Encoding(long type, string message) =>
        new(TransportErrorCode.FrameEncodingError, type, message);
}

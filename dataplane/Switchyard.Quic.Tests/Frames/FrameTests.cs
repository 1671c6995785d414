using System.Diagnostics;
using Switchyard.Quic.Frames;
using Switchyard.Quic.Packets;
using Switchyard.Quic.Tests.Packets;

namespace Switchyard.Quic.Tests.Frames;

public class FrameTests
{
    private delegate void WriteFrame(ref QuicWriter writer);

    private static byte[] Build(WriteFrame write)
    {
        var buffer = new byte[256];
        var writer = new QuicWriter(buffer);
        write(ref writer);
        return writer.Written.ToArray();
    }

    private static Frame ReadOne(byte[] bytes, out int consumed)
    {
        var reader = new QuicReader(bytes);
        Assert.True(FrameParser.TryReadFrame(ref reader, out var frame));
        consumed = reader.Position;
        return frame;
    }

    [Fact]
    public void Ack_RoundTripsRanges()
    {
        var ranges = new AckRangeValue[] { new(90, 100), new(50, 60), new(0, 10) };
        var bytes = Build((ref QuicWriter w) => FrameWriter.WriteAck(ref w, 7, ranges));
        Assert.Equal(FrameWriter.GetAckLength(7, ranges), bytes.Length);
        var frame = ReadOne(bytes, out var consumed);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(100, frame.LargestAcknowledged);
        Assert.Equal(7, frame.AckDelay);
        var read = new List<AckRangeValue>();
        foreach (var range in frame.AckRanges)
        {
            read.Add(range);
        }

        Assert.Equal(ranges, read);
    }

    [Fact]
    public void Stream_RoundTripsOffsetDataAndFin()
    {
        var bytes = Build((ref QuicWriter w) => FrameWriter.WriteStream(ref w, 4, 1000, "hello"u8, fin: true));
        Assert.Equal(FrameWriter.GetStreamHeaderLength(4, 1000, 5) + 5, bytes.Length);
        var frame = ReadOne(bytes, out _);
        Assert.Equal(4, frame.StreamId);
        Assert.Equal(1000, frame.Offset);
        Assert.True(frame.Fin);
        Assert.Equal("hello"u8.ToArray(), frame.Data.ToArray());
    }

    [Fact]
    public void EveryWrittenFrame_ParsesToTheSameFields()
    {
        var token = new byte[16];
        var cases = new (WriteFrame Write, long Type)[]
        {
            ((ref QuicWriter w) => FrameWriter.WritePing(ref w), FrameType.Ping),
            ((ref QuicWriter w) => FrameWriter.WriteHandshakeDone(ref w), FrameType.HandshakeDone),
            ((ref QuicWriter w) => FrameWriter.WriteResetStream(ref w, 8, 9, 10), FrameType.ResetStream),
            ((ref QuicWriter w) => FrameWriter.WriteStopSending(ref w, 8, 9), FrameType.StopSending),
            ((ref QuicWriter w) => FrameWriter.WriteCrypto(ref w, 77, "abc"u8), FrameType.Crypto),
            ((ref QuicWriter w) => FrameWriter.WriteNewToken(ref w, "tok"u8), FrameType.NewToken),
            ((ref QuicWriter w) => FrameWriter.WriteMaxData(ref w, 1 << 30), FrameType.MaxData),
            ((ref QuicWriter w) => FrameWriter.WriteMaxStreamData(ref w, 8, 1 << 20), FrameType.MaxStreamData),
            ((ref QuicWriter w) => FrameWriter.WriteMaxStreams(ref w, true, 10), FrameType.MaxStreamsBidi),
            ((ref QuicWriter w) => FrameWriter.WriteMaxStreams(ref w, false, 10), FrameType.MaxStreamsUni),
            ((ref QuicWriter w) => FrameWriter.WriteDataBlocked(ref w, 5), FrameType.DataBlocked),
            ((ref QuicWriter w) => FrameWriter.WriteStreamDataBlocked(ref w, 8, 5), FrameType.StreamDataBlocked),
            ((ref QuicWriter w) => FrameWriter.WriteStreamsBlocked(ref w, true, 5), FrameType.StreamsBlockedBidi),
            ((ref QuicWriter w) => FrameWriter.WriteStreamsBlocked(ref w, false, 5), FrameType.StreamsBlockedUni),
            ((ref QuicWriter w) => FrameWriter.WriteNewConnectionId(ref w, 3, 1, [1, 2, 3, 4], token), FrameType.NewConnectionId),
            ((ref QuicWriter w) => FrameWriter.WriteRetireConnectionId(ref w, 2), FrameType.RetireConnectionId),
            ((ref QuicWriter w) => FrameWriter.WritePathChallenge(ref w, "12345678"u8, false), FrameType.PathChallenge),
            ((ref QuicWriter w) => FrameWriter.WritePathChallenge(ref w, "12345678"u8, true), FrameType.PathResponse),
            ((ref QuicWriter w) => FrameWriter.WriteConnectionClose(ref w, false, 0xa, 0x08, "bad"u8), FrameType.ConnectionCloseTransport),
            ((ref QuicWriter w) => FrameWriter.WriteConnectionClose(ref w, true, 0x101, 0, "bye"u8), FrameType.ConnectionCloseApplication),
            ((ref QuicWriter w) => FrameWriter.WriteDatagram(ref w, "dgram"u8), FrameType.DatagramWithLength),
        };
        foreach (var (write, type) in cases)
        {
            var bytes = Build(write);
            var frame = ReadOne(bytes, out var consumed);
            Assert.Equal(type, frame.Type);
            Assert.Equal(bytes.Length, consumed);
            switch (type)
            {
                case FrameType.ResetStream:
                    Assert.Equal((8L, 9L, 10L), (frame.StreamId, frame.ErrorCode, frame.FinalSize));
                    break;
                case FrameType.Crypto:
                    Assert.Equal(77, frame.Offset);
                    Assert.Equal("abc"u8.ToArray(), frame.Data.ToArray());
                    break;
                case FrameType.NewConnectionId:
                    Assert.Equal((3L, 1L), (frame.SequenceNumber, frame.RetirePriorTo));
                    Assert.Equal(new byte[] { 1, 2, 3, 4 }, frame.ConnectionId.ToArray());
                    break;
                case FrameType.ConnectionCloseTransport:
                    Assert.Equal((0xaL, 0x08L), (frame.ErrorCode, frame.TriggeringFrameType));
                    Assert.Equal("bad"u8.ToArray(), frame.ReasonPhrase.ToArray());
                    break;
                case FrameType.MaxStreamData:
                    Assert.Equal((8L, 1L << 20), (frame.StreamId, frame.Maximum));
                    break;
                case FrameType.DatagramWithLength:
                    Assert.Equal("dgram"u8.ToArray(), frame.Data.ToArray());
                    break;
                default:
                    break;
            }
        }
    }

    [Theory]
    // Unknown frame type 0x21 (§12.4).
    [InlineData("21", TransportErrorCode.FrameEncodingError)]
    // ACK whose first range goes below 0 (§19.3.1).
    [InlineData("0205000006", TransportErrorCode.FrameEncodingError)]
    // ACK with a gap below 0 (§19.3.1).
    [InlineData("020a00010105", TransportErrorCode.FrameEncodingError)]
    // STREAM length past the packet (§19.8).
    [InlineData("0a0405ab", TransportErrorCode.FrameEncodingError)]
    // Empty NEW_TOKEN (§19.7).
    [InlineData("0700", TransportErrorCode.FrameEncodingError)]
    // MAX_STREAMS above 2^60 (§19.11).
    [InlineData("12d000000000000001", TransportErrorCode.FrameEncodingError)]
    // NEW_CONNECTION_ID with length 0 (§19.15).
    [InlineData("18010000", TransportErrorCode.FrameEncodingError)]
    // NEW_CONNECTION_ID with retire_prior_to > sequence (§19.15).
    [InlineData("1801020101" + "00000000000000000000000000000000", TransportErrorCode.FrameEncodingError)]
    // PATH_CHALLENGE with 7 bytes (§19.17).
    [InlineData("1a01020304050607", TransportErrorCode.FrameEncodingError)]
    // PING type encoded in two bytes (§12.4).
    [InlineData("4001", TransportErrorCode.ProtocolViolation)]
    // STREAM offset + length above 2^62-1 (§19.8).
    [InlineData("0e00ffffffffffffffff0101", TransportErrorCode.FrameEncodingError)]
    public void Malformed_IsTypedTransportError(string hex, long code)
    {
        var bytes = Convert.FromHexString(hex);
        var error = Assert.Throws<QuicTransportErrorException>(() =>
        {
            var reader = new QuicReader(bytes);
            while (FrameParser.TryReadFrame(ref reader, out _))
            {
            }
        });
        Assert.Equal(code, error.ErrorCode);
        Assert.Contains("RFC", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckAllowed_StreamInInitial_IsProtocolViolation()
    {
        var error = Assert.Throws<QuicTransportErrorException>(() => FrameParser.CheckAllowed(FrameType.Stream, PacketType.Initial));
        Assert.Equal(TransportErrorCode.ProtocolViolation, error.ErrorCode);
        FrameParser.CheckAllowed(FrameType.Crypto, PacketType.Handshake);
    }

    [Fact]
    public void Fuzz_ParserOnlyThrowsTransportErrorsAndAlwaysAdvances()
    {
        var random = new Random(99);
        var seeds = new[]
        {
            Build((ref QuicWriter w) => FrameWriter.WriteAck(ref w, 3, new AckRangeValue[] { new(10, 20), new(2, 5) })),
            Build((ref QuicWriter w) => FrameWriter.WriteStream(ref w, 4, 1000, "hello"u8, fin: true)),
            Build((ref QuicWriter w) => FrameWriter.WriteNewConnectionId(ref w, 3, 1, [1, 2, 3, 4], new byte[16])),
            Build((ref QuicWriter w) => FrameWriter.WriteConnectionClose(ref w, false, 0xa, 0x08, "bad"u8)),
            Build((ref QuicWriter w) => FrameWriter.WriteDatagram(ref w, "dgram"u8)),
        };
        var stopwatch = Stopwatch.StartNew();
        var iterations = 0;
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(3))
        {
            iterations++;
            var input = random.Next(3) == 0 ? WireTests.RandomBytes(random, random.Next(0, 40)) : WireTests.Mutate(random, seeds[random.Next(seeds.Length)]);
            var reader = new QuicReader(input);
            try
            {
                var last = -1;
                while (FrameParser.TryReadFrame(ref reader, out var frame))
                {
                    Assert.True(reader.Position > last);
                    last = reader.Position;
                    if (frame.Type is FrameType.Ack or FrameType.AckEcn)
                    {
                        foreach (var range in frame.AckRanges)
                        {
                            Assert.True(range.Smallest >= 0 && range.Smallest <= range.Largest);
                        }
                    }
                }
            }
            catch (QuicTransportErrorException error)
            {
                Assert.True(error.ErrorCode is TransportErrorCode.FrameEncodingError or TransportErrorCode.ProtocolViolation);
            }
        }

        Assert.True(iterations > 1000);
    }
}

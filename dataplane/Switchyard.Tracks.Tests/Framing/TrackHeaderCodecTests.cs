using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Switchyard.Tracks.Framing;

namespace Switchyard.Tracks.Tests.Framing;

public class TrackHeaderCodecTests
{
    private static byte[] Wire(string trackId, string trackType, uint payloadLength)
    {
        var wire = new byte[TrackHeader.Size];
        Encoding.UTF8.GetBytes(trackId).CopyTo(wire, 0);
        BinaryPrimitives.WriteUInt32BigEndian(wire.AsSpan(16), payloadLength);
        Encoding.ASCII.GetBytes(trackType).CopyTo(wire, 20);
        return wire;
    }

    [Theory]
    // The seed's three track kinds, with the sizes its clients send.
    [InlineData("live_video", "video", 9600u)]
    [InlineData("live_audio", "audio", 4096u)]
    [InlineData("live_chat", "chat", 120u)]
    // Both fields filled to their full width: no padding at all.
    [InlineData("0123456789abcdef", "screen-share", 0u)]
    // A multi-byte UTF-8 track ID.
    [InlineData("caméra-1", "video", 1u)]
    public void WellFormedHeader_RoundTrips(string trackId, string trackType, uint payloadLength)
    {
        var error = TrackHeaderCodec.TryParse(Wire(trackId, trackType, payloadLength), uint.MaxValue, out var header);

        Assert.Equal(TrackHeaderError.None, error);
        Assert.Equal(trackId, header.GetTrackId());
        Assert.Equal(trackType, header.GetTrackType());
        Assert.Equal(payloadLength, header.PayloadLength);

        var written = new byte[TrackHeader.Size];
        header.WriteTo(written);
        Assert.Equal(Wire(trackId, trackType, payloadLength), written);
        Assert.Equal(header, TrackHeader.Create(trackId, trackType, payloadLength));
    }

    public static TheoryData<byte[], TrackHeaderError> MalformedHeaders()
    {
        var data = new TheoryData<byte[], TrackHeaderError>();

        // track_type all NUL.
        data.Add(Wire("t", "", 1), TrackHeaderError.EmptyTrackType);

        // track_type with a control character.
        var control = Wire("t", "vid", 1);
        control[21] = 0x07;
        data.Add(control, TrackHeaderError.TrackTypeNotPrintableAscii);

        // track_type with a byte above 0x7E.
        var high = Wire("t", "video", 1);
        high[20] = 0xC3;
        data.Add(high, TrackHeaderError.TrackTypeNotPrintableAscii);

        // track_type with a NUL inside it: "vi\0eo".
        var innerNul = Wire("t", "video", 1);
        innerNul[22] = 0;
        data.Add(innerNul, TrackHeaderError.TrackTypePaddingNotTrailing);

        // track_type whose padding has a stray byte at the very end.
        var strayType = Wire("t", "audio", 1);
        strayType[31] = (byte)'x';
        data.Add(strayType, TrackHeaderError.TrackTypePaddingNotTrailing);

        // track_id whose padding has a stray byte.
        var strayId = Wire("abc", "chat", 1);
        strayId[15] = (byte)'x';
        data.Add(strayId, TrackHeaderError.TrackIdPaddingNotTrailing);

        // track_id that is not UTF-8 (a lone continuation byte).
        var badUtf8 = Wire("ab", "chat", 1);
        badUtf8[0] = 0x80;
        data.Add(badUtf8, TrackHeaderError.TrackIdNotUtf8);

        // track_id cut in the middle of a two-byte sequence.
        var cutUtf8 = Wire("x", "chat", 1);
        cutUtf8[0] = 0xC3;
        data.Add(cutUtf8, TrackHeaderError.TrackIdNotUtf8);

        // payload_len one past the limit used by the test (1000).
        data.Add(Wire("t", "video", 1001), TrackHeaderError.PayloadTooLarge);
        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void MalformedHeader_GivesItsOwnError(byte[] wire, TrackHeaderError expected)
    {
        Assert.Equal(expected, TrackHeaderCodec.TryParse(wire, 1000, out _));

        var ex = Assert.Throws<TrackHeaderException>(() => TrackHeaderCodec.TryRead(new ReadOnlySequence<byte>(wire), 1000, out _));
        Assert.Equal(expected, ex.Error);
    }

    [Fact]
    public void PayloadAtTheLimit_IsAccepted()
    {
        Assert.Equal(TrackHeaderError.None, TrackHeaderCodec.TryParse(Wire("t", "video", 1000), 1000, out var header));
        Assert.Equal(1000u, header.PayloadLength);
    }

    [Fact]
    public void TooLargeError_ReportsClaimedLength()
    {
        var ex = Assert.Throws<TrackHeaderException>(
            () => TrackHeaderCodec.TryRead(new ReadOnlySequence<byte>(Wire("t", "video", 70_000)), 65_536, out _));
        Assert.Equal(70_000u, ex.PayloadLength);
        Assert.Contains("70000", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeaderSplitAcrossSegments_ParsesLikeContiguous()
    {
        var wire = Wire("live_video", "video", 42);
        for (var split = 1; split < TrackHeader.Size; split++)
        {
            var sequence = SequenceBuilder.Chunked(wire, [split]);
            Assert.True(TrackHeaderCodec.TryRead(sequence, uint.MaxValue, out var header));
            Assert.Equal("live_video", header.GetTrackId());
            Assert.Equal(42u, header.PayloadLength);
        }
    }

    [Fact]
    public void ShortInput_IsIncompleteNotAnError()
    {
        var wire = Wire("t", "", 1); // malformed, but only 31 of its bytes have arrived
        Assert.False(TrackHeaderCodec.TryRead(new ReadOnlySequence<byte>(wire, 0, 31), 1000, out _));
    }

    [Theory]
    // Longer than 16 UTF-8 bytes.
    [InlineData("0123456789abcdefg", "video")]
    // Longer than 12 bytes.
    [InlineData("t", "thirteen-char")]
    // Empty type.
    [InlineData("t", "")]
    // Non-ASCII type.
    [InlineData("t", "vidéo")]
    // A NUL inside the ID would be read back as padding.
    [InlineData("a\0b", "video")]
    public void Create_RefusesWhatWouldBeMalformed(string trackId, string trackType)
    {
        Assert.Throws<ArgumentException>(() => TrackHeader.Create(trackId, trackType, 0));
    }
}

using System.Buffers;
using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using Switchyard.Http3.Frames;

namespace Switchyard.Http3.Tests.Frames;

public class FrameTests
{
    [Theory]
    // RFC 9000 Appendix A.1 sample encodings.
    [InlineData("c2197c5eff14e88c", 151288809941952652L)]
    [InlineData("9d7f3e7d", 494878333L)]
    [InlineData("7bbd", 15293L)]
    [InlineData("25", 37L)]
    [InlineData("4025", 37L)]
    public void Varint_DecodesRfc9000Samples(string hex, long expected)
    {
        Assert.True(VariableLengthInteger.TryRead(Convert.FromHexString(hex), out long value, out int n));
        Assert.Equal(expected, value);
        Assert.Equal(hex.Length / 2, n);
    }

    [Fact]
    public void Varint_RoundTripsAnyValue()
    {
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue).Select(i => (long)i * (i % 7 == 0 ? 1L << 30 : 1) % VariableLengthInteger.MaxValue)), v =>
        {
            byte[] bytes = VariableLengthInteger.Encode(v);
            return VariableLengthInteger.TryRead(bytes, out long back, out int n) && back == v && n == bytes.Length
                && !VariableLengthInteger.TryRead(bytes.AsSpan(0, bytes.Length - 1), out _, out _);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void TryReadFrame_IncompleteInput_ReturnsFalseWithoutConsuming()
    {
        byte[] frame = [0x00, 0x05, 1, 2, 3, 4, 5];
        for (int cut = 0; cut < frame.Length; cut++)
        {
            var input = new ReadOnlySequence<byte>(frame, 0, cut);
            Assert.False(Http3FrameReader.TryReadFrame(ref input, 100, out _, out _));
            Assert.Equal(cut, input.Length);
        }

        var whole = new ReadOnlySequence<byte>(frame);
        Assert.True(Http3FrameReader.TryReadFrame(ref whole, 100, out long type, out ReadOnlySequence<byte> payload));
        Assert.Equal(0, type);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, payload.ToArray());
        Assert.True(whole.IsEmpty);
    }

    [Fact]
    public void TryReadFrame_LengthAboveLimit_IsExcessiveLoadBeforeBytesArrive()
    {
        byte[] header = [0x04, 0x80, 0x10, 0x00, 0x00]; // SETTINGS declaring 1 MiB
        var input = new ReadOnlySequence<byte>(header);
        var e = Assert.Throws<Http3ConnectionException>(() => Http3FrameReader.TryReadFrame(ref input, 16384, out _, out _));
        Assert.Equal(Http3ErrorCode.ExcessiveLoad, e.ErrorCode);
    }

    [Fact]
    public void Settings_DuplicateIdentifier_IsSettingsError()
    {
        byte[] payload = [0x06, 0x10, 0x06, 0x20];
        var e = Assert.Throws<Http3ConnectionException>(() => Http3Settings.Parse(new ReadOnlySequence<byte>(payload)));
        Assert.Equal(Http3ErrorCode.SettingsError, e.ErrorCode);
    }

    [Theory]
    // HTTP/2 identifiers reserved by RFC 9114 §7.2.4.1.
    [InlineData(0x02)]
    [InlineData(0x03)]
    [InlineData(0x04)]
    [InlineData(0x05)]
    public void Settings_Http2Identifier_IsSettingsError(byte id)
    {
        var e = Assert.Throws<Http3ConnectionException>(() => Http3Settings.Parse(new ReadOnlySequence<byte>([id, 0x00])));
        Assert.Equal(Http3ErrorCode.SettingsError, e.ErrorCode);
    }

    [Fact]
    public void Settings_UnknownIdentifiersKeptAndKnownParsed()
    {
        var w = new ArrayBufferWriter<byte>();
        foreach ((long id, long v) in new[] { (0x01L, 4096L), (0x21L, 7L), (0x33L, 1L), (0x08L, 1L), (0xffd277L, 1L) })
        {
            VariableLengthInteger.Write(w, id);
            VariableLengthInteger.Write(w, v);
        }

        Http3Settings s = Http3Settings.Parse(new ReadOnlySequence<byte>(w.WrittenMemory));
        Assert.Equal(4096, s.QpackMaxTableCapacity);
        Assert.True(s.H3Datagram);
        Assert.True(s.EnableConnectProtocol);
        Assert.Equal(7, s.Get(0x21, 0));
        Assert.Equal(long.MaxValue, s.MaxFieldSectionSize);
    }

    [Fact]
    public void Settings_TruncatedPair_IsFrameError()
    {
        var e = Assert.Throws<Http3ConnectionException>(() => Http3Settings.Parse(new ReadOnlySequence<byte>([0x06])));
        Assert.Equal(Http3ErrorCode.FrameError, e.ErrorCode);
    }

    [Theory]
    [InlineData(0x21L, true)]
    [InlineData(0x40L, true)]
    [InlineData(0x5fL, true)]
    [InlineData(0x41L, false)]
    [InlineData(0x20L, false)]
    public void Grease_MatchesFormula(long value, bool expected) => Assert.Equal(expected, Http3FrameReader.IsGrease(value));

    [Fact]
    public void Frames_RoundTripThroughWriterAndReader()
    {
        Prop.ForAll(Arb.From(Gen.Choose(0, 5000)), Arb.From(Gen.Choose(0, 1 << 20)), (len, type) =>
        {
            byte[] payload = new byte[len];
            new Random(len).NextBytes(payload);
            var w = new ArrayBufferWriter<byte>();
            Http3FrameWriter.WriteFrame(w, type, payload);
            var input = new ReadOnlySequence<byte>(w.WrittenMemory);
            return Http3FrameReader.TryReadFrame(ref input, 10000, out long t, out ReadOnlySequence<byte> p)
                && t == type && p.ToArray().AsSpan().SequenceEqual(payload) && input.IsEmpty;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void FrameReaderAndSettings_RandomInput_NeverCrash()
    {
        var random = new Random(9114);
        var watch = Stopwatch.StartNew();
        int iterations = 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            byte[] data = new byte[random.Next(0, 64)];
            random.NextBytes(data);
            var input = new ReadOnlySequence<byte>(data);
            try
            {
                while (Http3FrameReader.TryReadFrame(ref input, 32, out long type, out ReadOnlySequence<byte> payload))
                {
                    if (type == 4)
                    {
                        try
                        {
                            Http3Settings.Parse(payload);
                        }
                        catch (Http3ConnectionException)
                        {
                        }
                    }
                }
            }
            catch (Http3ConnectionException e)
            {
                Assert.Equal(Http3ErrorCode.ExcessiveLoad, e.ErrorCode);
            }

            iterations++;
        }

        Assert.True(iterations > 1000);
    }
}

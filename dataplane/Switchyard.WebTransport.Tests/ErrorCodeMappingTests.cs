using FsCheck;
using FsCheck.Fluent;
using Switchyard.Http3;
using Switchyard.WebTransport.Capsules;

namespace Switchyard.WebTransport.Tests;

public class ErrorCodeMappingTests
{
    [Theory]
    // First and last codes of the range (draft-02 §4.3), and the first step over a GREASE codepoint.
    [InlineData(0u, 0x52e4a40fa8dbL)]
    [InlineData(0x1du, 0x52e4a40fa8dbL + 0x1d)]
    [InlineData(0x1eu, 0x52e4a40fa8dbL + 0x1f)]
    [InlineData(0xffffffffu, 0x52e5ac983162L)]
    public void KnownCodes_MapAsTheDraftSays(uint code, long http3)
    {
        Assert.Equal(http3, WebTransportErrorCodes.ToHttp3(code));
        Assert.True(WebTransportErrorCodes.TryFromHttp3(http3, out uint back));
        Assert.Equal(code, back);
    }

    [Fact]
    public void EveryCode_RoundTripsAndNeverLandsOnGrease()
    {
        Prop.ForAll(Arb.From(Gen.Choose(int.MinValue, int.MaxValue).Select(i => unchecked((uint)i))), code =>
        {
            long h3 = WebTransportErrorCodes.ToHttp3(code);
            return !WebTransportErrorCodes.IsGrease(h3)
                && WebTransportErrorCodes.TryFromHttp3(h3, out uint back) && back == code
                && (code == 0 || WebTransportErrorCodes.ToHttp3(code - 1) < h3);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void EveryHttp3CodeInRange_IsGreaseOrMapsBackToItself()
    {
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), offset =>
        {
            long h3 = WebTransportErrorCodes.First + (long)offset * 2;
            if (h3 > WebTransportErrorCodes.Last)
            {
                return true;
            }

            bool ok = WebTransportErrorCodes.TryFromHttp3(h3, out uint code);
            return WebTransportErrorCodes.IsGrease(h3) ? !ok : ok && WebTransportErrorCodes.ToHttp3(code) == h3;
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    // Outside the range, and a GREASE value inside it.
    [InlineData(0x52e4a40fa8daL)]
    [InlineData(0x52e5ac983163L)]
    [InlineData(0x0100L)]
    [InlineData(0x52e4a40fa8dbL + 0x1e)]
    public void OutOfRangeOrGrease_IsRejected(long http3) => Assert.False(WebTransportErrorCodes.TryFromHttp3(http3, out _));

    [Fact]
    public void CloseCapsule_RoundTripsAndRejectsMalformedValues()
    {
        var w = new System.Buffers.ArrayBufferWriter<byte>();
        CapsuleParser.WriteClose(w, 0xdeadbeef, "reason ✓");
        Assert.True(CapsuleParser.TryReadHeader(w.WrittenSpan, out long type, out long length, out int header));
        Assert.Equal(WebTransportProtocol.CloseSessionCapsule, type);
        (uint code, string reason) = CapsuleParser.ParseClose(w.WrittenSpan.Slice(header, (int)length));
        Assert.Equal(0xdeadbeefu, code);
        Assert.Equal("reason ✓", reason);

        Assert.Equal(Http3ErrorCode.MessageError, Assert.Throws<Http3StreamException>(() => CapsuleParser.ParseClose([0, 0, 1])).ErrorCode);
        Assert.Throws<Http3StreamException>(() => CapsuleParser.ParseClose(new byte[4 + 1025]));
        Assert.Throws<Http3StreamException>(() => CapsuleParser.ParseClose([0, 0, 0, 0, 0xff, 0xfe]));
    }
}

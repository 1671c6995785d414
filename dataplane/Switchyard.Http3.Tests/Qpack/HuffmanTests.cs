using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using Switchyard.Http3.Qpack;

namespace Switchyard.Http3.Tests.Qpack;

public class HuffmanTests
{
    [Theory]
    // RFC 7541 Appendix C.4.1 – C.4.3 and C.6.1 string literals.
    [InlineData("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff")]
    [InlineData("no-cache", "a8eb10649cbf")]
    [InlineData("custom-key", "25a849e95ba97d7f")]
    [InlineData("custom-value", "25a849e95bb8e8b4bf")]
    [InlineData("302", "6402")]
    [InlineData("private", "aec3771a4b")]
    [InlineData("Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff")]
    [InlineData("https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3")]
    public void Rfc7541Vectors_EncodeAndDecode(string text, string hex)
    {
        byte[] expected = Convert.FromHexString(hex);
        Assert.Equal(expected.Length, Huffman.GetEncodedLength(text));
        byte[] encoded = new byte[expected.Length];
        Assert.Equal(expected.Length, Huffman.Encode(text, encoded));
        Assert.Equal(expected, encoded);
        char[] decoded = new char[text.Length * 2];
        int n = Huffman.Decode(expected, decoded);
        Assert.Equal(text, new string(decoded, 0, n));
    }

    [Fact]
    public void EveryOctet_RoundTrips()
    {
        Prop.ForAll(Arb.From(Gen.ArrayOf(Gen.Choose(0, 255).Select(i => (char)i))), chars =>
        {
            byte[] encoded = new byte[Huffman.GetEncodedLength(chars)];
            int n = Huffman.Encode(chars, encoded);
            char[] decoded = new char[chars.Length];
            return n == encoded.Length && Huffman.Decode(encoded, decoded) == chars.Length && decoded.AsSpan().SequenceEqual(chars);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void PaddingOfEightOnes_IsRejected()
    {
        // "0" is 00000; then 11 padding is fine, but a full 0xff byte of padding is more than 7 bits (RFC 7541 §5.2).
        var e = Assert.Throws<Http3ConnectionException>(() => Huffman.Decode([0x07, 0xff], new char[8]));
        Assert.Equal(Http3ErrorCode.QpackDecompressionFailed, e.ErrorCode);
    }

    [Fact]
    public void PaddingWithZeroBits_IsRejected()
    {
        // 'a' (00011) followed by padding 000 instead of 111.
        Assert.Throws<Http3ConnectionException>(() => Huffman.Decode([0x18], new char[8]));
    }

    [Fact]
    public void EncodedEos_IsRejected()
    {
        Assert.Throws<Http3ConnectionException>(() => Huffman.Decode([0xff, 0xff, 0xff, 0xff], new char[8]));
    }

    [Fact]
    public void RandomInput_NeverCrashes()
    {
        var random = new Random(7541);
        var watch = Stopwatch.StartNew();
        char[] output = new char[256];
        int decodedCount = 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            byte[] data = new byte[random.Next(0, 40)];
            random.NextBytes(data);
            try
            {
                int n = Huffman.Decode(data, output);
                Assert.True(n <= data.Length * 8 / 5);
                if (n >= 0)
                {
                    decodedCount++;
                    // A successful decode re-encodes to the same bytes (the code is prefix-free and padding is canonical).
                    byte[] again = new byte[Huffman.GetEncodedLength(output.AsSpan(0, n))];
                    Huffman.Encode(output.AsSpan(0, n), again);
                    Assert.Equal(data, again);
                }
            }
            catch (Http3ConnectionException e)
            {
                Assert.Equal(Http3ErrorCode.QpackDecompressionFailed, e.ErrorCode);
            }
        }

        Assert.True(decodedCount > 0);
    }
}

using Switchyard.Interop.Tests.Support;

namespace Switchyard.Interop.Tests;

/// <summary>The relay's packet-type reader, which the Retry and amplification checks rely on (RFC 9000 §17.2).</summary>
public sealed class QuicDatagramInspectorTests
{
    [Fact]
    public void InitialWithTokenCoalescedWithHandshake_NamesBoth()
    {
        var datagram = LongHeader(0xc0, token: [1, 2, 3], payload: 30).Concat(LongHeader(0xe0, token: null, payload: 40)).ToArray();
        Assert.Equal(DatagramKinds.Initial | DatagramKinds.InitialWithToken | DatagramKinds.Handshake, QuicDatagramInspector.Inspect(datagram));
    }

    [Fact]
    public void InitialWithoutTokenPaddedThenShortHeader_NamesInitialAndShort()
    {
        var datagram = LongHeader(0xc0, token: [], payload: 1100).Concat(new byte[] { 0x40, 1, 2, 3, 4, 5 }).ToArray();
        Assert.Equal(DatagramKinds.Initial | DatagramKinds.ShortHeader, QuicDatagramInspector.Inspect(datagram));
    }

    [Fact]
    public void Retry_IsNamed()
    {
        // Retry: first byte 0xf0, version, DCID, SCID, then token and a 16-byte integrity tag with no Length field.
        byte[] datagram = [0xf0, 0, 0, 0, 1, 4, 9, 9, 9, 9, 4, 8, 8, 8, 8, .. new byte[40]];
        Assert.Equal(DatagramKinds.Retry, QuicDatagramInspector.Inspect(datagram));
    }

    [Fact]
    public void RandomBytes_NeverThrow()
    {
        var random = new Random(7);
        var deadline = DateTime.UtcNow.AddSeconds(2);
        var buffer = new byte[1500];
        while (DateTime.UtcNow < deadline)
        {
            var length = random.Next(buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            _ = QuicDatagramInspector.Inspect(buffer.AsSpan(0, length));
        }
    }

    private static byte[] LongHeader(byte first, byte[]? token, int payload)
    {
        var bytes = new List<byte> { first, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0 };
        if (token is not null)
        {
            bytes.Add((byte)token.Length);
            bytes.AddRange(token);
        }

        // Length as a two-byte varint (RFC 9000 §16), then the protected payload.
        bytes.Add((byte)(0x40 | (payload >> 8)));
        bytes.Add((byte)payload);
        bytes.AddRange(new byte[payload]);
        return bytes.ToArray();
    }
}

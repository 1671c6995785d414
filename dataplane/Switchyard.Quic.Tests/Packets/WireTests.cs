using System.Diagnostics;
using System.Net;
using FsCheck;
using FsCheck.Fluent;
using Switchyard.Quic.Frames;
using Switchyard.Quic.Packets;

namespace Switchyard.Quic.Tests.Packets;

public class WireTests
{
    [Fact]
    public void VarInt_RoundTripsAnyValue()
    {
        Prop.ForAll(Arb.From(Gen.Choose(0, 62).SelectMany(bits => Gen.Choose(0, int.MaxValue).Select(r => (long)r * 2654435761L % (bits == 0 ? 1 : 1L << bits)))), (long value) =>
        {
            var value2 = Math.Abs(value) & VarInt.MaxValue;
            Span<byte> buffer = stackalloc byte[8];
            var written = VarInt.Write(buffer, value2);
            return VarInt.TryRead(buffer[..written], out var read, out var consumed) && read == value2 && consumed == written && written == VarInt.GetLength(value2);
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    // RFC 9000 §16 / Appendix A.1 examples.
    [InlineData("c2197c5eff14e88c", 151288809941952652L)]
    [InlineData("9d7f3e7d", 494878333L)]
    [InlineData("7bbd", 15293L)]
    [InlineData("25", 37L)]
    [InlineData("4025", 37L)]
    public void VarInt_ReadsTheRfcExamples(string hex, long expected)
    {
        Assert.True(VarInt.TryRead(Convert.FromHexString(hex), out var value, out _));
        Assert.Equal(expected, value);
    }

    [Fact]
    public void VarInt_Truncated_ReturnsFalse()
    {
        Assert.False(VarInt.TryRead(Convert.FromHexString("c2197c"), out _, out _));
        Assert.False(VarInt.TryRead(ReadOnlySpan<byte>.Empty, out _, out _));
    }

    [Theory]
    // RFC 9000 Appendix A.3 example, and window edges.
    [InlineData(0xa82f30eaL, 0x9b32, 16, 0xa82f9b32L)]
    [InlineData(-1L, 0, 8, 0L)]
    [InlineData(255L, 0, 8, 256L)]
    public void PacketNumber_DecodesTheRfcExample(long largest, long truncated, int bits, long expected) =>
        Assert.Equal(expected, PacketNumber.Decode(largest, truncated, bits));

    [Fact]
    public void PacketNumber_EncodeThenDecode_RoundTrips()
    {
        var random = new Random(1234);
        for (var i = 0; i < 20000; i++)
        {
            var largestAcked = random.NextInt64(-1, 1L << 40);
            var pn = largestAcked + 1 + random.NextInt64(0, 1 << 20);
            var length = PacketNumber.GetEncodedLength(pn, largestAcked);
            var truncated = pn & ((1L << (length * 8)) - 1);

            // The receiver has seen anything from largestAcked up to pn - 1.
            var largestReceived = random.NextInt64(Math.Max(largestAcked, -1), pn);
            Assert.Equal(pn, PacketNumber.Decode(largestReceived, truncated, length * 8));
        }
    }

    [Fact]
    public void TransportParameters_RoundTrip()
    {
        var original = new TransportParameters
        {
            OriginalDestinationConnectionId = [1, 2, 3, 4, 5, 6, 7, 8],
            InitialSourceConnectionId = [9, 9, 9],
            RetrySourceConnectionId = [7],
            StatelessResetToken = new byte[16],
            MaxIdleTimeout = 30000,
            InitialMaxData = 1 << 24,
            InitialMaxStreamDataBidiLocal = 1 << 20,
            InitialMaxStreamDataBidiRemote = 1 << 19,
            InitialMaxStreamDataUni = 1 << 18,
            InitialMaxStreamsBidi = 100,
            InitialMaxStreamsUni = 3,
            AckDelayExponent = 5,
            MaxAckDelay = 40,
            DisableActiveMigration = true,
            ActiveConnectionIdLimit = 4,
            MaxDatagramFrameSize = 65535,
            MaxUdpPayloadSize = 1452,
            PreferredAddress = new PreferredAddress(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 443), null, [1, 2, 3, 4], new byte[16]),
        };
        var decoded = TransportParameters.Decode(original.Encode(), fromServer: true);
        Assert.Equal(original.OriginalDestinationConnectionId, decoded.OriginalDestinationConnectionId);
        Assert.Equal(original.InitialSourceConnectionId, decoded.InitialSourceConnectionId);
        Assert.Equal(original.RetrySourceConnectionId, decoded.RetrySourceConnectionId);
        Assert.Equal(30000, decoded.MaxIdleTimeout);
        Assert.Equal(1 << 24, decoded.InitialMaxData);
        Assert.Equal(1 << 19, decoded.InitialMaxStreamDataBidiRemote);
        Assert.Equal(3, decoded.InitialMaxStreamsUni);
        Assert.Equal(5, decoded.AckDelayExponent);
        Assert.Equal(40, decoded.MaxAckDelay);
        Assert.True(decoded.DisableActiveMigration);
        Assert.Equal(4, decoded.ActiveConnectionIdLimit);
        Assert.Equal(65535, decoded.MaxDatagramFrameSize);
        Assert.Equal(1452, decoded.MaxUdpPayloadSize);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 443), decoded.PreferredAddress!.IPv4);
        Assert.Null(decoded.PreferredAddress.IPv6);
    }

    [Fact]
    public void TransportParameters_ServerOnlyFromClient_IsRejected()
    {
        var parameters = new TransportParameters { InitialSourceConnectionId = [1], StatelessResetToken = new byte[16] };
        var error = Assert.Throws<QuicTransportErrorException>(() => TransportParameters.Decode(parameters.Encode(), fromServer: false));
        Assert.Equal(TransportErrorCode.TransportParameterError, error.ErrorCode);
        Assert.Contains("§18.2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    // Duplicate parameter (§7.4).
    [InlineData("0f0101" + "0f0101")]
    // max_udp_payload_size below 1200 (§18.2).
    [InlineData("0f0101" + "03024000")]
    // ack_delay_exponent 21 (§18.2).
    [InlineData("0f0101" + "0a0115")]
    // Length past the end (§18).
    [InlineData("0f0101" + "0410")]
    // initial_source_connection_id missing (§7.3).
    [InlineData("0401ff")]
    // active_connection_id_limit 1 (§18.2).
    [InlineData("0f0101" + "0e0101")]
    public void TransportParameters_Invalid_IsTransportParameterError(string hex)
    {
        var error = Assert.Throws<QuicTransportErrorException>(() => TransportParameters.Decode(Convert.FromHexString(hex), fromServer: false));
        Assert.Equal(TransportErrorCode.TransportParameterError, error.ErrorCode);
    }

    [Fact]
    public void TransportParameters_ValidateConnectionIds_DetectsMismatch()
    {
        var parameters = TransportParameters.Decode(
            new TransportParameters { InitialSourceConnectionId = [1, 2], OriginalDestinationConnectionId = [3, 4] }.Encode(), fromServer: true);
        parameters.ValidateConnectionIds([1, 2], [3, 4], null, peerIsServer: true);
        Assert.Throws<QuicTransportErrorException>(() => parameters.ValidateConnectionIds([1, 3], [3, 4], null, peerIsServer: true));
        Assert.Throws<QuicTransportErrorException>(() => parameters.ValidateConnectionIds([1, 2], [3, 5], null, peerIsServer: true));
        Assert.Throws<QuicTransportErrorException>(() => parameters.ValidateConnectionIds([1, 2], [3, 4], [9], peerIsServer: true));
    }

    [Fact]
    public void TransportParameters_Fuzz_NeverThrowsAnythingButTransportErrors()
    {
        var random = new Random(42);
        var stopwatch = Stopwatch.StartNew();
        var valid = new TransportParameters { InitialSourceConnectionId = [1, 2], InitialMaxData = 1000, MaxDatagramFrameSize = 1200 }.Encode();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(2))
        {
            var input = random.Next(2) == 0 ? RandomBytes(random, random.Next(0, 64)) : Mutate(random, valid);
            try
            {
                TransportParameters.Decode(input, random.Next(2) == 0);
            }
            catch (QuicTransportErrorException error)
            {
                Assert.Equal(TransportErrorCode.TransportParameterError, error.ErrorCode);
            }
        }
    }

    [Fact]
    public void PacketHeader_Fuzz_NeverThrowsAndStaysInBounds()
    {
        var random = new Random(7);
        var stopwatch = Stopwatch.StartNew();
        var seeds = new[]
        {
            Convert.FromHexString("c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9b"),
            Convert.FromHexString("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba"),
            Convert.FromHexString("4cfe4189655e5cd55c41f69080575d7999c25a5bfb"),
        };
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(2))
        {
            var input = random.Next(3) == 0 ? RandomBytes(random, random.Next(0, 80)) : Mutate(random, seeds[random.Next(seeds.Length)]);
            if (PacketHeader.TryParse(input, 8, out var header))
            {
                Assert.InRange(header.PacketLength, 1, input.Length);
                Assert.InRange(header.DestinationCidOffset + header.DestinationCidLength, 0, input.Length);
                Assert.InRange(header.SourceCidOffset + header.SourceCidLength, 0, input.Length);
                Assert.InRange(header.TokenOffset + header.TokenLength, 0, input.Length);
                Assert.InRange(header.PacketNumberOffset, 0, input.Length);
            }
        }
    }

    [Fact]
    public void PacketHeader_LongHeaderWritten_ParsesBack()
    {
        var buffer = new byte[64];
        var length = PacketHeader.WriteLongHeader(buffer, PacketType.Handshake, 2, [1, 2, 3], [4, 5], default, out var lengthOffset);
        VarInt.Write(buffer.AsSpan(lengthOffset), 20, 2);
        Assert.True(PacketHeader.TryParse(buffer.AsSpan(0, length + 20), 0, out var header));
        Assert.Equal(PacketType.Handshake, header.Type);
        Assert.Equal(3, header.DestinationCidLength);
        Assert.Equal(2, header.SourceCidLength);
        Assert.Equal(length, header.PacketNumberOffset);
        Assert.Equal(length + 20, header.PacketLength);
    }

    [Fact]
    public void VersionNegotiation_ListsVersionsAndSwapsIds()
    {
        var buffer = new byte[64];
        var length = PacketHeader.WriteVersionNegotiation(buffer, 0x2a, [1, 2], [3, 4, 5], [PacketHeader.Version1, 0x1a2a3a4a]);
        Assert.True(PacketHeader.TryParse(buffer.AsSpan(0, length), 0, out var header));
        Assert.Equal(PacketType.VersionNegotiation, header.Type);
        Assert.Equal(new byte[] { 1, 2 }, buffer.AsSpan(header.DestinationCidOffset, header.DestinationCidLength).ToArray());
        Assert.True(PacketHeader.VersionNegotiationLists(buffer.AsSpan(0, length), header, 0x1a2a3a4a));
        Assert.False(PacketHeader.VersionNegotiationLists(buffer.AsSpan(0, length), header, 2));
    }

    internal static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    internal static byte[] Mutate(Random random, byte[] seed)
    {
        var copy = random.Next(4) == 0 ? seed.AsSpan(0, random.Next(seed.Length + 1)).ToArray() : (byte[])seed.Clone();
        for (var flips = random.Next(1, 4); flips > 0 && copy.Length > 0; flips--)
        {
            copy[random.Next(copy.Length)] = (byte)random.Next(256);
        }

        return copy;
    }
}

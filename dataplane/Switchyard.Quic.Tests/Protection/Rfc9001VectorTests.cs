using Switchyard.Quic.Packets;
using Switchyard.Quic.Protection;
using Switchyard.Tls;

namespace Switchyard.Quic.Tests.Protection;

/// <summary>The test vectors of RFC 9001 Appendix A.</summary>
public class Rfc9001VectorTests
{
    private static readonly byte[] Dcid = Convert.FromHexString("8394c8f03e515708");

    private const string ClientCrypto =
        "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d0017001800100007000504616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c00024001ffa500320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff";

    private const string ServerPlain =
        "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c940d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00020304";

    private const string ServerProtected =
        "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc42158407dd074ee";

    [Fact]
    public void ClientInitial_SealsToTheRfcBytes()
    {
        var (client, _) = InitialProtection.Create(Dcid);
        var header = Convert.FromHexString("c300000001088394c8f03e5157080000449e00000002");
        var packet = new byte[1200];
        header.CopyTo(packet, 0);
        Convert.FromHexString(ClientCrypto).CopyTo(packet, header.Length);
        client.Seal(packet, header.Length, 1200 - header.Length - 16, 2);
        client.HeaderProtection.Apply(packet, 18, 4);
        Assert.Equal("c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9b", Convert.ToHexStringLower(packet.AsSpan(0, 38)));
    }

    [Fact]
    public void ServerInitial_SealsAndOpensTheRfcPacket()
    {
        var (_, server) = InitialProtection.Create(Dcid);
        var header = Convert.FromHexString("c1000000010008f067a5502a4262b50040750001");
        var plain = Convert.FromHexString(ServerPlain);
        var packet = new byte[header.Length + plain.Length + 16];
        header.CopyTo(packet, 0);
        plain.CopyTo(packet, header.Length);
        server.Seal(packet, header.Length, plain.Length, 1);
        server.HeaderProtection.Apply(packet, header.Length - 2, 2);
        Assert.Equal(ServerProtected, Convert.ToHexStringLower(packet));

        // And the reverse, through the header parser.
        var received = Convert.FromHexString(ServerProtected);
        Assert.True(PacketHeader.TryParse(received, 8, out var parsed));
        Assert.Equal(PacketType.Initial, parsed.Type);
        var pnLength = server.HeaderProtection.Remove(received, parsed.PacketNumberOffset);
        Assert.Equal(2, pnLength);
        Assert.True(server.TryOpen(received, parsed.PacketNumberOffset + pnLength, parsed.PacketLength - parsed.PacketNumberOffset - pnLength, 1));
        Assert.Equal(ServerPlain, Convert.ToHexStringLower(received.AsSpan(parsed.PacketNumberOffset + 2, plain.Length)));
    }

    [Fact]
    public void ServerInitial_TamperedByte_FailsAuthentication()
    {
        var (_, server) = InitialProtection.Create(Dcid);
        var received = Convert.FromHexString(ServerProtected);
        received[^1] ^= 1;
        Assert.True(PacketHeader.TryParse(received, 8, out var parsed));
        var pnLength = server.HeaderProtection.Remove(received, parsed.PacketNumberOffset);
        Assert.False(server.TryOpen(received, parsed.PacketNumberOffset + pnLength, parsed.PacketLength - parsed.PacketNumberOffset - pnLength, 1));
    }

    [Fact]
    public void Retry_IntegrityTagMatchesTheRfc()
    {
        var retry = Convert.FromHexString("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba");
        Assert.True(InitialProtection.VerifyRetry(Dcid, retry));
        Assert.True(PacketHeader.TryParse(retry, 8, out var header));
        Assert.Equal(PacketType.Retry, header.Type);
        Assert.Equal("token"u8.ToArray(), retry.AsSpan(header.TokenOffset, header.TokenLength).ToArray());
        retry[10] ^= 1;
        Assert.False(InitialProtection.VerifyRetry(Dcid, retry));
    }

    [Fact]
    public void ChaCha20ShortHeader_SealsToTheRfcBytes()
    {
        var secret = Convert.FromHexString("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
        using var protection = PacketProtection.Create(TlsCipherSuite.ChaCha20Poly1305Sha256, secret);
        var packet = new byte[4 + 1 + 16];
        Convert.FromHexString("4200bff401").CopyTo(packet, 0);
        protection.Seal(packet, 4, 1, 654360564);
        protection.HeaderProtection.Apply(packet, 1, 3);
        Assert.Equal("4cfe4189655e5cd55c41f69080575d7999c25a5bfb", Convert.ToHexStringLower(packet));

        var pnLength = protection.HeaderProtection.Remove(packet, 1);
        Assert.Equal(3, pnLength);
        var truncated = (packet[1] << 16) | (packet[2] << 8) | packet[3];
        var pn = PacketNumber.Decode(654360564 - 1, truncated, 24);
        Assert.Equal(654360564, pn);
        Assert.True(protection.TryOpen(packet, 4, 17, pn));
        Assert.Equal(0x01, packet[4]);
    }

    [Fact]
    public void KeyUpdate_DerivesTheRfcNextSecret()
    {
        var secret = Convert.FromHexString("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
        using var protection = PacketProtection.Create(TlsCipherSuite.ChaCha20Poly1305Sha256, secret);
        using var next = protection.NextPhase();
        Assert.Equal("1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9", Convert.ToHexStringLower(next.Secret));
        Assert.Same(protection.HeaderProtection, next.HeaderProtection);
    }

    [Fact]
    public void InitialSecrets_DeriveTheRfcKeys()
    {
        // RFC 9001 A.1: check the derived keys indirectly through one seal each way.
        var (client, server) = InitialProtection.Create(Dcid);
        Span<byte> mask = stackalloc byte[5];
        client.HeaderProtection.ComputeMask(Convert.FromHexString("d1b1c98dd7689fb8ec11d242b123dc9b"), mask);
        Assert.Equal("437b9aec36", Convert.ToHexStringLower(mask));
        server.HeaderProtection.ComputeMask(Convert.FromHexString("2cd0991cd25b0aac406a5816b6394100"), mask);
        Assert.Equal("2ec0d8356a", Convert.ToHexStringLower(mask));
    }
}

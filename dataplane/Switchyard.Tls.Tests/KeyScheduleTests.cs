using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Switchyard.Tls.Crypto;
using Switchyard.Tls.Messages;

namespace Switchyard.Tls.Tests;

public class KeyScheduleTests
{
    // RFC 8448 §3 "Simple 1-RTT Handshake" messages, as they appear in the trace.
    internal const string Rfc8448ClientHello = "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302010000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c00024001";
    internal const string Rfc8448ServerHello = "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304";
    internal const string Rfc8448EncryptedExtensions = "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000";
    internal const string Rfc8448Certificate = "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b0603551d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b42b4de10000";
    internal const string Rfc8448CertificateVerify = "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3";
    internal const string Rfc8448ServerFinished = "140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718";

    private static byte[] Hex(string hex) => Convert.FromHexString(hex);

    private static byte[] ExpandLabel(byte[] secret, string label, int length, HashAlgorithmName? hash = null)
    {
        var output = new byte[length];
        TlsKeySchedule.HkdfExpandLabel(hash ?? HashAlgorithmName.SHA256, secret, label, ReadOnlySpan<byte>.Empty, output);
        return output;
    }

    [Fact]
    public void Rfc9001InitialSecrets_MatchAppendixA1()
    {
        // RFC 9001 §5.2 and Appendix A.1: Initial secrets from DCID 0x8394c8f03e515708.
        var salt = Hex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a");
        var initial = TlsKeySchedule.Extract(HashAlgorithmName.SHA256, salt, Hex("8394c8f03e515708"));
        Assert.Equal("7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44", Convert.ToHexStringLower(initial));

        var client = ExpandLabel(initial, "client in", 32);
        Assert.Equal("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea", Convert.ToHexStringLower(client));
        Assert.Equal("1f369613dd76d5467730efcbe3b1a22d", Convert.ToHexStringLower(ExpandLabel(client, "quic key", 16)));
        Assert.Equal("fa044b2f42a3fd3b46fb255c", Convert.ToHexStringLower(ExpandLabel(client, "quic iv", 12)));
        Assert.Equal("9f50449e04a0e810283a1e9933adedd2", Convert.ToHexStringLower(ExpandLabel(client, "quic hp", 16)));

        var server = ExpandLabel(initial, "server in", 32);
        Assert.Equal("3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b", Convert.ToHexStringLower(server));
        Assert.Equal("cf3a5331653c364c88f0f379b6067e37", Convert.ToHexStringLower(ExpandLabel(server, "quic key", 16)));
        Assert.Equal("0ac1493ca1905853b0bba03e", Convert.ToHexStringLower(ExpandLabel(server, "quic iv", 12)));
        Assert.Equal("c206b8d9b9f0f37644430b490eeaa314", Convert.ToHexStringLower(ExpandLabel(server, "quic hp", 16)));
    }

    [Fact]
    public void Rfc9001KeyUpdate_MatchesAppendixA5()
    {
        // RFC 9001 Appendix A.5: "quic ku" from the ChaCha20 example secret.
        var secret = Hex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
        Assert.Equal(
            "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9",
            Convert.ToHexStringLower(ExpandLabel(secret, "quic ku", 32)));
    }

    [Fact]
    public void Rfc8448KeySchedule_MatchesSimpleHandshakeTrace()
    {
        // RFC 8448 §3: X25519 with the trace's private key, then every secret of the schedule.
        using var client = X25519KeyShare.FromPrivateKey(Hex("49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005"));
        Assert.Equal("99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c", Convert.ToHexStringLower(client.PublicKey));
        var shared = client.DeriveSharedSecret(Hex("c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f"));
        Assert.Equal("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d", Convert.ToHexStringLower(shared));

        var sha256 = HashAlgorithmName.SHA256;
        Assert.Equal("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a", Convert.ToHexStringLower(TlsKeySchedule.EarlySecret(sha256)));
        var handshake = TlsKeySchedule.HandshakeSecret(sha256, shared);
        Assert.Equal("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac", Convert.ToHexStringLower(handshake));

        using var transcript = new Transcript();
        transcript.Add(Hex(Rfc8448ClientHello));
        transcript.SetHashAlgorithm(sha256);
        transcript.Add(Hex(Rfc8448ServerHello));
        var helloHash = transcript.CurrentHash();
        Assert.Equal("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21", Convert.ToHexStringLower(TlsKeySchedule.DeriveSecret(sha256, handshake, "c hs traffic", helloHash)));
        var serverHandshake = TlsKeySchedule.DeriveSecret(sha256, handshake, "s hs traffic", helloHash);
        Assert.Equal("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", Convert.ToHexStringLower(serverHandshake));
        Assert.Equal("3fce516009c21727d0f2e4e86ee403bc", Convert.ToHexStringLower(ExpandLabel(serverHandshake, "key", 16)));
        Assert.Equal("5d313eb2671276ee13000b30", Convert.ToHexStringLower(ExpandLabel(serverHandshake, "iv", 12)));

        var master = TlsKeySchedule.MasterSecret(sha256, handshake);
        Assert.Equal("18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919", Convert.ToHexStringLower(master));

        transcript.Add(Hex(Rfc8448EncryptedExtensions));
        transcript.Add(Hex(Rfc8448Certificate));
        transcript.Add(Hex(Rfc8448CertificateVerify));
        var finished = TlsKeySchedule.FinishedVerifyData(sha256, serverHandshake, transcript.CurrentHash());
        Assert.Equal("9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718", Convert.ToHexStringLower(finished));

        transcript.Add(Hex(Rfc8448ServerFinished));
        var finishedHash = transcript.CurrentHash();
        Assert.Equal("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5", Convert.ToHexStringLower(TlsKeySchedule.DeriveSecret(sha256, master, "c ap traffic", finishedHash)));
        Assert.Equal("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643", Convert.ToHexStringLower(TlsKeySchedule.DeriveSecret(sha256, master, "s ap traffic", finishedHash)));
    }

    [Fact]
    public void Rfc8448CertificateVerify_VerifiesAndRejectsTampering()
    {
        // RFC 8448 §3: the server's rsa_pss_rsae_sha256 signature over the transcript through Certificate.
        var certificateMessage = Hex(Rfc8448Certificate);
        var der = certificateMessage.AsSpan(4 + 1 + 3 + 3, 0x1b0).ToArray();
        using var certificate = X509CertificateLoader.LoadCertificate(der);
        using var transcript = new Transcript();
        transcript.SetHashAlgorithm(HashAlgorithmName.SHA256);
        foreach (var message in new[] { Rfc8448ClientHello, Rfc8448ServerHello, Rfc8448EncryptedExtensions, Rfc8448Certificate })
        {
            transcript.Add(Hex(message));
        }

        var content = Signatures.Content(server: true, transcript.CurrentHash());
        var signature = Hex(Rfc8448CertificateVerify).AsSpan(8).ToArray();
        Assert.True(Signatures.Verify(certificate, SignatureScheme.RsaPssRsaeSha256, content, signature));

        signature[10] ^= 1;
        Assert.False(Signatures.Verify(certificate, SignatureScheme.RsaPssRsaeSha256, content, signature));
        Assert.False(Signatures.Verify(certificate, SignatureScheme.EcdsaSecp256r1Sha256, content, signature));
    }

    [Fact]
    public void HkdfExpandLabel_AddsPrefixAndLengths()
    {
        // The info is uint16 length || len(label) || "tls13 " + label || len(context) || context (RFC 8446 §7.1);
        // computing it by hand and calling HKDF directly must give the same bytes.
        var secret = RandomNumberGenerator.GetBytes(48);
        var context = RandomNumberGenerator.GetBytes(20);
        var expected = new byte[40];
        byte[] info = [0, 40, 13, .. "tls13 mylabel"u8, 20, .. context];
        HKDF.Expand(HashAlgorithmName.SHA384, secret, expected, info);
        var actual = new byte[40];
        TlsKeySchedule.HkdfExpandLabel(HashAlgorithmName.SHA384, secret, "mylabel", context, actual);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void HkdfExpandLabel_OverlongLabel_Throws()
    {
        var output = new byte[16];
        Assert.Throws<ArgumentException>(() => TlsKeySchedule.HkdfExpandLabel(HashAlgorithmName.SHA256, new byte[32], new string('a', 250), ReadOnlySpan<byte>.Empty, output));
    }

    [Fact]
    public void X25519_BothSidesAgree_AndRejectBadShares()
    {
        using var a = X25519KeyShare.Generate();
        using var b = X25519KeyShare.Generate();
        Assert.Equal(a.DeriveSharedSecret(b.PublicKey), b.DeriveSharedSecret(a.PublicKey));

        // RFC 8446 §7.4.2: a small-order point (here zero) gives an all-zero secret and must be refused.
        Assert.Equal(TlsAlert.IllegalParameter, Assert.Throws<TlsAlertException>(() => a.DeriveSharedSecret(new byte[32])).Alert);
        Assert.Equal(TlsAlert.IllegalParameter, Assert.Throws<TlsAlertException>(() => a.DeriveSharedSecret(new byte[31])).Alert);
    }

    [Fact]
    public void P256_BothSidesAgree_AndRejectOffCurvePoints()
    {
        using var a = new P256KeyShare();
        using var b = new P256KeyShare();
        Assert.Equal(65, a.PublicKey.Length);
        Assert.Equal(0x04, a.PublicKey[0]);
        Assert.Equal(a.DeriveSharedSecret(b.PublicKey), b.DeriveSharedSecret(a.PublicKey));

        var offCurve = b.PublicKey.ToArray();
        offCurve[40] ^= 0x55;
        Assert.Equal(TlsAlert.IllegalParameter, Assert.Throws<TlsAlertException>(() => a.DeriveSharedSecret(offCurve)).Alert);
        var compressed = b.PublicKey[..33].ToArray();
        compressed[0] = 0x02;
        Assert.Equal(TlsAlert.IllegalParameter, Assert.Throws<TlsAlertException>(() => a.DeriveSharedSecret(compressed)).Alert);
    }
}

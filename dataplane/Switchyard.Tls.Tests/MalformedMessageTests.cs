using Switchyard.Tls.Crypto;
using Switchyard.Tls.Messages;

namespace Switchyard.Tls.Tests;

public class MalformedMessageTests
{
    private static TlsAlertException SendToServer(byte[] clientHello, out RecordingCallbacks callbacks)
    {
        callbacks = new RecordingCallbacks();
        using var server = QuicTls.CreateServer(TestCertificates.Server(), callbacks, [0x0a]);
        return Assert.Throws<TlsAlertException>(() => server.ProcessCryptoData(EncryptionLevel.Initial, clientHello));
    }

    private static TlsAlert ServerAlert(byte[] clientHello) => SendToServer(clientHello, out _).Alert;

    private static RecordingCallbacks ServerAccepts(byte[] clientHello)
    {
        var callbacks = new RecordingCallbacks();
        using var server = QuicTls.CreateServer(TestCertificates.Server(), callbacks, [0x0a]);
        server.ProcessCryptoData(EncryptionLevel.Initial, clientHello);
        return callbacks;
    }

    /// <summary>The message with its body cut to <paramref name="length"/> bytes and the header saying so.</summary>
    private static byte[] Truncate(byte[] message, int length)
    {
        var result = new byte[4 + length];
        result[0] = message[0];
        result[1] = (byte)(length >> 16);
        result[2] = (byte)(length >> 8);
        result[3] = (byte)length;
        message.AsSpan(4, length).CopyTo(result.AsSpan(4));
        return result;
    }

    [Fact]
    public void OversizedMessageHeader_IsRejectedBeforeItsBodyArrives()
    {
        // 70000 bytes claimed, four bytes given: the claim alone is refused (no buffering of 70 kB).
        using var server = QuicTls.CreateServer(TestCertificates.Server(), new RecordingCallbacks(), []);
        var e = Assert.Throws<TlsAlertException>(() => server.ProcessCryptoData(EncryptionLevel.Initial, [1, 0x01, 0x11, 0x70]));
        Assert.Equal(TlsAlert.DecodeError, e.Alert);

        using var patient = QuicTls.CreateServer(TestCertificates.Server(), new RecordingCallbacks(), []);
        patient.ProcessCryptoData(EncryptionLevel.Initial, [1, 0x01, 0x00, 0x00]); // exactly 64 KiB: allowed, waits
        patient.ProcessCryptoData(EncryptionLevel.Initial, new byte[1000]);
        Assert.False(patient.IsHandshakeComplete);
    }

    [Fact]
    public void TruncatedClientHello_AtEveryLength_IsDecodeError()
    {
        using var share = X25519KeyShare.Generate();
        var hello = ClientHelloBuilder.Standard(share).Build();
        var protocolVersion = 0;
        for (var length = 0; length < hello.Length - 4; length++)
        {
            var alert = ServerAlert(Truncate(hello, length));

            // Cut exactly before the extensions it reads as a pre-1.3 hello: protocol_version (RFC 8446 §4.2.1).
            if (alert == TlsAlert.ProtocolVersion)
            {
                protocolVersion++;
                continue;
            }

            Assert.True(alert == TlsAlert.DecodeError, $"length {length}: {alert}");
        }

        Assert.Equal(1, protocolVersion);
    }

    [Theory]
    [InlineData(0)] // ServerHello
    [InlineData(1)] // EncryptedExtensions
    [InlineData(2)] // Certificate
    [InlineData(3)] // CertificateVerify
    [InlineData(4)] // Finished
    public void TruncatedServerMessage_IsDecodeErrorAtTheClient(int index)
    {
        var lengths = 0;
        for (var length = 0; ; length += length < 48 ? 1 : 13)
        {
            using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
            TlsPair.Deliver(pair.Server, pair.StartClient(), 0);
            var writes = pair.ServerCallbacks.Drain();
            var messages = new List<(EncryptionLevel Level, byte[] Message)> { (EncryptionLevel.Initial, writes[0].Data) };
            messages.AddRange(TlsPair.SplitMessages(writes[1].Data).Select(m => (EncryptionLevel.Handshake, m)));
            var target = messages[index].Message;
            if (length >= target.Length - 4)
            {
                break;
            }

            for (var i = 0; i < index; i++)
            {
                pair.Client.ProcessCryptoData(messages[i].Level, messages[i].Message);
            }

            var e = Assert.Throws<TlsAlertException>(() => pair.Client.ProcessCryptoData(messages[index].Level, Truncate(target, length)));
            var allowed = e.Alert == TlsAlert.DecodeError
                || (index == 0 && e.Alert == TlsAlert.ProtocolVersion); // ServerHello cut right before its extensions
            Assert.True(allowed, $"message {index} cut to {length}: {e.Alert} {e.Message}");
            lengths++;
        }

        Assert.True(lengths > 5);
    }

    [Fact]
    public void TruncatedClientFinished_IsDecodeErrorAtTheServer()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
        TlsPair.Deliver(pair.Server, pair.StartClient(), 0);
        TlsPair.Deliver(pair.Client, pair.ServerCallbacks.Drain(), 0);
        var finished = pair.ClientCallbacks.Drain()[0].Data;
        var e = Assert.Throws<TlsAlertException>(() => pair.Server.ProcessCryptoData(EncryptionLevel.Handshake, Truncate(finished, 31)));
        Assert.Equal(TlsAlert.DecodeError, e.Alert);
    }

    [Fact]
    public void TruncatedNewSessionTicket_IsDecodeError()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
        pair.RunToCompletion();
        var e = Assert.Throws<TlsAlertException>(() => pair.Client.ProcessCryptoData(EncryptionLevel.Application, [4, 0, 0, 5, 0, 0, 0, 1, 0]));
        Assert.Equal(TlsAlert.DecodeError, e.Alert);
    }

    [Fact]
    public void Rfc8448ClientHello_WithoutQuicTransportParameters_IsMissingExtension()
    {
        // A valid TLS 1.3 ClientHello (RFC 8448 §3) that is not a QUIC one (RFC 9001 §8.2).
        Assert.Equal(TlsAlert.MissingExtension, ServerAlert(Convert.FromHexString(KeyScheduleTests.Rfc8448ClientHello)));
    }

    [Fact]
    public void ClientHelloWithoutTls13_IsProtocolVersion()
    {
        using var share = X25519KeyShare.Generate();
        Assert.Equal(TlsAlert.ProtocolVersion, ServerAlert(ClientHelloBuilder.Standard(share).Remove(ExtensionType.SupportedVersions).Build()));
        Assert.Equal(TlsAlert.ProtocolVersion, ServerAlert(ClientHelloBuilder.Standard(share).Replace(ExtensionType.SupportedVersions, [2, 0x03, 0x03]).Build()));
    }

    [Fact]
    public void ClientHelloRules_GiveTheirAlerts()
    {
        using var share = X25519KeyShare.Generate();
        var key = share.PublicKey.ToArray();

        var compression = ClientHelloBuilder.Standard(share);
        compression.Compression = [0, 1];
        Assert.Equal(TlsAlert.IllegalParameter, ServerAlert(compression.Build()));

        var longSession = ClientHelloBuilder.Standard(share);
        longSession.SessionId = new byte[33];
        Assert.Equal(TlsAlert.DecodeError, ServerAlert(longSession.Build()));

        var duplicate = ClientHelloBuilder.Standard(share).Add(ExtensionType.QuicTransportParameters, [1]);
        Assert.Equal(TlsAlert.IllegalParameter, ServerAlert(duplicate.Build()));

        var foreignShare = ClientHelloBuilder.Standard(share).Replace(ExtensionType.SupportedGroups, ClientHelloBuilder.U16List(0x0017));
        Assert.Equal(TlsAlert.IllegalParameter, ServerAlert(foreignShare.Build()));

        var shortShare = ClientHelloBuilder.Standard(share).Replace(ExtensionType.KeyShare, ClientHelloBuilder.KeyShares((0x001d, key[..31])));
        Assert.Equal(TlsAlert.IllegalParameter, ServerAlert(shortShare.Build()));

        Assert.Equal(TlsAlert.NoApplicationProtocol, ServerAlert(ClientHelloBuilder.Standard(share).Remove(ExtensionType.ApplicationLayerProtocolNegotiation).Build()));
        Assert.Equal(TlsAlert.MissingExtension, ServerAlert(ClientHelloBuilder.Standard(share).Remove(ExtensionType.SignatureAlgorithms).Build()));
        Assert.Equal(TlsAlert.MissingExtension, ServerAlert(ClientHelloBuilder.Standard(share).Remove(ExtensionType.KeyShare).Build()));
        Assert.Equal(TlsAlert.HandshakeFailure, ServerAlert(ClientHelloBuilder.Standard(share).Replace(ExtensionType.SignatureAlgorithms, ClientHelloBuilder.U16List(0x0807)).Build()));

        var suites = ClientHelloBuilder.Standard(share);
        suites.CipherSuites = [0x1304, 0xc02b];
        Assert.Equal(TlsAlert.HandshakeFailure, ServerAlert(suites.Build()));

        var pskNotLast = ClientHelloBuilder.Standard(share);
        pskNotLast.Extensions.Insert(0, ((ushort)ExtensionType.PreSharedKey, [0, 0]));
        Assert.Equal(TlsAlert.IllegalParameter, ServerAlert(pskNotLast.Build()));

        Assert.Equal(TlsAlert.IllegalParameter, ServerAlert(ClientHelloBuilder.Standard(share).Replace(ExtensionType.ServerName, ClientHelloBuilder.ServerName("bad\u0001name")).Build()));
    }

    [Fact]
    public void ChromiumStyleClientHello_WithGreaseAndMlKemShare_IsAccepted()
    {
        // GREASE (RFC 8701) everywhere, an X25519MLKEM768 share (0x11ec, 1216 bytes) before the X25519 one, and
        // extensions this server does not know: all skipped; X25519 is used.
        using var share = X25519KeyShare.Generate();
        var builder = new ClientHelloBuilder { SessionId = [1, 2, 3, 4] };
        builder.CipherSuites = [0x3a3a, 0x1301, 0x1302, 0x1303];
        builder.Add(0x2a2a, [])
            .Add(ExtensionType.ServerName, ClientHelloBuilder.ServerName("localhost"))
            .Add(ExtensionType.SupportedVersions, [4, 0x4a, 0x4a, 0x03, 0x04])
            .Add(ExtensionType.SupportedGroups, ClientHelloBuilder.U16List(0x6a6a, 0x11ec, 0x001d, 0x0017, 0x0018))
            .Add(ExtensionType.KeyShare, ClientHelloBuilder.KeyShares((0x6a6a, [0]), (0x11ec, new byte[1216]), (0x001d, share.PublicKey.ToArray())))
            .Add(ExtensionType.SignatureAlgorithms, ClientHelloBuilder.U16List(0x0403, 0x0804, 0x0401, 0x0503))
            .Add(ExtensionType.PskKeyExchangeModes, [1, 1])
            .Add(0x0017, []) // extended_master_secret
            .Add(0x001b, [2, 0, 2]) // compress_certificate
            .Add(0x44cd, [0, 3, 2, 0x68, 0x33]) // application_settings
            .Add(ExtensionType.ApplicationLayerProtocolNegotiation, ClientHelloBuilder.Alpn("h3"))
            .Add(ExtensionType.QuicTransportParameters, [0x05, 0x04, 0x80, 0x01, 0x00, 0x00])
            .Add(0xfe0d, new byte[200]) // encrypted_client_hello (GREASE ECH)
            .Add(0x1a1a, [0]);
        var callbacks = ServerAccepts(builder.Build());

        Assert.Equal(2, callbacks.Outgoing.Count);
        var serverHello = callbacks.Outgoing[0].Data;
        Assert.Equal(2, serverHello[0]);
        Assert.Equal(4, serverHello[4 + 2 + 32]); // legacy_session_id_echo length
        Assert.Equal([1, 2, 3, 4], serverHello.AsSpan(4 + 2 + 32 + 1, 4).ToArray());
        Assert.Equal(3, callbacks.Secrets.Count); // Handshake read and write, Application write
        Assert.Equal(0x001d, (serverHello[^36] << 8) | serverHello[^35]); // key_share group, then a 2-byte length and the 32-byte key

    }

    [Fact]
    public void SecondClientHello_MustCarryTheRequestedShareAndKeepItsRandom()
    {
        using var p256 = new P256KeyShare();
        var first = ClientHelloBuilder.Standard(p256);
        var firstBytes = first.Build();

        // Without a second share for X25519 after the retry: illegal_parameter.
        var callbacks = new RecordingCallbacks();
        using (var server = QuicTls.CreateServer(TestCertificates.Server(), callbacks, []))
        {
            server.ProcessCryptoData(EncryptionLevel.Initial, firstBytes);
            Assert.Single(callbacks.Outgoing);
            var e = Assert.Throws<TlsAlertException>(() => server.ProcessCryptoData(EncryptionLevel.Initial, firstBytes));
            Assert.Equal(TlsAlert.IllegalParameter, e.Alert);
        }

        // With the share but a new random: illegal_parameter.
        using var x25519 = X25519KeyShare.Generate();
        using (var server = QuicTls.CreateServer(TestCertificates.Server(), new RecordingCallbacks(), []))
        {
            server.ProcessCryptoData(EncryptionLevel.Initial, firstBytes);
            var second = ClientHelloBuilder.Standard(x25519);
            var e = Assert.Throws<TlsAlertException>(() => server.ProcessCryptoData(EncryptionLevel.Initial, second.Build()));
            Assert.Equal(TlsAlert.IllegalParameter, e.Alert);
        }

        // With the share and the same random: accepted.
        var accepted = new RecordingCallbacks();
        using (var server = QuicTls.CreateServer(TestCertificates.Server(), accepted, []))
        {
            server.ProcessCryptoData(EncryptionLevel.Initial, firstBytes);
            var second = ClientHelloBuilder.Standard(x25519);
            second.Random = first.Random;
            server.ProcessCryptoData(EncryptionLevel.Initial, second.Build());
            Assert.Equal(3, accepted.Outgoing.Count);
        }
    }
}

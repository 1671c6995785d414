using System.Text.RegularExpressions;
using Switchyard.Tls.Messages;

namespace Switchyard.Tls.Tests;

public class HandshakeTests
{
    private static void AssertEqualSecrets(TlsPair pair)
    {
        foreach (var level in new[] { EncryptionLevel.Handshake, EncryptionLevel.Application })
        {
            // What one side writes with, the other reads with (RFC 9001 §4.1.4).
            Assert.Equal(pair.ClientCallbacks.Secrets[(level, true)], pair.ServerCallbacks.Secrets[(level, false)]);
            Assert.Equal(pair.ServerCallbacks.Secrets[(level, true)], pair.ClientCallbacks.Secrets[(level, false)]);
            Assert.NotEqual(pair.ClientCallbacks.Secrets[(level, true)], pair.ClientCallbacks.Secrets[(level, false)]);
        }

        Assert.NotEqual(pair.ClientCallbacks.Secrets[(EncryptionLevel.Handshake, true)], pair.ClientCallbacks.Secrets[(EncryptionLevel.Application, true)]);
        Assert.Equal(4, pair.ClientCallbacks.Secrets.Count);
        Assert.Equal(4, pair.ServerCallbacks.Secrets.Count);
    }

    private static void AssertCompleted(TlsPair pair)
    {
        Assert.True(pair.Client.IsHandshakeComplete);
        Assert.True(pair.Server.IsHandshakeComplete);
        Assert.Equal(1, pair.ClientCallbacks.CompletedCount);
        Assert.Equal(1, pair.ServerCallbacks.CompletedCount);
        Assert.Equal(pair.ServerParameters, pair.Client.PeerTransportParameters!.Value.ToArray());
        Assert.Equal(pair.ClientParameters, pair.Server.PeerTransportParameters!.Value.ToArray());
        AssertEqualSecrets(pair);
    }

    [Theory]
    [InlineData(TlsCipherSuite.Aes128GcmSha256, 32)] // SHA-256 schedule
    [InlineData(TlsCipherSuite.Aes256GcmSha384, 48)] // SHA-384 schedule: longer secrets and Finished
    [InlineData(TlsCipherSuite.ChaCha20Poly1305Sha256, 32)] // SHA-256 schedule, ChaCha20 suite
    public void EachCipherSuite_CompletesWithEqualSecrets(TlsCipherSuite suite, int secretLength)
    {
        var client = TestCertificates.PinnedClient();
        client.CipherSuites = [suite];
        using var pair = new TlsPair(client, TestCertificates.Server());
        pair.RunToCompletion();

        AssertCompleted(pair);
        Assert.Equal(suite, pair.Client.CipherSuite);
        Assert.Equal(suite, pair.Server.CipherSuite);
        Assert.Equal(secretLength, pair.ClientCallbacks.Secrets[(EncryptionLevel.Application, true)].Length);
        Assert.Equal("h3", pair.Client.NegotiatedApplicationProtocol);
        Assert.Equal("h3", pair.Server.NegotiatedApplicationProtocol);
        Assert.Equal("localhost", pair.Server.ServerName);
        Assert.Equal(TestCertificates.Localhost.RawData, pair.Client.PeerCertificate!.RawData);
    }

    [Fact]
    public void ServerOrder_PicksClientsFirstSuiteAmongOurs()
    {
        var client = TestCertificates.PinnedClient();
        client.CipherSuites = [TlsCipherSuite.ChaCha20Poly1305Sha256, TlsCipherSuite.Aes256GcmSha384];
        var server = TestCertificates.Server();
        server.CipherSuites = [TlsCipherSuite.Aes128GcmSha256, TlsCipherSuite.Aes256GcmSha384];
        using var pair = new TlsPair(client, server);
        pair.RunToCompletion();
        Assert.Equal(TlsCipherSuite.Aes256GcmSha384, pair.Server.CipherSuite);
    }

    [Fact]
    public void NoCommonCipherSuite_IsHandshakeFailure()
    {
        var client = TestCertificates.PinnedClient();
        client.CipherSuites = [TlsCipherSuite.ChaCha20Poly1305Sha256];
        var server = TestCertificates.Server();
        server.CipherSuites = [TlsCipherSuite.Aes128GcmSha256];
        using var pair = new TlsPair(client, server);
        Assert.Equal(TlsAlert.HandshakeFailure, Assert.Throws<TlsAlertException>(() => pair.Run()).Alert);
    }

    [Fact]
    public void X25519Share_IsUsedWithoutRetry()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
        pair.RunToCompletion();
        AssertCompleted(pair);
        Assert.Equal(NamedGroup.X25519, pair.ServerCore.KeyExchangeGroup);
        Assert.Equal(NamedGroup.X25519, pair.ClientCore.KeyExchangeGroup);
        Assert.False(pair.ServerCore.HelloRetryRequested);
        var flight = pair.ServerCallbacks.Written.Single(w => w.Level == EncryptionLevel.Handshake).Data;
        var messages = TlsPair.SplitMessages(flight);
        Assert.Equal(new byte[] { 8, 11, 15, 20 }, messages.Select(m => m[0]).ToArray());
        Assert.Equal((ushort)SignatureScheme.EcdsaSecp256r1Sha256, (ushort)((messages[2][4] << 8) | messages[2][5]));
    }

    [Fact]
    public void P256OnlyClient_CompletesOverSecp256r1WithoutRetry()
    {
        var client = TestCertificates.PinnedClient();
        client.SupportedGroups = [NamedGroup.Secp256r1];
        client.KeyShareGroups = [NamedGroup.Secp256r1];
        using var pair = new TlsPair(client, TestCertificates.Server());
        pair.RunToCompletion();
        AssertCompleted(pair);
        Assert.Equal(NamedGroup.Secp256r1, pair.ServerCore.KeyExchangeGroup);
        Assert.Equal(NamedGroup.Secp256r1, pair.ClientCore.KeyExchangeGroup);
        Assert.False(pair.ClientCore.HelloRetryRequested);
    }

    [Fact]
    public void ClientSharesOnlyP256ButListsX25519First_ServerSendsHelloRetryRequest()
    {
        // The server prefers X25519; the client supports it but sent a P-256 share only, so the server asks for an
        // X25519 share (RFC 8446 §4.1.4) and the handshake finishes over X25519.
        var client = TestCertificates.PinnedClient();
        client.SupportedGroups = [NamedGroup.X25519, NamedGroup.Secp256r1];
        client.KeyShareGroups = [NamedGroup.Secp256r1];
        using var pair = new TlsPair(client, TestCertificates.Server());
        var clientHello1 = pair.StartClient();
        TlsPair.Deliver(pair.Server, clientHello1, 0);
        var retry = pair.ServerCallbacks.Drain();
        var hrr = Assert.Single(retry);
        Assert.Equal(EncryptionLevel.Initial, hrr.Level);
        Assert.Equal((byte)HandshakeType.ServerHello, hrr.Data[0]);
        Assert.Equal(TlsConstants.HelloRetryRequestRandom.ToArray(), hrr.Data.AsSpan(6, 32).ToArray());
        Assert.Empty(pair.ServerCallbacks.Secrets);

        TlsPair.Deliver(pair.Client, retry, 0);
        pair.RunToCompletion();
        AssertCompleted(pair);
        Assert.True(pair.ServerCore.HelloRetryRequested);
        Assert.True(pair.ClientCore.HelloRetryRequested);
        Assert.Equal(NamedGroup.X25519, pair.ServerCore.KeyExchangeGroup);
        Assert.Equal(NamedGroup.X25519, pair.ClientCore.KeyExchangeGroup);
    }

    [Theory]
    [InlineData(TlsCipherSuite.Aes128GcmSha256)] // message_hash with SHA-256
    [InlineData(TlsCipherSuite.Aes256GcmSha384)] // message_hash with SHA-384
    public void HelloRetryRequest_TranscriptAgreesForEachHash(TlsCipherSuite suite)
    {
        var client = TestCertificates.PinnedClient();
        client.CipherSuites = [suite];
        client.KeyShareGroups = [NamedGroup.Secp256r1];
        using var pair = new TlsPair(client, TestCertificates.Server());
        pair.RunToCompletion();
        AssertCompleted(pair);
        Assert.True(pair.ServerCore.HelloRetryRequested);
    }

    [Fact]
    public void SecondHelloRetryRequest_IsUnexpectedMessage()
    {
        var client = TestCertificates.PinnedClient();
        client.KeyShareGroups = [NamedGroup.Secp256r1];
        using var pair = new TlsPair(client, TestCertificates.Server());
        pair.Client.Start();
        TlsPair.Deliver(pair.Server, pair.ClientCallbacks.Drain(), 0);
        var retry = pair.ServerCallbacks.Drain();
        TlsPair.Deliver(pair.Client, retry, 0);
        var e = Assert.Throws<TlsAlertException>(() => TlsPair.Deliver(pair.Client, retry, 0));
        Assert.Equal(TlsAlert.UnexpectedMessage, e.Alert);
    }

    [Fact]
    public void CertificateRequest_IsAnsweredWithAnEmptyCertificate()
    {
        var server = TestCertificates.Server();
        server.RequestClientCertificate = true;
        using var pair = new TlsPair(TestCertificates.PinnedClient(), server);
        pair.RunToCompletion();
        AssertCompleted(pair);
        var clientFlight = pair.ClientCallbacks.Written.Single(w => w.Level == EncryptionLevel.Handshake).Data;
        var messages = TlsPair.SplitMessages(clientFlight);
        Assert.Equal(new byte[] { 11, 20 }, messages.Select(m => m[0]).ToArray());
        Assert.Equal(new byte[] { 11, 0, 0, 4, 0, 0, 0, 0 }, messages[0]);
    }

    [Fact]
    public void StartTwice_WritesOneClientHello()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
        pair.Client.Start();
        pair.Client.Start();
        Assert.Single(pair.ClientCallbacks.Outgoing);
    }

    [Fact]
    public void NonAsciiServerName_IsRejectedAtCreation()
    {
        var client = TestCertificates.PinnedClient();
        client.ServerName = "bücher.example";
        Assert.Throws<ArgumentException>(() => QuicTls.CreateClient(client, new RecordingCallbacks(), []));
    }

    [Fact]
    public void ByteAtATimeDelivery_Completes()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
        pair.RunToCompletion(chunk: 1);
        AssertCompleted(pair);
    }

    [Fact]
    public void SecretsAndWrites_ComeInTheOrderQuicNeeds()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
        pair.RunToCompletion();
        Assert.Equal(
            ["write Initial", "secret Handshake read", "secret Handshake write", "write Handshake", "secret Application write", "secret Application read", "completed"],
            pair.ServerCallbacks.Events);
        Assert.Equal(
            ["write Initial", "secret Handshake read", "secret Handshake write", "secret Application read", "write Handshake", "secret Application write", "completed"],
            pair.ClientCallbacks.Events);
    }

    [Fact]
    public void AlpnMismatch_IsNoApplicationProtocol()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(null, "h3-29"), TestCertificates.Server(null, "h3"));
        var e = Assert.Throws<TlsAlertException>(() => pair.Run());
        Assert.Equal(TlsAlert.NoApplicationProtocol, e.Alert);
        Assert.Equal(0x178, e.QuicErrorCode);
        Assert.False(pair.Server.IsHandshakeComplete);
    }

    [Fact]
    public void AlpnServerPreference_Wins()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(null, "hq-interop", "h3"), TestCertificates.Server(null, "h3", "hq-interop"));
        pair.RunToCompletion();
        Assert.Equal("h3", pair.Client.NegotiatedApplicationProtocol);
        Assert.Equal("h3", pair.Server.NegotiatedApplicationProtocol);
    }

    [Fact]
    public void KeyLog_EmitsNssLinesThatMatchTheSecrets()
    {
        var clientLines = new List<string>();
        var serverLines = new List<string>();
        var client = TestCertificates.PinnedClient();
        client.KeyLog = clientLines.Add;
        var server = TestCertificates.Server();
        server.KeyLog = serverLines.Add;
        using var pair = new TlsPair(client, server);
        pair.RunToCompletion();

        Assert.Equal(4, clientLines.Count);
        Assert.Equal(clientLines.Order(), serverLines.Order());
        var pattern = new Regex("^(CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0) ([0-9a-f]{64}) ([0-9a-f]{64})$");
        var byLabel = clientLines.Select(l => pattern.Match(l)).ToDictionary(m => m.Groups[1].Value, m => m.Groups[3].Value);
        Assert.Equal(4, byLabel.Count);
        Assert.Single(clientLines.Select(l => pattern.Match(l).Groups[2].Value).Distinct());
        Assert.Equal(Convert.ToHexStringLower(pair.ClientCallbacks.Secrets[(EncryptionLevel.Handshake, true)]), byLabel["CLIENT_HANDSHAKE_TRAFFIC_SECRET"]);
        Assert.Equal(Convert.ToHexStringLower(pair.ClientCallbacks.Secrets[(EncryptionLevel.Handshake, false)]), byLabel["SERVER_HANDSHAKE_TRAFFIC_SECRET"]);
        Assert.Equal(Convert.ToHexStringLower(pair.ClientCallbacks.Secrets[(EncryptionLevel.Application, true)]), byLabel["CLIENT_TRAFFIC_SECRET_0"]);
        Assert.Equal(Convert.ToHexStringLower(pair.ClientCallbacks.Secrets[(EncryptionLevel.Application, false)]), byLabel["SERVER_TRAFFIC_SECRET_0"]);
    }

    [Fact]
    public void ThrowingKeyLog_DoesNotBreakTheHandshake()
    {
        var client = TestCertificates.PinnedClient();
        client.KeyLog = _ => throw new IOException("disk full");
        using var pair = new TlsPair(client, TestCertificates.Server());
        pair.RunToCompletion();
        AssertCompleted(pair);
    }

    [Fact]
    public void CertificateSelector_PicksBySni()
    {
        using var other = TlsCertificates.CreateSelfSignedEcdsaP256(["other.test"], TimeSpan.FromDays(1));
        string? seen = "unset";
        var server = TestCertificates.Server();
        server.CertificateSelector = name =>
        {
            seen = name;
            return name == "other.test" ? other : null;
        };
        var client = TestCertificates.PinnedClient(other);
        client.ServerName = "Other.Test";
        using var pair = new TlsPair(client, server);
        pair.RunToCompletion();
        Assert.Equal("other.test", seen);
        Assert.Equal(other.RawData, pair.Client.PeerCertificate!.RawData);
    }

    [Fact]
    public void IpLiteralServerName_SendsNoSni()
    {
        var client = TestCertificates.PinnedClient();
        client.ServerName = "127.0.0.1";
        using var pair = new TlsPair(client, TestCertificates.Server());
        pair.RunToCompletion();
        Assert.Null(pair.Server.ServerName);
        Assert.True(pair.Client.IsHandshakeComplete);
    }

    [Fact]
    public void KeyUpdateAndEndOfEarlyData_AreUnexpectedInQuic()
    {
        foreach (var message in new byte[][] { [24, 0, 0, 1, 0], [5, 0, 0, 0] })
        {
            using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
            pair.RunToCompletion();
            var e = Assert.Throws<TlsAlertException>(() => pair.Client.ProcessCryptoData(EncryptionLevel.Application, message));
            Assert.Equal(TlsAlert.UnexpectedMessage, e.Alert);
            e = Assert.Throws<TlsAlertException>(() => pair.Server.ProcessCryptoData(EncryptionLevel.Application, message));
            Assert.Equal(TlsAlert.UnexpectedMessage, e.Alert);
        }
    }

    [Fact]
    public void NewSessionTicket_IsAcceptedAndIgnoredByTheClient()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
        pair.RunToCompletion();

        // RFC 8448 §3's NewSessionTicket, split over two calls together with a second ticket.
        var ticket = Convert.FromHexString("040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d3570008002a000400000400");
        byte[] two = [.. ticket, .. ticket];
        pair.Client.ProcessCryptoData(EncryptionLevel.Application, two.AsSpan(0, 100));
        pair.Client.ProcessCryptoData(EncryptionLevel.Application, two.AsSpan(100));
        Assert.Empty(pair.ClientCallbacks.Outgoing);
    }

    [Fact]
    public void DataAtTheWrongLevel_IsUnexpectedMessage()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
        pair.Client.Start();
        var hello = pair.ClientCallbacks.Drain();
        var e = Assert.Throws<TlsAlertException>(() => pair.Server.ProcessCryptoData(EncryptionLevel.Handshake, hello[0].Data));
        Assert.Equal(TlsAlert.UnexpectedMessage, e.Alert);
    }

    [Fact]
    public void ExtraBytesAfterClientHelloAtInitial_AreUnexpectedMessage()
    {
        // RFC 8446 §5.1 / RFC 9001 §4.1.3: nothing more may follow the ClientHello at the Initial level.
        using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
        pair.Client.Start();
        var hello = pair.ClientCallbacks.Drain()[0].Data;
        byte[] both = [.. hello, 20, 0, 0, 32];
        var e = Assert.Throws<TlsAlertException>(() => pair.Server.ProcessCryptoData(EncryptionLevel.Initial, both));
        Assert.Equal(TlsAlert.UnexpectedMessage, e.Alert);
    }

    [Fact]
    public void TamperedServerFinished_IsDecryptError()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
        pair.Client.Start();
        TlsPair.Deliver(pair.Server, pair.ClientCallbacks.Drain(), 0);
        var flight = pair.ServerCallbacks.Drain();
        flight[1].Data[^1] ^= 0x80;
        var e = Assert.Throws<TlsAlertException>(() => TlsPair.Deliver(pair.Client, flight, 0));
        Assert.Equal(TlsAlert.DecryptError, e.Alert);
        Assert.False(pair.Client.IsHandshakeComplete);
    }

    [Fact]
    public void TamperedClientFinished_IsDecryptError()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
        pair.Client.Start();
        TlsPair.Deliver(pair.Server, pair.ClientCallbacks.Drain(), 0);
        TlsPair.Deliver(pair.Client, pair.ServerCallbacks.Drain(), 0);
        var finished = pair.ClientCallbacks.Drain();
        finished[0].Data[10] ^= 0x01;
        var e = Assert.Throws<TlsAlertException>(() => TlsPair.Deliver(pair.Server, finished, 0));
        Assert.Equal(TlsAlert.DecryptError, e.Alert);
        Assert.False(pair.Server.IsHandshakeComplete);
        Assert.False(pair.ServerCallbacks.Secrets.ContainsKey((EncryptionLevel.Application, false)));
    }

    [Fact]
    public void AfterAnAlert_EveryLaterCallFailsWithTheSameAlert()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(null, "x"), TestCertificates.Server(null, "h3"));
        pair.Client.Start();
        var hello = pair.ClientCallbacks.Drain()[0].Data;
        Assert.Throws<TlsAlertException>(() => pair.Server.ProcessCryptoData(EncryptionLevel.Initial, hello));
        var again = Assert.Throws<TlsAlertException>(() => pair.Server.ProcessCryptoData(EncryptionLevel.Initial, hello));
        Assert.Equal(TlsAlert.NoApplicationProtocol, again.Alert);
    }

    [Fact]
    public void ProcessBeforeStart_OnTheClient_IsUnexpectedMessage()
    {
        using var pair = new TlsPair(TestCertificates.PinnedClient(), TestCertificates.Server());
        var e = Assert.Throws<TlsAlertException>(() => pair.Client.ProcessCryptoData(EncryptionLevel.Initial, [2, 0, 0, 0]));
        Assert.Equal(TlsAlert.UnexpectedMessage, e.Alert);
    }

    [Fact]
    public void CreateServer_WithoutPrivateKey_Throws()
    {
        using var publicOnly = X509CertificateLoaderHelper.PublicOnly(TestCertificates.Localhost);
        Assert.Throws<ArgumentException>(() => QuicTls.CreateServer(TestCertificates.Server(publicOnly), new RecordingCallbacks(), []));
        Assert.Throws<ArgumentException>(() => QuicTls.CreateServer(new TlsServerConfig { Certificate = TestCertificates.Localhost }, new RecordingCallbacks(), []));
        Assert.Throws<ArgumentException>(() => QuicTls.CreateClient(new TlsClientConfig(), new RecordingCallbacks(), []));
    }
}

internal static class X509CertificateLoaderHelper
{
    public static System.Security.Cryptography.X509Certificates.X509Certificate2 PublicOnly(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
        System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(certificate.RawData);
}

using Switchyard.Tls.Messages;

namespace Switchyard.Tls.Tests;

/// <summary>The client's checks on ServerHello and HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4), with hand-built messages.</summary>
public class ServerHelloTests
{
    private static byte[] BuildServerHello(
        bool retry,
        ushort suite = 0x1301,
        byte[]? sessionId = null,
        ushort? version = TlsConstants.Tls13,
        ushort? group = 0x001d,
        byte[]? key = null,
        byte[]? cookie = null,
        ushort? extraExtension = null)
    {
        var writer = new TlsWriter();
        var start = writer.BeginMessage(HandshakeType.ServerHello);
        writer.WriteUInt16(0x0303);
        writer.WriteBytes(retry ? TlsConstants.HelloRetryRequestRandom : new byte[32]);
        writer.WriteVector8(sessionId ?? []);
        writer.WriteUInt16(suite);
        writer.WriteUInt8(0);
        var extensions = writer.BeginVector(2);
        if (version is { } v)
        {
            writer.WriteUInt16((ushort)ExtensionType.SupportedVersions);
            writer.WriteVector16([(byte)(v >> 8), (byte)v]);
        }

        if (group is { } g)
        {
            writer.WriteUInt16((ushort)ExtensionType.KeyShare);
            var body = writer.BeginVector(2);
            writer.WriteUInt16(g);
            if (!retry)
            {
                writer.WriteVector16(key ?? new byte[32]);
            }

            writer.EndVector(body, 2);
        }

        if (cookie is not null)
        {
            writer.WriteUInt16((ushort)ExtensionType.Cookie);
            var body = writer.BeginVector(2);
            writer.WriteVector16(cookie);
            writer.EndVector(body, 2);
        }

        if (extraExtension is { } extra)
        {
            writer.WriteUInt16(extra);
            writer.WriteVector16([]);
        }

        writer.EndVector(extensions, 2);
        writer.EndMessage(start);
        return writer.ToArray();
    }

    private static (IQuicTlsHandshake Client, RecordingCallbacks Callbacks) StartedClient()
    {
        var callbacks = new RecordingCallbacks();
        var client = QuicTls.CreateClient(TestCertificates.PinnedClient(), callbacks, [1]);
        client.Start();
        callbacks.Drain();
        return (client, callbacks);
    }

    private static TlsAlert ClientAlert(byte[] serverHello)
    {
        var (client, _) = StartedClient();
        using (client)
        {
            return Assert.Throws<TlsAlertException>(() => client.ProcessCryptoData(EncryptionLevel.Initial, serverHello)).Alert;
        }
    }

    [Fact]
    public void HelloRetryRequestCookie_IsEchoedInTheSecondClientHello()
    {
        var (client, callbacks) = StartedClient();
        using (client)
        {
            client.ProcessCryptoData(EncryptionLevel.Initial, BuildServerHello(retry: true, group: 0x0017, cookie: [9, 8, 7]));
            var second = ClientHello.Parse(Assert.Single(callbacks.Outgoing).Data.AsSpan(4));
            Assert.Equal([9, 8, 7], second.Cookie);
            var share = Assert.Single(second.KeyShares!);
            Assert.Equal(0x0017, share.Group);
            Assert.Equal(65, share.KeyExchange.Length);
        }
    }

    [Fact]
    public void HelloRetryRequestWithOnlyACookie_KeepsTheShares()
    {
        var (client, callbacks) = StartedClient();
        using (client)
        {
            client.ProcessCryptoData(EncryptionLevel.Initial, BuildServerHello(retry: true, group: null, cookie: [1]));
            var second = ClientHello.Parse(Assert.Single(callbacks.Outgoing).Data.AsSpan(4));
            Assert.Equal(0x001d, Assert.Single(second.KeyShares!).Group);
        }
    }

    [Theory]
    [InlineData(0x001d)] // a group the client already sent a share for
    [InlineData(0x0018)] // a group the client did not offer
    public void HelloRetryRequestForAnUnacceptableGroup_IsIllegalParameter(int group)
    {
        Assert.Equal(TlsAlert.IllegalParameter, ClientAlert(BuildServerHello(retry: true, group: (ushort)group)));
    }

    [Fact]
    public void HelloRetryRequestThatChangesNothing_IsIllegalParameter()
    {
        Assert.Equal(TlsAlert.IllegalParameter, ClientAlert(BuildServerHello(retry: true, group: null)));
    }

    [Fact]
    public void ServerHelloRules_GiveTheirAlerts()
    {
        Assert.Equal(TlsAlert.IllegalParameter, ClientAlert(BuildServerHello(retry: false, suite: 0x1304)));
        Assert.Equal(TlsAlert.IllegalParameter, ClientAlert(BuildServerHello(retry: false, sessionId: [1])));
        Assert.Equal(TlsAlert.ProtocolVersion, ClientAlert(BuildServerHello(retry: false, version: null)));
        Assert.Equal(TlsAlert.IllegalParameter, ClientAlert(BuildServerHello(retry: false, version: 0x0303)));
        Assert.Equal(TlsAlert.MissingExtension, ClientAlert(BuildServerHello(retry: false, group: null)));
        Assert.Equal(TlsAlert.IllegalParameter, ClientAlert(BuildServerHello(retry: false, group: 0x0017, key: new byte[65])));
        Assert.Equal(TlsAlert.UnsupportedExtension, ClientAlert(BuildServerHello(retry: false, extraExtension: (ushort)ExtensionType.PreSharedKey)));
        Assert.Equal(TlsAlert.UnsupportedExtension, ClientAlert(BuildServerHello(retry: false, extraExtension: 0x1234)));
        Assert.Equal(TlsAlert.UnsupportedExtension, ClientAlert(BuildServerHello(retry: false, cookie: [1])));

        // The all-zero X25519 point is refused (RFC 8446 §7.4.2).
        Assert.Equal(TlsAlert.IllegalParameter, ClientAlert(BuildServerHello(retry: false, key: new byte[32])));
    }
}

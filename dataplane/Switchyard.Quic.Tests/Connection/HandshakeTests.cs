using Switchyard.Quic.Connection;
using Switchyard.Tls;

namespace Switchyard.Quic.Tests.Connection;

public class HandshakeTests
{
    [Fact]
    public void Handshake_OverSimulatedNetwork_CompletesAndConfirms()
    {
        var pair = new SimPair(1);
        pair.Handshake();
        Assert.Equal("h3", pair.Client.NegotiatedApplicationProtocol);
        Assert.Equal("h3", pair.Server!.NegotiatedApplicationProtocol);
        Assert.Equal("localhost", pair.Server.ServerName);
        Assert.Equal(ConnectionState.Established, pair.Client.State);
        Assert.True(pair.Server.IsHandshakeConfirmed);
        Assert.True(pair.Server.IsAddressValidated);
    }

    [Theory]
    // Each TLS 1.3 suite QUIC allows (RFC 9001 §5.3), including ChaCha20 header protection.
    [InlineData(TlsCipherSuite.Aes128GcmSha256)]
    [InlineData(TlsCipherSuite.Aes256GcmSha384)]
    [InlineData(TlsCipherSuite.ChaCha20Poly1305Sha256)]
    public void Handshake_EachCipherSuite_CarriesStreamData(TlsCipherSuite suite)
    {
        var pair = new SimPair(2, configure: b => b.CipherSuite = suite);
        pair.Handshake();
        Assert.True(pair.Client.TryOpenStream(true, out var id));
        pair.Client.StreamWrite(id, "ping"u8);
        pair.Client.StreamFinish(id);
        var received = new byte[16];
        var total = 0;
        var finished = false;
        Assert.True(pair.RunUntil(() =>
        {
            if (pair.Server!.GetStream(id) is not null)
            {
                total += pair.Server.StreamRead(id, received.AsSpan(total), out finished);
            }

            return finished;
        }, TimeSpan.FromSeconds(10)));
        Assert.Equal("ping"u8.ToArray(), received[..total]);
    }
}

using System.Diagnostics;
using System.Net;
using Switchyard.Quic.Connection;
using Switchyard.Quic.Packets;
using Switchyard.Quic.Tests.Packets;
using Switchyard.Transport;

namespace Switchyard.Quic.Tests.Connection;

public class RobustnessTests
{
    [Fact]
    public void UnknownVersion_GetsVersionNegotiationListingV1()
    {
        var endpoint = new QuicServerEndpoint(() => new ConnectionSettingsBuilder().Build(true, new byte[32]), new byte[32]);
        var datagram = new byte[1200];
        var header = new byte[] { 0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8, 1, 2, 3, 4, 5, 6, 7, 8, 4, 9, 9, 9, 9 };
        header.CopyTo(datagram, 0);
        endpoint.Receive(datagram, SimPair.ClientAddress, 0);
        var buffer = new byte[1500];
        Assert.True(endpoint.TrySend(buffer, out var length, out var to, 0));
        Assert.Equal(SimPair.ClientAddress, to);
        Assert.True(PacketHeader.TryParse(buffer.AsSpan(0, length), 8, out var parsed));
        Assert.Equal(PacketType.VersionNegotiation, parsed.Type);
        Assert.True(PacketHeader.VersionNegotiationLists(buffer.AsSpan(0, length), parsed, PacketHeader.Version1));

        // The IDs are echoed swapped (RFC 9000 §17.2.1).
        Assert.Equal(new byte[] { 9, 9, 9, 9 }, buffer.AsSpan(parsed.DestinationCidOffset, parsed.DestinationCidLength).ToArray());
        Assert.Empty(endpoint.Connections);
    }

    [Fact]
    public void SmallInitial_IsDroppedWithoutState()
    {
        var endpoint = new QuicServerEndpoint(() => new ConnectionSettingsBuilder().Build(true, new byte[32]), new byte[32]);
        var datagram = new byte[1100];
        new byte[] { 0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x40, 0x10 }.CopyTo(datagram, 0);
        endpoint.Receive(datagram, SimPair.ClientAddress, 0);
        Assert.Empty(endpoint.Connections);
        Assert.False(endpoint.TrySend(new byte[1500], out _, out _, 0));
    }

    [Fact]
    public void VersionNegotiationWithoutV1_FailsTheClient()
    {
        var client = QuicConnection.CreateClient(new ConnectionSettingsBuilder().Build(false, new byte[32]), SimPair.ServerAddress, 0);
        var buffer = new byte[1500];
        Assert.True(client.TrySend(buffer, out var length, out _, 0));
        Assert.True(PacketHeader.TryParse(buffer.AsSpan(0, length), 8, out var initial));
        var dcid = buffer.AsSpan(initial.DestinationCidOffset, initial.DestinationCidLength).ToArray();
        var scid = buffer.AsSpan(initial.SourceCidOffset, initial.SourceCidLength).ToArray();
        var vn = new byte[64];
        var vnLength = PacketHeader.WriteVersionNegotiation(vn, 0, scid, dcid, [0xff00001d]);
        client.Receive(vn.AsSpan(0, vnLength), SimPair.ServerAddress, 1000);
        Assert.Equal(ConnectionState.Terminated, client.State);
        Assert.Equal(QuicError.VersionNegotiationError, client.CloseError!.QuicError);
    }

    [Fact]
    public void ClientInitialDatagram_IsPaddedTo1200()
    {
        var client = QuicConnection.CreateClient(new ConnectionSettingsBuilder().Build(false, new byte[32]), SimPair.ServerAddress, 0);
        var buffer = new byte[1500];
        Assert.True(client.TrySend(buffer, out var length, out _, 0));
        Assert.True(length >= 1200);
    }

    [Fact]
    public void Fuzz_GarbageAndMutatedPackets_NeverThrowOutOfTheConnection()
    {
        var pair = new SimPair(21);
        pair.Handshake();
        var random = new Random(5);
        var capture = new byte[1500];
        Assert.True(pair.Client.TryOpenStream(true, out var id));
        pair.Client.StreamWrite(id, new byte[100]);
        Assert.True(pair.Client.TrySend(capture, out var captured, out _, pair.Network.NowMicros));
        var seed = capture[..captured];
        var stopwatch = Stopwatch.StartNew();
        var iterations = 0;
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(2))
        {
            iterations++;
            var input = random.Next(3) == 0 ? WireTests.RandomBytes(random, random.Next(1, 1400)) : WireTests.Mutate(random, seed);
            pair.ServerEndpoint.Receive(input, SimPair.ClientAddress, pair.Network.NowMicros);
        }

        // Unauthenticated bytes cannot hurt the connection: it is still up and still works.
        Assert.Equal(ConnectionState.Established, pair.Server!.State);
        pair.Server.Receive(seed, SimPair.ClientAddress, pair.Network.NowMicros);
        Assert.True(iterations > 1000);
        Assert.True(pair.RunUntil(() => pair.Server.GetStream(id) is { Receive.HighestOffset: 100 }, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void PeerOpeningTooManyStreams_IsStreamLimitError()
    {
        var pair = new SimPair(22, configure: b => b.MaxInboundBidiStreams = 1);
        pair.Handshake();

        // Forge what a misbehaving client would send: STREAM on bidi stream index 5 while the limit is 1.
        var error = Assert.Throws<QuicTransportErrorException>(() => InvokeStreamFrame(pair.Server!, 20));
        Assert.Equal(TransportErrorCode.StreamLimitError, error.ErrorCode);
    }

    private static void InvokeStreamFrame(QuicConnection connection, long streamId)
    {
        var method = typeof(QuicConnection).GetMethod("StreamForFrame", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        try
        {
            method.Invoke(connection, [streamId, false, 0x08L]);
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}

public class HandshakeTimeoutTests
{
    [Fact]
    public void ServerNeverAnswers_ClientTimesOutWithConnectionTimeout()
    {
        var pair = new SimPair(23, configure: b => b.IdleTimeoutMicros = 3_000_000);
        pair.Network.SetLink(SimPair.ClientAddress, SimPair.ServerAddress, new Recovery.Simulation.SimulatedLink { LossRate = 1.0 });
        Assert.True(pair.RunUntil(() => pair.Client.State == ConnectionState.Terminated, TimeSpan.FromSeconds(20)));
        Assert.Equal(QuicError.ConnectionTimeout, pair.Client.CloseError!.QuicError);
        Assert.True(pair.Client.PacketsSent > 2, "the client should have probed (RFC 9002 §6.2.4)");
    }
}

using Switchyard.Quic.Connection;

namespace Switchyard.Quic.Tests.Connection;

/// <summary>
/// When a receiver acknowledges (RFC 9000 §13.2.1, §13.2.2): after every second ack-eliciting packet, and at once for a
/// packet out of order or after a gap. The datagrams are carried by hand so the test decides what arrives when, as a
/// driver draining a socket batch does.
/// </summary>
public class AckFrequencyTests
{
    /// <summary>Handshakes, then has the server write stream data and returns the datagrams it sends, undelivered.</summary>
    private static (SimPair Pair, List<byte[]> Datagrams) ServerBurst(int seed)
    {
        var pair = new SimPair(seed);
        pair.Handshake();

        // Let the last handshake-time ACKs and NEW_CONNECTION_IDs settle so the burst below is pure stream data.
        pair.RunUntil(() => false, TimeSpan.FromMilliseconds(200));
        var server = pair.Server!;
        Assert.True(server.TryOpenStream(true, out var id));
        server.StreamWrite(id, new byte[64 * 1024]);
        var datagrams = new List<byte[]>();
        var buffer = new byte[1500];
        var now = pair.Network.NowMicros;
        while (datagrams.Count < 64 && server.TrySend(buffer, out var length, out _, now))
        {
            datagrams.Add(buffer[..length]);
        }

        Assert.True(datagrams.Count >= 8, $"the server sent only {datagrams.Count} datagrams in its burst");
        return (pair, datagrams);
    }

    private static int SendAll(QuicConnection connection, long now)
    {
        var buffer = new byte[1500];
        var sent = 0;
        while (connection.TrySend(buffer, out _, out _, now))
        {
            sent++;
        }

        return sent;
    }

    [Fact]
    public void InOrderBurst_OwesAnAckAfterEverySecondPacket()
    {
        var (pair, datagrams) = ServerBurst(21);
        var client = pair.Client;
        var now = pair.Network.NowMicros;
        var acksBefore = client.AckFramesSent;
        var elicitingBefore = client.AckElicitingPacketsReceived;
        for (var i = 0; i < datagrams.Count; i++)
        {
            client.Receive(datagrams[i], SimPair.ServerAddress, now);
            var expectUrgent = (i + 1) % 2 == 0;
            Assert.True(client.IsAckUrgent == expectUrgent, $"after packet {i + 1} of {datagrams.Count}: urgent={client.IsAckUrgent}");
            if (client.IsAckUrgent)
            {
                // What the driver does between two datagrams of a batch.
                Assert.True(SendAll(client, now) >= 1);
                Assert.False(client.IsAckUrgent);
            }
        }

        var eliciting = client.AckElicitingPacketsReceived - elicitingBefore;
        var acks = client.AckFramesSent - acksBefore;
        Assert.Equal(datagrams.Count, eliciting);
        Assert.Equal(datagrams.Count / 2, acks);
    }

    [Fact]
    public void PacketAfterAGap_AndTheLatePacket_EachOweAnAckAtOnce()
    {
        var (pair, datagrams) = ServerBurst(22);
        var client = pair.Client;
        var now = pair.Network.NowMicros;
        client.Receive(datagrams[0], SimPair.ServerAddress, now);
        Assert.False(client.IsAckUrgent);

        // datagrams[1] is "lost" for now: datagrams[2] arrives after a gap (RFC 9000 §13.2.1).
        client.Receive(datagrams[2], SimPair.ServerAddress, now);
        Assert.True(client.IsAckUrgent);
        var acks = client.AckFramesSent;
        SendAll(client, now);
        Assert.Equal(acks + 1, client.AckFramesSent);
        Assert.False(client.IsAckUrgent);

        // The late packet is out of order: one packet alone owes an ACK at once.
        client.Receive(datagrams[1], SimPair.ServerAddress, now);
        Assert.True(client.IsAckUrgent);
        SendAll(client, now);
        Assert.Equal(acks + 2, client.AckFramesSent);

        // Back in order: a single next packet waits for a second one or for max_ack_delay.
        client.Receive(datagrams[3], SimPair.ServerAddress, now);
        Assert.False(client.IsAckUrgent);
        Assert.NotNull(client.NextDeadline);
    }

    [Fact]
    public void DuplicatePacket_DoesNotCountTowardsTheNextAck()
    {
        var (pair, datagrams) = ServerBurst(23);
        var client = pair.Client;
        var now = pair.Network.NowMicros;
        var before = client.AckElicitingPacketsReceived;
        client.Receive(datagrams[0], SimPair.ServerAddress, now);
        client.Receive(datagrams[0], SimPair.ServerAddress, now);
        Assert.Equal(before + 1, client.AckElicitingPacketsReceived);
        Assert.False(client.IsAckUrgent);
    }
}

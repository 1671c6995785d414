using System.Net;
using Switchyard.Quic.Connection;
using Switchyard.Quic.Recovery.Simulation;
using Switchyard.Transport;

namespace Switchyard.Quic.Tests.Connection;

public class ConnectionScenarioTests
{
    private static byte Pattern(long offset) => (byte)(offset % 251);

    /// <summary>Writes <paramref name="total"/> patterned bytes as room allows; returns the new written count.</summary>
    private static long Pump(QuicConnection connection, long streamId, long written, long total, byte[] scratch)
    {
        while (written < total)
        {
            var chunk = (int)Math.Min(scratch.Length, total - written);
            for (var i = 0; i < chunk; i++)
            {
                scratch[i] = Pattern(written + i);
            }

            var taken = connection.StreamWrite(streamId, scratch.AsSpan(0, chunk));
            written += taken;
            if (taken < chunk)
            {
                break;
            }
        }

        if (written == total && connection.GetStream(streamId) is { Send.FinalSize: null })
        {
            connection.StreamFinish(streamId);
        }

        return written;
    }

    [Fact]
    public void TenMegabytes_UnderLossAndReordering_ArriveIntact()
    {
        var link = new SimulatedLink { OneWayDelayMicros = 20_000, LossRate = 0.05, ReorderRate = 0.05, ReorderDelayMicros = 15_000, JitterMicros = 2_000 };
        var pair = new SimPair(3, link);
        pair.Handshake();
        const long total = 10 * 1024 * 1024;
        Assert.True(pair.Client.TryOpenStream(true, out var id));
        var scratch = new byte[16 * 1024];
        var readBuffer = new byte[64 * 1024];
        long written = 0, read = 0;
        var finished = false;
        var corrupt = false;
        Assert.True(pair.RunUntil(() =>
        {
            written = Pump(pair.Client, id, written, total, scratch);
            while (pair.Server!.GetStream(id) is not null && !finished)
            {
                var n = pair.Server.StreamRead(id, readBuffer, out finished);
                for (var i = 0; i < n; i++)
                {
                    corrupt |= readBuffer[i] != Pattern(read + i);
                }

                read += n;
                if (n == 0)
                {
                    break;
                }
            }

            return finished;
        }, TimeSpan.FromMinutes(10)), $"transfer stalled at {read} of {total} bytes");
        Assert.False(corrupt);
        Assert.Equal(total, read);
        Assert.True(pair.Client.PacketsLost > 0, "the link should have lost packets");
        Assert.True(pair.Network.Statistics.Reordered > 0);
    }

    [Fact]
    public void SlowReader_BlocksSenderAtTheStreamWindow()
    {
        var pair = new SimPair(4, configure: b => { b.StreamReceiveWindow = 64 * 1024; b.StreamSendBuffer = 1 << 20; });
        pair.Handshake();
        Assert.True(pair.Client.TryOpenStream(true, out var id));
        var data = new byte[512 * 1024];
        var accepted = pair.Client.StreamWrite(id, data);
        Assert.Equal(data.Length, accepted);
        pair.RunUntil(() => false, TimeSpan.FromSeconds(5));

        // Nobody reads at the server: only one window's worth may have crossed (RFC 9000 §4.1).
        var serverStream = pair.Server!.GetStream(id)!;
        Assert.Equal(64 * 1024, serverStream.Receive!.HighestOffset);
        Assert.True(serverStream.BlockedAt < 0);
        Assert.Equal(64 * 1024, pair.Client.GetStream(id)!.Send!.SendOffset);

        // Reading opens the window again, and the rest flows.
        var buffer = new byte[64 * 1024];
        long read = 0;
        Assert.True(pair.RunUntil(() =>
        {
            int n;
            while ((n = pair.Server.StreamRead(id, buffer, out _)) > 0)
            {
                read += n;
            }

            return read == data.Length;
        }, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void ConnectionWindow_BlocksAcrossStreams()
    {
        var pair = new SimPair(5, configure: b => { b.ConnectionReceiveWindow = 100 * 1024; b.StreamReceiveWindow = 1 << 20; });
        pair.Handshake();
        Assert.True(pair.Client.TryOpenStream(true, out var a));
        Assert.True(pair.Client.TryOpenStream(true, out var b));
        pair.Client.StreamWrite(a, new byte[80 * 1024]);
        pair.Client.StreamWrite(b, new byte[80 * 1024]);
        pair.RunUntil(() => false, TimeSpan.FromSeconds(5));
        var received = pair.Server!.GetStream(a)!.Receive!.HighestOffset + pair.Server.GetStream(b)!.Receive!.HighestOffset;
        Assert.Equal(100 * 1024, received);
    }

    [Fact]
    public void ResetStream_SurfacesTheCodeToTheReader()
    {
        var pair = new SimPair(6);
        pair.Handshake();
        Assert.True(pair.Client.TryOpenStream(true, out var id));
        pair.Client.StreamWrite(id, new byte[1000]);
        pair.RunUntil(() => pair.Server!.GetStream(id) is not null, TimeSpan.FromSeconds(5));
        pair.Client.StreamAbortWrite(id, 0x42);
        var buffer = new byte[4096];
        QuicException? error = null;
        Assert.True(pair.RunUntil(() =>
        {
            try
            {
                pair.Server!.StreamRead(id, buffer, out _);
            }
            catch (QuicException e)
            {
                error = e;
            }

            return error is not null;
        }, TimeSpan.FromSeconds(5)));
        Assert.Equal(QuicError.StreamAborted, error!.QuicError);
        Assert.Equal(0x42, error.ApplicationErrorCode);
    }

    [Fact]
    public void StopSending_IsAnsweredWithReset()
    {
        var pair = new SimPair(7);
        pair.Handshake();
        Assert.True(pair.Client.TryOpenStream(true, out var id));
        pair.Client.StreamWrite(id, new byte[1000]);
        pair.RunUntil(() => pair.Server!.GetStream(id) is not null, TimeSpan.FromSeconds(5));
        pair.Server!.StreamAbortRead(id, 0x99);
        Assert.True(pair.RunUntil(() => pair.Client.GetStream(id) is { PeerStopSendingCode: not null }, TimeSpan.FromSeconds(5)));
        var error = Assert.Throws<QuicException>(() => pair.Client.StreamWrite(id, new byte[10]));
        Assert.Equal(0x99, error.ApplicationErrorCode);
    }

    [Fact]
    public void IdleTimeout_ClosesBothEndsSilently()
    {
        var pair = new SimPair(8, configure: b => b.IdleTimeoutMicros = 2_000_000);
        pair.Handshake();
        var start = pair.Network.NowMicros;
        Assert.True(pair.RunUntil(() => pair.Client.State == ConnectionState.Terminated && pair.ServerEndpoint.Connections.Count == 0, TimeSpan.FromSeconds(10)));
        Assert.Equal(QuicError.ConnectionIdle, pair.Client.CloseError!.QuicError);
        Assert.InRange(pair.Network.NowMicros - start, 2_000_000, 4_000_000);
    }

    [Fact]
    public void Retry_ValidatesTheClientAndTheConnectionWorks()
    {
        var pair = new SimPair(9, requireRetry: true);
        pair.Handshake();
        Assert.Equal(1, pair.ServerEndpoint.RetriesSent);
        Assert.True(pair.Server!.IsAddressValidated);
    }

    [Fact]
    public void UnvalidatedServer_NeverSendsMoreThanThreeTimesWhatItReceived()
    {
        // The client's packets after its first flight are lost, so the server cannot validate the address (RFC 9000 §8.1).
        var pair = new SimPair(10);
        var sent = 0;
        pair.Network.SetLink(SimPair.ClientAddress, SimPair.ServerAddress, new SimulatedLink { LossRate = 0 });
        pair.RunUntil(() =>
        {
            if (pair.Network.Statistics.DatagramsSent > 0 && sent == 0)
            {
                sent = 1;
                pair.Network.SetLink(SimPair.ClientAddress, SimPair.ServerAddress, new SimulatedLink { LossRate = 1.0 });
            }

            if (pair.Server is { } server)
            {
                // Read through the statistics the transport seam publishes, checked after every step.
                var step = server.GetStatistics();
                Assert.True(step.UnvalidatedBytesSent <= 3 * step.UnvalidatedBytesReceived, $"sent {step.UnvalidatedBytesSent} for {step.UnvalidatedBytesReceived}");
                Assert.True(step.BytesSent == step.UnvalidatedBytesSent, $"sent {step.BytesSent} in all but {step.UnvalidatedBytesSent} before validation");
            }

            return false;
        }, TimeSpan.FromSeconds(5));
        var serverConnection = pair.Server!;
        var statistics = serverConnection.GetStatistics();
        Assert.False(serverConnection.IsAddressValidated);
        Assert.True(statistics.UnvalidatedBytesReceived >= 1200, $"received {statistics.UnvalidatedBytesReceived}");
        Assert.True(statistics.UnvalidatedBytesSent > 0);
        Assert.True(statistics.UnvalidatedBytesSent <= 3 * statistics.UnvalidatedBytesReceived);

        // The server kept probing (PTO) for 5 s but the limit held every datagram back after the first flight.
        Assert.True(statistics.AmplificationLimitedCount > 0, "the server should have hit the limit with a certificate flight");
        Assert.True(statistics.UnvalidatedBytesSent > 2 * statistics.UnvalidatedBytesReceived, $"the server used only {statistics.UnvalidatedBytesSent} of {3 * statistics.UnvalidatedBytesReceived} bytes allowed");
    }

    [Fact]
    public void KeyUpdate_MidTransfer_KeepsDataFlowing()
    {
        var pair = new SimPair(11);
        pair.Handshake();
        Assert.True(pair.Client.TryOpenStream(true, out var id));
        const long total = 2 * 1024 * 1024;
        var scratch = new byte[16 * 1024];
        var buffer = new byte[64 * 1024];
        long written = 0, read = 0;
        var finished = false;
        var updates = 0;
        var server = pair.Server!;
        Assert.True(pair.RunUntil(() =>
        {
            written = Pump(pair.Client, id, written, total, scratch);
            Assert.True(server.CloseError is null, $"{server.CloseError?.Message} updates={updates} c.ku={pair.Client.KeyUpdateCount} s.ku={server.KeyUpdateCount} c.rx={pair.Client.PacketsReceived} s.rx={server.PacketsReceived} c.tx={pair.Client.PacketsSent} s.tx={server.PacketsSent} read={read} c.phase={pair.Client.CurrentKeyPhase} s.phase={server.CurrentKeyPhase}");
            Assert.True(pair.Client.CloseError is null, pair.Client.CloseError?.Message);
            while (server.GetStream(id) is not null && !finished)
            {
                var n = server.StreamRead(id, buffer, out finished);
                read += n;
                if (n == 0)
                {
                    break;
                }
            }

            // Updates stop well before the end, so the peer sees packets in the last phase too.
            if (read > (updates + 1) * 500_000 && read < total - 400_000 && pair.Client.RequestKeyUpdate())
            {
                updates++;
            }

            return finished;
        }, TimeSpan.FromSeconds(60)));
        Assert.Equal(total, read);

        // The last update may have come after the last data went out: one more packet shows the peer the phase.
        Assert.True(pair.Client.TryOpenStream(true, out var probe));
        pair.Client.StreamWrite(probe, "x"u8);
        Assert.True(pair.RunUntil(() => server.GetStream(probe) is not null, TimeSpan.FromSeconds(5)));
        Assert.True(updates >= 2, $"only {updates} key updates");
        Assert.Equal(updates, pair.Server!.KeyUpdateCount);
        Assert.Equal(pair.Client.CurrentKeyPhase, pair.Server.CurrentKeyPhase);
    }

    [Fact]
    public void KeyUpdate_BeforeAckInCurrentPhase_IsRefused()
    {
        var pair = new SimPair(12);
        pair.Handshake();
        pair.RunUntil(() => false, TimeSpan.FromSeconds(1));
        Assert.True(pair.Client.RequestKeyUpdate());
        Assert.False(pair.Client.RequestKeyUpdate());
    }

    [Fact]
    public void ClientMigration_ServerValidatesTheNewPathAndDataContinues()
    {
        var pair = new SimPair(13);
        pair.Handshake();
        Assert.True(pair.Client.TryOpenStream(true, out var id));
        pair.Client.StreamWrite(id, new byte[10_000]);
        pair.RunUntil(() => false, TimeSpan.FromSeconds(1));
        var newAddress = new IPEndPoint(IPAddress.Parse("10.0.0.3"), 40000);
        pair.Network.Rebind(SimPair.ClientAddress, newAddress);
        pair.Client.StreamWrite(id, new byte[10_000]);
        pair.Client.StreamFinish(id);
        var buffer = new byte[64 * 1024];
        long read = 0;
        var finished = false;
        Assert.True(pair.RunUntil(() =>
        {
            read += pair.Server!.StreamRead(id, buffer, out finished);
            return finished && pair.Server.PathValidationsSucceeded > 0;
        }, TimeSpan.FromSeconds(10)));
        Assert.Equal(newAddress, pair.Server!.RemoteEndPoint);
        Assert.Equal(20_000, read);
    }

    [Fact]
    public void Datagrams_FlowBothWaysAndAreBounded()
    {
        var pair = new SimPair(14);
        pair.Handshake();
        Assert.True(pair.Client.MaxDatagramPayloadSize > 1000);
        Assert.False(pair.Client.TrySendDatagram(new byte[pair.Client.MaxDatagramPayloadSize + 1]));
        Assert.True(pair.Client.TrySendDatagram("hello"u8));
        Assert.True(pair.RunUntil(() => pair.Server!.TryReceiveDatagram(out var payload) && payload.AsSpan().SequenceEqual("hello"u8), TimeSpan.FromSeconds(5)));

        var accepted = 0;
        while (pair.Client.TrySendDatagram(new byte[10]))
        {
            accepted++;
        }

        Assert.Equal(128, accepted);
    }

    [Fact]
    public void ApplicationClose_ReachesThePeerWithItsCode()
    {
        var pair = new SimPair(15);
        pair.Handshake();
        pair.Client.Close(0x10c, "bye", pair.Network.NowMicros);
        Assert.True(pair.RunUntil(() => pair.Server!.CloseError is not null, TimeSpan.FromSeconds(5)));
        Assert.Equal(QuicError.ConnectionAborted, pair.Server!.CloseError!.QuicError);
        Assert.Equal(0x10c, pair.Server.CloseError.ApplicationErrorCode);
        Assert.True(pair.RunUntil(() => pair.Client.State == ConnectionState.Terminated && pair.ServerEndpoint.Connections.Count == 0, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void ServerLosesState_ClientDetectsStatelessReset()
    {
        var pair = new SimPair(16);
        pair.Handshake();
        pair.RunUntil(() => false, TimeSpan.FromSeconds(1));

        // A new server instance with the same reset key but no connections answers the client's next packet.
        pair.Network.Detach(SimPair.ServerAddress);
        var fresh = new QuicServerEndpoint(() => new ConnectionSettingsBuilder().Build(true, new byte[32]), new byte[32]);
        pair.Network.Attach(SimPair.ServerAddress, new SimServer(fresh));
        Assert.True(pair.Client.TryOpenStream(true, out var id));
        pair.Client.StreamWrite(id, new byte[100]);
        Assert.True(pair.RunUntil(() => pair.Client.State == ConnectionState.Terminated, TimeSpan.FromSeconds(5)));
        Assert.Equal(1, pair.Client.StatelessResetsDetected);
        Assert.True(fresh.StatelessResetsSent > 0);
    }

    [Fact]
    public void StreamLimit_OpensMoreAfterStreamsClose()
    {
        var pair = new SimPair(17, configure: b => b.MaxInboundBidiStreams = 2);
        pair.Handshake();
        Assert.True(pair.Client.TryOpenStream(true, out var first));
        Assert.True(pair.Client.TryOpenStream(true, out var second));
        Assert.False(pair.Client.TryOpenStream(true, out _));
        foreach (var id in new[] { first, second })
        {
            pair.Client.StreamFinish(id);
        }

        var buffer = new byte[16];
        Assert.True(pair.RunUntil(() =>
        {
            foreach (var id in new[] { first, second })
            {
                if (pair.Server!.GetStream(id) is not null)
                {
                    pair.Server.StreamRead(id, buffer, out _);
                    pair.Server.StreamFinish(id);
                }
            }

            return pair.Client.CanOpenStream(true);
        }, TimeSpan.FromSeconds(5)));
        Assert.True(pair.Client.TryOpenStream(true, out var third));
        Assert.Equal(8, third);
    }
}

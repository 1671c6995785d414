using System.Buffers.Binary;
using System.Net;
using Switchyard.Quic.Recovery.Simulation;

namespace Switchyard.Quic.Recovery.Tests.Simulation;

public sealed class SimulatedNetworkTests
{
    private static readonly IPEndPoint A = new(IPAddress.Parse("10.0.0.1"), 4433);
    private static readonly IPEndPoint B = new(IPAddress.Parse("10.0.0.2"), 443);

    /// <summary>Sends numbered datagrams at a fixed interval.</summary>
    private sealed class Blaster(IPEndPoint to, int count, long intervalMicros, int size = 100) : ISimulatedEndpoint
    {
        private int _sent;
        private bool _due = true;

        public long? NextDeadline => _sent < count && !_due ? _sent * intervalMicros : null;

        public List<(int Seq, long Time)> Received { get; } = [];

        public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now) =>
            Received.Add((BinaryPrimitives.ReadInt32BigEndian(datagram), now));

        public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint destination, long now)
        {
            destination = to;
            length = 0;
            if (!_due || _sent >= count)
            {
                return false;
            }

            buffer[..size].Clear();
            BinaryPrimitives.WriteInt32BigEndian(buffer, _sent);
            length = size;
            _sent++;
            _due = false;
            return true;
        }

        public void OnDeadline(long now) => _due = true;
    }

    private static (SimulatedNetwork Net, Blaster Sender, Blaster Receiver) Run(int seed, SimulatedLink link, int count = 20_000, long interval = 100, int size = 100)
    {
        var net = new SimulatedNetwork(seed, link);
        var sender = new Blaster(B, count, interval, size);
        var receiver = new Blaster(A, 0, 1);
        net.Attach(A, sender);
        net.Attach(B, receiver);
        net.RunUntil(() => false, 1_000_000_000);
        return (net, sender, receiver);
    }

    [Fact]
    public void LosslessLink_DeliversEverythingAfterTheDelay()
    {
        var (net, _, receiver) = Run(1, new SimulatedLink { OneWayDelayMicros = 30_000 }, count: 100, interval: 1_000);
        Assert.Equal(100, receiver.Received.Count);
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal((i, (i * 1_000L) + 30_000), receiver.Received[i]);
        }

        Assert.Equal(100, net.Statistics.DatagramsDelivered);
        Assert.Equal(10_000, net.Statistics.BytesDelivered);
        Assert.Equal(0, net.DatagramsInFlight);
    }

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.2)]
    public void LossRate_IsHonouredStatistically(double lossRate)
    {
        var (net, _, receiver) = Run(11, new SimulatedLink { LossRate = lossRate });
        double observed = 1 - (receiver.Received.Count / 20_000.0);
        Assert.InRange(observed, lossRate - 0.01, lossRate + 0.01);
        Assert.Equal(20_000 - receiver.Received.Count, net.Statistics.DroppedByLoss);
    }

    [Fact]
    public void DuplicationRate_IsHonouredStatistically()
    {
        var (net, _, receiver) = Run(12, new SimulatedLink { DuplicationRate = 0.05, JitterMicros = 500 });
        int duplicates = receiver.Received.Count - receiver.Received.Select(r => r.Seq).Distinct().Count();
        Assert.InRange(duplicates / 20_000.0, 0.04, 0.06);
        Assert.Equal(net.Statistics.Duplicated, duplicates);
    }

    [Fact]
    public void ReorderRate_CausesOvertaking()
    {
        // 100 µs spacing, 5 ms reorder delay: each held-back datagram is overtaken by about 50 others.
        var (net, _, receiver) = Run(13, new SimulatedLink { ReorderRate = 0.1, ReorderDelayMicros = 5_000 });
        Assert.Equal(20_000, receiver.Received.Count);
        Assert.InRange(net.Statistics.Reordered / 20_000.0, 0.09, 0.11);
        int inversions = 0;
        int highest = -1;
        foreach (var (seq, _) in receiver.Received)
        {
            if (seq < highest)
            {
                inversions++;
            }

            highest = Math.Max(highest, seq);
        }

        // Every reordered datagram arrives after a higher-numbered one, except a few at the very end.
        Assert.InRange(inversions, net.Statistics.Reordered - 60, net.Statistics.Reordered);
    }

    [Fact]
    public void SameSeed_GivesIdenticalRun_DifferentSeedDoesNot()
    {
        var link = new SimulatedLink { LossRate = 0.1, DuplicationRate = 0.05, ReorderRate = 0.05, JitterMicros = 2_000 };
        var first = Run(99, link, count: 2_000).Receiver.Received;
        var second = Run(99, link, count: 2_000).Receiver.Received;
        var other = Run(100, link, count: 2_000).Receiver.Received;
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Bandwidth_SerialisesDatagramsAndTailDrops()
    {
        // 1000 datagrams of 1000 bytes offered at 10 MB/s into a 1 MB/s link with a 50 kB queue.
        var link = new SimulatedLink { OneWayDelayMicros = 0, BandwidthBytesPerSecond = 1_000_000, QueueCapacityBytes = 50_000 };
        var (net, _, receiver) = Run(5, link, count: 1_000, interval: 100, size: 1_000);
        Assert.True(net.Statistics.DroppedByQueue > 0);
        Assert.Equal(1_000, receiver.Received.Count + net.Statistics.DroppedByQueue);
        // Each delivery is at least one serialisation time (1 ms) after the previous one.
        for (int i = 1; i < receiver.Received.Count; i++)
        {
            Assert.True(receiver.Received[i].Time - receiver.Received[i - 1].Time >= 1_000);
        }

        // Goodput matches the link rate: ~ one datagram per ms over the run.
        long span = receiver.Received[^1].Time - receiver.Received[0].Time;
        Assert.InRange(span, (receiver.Received.Count - 1) * 1_000L, (receiver.Received.Count + 1) * 1_000L);
    }

    [Fact]
    public void OversizeDatagram_IsDropped()
    {
        var (net, _, receiver) = Run(1, new SimulatedLink { MaxDatagramBytes = 1_200 }, count: 10, interval: 10, size: 1_300);
        Assert.Empty(receiver.Received);
        Assert.Equal(10, net.Statistics.DroppedOversize);
    }

    [Fact]
    public void UnknownDestination_IsCountedAndDropped()
    {
        var net = new SimulatedNetwork(1);
        net.Attach(A, new Blaster(new IPEndPoint(IPAddress.Loopback, 1), 3, 10));
        net.RunFor(1_000_000);
        Assert.Equal(3, net.Statistics.DroppedNoRoute);
        Assert.Equal(1_000_000, net.NowMicros);
    }

    [Fact]
    public void PerDirectionLink_OverridesDefault()
    {
        var net = new SimulatedNetwork(3, new SimulatedLink { OneWayDelayMicros = 1_000 });
        net.SetLink(A, B, new SimulatedLink { OneWayDelayMicros = 50_000 });
        var receiver = new Blaster(A, 0, 1);
        net.Attach(A, new Blaster(B, 1, 1));
        net.Attach(B, receiver);
        net.RunUntil(() => receiver.Received.Count == 1, 1_000_000);
        Assert.Equal(50_000, receiver.Received[0].Time);
    }

    [Fact]
    public void Rebind_ChangesSourceAddressAndDropsTrafficToOldAddress()
    {
        var net = new SimulatedNetwork(1, new SimulatedLink { OneWayDelayMicros = 1_000 });
        var server = new EchoSources();
        var client = new Blaster(B, 4, 10_000);
        net.Attach(A, client);
        net.Attach(B, server);
        net.RunUntil(() => server.Sources.Count == 2, 1_000_000);
        var moved = new IPEndPoint(IPAddress.Parse("10.0.0.9"), 5555);
        net.Rebind(A, moved);
        net.RunFor(1_000_000);
        Assert.Equal([A, A, moved, moved], server.Sources);
        Assert.Throws<ArgumentException>(() => net.Rebind(A, moved));
        Assert.Throws<ArgumentException>(() => net.Rebind(moved, B));
    }

    private sealed class EchoSources : ISimulatedEndpoint
    {
        public List<IPEndPoint> Sources { get; } = [];

        public long? NextDeadline => null;

        public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now) => Sources.Add(from);

        public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now)
        {
            length = 0;
            to = A;
            return false;
        }

        public void OnDeadline(long now)
        {
        }
    }

    [Fact]
    public void Filter_DropsAndRewritesChosenDatagrams()
    {
        var net = new SimulatedNetwork(1, new SimulatedLink { OneWayDelayMicros = 1_000 });
        var receiver = new Blaster(A, 0, 1);
        net.Attach(A, new Blaster(B, 10, 1_000));
        net.Attach(B, receiver);
        net.Filter = (from, to, datagram, now) =>
        {
            Assert.Equal(A, from);
            Assert.Equal(B, to);
            int seq = BinaryPrimitives.ReadInt32BigEndian(datagram);
            if (seq == 3)
            {
                BinaryPrimitives.WriteInt32BigEndian(datagram, 300);
            }

            return seq % 2 == 1;
        };
        net.RunFor(1_000_000);
        Assert.Equal([1, 300, 5, 7, 9], receiver.Received.Select(r => r.Seq));
        Assert.Equal(5, net.Statistics.DroppedByFilter);
    }

    [Fact]
    public void Inject_TravelsThroughTheLink()
    {
        var net = new SimulatedNetwork(1, new SimulatedLink { OneWayDelayMicros = 7_000 });
        var receiver = new Blaster(A, 0, 1);
        net.Attach(B, receiver);
        net.Inject(A, B, [0, 0, 0, 42]);
        net.RunFor(1_000_000);
        Assert.Equal([(42, 7_000L)], receiver.Received);
    }

    [Fact]
    public void StuckDeadline_IsReportedAsLivelock()
    {
        var net = new SimulatedNetwork(1);
        net.Attach(A, new StuckEndpoint());
        Assert.Throws<InvalidOperationException>(() => net.RunFor(1_000));
    }

    [Fact]
    public void RunUntil_StopsAtPredicateOrTimeLimit()
    {
        var net = new SimulatedNetwork(1, new SimulatedLink { OneWayDelayMicros = 1_000 });
        var receiver = new Blaster(A, 0, 1);
        net.Attach(A, new Blaster(B, 1_000, 1_000));
        net.Attach(B, receiver);
        Assert.True(net.RunUntil(() => receiver.Received.Count >= 10, 10_000_000));
        Assert.Equal(10, receiver.Received.Count);
        Assert.Equal(10_000, net.NowMicros);
        Assert.False(net.RunUntil(() => receiver.Received.Count >= 1_000, 100_000));
        Assert.Equal(100_000, net.NowMicros);
    }

    private sealed class StuckEndpoint : ISimulatedEndpoint
    {
        public long? NextDeadline => 0;

        public void Receive(ReadOnlySpan<byte> datagram, IPEndPoint from, long now)
        {
        }

        public bool TrySend(Span<byte> buffer, out int length, out IPEndPoint to, long now)
        {
            length = 0;
            to = A;
            return false;
        }

        public void OnDeadline(long now)
        {
        }
    }
}

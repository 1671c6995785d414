using System.Net;
using Xunit.Abstractions;
using Switchyard.Quic.Recovery.Simulation;

namespace Switchyard.Quic.Recovery.Tests.Simulation;

public sealed class ToyTransportTests(ITestOutputHelper output)
{
    private static readonly IPEndPoint SenderAddress = new(IPAddress.Parse("192.0.2.1"), 50_000);
    private static readonly IPEndPoint ReceiverAddress = new(IPAddress.Parse("192.0.2.2"), 443);

    private static (ToySender Sender, ToyReceiver Receiver, SimulatedNetwork Net, bool Finished) Transfer(int seed, SimulatedLink link, int chunks, ICongestionController? congestion = null)
    {
        var net = new SimulatedNetwork(seed, link);
        var sender = new ToySender(ReceiverAddress, chunks, congestion);
        var receiver = new ToyReceiver(SenderAddress, chunks);
        net.Attach(SenderAddress, sender);
        net.Attach(ReceiverAddress, receiver);
        bool finished = net.RunUntil(() => sender.Done, maxVirtualTimeMicros: 120_000_000);
        return (sender, receiver, net, finished);
    }

    private void AssertComplete(ToySender sender, ToyReceiver receiver, bool finished, int chunks, SimulatedNetwork net)
    {
        var rtt = sender.Recovery.Rtt;
        output.WriteLine(
            $"t={net.NowMicros / 1000.0:F1} ms sent={sender.PacketsSent} lost={sender.PacketsLost} probes={sender.ProbesSent} " +
            $"acks={receiver.AcksSent} dupPkts={receiver.DuplicatePackets} cwnd={sender.Congestion.CongestionWindow} minCwnd={sender.MinCongestionWindowSeen} " +
            $"srtt={rtt.SmoothedRtt} minRtt={rtt.MinRtt} netLoss={net.Statistics.DroppedByLoss} " +
            $"queueDrops={net.Statistics.DroppedByQueue} reordered={net.Statistics.Reordered}");
        Assert.True(finished, $"transfer stalled: {receiver.ChunksReceived}/{chunks} chunks, {sender.PacketsSent} packets sent");
        Assert.Equal(chunks, receiver.ChunksReceived);
        for (int i = 0; i < chunks; i++)
        {
            Assert.True(receiver.HasChunk(i));
        }

        Assert.Equal(0, receiver.CorruptChunks);
        Assert.Equal(0, sender.AckErrors);
    }

    [Theory]
    // The brief's scenario: 5% loss each way plus reordering and jitter.
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void LossyReorderingPath_DeliversAllData(int seed)
    {
        var link = new SimulatedLink
        {
            OneWayDelayMicros = 20_000,
            JitterMicros = 3_000,
            LossRate = 0.05,
            ReorderRate = 0.05,
            ReorderDelayMicros = 4_000,
            DuplicationRate = 0.01,
            BandwidthBytesPerSecond = 2_000_000,
            QueueCapacityBytes = 64 * 1024,
        };
        var (sender, receiver, net, finished) = Transfer(seed, link, chunks: 500);
        AssertComplete(sender, receiver, finished, 500, net);

        // The loss paths really ran, and the estimator saw the 40 ms base round trip.
        Assert.True(sender.PacketsLost > 0);
        Assert.True(net.Statistics.DroppedByLoss > 0);
        Assert.True(net.Statistics.Reordered > 0);
        Assert.InRange(sender.Recovery.Rtt.MinRtt, 40_000, 60_000);
        Assert.InRange(sender.Recovery.Rtt.SmoothedRtt, 40_000, 400_000);
        Assert.True(sender.Congestion.CongestionWindow >= 2 * sender.Congestion.MaxDatagramSize);
    }

    [Fact]
    public void LosslessPath_DeliversWithoutLossOrProbes()
    {
        var (sender, receiver, net, finished) = Transfer(4, new SimulatedLink { OneWayDelayMicros = 10_000 }, chunks: 300);
        AssertComplete(sender, receiver, finished, 300, net);
        Assert.Equal(300, sender.PacketsSent);
        Assert.Equal(0, sender.PacketsLost);
        Assert.Equal(0, receiver.DuplicatePackets);
        // Slow start never ended: no congestion event.
        Assert.True(((NewRenoCongestionController)sender.Congestion).InSlowStart);
    }

    [Fact]
    public void HeavyLoss_StillDeliversThroughProbeTimeouts()
    {
        var link = new SimulatedLink { OneWayDelayMicros = 15_000, LossRate = 0.3, JitterMicros = 1_000 };
        var (sender, receiver, net, finished) = Transfer(5, link, chunks: 100);
        AssertComplete(sender, receiver, finished, 100, net);
        Assert.True(sender.ProbesSent > 0, "30% loss should expire at least one probe timeout");
        Assert.True(sender.MinCongestionWindowSeen < 12_000);
    }

    [Fact]
    public void Bottleneck_CongestionControlKeepsQueueDropsBounded()
    {
        // 500 kB/s with a 20 kB queue: without congestion control most of 600 kB would be tail-dropped.
        var link = new SimulatedLink { OneWayDelayMicros = 25_000, BandwidthBytesPerSecond = 500_000, QueueCapacityBytes = 20_000 };
        var (sender, receiver, net, finished) = Transfer(6, link, chunks: 600);
        AssertComplete(sender, receiver, finished, 600, net);
        Assert.True(net.Statistics.DroppedByQueue < 150, $"{net.Statistics.DroppedByQueue} queue drops");
        Assert.False(((NewRenoCongestionController)sender.Congestion).InSlowStart);
    }

    [Theory]
    // Random loss, reordering and jitter.
    [InlineData(0.05, 0)]
    // A shallow bottleneck queue: losses come from congestion, not chance.
    [InlineData(0.0, 500_000)]
    public void Cubic_DeliversAllData(double lossRate, long bandwidth)
    {
        var link = new SimulatedLink
        {
            OneWayDelayMicros = 20_000,
            JitterMicros = 2_000,
            LossRate = lossRate,
            ReorderRate = lossRate,
            BandwidthBytesPerSecond = bandwidth,
            QueueCapacityBytes = 20_000,
        };
        var cubic = new CubicCongestionController(1200);
        var (sender, receiver, net, finished) = Transfer(8, link, chunks: 500, cubic);
        AssertComplete(sender, receiver, finished, 500, net);
        Assert.True(sender.PacketsLost > 0);
        Assert.True(cubic.WindowMax > 0, "at least one congestion event");
    }

    [Fact]
    public void SameSeed_ReplaysTheSameTransfer()
    {
        var link = new SimulatedLink { OneWayDelayMicros = 20_000, JitterMicros = 3_000, LossRate = 0.05, ReorderRate = 0.05 };
        var first = Transfer(7, link, chunks: 200);
        var second = Transfer(7, link, chunks: 200);
        Assert.Equal(first.Net.NowMicros, second.Net.NowMicros);
        Assert.Equal(first.Sender.PacketsSent, second.Sender.PacketsSent);
        Assert.Equal(first.Sender.PacketsLost, second.Sender.PacketsLost);
    }
}

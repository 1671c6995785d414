namespace Switchyard.Quic.Recovery.Tests;

public sealed class NewRenoCongestionControllerTests
{
    private const int Mds = 1200;

    [Theory]
    // 1200-byte datagrams: min(12000, max(14720, 2400)) = 12000.
    [InlineData(1200, 12_000)]
    // 1500-byte datagrams: min(15000, 14720) = 14720.
    [InlineData(1500, 14_720)]
    // 9000-byte datagrams: min(90000, max(14720, 18000)) = 18000.
    [InlineData(9000, 18_000)]
    public void InitialWindow_FollowsRfc9002Formula(int mds, long expected)
    {
        var cc = new NewRenoCongestionController(mds);
        Assert.Equal(expected, cc.CongestionWindow);
        Assert.Equal(2L * mds, cc.MinimumWindow);
        Assert.True(cc.InSlowStart);
    }

    [Fact]
    public void SlowStartRecoveryAvoidance_FollowsExpectedTrajectory()
    {
        var cc = new NewRenoCongestionController(Mds);
        var rtt = new RttEstimator();
        long now = 0;

        // Slow start: one window sent and acknowledged doubles the window.
        var first = SendBurst(cc, 0, 10, now);
        Assert.False(cc.CanSend(Mds));
        now += 100_000;
        cc.OnPacketsAcked(first, now, rtt);
        Assert.Equal(24_000, cc.CongestionWindow);
        Assert.Equal(0, cc.BytesInFlight);

        // Send 20 packets; lose the first (sent at t=100 ms) at t=200 ms: halve the window, enter recovery.
        var second = SendBurst(cc, 10, 20, now);
        now += 100_000;
        cc.OnPacketsLost(second.AsSpan(0, 1), now, persistentCongestion: false);
        Assert.Equal(12_000, cc.CongestionWindow);
        Assert.Equal(12_000, cc.SlowStartThreshold);
        Assert.Equal(now, cc.RecoveryStartTime);
        Assert.False(cc.InSlowStart);

        // A second loss of a packet sent before recovery began does not reduce again (RFC 9002 §7.3.2).
        cc.OnPacketsLost(second.AsSpan(1, 1), now + 10, persistentCongestion: false);
        Assert.Equal(12_000, cc.CongestionWindow);

        // Acknowledgements of packets sent before recovery do not grow the window.
        cc.OnPacketsAcked(second.AsSpan(2), now + 20, rtt);
        Assert.Equal(12_000, cc.CongestionWindow);
        Assert.Equal(0, cc.BytesInFlight);

        // Packets sent after recovery began: the first ack ends recovery; congestion avoidance adds
        // one datagram per window of acknowledged bytes (12000 bytes = 10 packets).
        now += 100_000;
        var third = SendBurst(cc, 30, 20, now);
        now += 100_000;
        cc.OnPacketsAcked(third.AsSpan(0, 9), now, rtt);
        Assert.Null(cc.RecoveryStartTime);
        Assert.Equal(12_000, cc.CongestionWindow);
        cc.OnPacketsAcked(third.AsSpan(9, 1), now, rtt);
        Assert.Equal(13_200, cc.CongestionWindow);
        // The next increase needs 13200 bytes = 11 packets.
        cc.OnPacketsAcked(third.AsSpan(10, 10), now, rtt);
        Assert.Equal(13_200, cc.CongestionWindow);
    }

    [Fact]
    public void PersistentCongestion_CollapsesToMinimumWindow()
    {
        var cc = new NewRenoCongestionController(Mds);
        var packets = SendBurst(cc, 0, 10, 0);
        cc.OnPacketsLost(packets, 5_000_000, persistentCongestion: true);
        Assert.Equal(cc.MinimumWindow, cc.CongestionWindow);
        Assert.Equal(0, cc.BytesInFlight);
        Assert.Equal(5_000_000, cc.RecoveryStartTime);

        // Acknowledgements of packets sent before the collapse do not regrow the window; later packets do.
        var late = new SentPacketInfo(10, 4_000_000, Mds);
        cc.OnPacketSent(4_000_000, Mds);
        cc.OnPacketsAcked([late], 5_000_001, new RttEstimator());
        Assert.Equal(cc.MinimumWindow, cc.CongestionWindow);
        cc.OnPacketSent(5_000_002, Mds);
        cc.OnPacketsAcked([new SentPacketInfo(11, 5_000_002, Mds)], 5_100_000, new RttEstimator());
        Assert.Equal(cc.MinimumWindow + Mds, cc.CongestionWindow);
    }

    [Fact]
    public void RepeatedLoss_NeverGoesBelowMinimumWindow()
    {
        var cc = new NewRenoCongestionController(Mds);
        for (int i = 0; i < 20; i++)
        {
            long now = (i + 1) * 1_000_000L;
            var sent = SendBurst(cc, i, 1, now - 500_000);
            cc.OnPacketsLost(sent, now, persistentCongestion: false);
            Assert.True(cc.CongestionWindow >= cc.MinimumWindow);
        }

        Assert.Equal(cc.MinimumWindow, cc.CongestionWindow);
    }

    [Fact]
    public void ApplicationLimited_WindowDoesNotGrow()
    {
        var cc = new NewRenoCongestionController(Mds) { IsApplicationLimited = true };
        var packets = SendBurst(cc, 0, 2, 0);
        cc.OnPacketsAcked(packets, 100_000, new RttEstimator());
        Assert.Equal(12_000, cc.CongestionWindow);
    }

    [Fact]
    public void Discard_RemovesBytesWithoutCongestionSignal()
    {
        var cc = new NewRenoCongestionController(Mds);
        SendBurst(cc, 0, 3, 0);
        cc.OnPacketsDiscarded(3 * Mds);
        Assert.Equal(0, cc.BytesInFlight);
        Assert.Equal(12_000, cc.CongestionWindow);
        Assert.Null(cc.RecoveryStartTime);
    }

    private static SentPacketInfo[] SendBurst(NewRenoCongestionController cc, long firstPn, int count, long now)
    {
        var packets = new SentPacketInfo[count];
        for (int i = 0; i < count; i++)
        {
            packets[i] = new SentPacketInfo(firstPn + i, now, Mds);
            cc.OnPacketSent(now, Mds);
        }

        return packets;
    }
}

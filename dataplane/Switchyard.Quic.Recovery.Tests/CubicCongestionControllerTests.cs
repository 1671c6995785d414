namespace Switchyard.Quic.Recovery.Tests;

public sealed class CubicCongestionControllerTests
{
    private const int Mds = 1200;

    private sealed class Clock(long rttMicros)
    {
        public long Now { get; set; }

        public long Pn { get; set; }

        public RttEstimator Rtt { get; } = Sampled(rttMicros);

        public long RttMicros => rttMicros;

        private static RttEstimator Sampled(long rtt)
        {
            var estimator = new RttEstimator();
            estimator.AddSample(rtt, 0, 0, true, 0);
            return estimator;
        }
    }

    /// <summary>One round trip: send a full window at now, acknowledge it all one RTT later.</summary>
    private static void Round(CubicCongestionController cc, Clock clock)
    {
        int n = (int)(cc.CongestionWindow / Mds);
        var packets = new SentPacketInfo[n];
        for (int i = 0; i < n; i++)
        {
            packets[i] = new SentPacketInfo(clock.Pn++, clock.Now, Mds);
            cc.OnPacketSent(clock.Now, Mds);
        }

        clock.Now += clock.RttMicros;
        cc.OnPacketsAcked(packets, clock.Now, clock.Rtt);
    }

    /// <summary>Sends one packet now and declares it lost one RTT later.</summary>
    private static void Loss(CubicCongestionController cc, Clock clock)
    {
        var lost = new SentPacketInfo(clock.Pn++, clock.Now, Mds);
        cc.OnPacketSent(clock.Now, Mds);
        clock.Now += clock.RttMicros;
        cc.OnPacketsLost([lost], clock.Now, persistentCongestion: false);
        // Packets sent from now on are sent after the recovery period began.
        clock.Now++;
    }

    [Fact]
    public void Loss_ReducesByBetaAndRemembersWindowMax()
    {
        var cc = new CubicCongestionController(Mds);
        var clock = new Clock(100_000);
        Assert.Equal(12_000, cc.CongestionWindow);
        for (int i = 0; i < 3; i++)
        {
            Round(cc, clock);
        }

        Assert.Equal(96_000, cc.CongestionWindow);
        Loss(cc, clock);
        Assert.Equal(96_000, cc.WindowMax);
        Assert.Equal(67_200, cc.CongestionWindow);
        Assert.Equal(67_200, cc.SlowStartThreshold);
        Assert.False(cc.InSlowStart);
    }

    [Fact]
    public void Avoidance_IsConcaveThenPlateausAtWindowMaxThenConvex()
    {
        var cc = new CubicCongestionController(Mds);
        var clock = new Clock(100_000);
        for (int i = 0; i < 3; i++)
        {
            Round(cc, clock);
        }

        Loss(cc, clock);
        double wMax = cc.WindowMax;
        double start = cc.CongestionWindow;

        // The first round in avoidance starts the epoch; K = cbrt((96000 - 67200) / 1200 / 0.4) = cbrt(60).
        Round(cc, clock);
        Assert.Equal(Math.Cbrt(60), cc.K, precision: 9);
        long epochStart = clock.Now;

        var trace = new List<(double T, double Cwnd)>();
        while (clock.Now - epochStart < 8_000_000)
        {
            Round(cc, clock);
            trace.Add(((clock.Now - epochStart) / 1e6, cc.CongestionWindow));
        }

        double k = cc.K;
        double atHalfK = trace.First(p => p.T >= k / 2).Cwnd;
        double atK = trace.First(p => p.T >= k).Cwnd;
        double afterK = trace.First(p => p.T >= k + 3).Cwnd;

        // Concave: most of the gap to W_max is closed by K/2 (the curve closes 7/8 of it), yet W_max is not passed.
        Assert.True(atHalfK >= start + (0.75 * (wMax - start)), $"cwnd at K/2 = {atHalfK}");
        Assert.True(atHalfK < wMax);
        // Plateau: around K the window sits at W_max.
        Assert.InRange(atK, wMax * 0.97, wMax * 1.03);
        // Convex: 3 s after K the curve has added C * 27 ≈ 10.8 segments.
        Assert.True(afterK > wMax + (5 * Mds), $"cwnd at K+3 = {afterK}");
        // Never shrinks during avoidance.
        for (int i = 1; i < trace.Count; i++)
        {
            Assert.True(trace[i].Cwnd >= trace[i - 1].Cwnd);
        }
    }

    [Fact]
    public void FastConvergence_LowersWindowMaxWhenLosingGround()
    {
        var cc = new CubicCongestionController(Mds);
        var clock = new Clock(100_000);
        for (int i = 0; i < 3; i++)
        {
            Round(cc, clock);
        }

        Loss(cc, clock);
        // A second loss of a packet sent after the first reduction, before regaining W_max.
        Loss(cc, clock);
        Assert.Equal(67_200 * 1.7 / 2, cc.WindowMax, precision: 6);
        Assert.Equal(47_040, cc.CongestionWindow);
    }

    [Fact]
    public void ShortRtt_FollowsRenoFriendlyEstimate()
    {
        // With a 1 ms RTT the cubic curve is far slower than Reno; the window must track Reno instead (RFC 9438 §4.3).
        var cc = new CubicCongestionController(Mds);
        var clock = new Clock(1_000);
        Loss(cc, clock);
        Assert.Equal(8_400, cc.CongestionWindow);
        Round(cc, clock);
        long epochStart = clock.Now;
        for (int i = 0; i < 200; i++)
        {
            Round(cc, clock);
        }

        double t = (clock.Now - epochStart) / 1e6;
        Assert.True(cc.CongestionWindow > 5 * cc.CubicWindow(t), $"cwnd {cc.CongestionWindow} vs cubic {cc.CubicWindow(t)}");
        // Reno adds about one segment per round once past W_max: roughly 190 segments in 200 rounds.
        Assert.InRange(cc.CongestionWindow / Mds, 150, 220);
    }

    [Fact]
    public void PersistentCongestion_CollapsesToMinimumWindow()
    {
        var cc = new CubicCongestionController(Mds);
        var clock = new Clock(100_000);
        Round(cc, clock);
        var lost = new SentPacketInfo(clock.Pn++, clock.Now, Mds);
        cc.OnPacketSent(clock.Now, Mds);
        cc.OnPacketsLost([lost], clock.Now + 5_000_000, persistentCongestion: true);
        Assert.Equal(cc.MinimumWindow, cc.CongestionWindow);
        Assert.Equal(0, cc.BytesInFlight);
        // Back in slow start below the threshold.
        Assert.True(cc.InSlowStart);
    }

    [Fact]
    public void RecoveryPeriod_ReducesOnlyOnce()
    {
        var cc = new CubicCongestionController(Mds);
        var clock = new Clock(100_000);
        var early = new SentPacketInfo(clock.Pn++, 0, Mds);
        var early2 = new SentPacketInfo(clock.Pn++, 0, Mds);
        cc.OnPacketSent(0, Mds);
        cc.OnPacketSent(0, Mds);
        cc.OnPacketsLost([early], 100_000, false);
        long after = cc.CongestionWindow;
        cc.OnPacketsLost([early2], 110_000, false);
        Assert.Equal(after, cc.CongestionWindow);
        Assert.Equal(8_400, after);
    }
}

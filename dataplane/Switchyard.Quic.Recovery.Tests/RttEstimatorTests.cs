namespace Switchyard.Quic.Recovery.Tests;

public sealed class RttEstimatorTests
{
    [Fact]
    public void NoSample_UsesInitialRttAndHalfVariation()
    {
        var rtt = new RttEstimator();
        Assert.False(rtt.HasSample);
        Assert.Equal(333_000, rtt.SmoothedRtt);
        Assert.Equal(166_500, rtt.RttVariation);
        // RFC 9002 §6.2.2: initial PTO = 333 + 4 * 166.5 = 999 ms; Application Data adds max_ack_delay.
        Assert.Equal(999_000, rtt.PtoDuration(PacketNumberSpace.Initial, 25_000));
        Assert.Equal(1_024_000, rtt.PtoDuration(PacketNumberSpace.ApplicationData, 25_000));
    }

    [Fact]
    public void SampleSequence_MatchesHandComputedValues()
    {
        var rtt = new RttEstimator();

        // First sample: smoothed = latest, rttvar = latest / 2, ack delay ignored.
        rtt.AddSample(100_000, ackDelayMicros: 40_000, maxAckDelayMicros: 25_000, handshakeConfirmed: true, now: 1_000);
        Assert.Equal((100_000L, 100_000L, 100_000L, 50_000L), (rtt.LatestRtt, rtt.MinRtt, rtt.SmoothedRtt, rtt.RttVariation));
        Assert.Equal(1_000, rtt.FirstSampleTime);

        // 120 ms with 10 ms ack delay: adjusted 110; rttvar = (150 + 10) / 4 = 40; smoothed = (700 + 110) / 8 = 101.25.
        rtt.AddSample(120_000, 10_000, 25_000, true, 2_000);
        Assert.Equal((120_000L, 100_000L, 101_250L, 40_000L), (rtt.LatestRtt, rtt.MinRtt, rtt.SmoothedRtt, rtt.RttVariation));

        // 90 ms with 5 ms ack delay: new min_rtt 90, subtracting would go below it, so adjusted = 90.
        // rttvar = (120 + 11.25) / 4 = 32.8125 -> 32812; smoothed = (708.75 + 90) / 8 = 99.84375 -> 99843.
        rtt.AddSample(90_000, 5_000, 25_000, true, 3_000);
        Assert.Equal((90_000L, 90_000L, 99_843L, 32_812L), (rtt.LatestRtt, rtt.MinRtt, rtt.SmoothedRtt, rtt.RttVariation));

        // PTO = 99843 + 4 * 32812 + max_ack_delay (Application Data only).
        Assert.Equal(99_843 + (4 * 32_812), rtt.PtoDuration(PacketNumberSpace.Handshake, 25_000));
        Assert.Equal(99_843 + (4 * 32_812) + 25_000, rtt.PtoDuration(PacketNumberSpace.ApplicationData, 25_000));
    }

    [Theory]
    // Confirmed: the 100 ms reported delay is capped at max_ack_delay 25 ms -> adjusted 175 ms.
    [InlineData(true, 175_000)]
    // Not confirmed: max_ack_delay is ignored (RFC 9002 §5.3), the full 100 ms is subtracted -> 100 ms.
    [InlineData(false, 100_000)]
    public void AckDelay_CappedByMaxAckDelayOnlyAfterConfirmation(bool confirmed, long expectedAdjusted)
    {
        var rtt = new RttEstimator();
        rtt.AddSample(90_000, 0, 25_000, confirmed, 0);
        rtt.AddSample(200_000, 100_000, 25_000, confirmed, 1);
        Assert.Equal(((7 * 90_000) + expectedAdjusted) / 8, rtt.SmoothedRtt);
        Assert.Equal(((3 * 45_000) + Math.Abs(90_000 - expectedAdjusted)) / 4, rtt.RttVariation);
    }

    [Fact]
    public void TinyVariation_PtoUsesGranularityFloor()
    {
        var rtt = new RttEstimator();
        rtt.AddSample(10_000, 0, 0, true, 0);
        for (int i = 0; i < 50; i++)
        {
            rtt.AddSample(10_000, 0, 0, true, i);
        }

        Assert.Equal(0, rtt.RttVariation);
        Assert.Equal(10_000 + RttEstimator.GranularityMicros, rtt.PtoDuration(PacketNumberSpace.Initial, 25_000));
    }

    [Fact]
    public void PersistentCongestion_RestartsMinRttFromLatestSample()
    {
        var rtt = new RttEstimator();
        rtt.OnPersistentCongestion();
        Assert.Equal(0, rtt.MinRtt);
        rtt.AddSample(10_000, 0, 0, true, 0);
        rtt.AddSample(80_000, 0, 0, true, 1);
        Assert.Equal(10_000, rtt.MinRtt);
        rtt.OnPersistentCongestion();
        Assert.Equal(80_000, rtt.MinRtt);
    }

    [Fact]
    public void Reset_ReturnsToInitialState()
    {
        var rtt = new RttEstimator(initialRttMicros: 100_000);
        rtt.AddSample(10_000, 0, 0, true, 0);
        rtt.Reset();
        Assert.False(rtt.HasSample);
        Assert.Equal(100_000, rtt.SmoothedRtt);
        Assert.Equal(50_000, rtt.RttVariation);
    }
}

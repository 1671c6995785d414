namespace Switchyard.Quic.Recovery.Tests;

public sealed class PacerTests
{
    [Fact]
    public void FullBucket_AllowsBurstThenSpacesAtRate()
    {
        var cc = new NewRenoCongestionController(1200);
        var rtt = new RttEstimator();
        rtt.AddSample(100_000, 0, 0, true, 0);
        var pacer = new Pacer(cc, rtt, burstPackets: 10);

        // rate = 1.25 * 12000 B / 100 ms = 0.15 B/µs -> one 1200-byte datagram every 8 ms.
        Assert.Equal(150_000, pacer.RateBytesPerSecond, precision: 6);
        long now = 1_000_000;
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(now, pacer.NextSendTime(now, 1200));
            pacer.OnPacketSent(now, 1200);
        }

        long next = pacer.NextSendTime(now, 1200);
        Assert.Equal(now + 8_000, next);

        // Sending whenever allowed keeps an 8 ms spacing.
        long previous = now;
        now = next;
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(now, pacer.NextSendTime(now, 1200));
            pacer.OnPacketSent(now, 1200);
            next = pacer.NextSendTime(now, 1200);
            Assert.Equal(8_000, next - now);
            Assert.True(now - previous <= 8_000);
            previous = now;
            now = next;
        }
    }

    private sealed class FixedWindow(long window) : ICongestionController
    {
        public long CongestionWindow => window;

        public long BytesInFlight => 0;

        public int MaxDatagramSize => 1200;

        public bool IsApplicationLimited { get; set; }

        public bool CanSend(long bytes) => true;

        public void OnPacketSent(long now, int bytes)
        {
        }

        public void OnPacketsAcked(ReadOnlySpan<SentPacketInfo> packets, long now, RttEstimator rtt)
        {
        }

        public void OnPacketsLost(ReadOnlySpan<SentPacketInfo> packets, long now, bool persistentCongestion)
        {
        }

        public void OnCongestionEvent(long sentTime, long now)
        {
        }

        public void OnPacketsDiscarded(long bytes)
        {
        }

        public void Reset()
        {
        }
    }

    [Theory]
    [InlineData(1_000_000, 300, 0, 12_000)] // no interval: ten datagrams, as before
    [InlineData(1_000_000, 300, 1_000, 307_200)] // 1 ms at 4.2 GB/s is far more than 256 datagrams: capped at 256
    [InlineData(100_000, 10_000, 1_000, 12_500)] // 1 ms at 12.5 MB/s is 12 500 B, a little over ten datagrams
    [InlineData(20_000, 300, 1_000, 20_000)] // never more than the window
    [InlineData(200_000, 100_000, 1_000, 12_000)] // a slow path earns less than ten datagrams per ms: ten it is
    public void BurstInterval_BucketHoldsWhatTheRateEarnsInIt(long window, long smoothedRtt, long intervalMicros, long expected)
    {
        var rtt = new RttEstimator();
        rtt.AddSample(smoothedRtt, 0, 0, true, 0);
        var pacer = new Pacer(new FixedWindow(window), rtt, burstPackets: 10, burstIntervalMicros: intervalMicros);
        Assert.Equal(expected, pacer.Capacity);
    }

    [Fact]
    public void BurstInterval_ADriverWakingEveryMillisecondSendsAtTheFullRate()
    {
        // 1.25 * 400 000 B / 1 ms = 500 B/µs. A driver that can only sleep in whole milliseconds still sends 500 kB per ms.
        var rtt = new RttEstimator();
        rtt.AddSample(1_000, 0, 0, true, 0);
        var pacer = new Pacer(new FixedWindow(400_000), rtt, burstPackets: 10, burstIntervalMicros: 1_000);
        long now = 0;
        long sent = 0;
        for (var wake = 0; wake < 100; wake++)
        {
            while (pacer.NextSendTime(now, 1200) <= now)
            {
                pacer.OnPacketSent(now, 1200);
                sent += 1200;
            }

            now += 1_000;
        }

        // 100 ms at 500 B/µs is 50 MB; the 256-datagram bucket (307 200 B) is the bound per wake-up.
        Assert.True(sent >= 100 * 300_000, $"sent only {sent} B in 100 wake-ups");
    }

    [Fact]
    public void IdlePeriod_RefillsOnlyUpToBurst()
    {
        var cc = new NewRenoCongestionController(1200);
        var rtt = new RttEstimator();
        rtt.AddSample(100_000, 0, 0, true, 0);
        var pacer = new Pacer(cc, rtt, burstPackets: 4);
        pacer.OnPacketSent(0, 1200);

        // After a long idle period, only 4 datagrams may leave back to back.
        long now = 10_000_000;
        int sent = 0;
        while (pacer.NextSendTime(now, 1200) == now)
        {
            pacer.OnPacketSent(now, 1200);
            sent++;
        }

        Assert.Equal(4, sent);
    }

    [Fact]
    public void SmallerRtt_PacesFaster()
    {
        var cc = new NewRenoCongestionController(1200);
        var rtt = new RttEstimator();
        rtt.AddSample(10_000, 0, 0, true, 0);
        var pacer = new Pacer(cc, rtt, burstPackets: 1);
        pacer.OnPacketSent(0, 1200);
        // rate = 1.25 * 12000 / 10 ms = 1.5 B/µs -> 800 µs per datagram.
        Assert.Equal(800, pacer.NextSendTime(0, 1200));
    }
}

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

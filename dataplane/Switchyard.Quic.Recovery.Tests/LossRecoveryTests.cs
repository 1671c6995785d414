namespace Switchyard.Quic.Recovery.Tests;

public sealed class LossRecoveryTests
{
    private const PacketNumberSpace App = PacketNumberSpace.ApplicationData;
    private const int Size = 1200;

    private static LossRecovery NewServer() => new(new NewRenoCongestionController(Size)) { HandshakeConfirmed = true, HasHandshakeKeys = true };

    private static void Send(LossRecovery r, PacketNumberSpace space, long pn, long now, bool ackEliciting = true) =>
        r.OnPacketSent(space, pn, Size, ackEliciting, ackEliciting, now, $"frames-{pn}");

    private static AckOutcome Ack(LossRecovery r, PacketNumberSpace space, long now, IRecoveryEvents events, params (long Smallest, long Largest)[] ranges) =>
        r.OnAckReceived(space, ranges.Select(x => new AckRange(x.Smallest, x.Largest)).ToArray(), 0, now, events);

    [Fact]
    public void Ack_ReportsAckedPacketsWithTheirTokensAndReleasesBytes()
    {
        var r = NewServer();
        var events = new RecordingEvents();
        for (int pn = 0; pn < 3; pn++)
        {
            Send(r, App, pn, pn * 1_000);
        }

        Assert.Equal(3 * Size, r.BytesInFlight);
        Assert.Equal(AckOutcome.Accepted, Ack(r, App, 50_000, events, (0, 2)));
        Assert.Equal([0L, 1, 2], events.AckedPns.Order());
        Assert.All(events.Acked, a => Assert.Equal($"frames-{a.Pn}", a.Frames));
        Assert.Empty(events.Lost);
        Assert.Equal(0, r.BytesInFlight);
        Assert.Equal(2, r.LargestAcked(App));
        // RTT sample from the largest acknowledged: 50 ms - 2 ms.
        Assert.Equal(48_000, r.Rtt.LatestRtt);
        Assert.Null(r.LossDetectionDeadline);
    }

    [Fact]
    public void DuplicateAck_ReportsNothingTwice()
    {
        var r = NewServer();
        var events = new RecordingEvents();
        Send(r, App, 0, 0);
        Ack(r, App, 10_000, events, (0, 0));
        Ack(r, App, 20_000, events, (0, 0));
        Assert.Single(events.Acked);
        Assert.Equal(10_000, r.Rtt.SmoothedRtt);
    }

    [Fact]
    public void AckOfUnsentPacket_IsRejectedWithoutStateChange()
    {
        var r = NewServer();
        var events = new RecordingEvents();
        for (int pn = 0; pn < 5; pn++)
        {
            Send(r, App, pn, 0);
        }

        // RFC 9000 §13.1: acknowledging packet 10 when only 0..4 were sent is a PROTOCOL_VIOLATION.
        Assert.Equal(AckOutcome.AcknowledgedUnsentPacket, Ack(r, App, 10_000, events, (10, 10), (0, 4)));
        Assert.Equal(AckOutcome.AcknowledgedUnsentPacket, Ack(r, PacketNumberSpace.Handshake, 10_000, events, (0, 0)));
        Assert.Empty(events.Acked);
        Assert.Equal(5 * Size, r.BytesInFlight);
        Assert.False(r.Rtt.HasSample);
        Assert.Equal(-1, r.LargestAcked(App));
    }

    [Theory]
    // Ranges ascending instead of descending.
    [InlineData(new long[] { 0, 1, 3, 4 })]
    // Inverted range.
    [InlineData(new long[] { 4, 2 })]
    // Touching ranges (no gap between them).
    [InlineData(new long[] { 3, 4, 1, 2 })]
    // Negative packet number.
    [InlineData(new long[] { -1, 2 })]
    // No ranges at all.
    [InlineData(new long[0])]
    public void MalformedRanges_AreRejected(long[] flat)
    {
        var r = NewServer();
        for (int pn = 0; pn < 5; pn++)
        {
            Send(r, App, pn, 0);
        }

        var ranges = new AckRange[flat.Length / 2];
        for (int i = 0; i < ranges.Length; i++)
        {
            ranges[i] = new AckRange(flat[2 * i], flat[(2 * i) + 1]);
        }

        var events = new RecordingEvents();
        Assert.Equal(AckOutcome.MalformedRanges, r.OnAckReceived(App, ranges, 0, 10_000, events));
        Assert.Empty(events.Acked);
        Assert.Equal(5 * Size, r.BytesInFlight);
    }

    [Fact]
    public void PacketThresholdAndTimeThreshold_DeclareLossAtTheRightMoments()
    {
        var r = NewServer();
        var events = new RecordingEvents();
        for (int pn = 0; pn < 5; pn++)
        {
            Send(r, App, pn, pn * 1_000);
        }

        // Ack 3 at 53 ms: first RTT sample 50 ms. Packet 0 is 3 behind -> lost by packet threshold.
        Ack(r, App, 53_000, events, (3, 3));
        Assert.Equal([0L], events.LostPns);
        Assert.Equal("frames-0", events.Lost[0].Frames);

        // Packets 1 and 2 wait for the time threshold: 9/8 * 50 ms = 56.25 ms after they were sent.
        Assert.Equal(1_000 + 56_250, r.LossDetectionDeadline);

        // Before the deadline the timeout does nothing.
        Assert.Equal(LossTimeoutAction.None, r.OnLossDetectionTimeout(57_249, events).Action);

        events.Clear();
        var result = r.OnLossDetectionTimeout(57_250, events);
        Assert.Equal(LossTimeoutAction.PacketsDeclaredLost, result.Action);
        Assert.Equal([1L], events.LostPns);
        Assert.Equal(2_000 + 56_250, r.LossDetectionDeadline);

        events.Clear();
        r.OnLossDetectionTimeout(58_250, events);
        Assert.Equal([2L], events.LostPns);

        // Packet 4 is above the largest acknowledged and is never declared lost by threshold; it keeps the PTO armed.
        Assert.Equal(Size, r.BytesInFlight);
        Assert.Equal(1, r.AckElicitingInFlight(App));
    }

    [Fact]
    public void PacketThreshold_LaterAckDeclaresLossImmediately()
    {
        var r = NewServer();
        var events = new RecordingEvents();
        for (int pn = 0; pn < 6; pn++)
        {
            Send(r, App, pn, pn * 1_000);
        }

        Ack(r, App, 53_000, events, (3, 3));
        events.Clear();
        // Ack 4 and 5 a millisecond later: packets 1 and 2 become 3 behind.
        Ack(r, App, 54_000, events, (4, 5));
        Assert.Equal([1L, 2L], events.LostPns);
        Assert.Equal(0, r.BytesInFlight);
    }

    [Fact]
    public void ProbeTimeout_BacksOffExponentiallyAndResetsOnAck()
    {
        var r = NewServer();
        var events = new RecordingEvents();
        Send(r, App, 0, 0);

        // No RTT sample: PTO = 333 + 4 * 166.5 + 25 (max_ack_delay) = 1024 ms.
        Assert.Equal(1_024_000, r.LossDetectionDeadline);
        var result = r.OnLossDetectionTimeout(1_024_000, events);
        Assert.Equal(new LossTimeoutResult(LossTimeoutAction.SendProbes, App, 2, false), result);
        Assert.Equal(1, r.PtoCount);
        Assert.Empty(events.Lost);

        // Backoff doubles the period, counted from the last ack-eliciting packet sent.
        Assert.Equal(2_048_000, r.LossDetectionDeadline);
        Send(r, App, 1, 1_024_000);
        Assert.Equal(1_024_000 + 2_048_000, r.LossDetectionDeadline);
        r.OnLossDetectionTimeout(3_072_000, events);
        Assert.Equal(2, r.PtoCount);
        Assert.Equal(1_024_000 + 4_096_000, r.LossDetectionDeadline);

        // An acknowledgement resets pto_count.
        Ack(r, App, 3_100_000, events, (1, 1));
        Assert.Equal(0, r.PtoCount);
    }

    [Fact]
    public void HandshakeNotConfirmed_ApplicationDataIsNotProbed()
    {
        var r = new LossRecovery(new NewRenoCongestionController(Size)) { HasHandshakeKeys = true };
        Send(r, App, 0, 0);
        Assert.Null(r.LossDetectionDeadline);

        Send(r, PacketNumberSpace.Handshake, 0, 10);
        // Handshake PTO has no max_ack_delay: 10 + 999 ms.
        Assert.Equal(999_010, r.LossDetectionDeadline);
        var result = r.OnLossDetectionTimeout(999_010, new RecordingEvents());
        Assert.Equal(PacketNumberSpace.Handshake, result.ProbeSpace);

        r.HandshakeConfirmed = true;
        // Application Data now competes: its PTO is 0 + 2 * (999 + 25) ms; the Handshake one is 10 + 2 * 999 ms.
        Assert.Equal(1_998_010, r.LossDetectionDeadline);
    }

    [Fact]
    public void EarliestSpace_IsProbed()
    {
        var r = NewServer();
        Send(r, PacketNumberSpace.Initial, 0, 5_000);
        Send(r, PacketNumberSpace.Handshake, 0, 1_000);
        var result = r.OnLossDetectionTimeout(1_000 + 999_000, new RecordingEvents());
        Assert.Equal(PacketNumberSpace.Handshake, result.ProbeSpace);
    }

    [Fact]
    public void ClientAwaitingAddressValidation_ArmsAntiDeadlockProbeWithNothingInFlight()
    {
        var r = new LossRecovery(new NewRenoCongestionController(Size)) { PeerAwaitingAddressValidation = true };
        var events = new RecordingEvents();
        Send(r, PacketNumberSpace.Initial, 0, 0);
        Ack(r, PacketNumberSpace.Initial, 50_000, events, (0, 0));
        Assert.Equal(0, r.AckElicitingInFlight(PacketNumberSpace.Initial));

        // RFC 9002 §6.2.2.1: the timer stays armed, counting from now: 50 + (50 + 4 * 25) ms.
        Assert.Equal(200_000, r.LossDetectionDeadline);
        var result = r.OnLossDetectionTimeout(200_000, events);
        Assert.Equal(new LossTimeoutResult(LossTimeoutAction.SendProbes, PacketNumberSpace.Initial, 1, true), result);

        // With Handshake keys the anti-deadlock probe is a Handshake packet, and the backoff continues.
        r.HasHandshakeKeys = true;
        Assert.Equal(200_000 + 300_000, r.LossDetectionDeadline);
        result = r.OnLossDetectionTimeout(500_000, events);
        Assert.Equal(PacketNumberSpace.Handshake, result.ProbeSpace);
        Assert.True(result.IsAntiDeadlockProbe);
        Assert.Equal(2, r.PtoCount);

        // An Initial acknowledgement does not reset pto_count while the address may be unvalidated.
        Send(r, PacketNumberSpace.Initial, 1, 500_000);
        Ack(r, PacketNumberSpace.Initial, 550_000, events, (1, 1));
        Assert.Equal(2, r.PtoCount);
        Assert.True(r.PeerAwaitingAddressValidation);

        // An acknowledgement of a Handshake packet proves the address was validated: pto_count resets
        // and, with nothing in flight, no timer remains.
        r.OnPacketSent(PacketNumberSpace.Handshake, 0, Size, true, true, 560_000, null);
        Ack(r, PacketNumberSpace.Handshake, 600_000, events, (0, 0));
        Assert.False(r.PeerAwaitingAddressValidation);
        Assert.Equal(0, r.PtoCount);
        Assert.Null(r.LossDetectionDeadline);
    }

    [Fact]
    public void ServerAtAmplificationLimit_DoesNotArmPto()
    {
        var r = NewServer();
        Send(r, PacketNumberSpace.Initial, 0, 0);
        r.AtAntiAmplificationLimit = true;
        Assert.Null(r.LossDetectionDeadline);
        Assert.Equal(LossTimeoutAction.None, r.OnLossDetectionTimeout(10_000_000, new RecordingEvents()).Action);
        r.AtAntiAmplificationLimit = false;
        Assert.Equal(999_000, r.LossDetectionDeadline);
    }

    [Fact]
    public void InitialSpace_IgnoresAckDelay()
    {
        var r = NewServer();
        var events = new RecordingEvents();
        Send(r, PacketNumberSpace.Initial, 0, 0);
        Send(r, PacketNumberSpace.Initial, 1, 100_000);
        r.OnAckReceived(PacketNumberSpace.Initial, [new AckRange(0, 0)], 0, 100_000, events);
        r.OnAckReceived(PacketNumberSpace.Initial, [new AckRange(1, 1)], 20_000, 250_000, events);
        // Second sample 150 ms with the 20 ms delay ignored: smoothed = (7 * 100 + 150) / 8.
        Assert.Equal(106_250, r.Rtt.SmoothedRtt);
    }

    [Fact]
    public void LossSpanningPersistentCongestionDuration_CollapsesWindow()
    {
        var cc = new NewRenoCongestionController(Size);
        var r = new LossRecovery(cc) { HandshakeConfirmed = true };
        var events = new RecordingEvents();

        // First RTT sample: 100 ms (smoothed 100, rttvar 50).
        Send(r, App, 0, 0);
        Ack(r, App, 100_000, events, (0, 0));

        // Ack-eliciting packets every 50 ms from 1.0 s to 2.2 s; only the last is acknowledged.
        long pn = 1;
        for (long t = 1_000_000; t <= 2_200_000; t += 50_000)
        {
            Send(r, App, pn++, t);
        }

        long last = pn - 1;
        Ack(r, App, 2_350_000, events, (last, last));

        // This ACK's sample is 150 ms: smoothed 106.25 ms, rttvar 50 ms, so the duration is
        // (106.25 + max(200, 1) + 25) * 3 = 993.75 ms, shorter than the 1.15 s between the first and last loss.
        Assert.Equal(last - 1, events.Lost.Count);
        Assert.Equal(cc.MinimumWindow, cc.CongestionWindow);
        Assert.Equal(1, r.Statistics.PersistentCongestionEvents);
        // RFC 9002 §5.2: min_rtt restarts from the newest sample (2.35 s - 2.2 s).
        Assert.Equal(150_000, r.Rtt.MinRtt);
        Assert.Equal(last - 1, r.Statistics.PacketsLost);
        Assert.Equal((last - 1) * Size, r.Statistics.BytesLost);
    }

    [Fact]
    public void AckBetweenLostPackets_PreventsPersistentCongestion()
    {
        var cc = new NewRenoCongestionController(Size);
        var r = new LossRecovery(cc) { HandshakeConfirmed = true };
        var events = new RecordingEvents();
        Send(r, App, 0, 0);
        Ack(r, App, 100_000, events, (0, 0));

        // Same 1.2 s of packets, but one in the middle (t = 1.6 s) is acknowledged: each run lasts 550 ms.
        long pn = 1;
        long middle = -1;
        for (long t = 1_000_000; t <= 2_200_000; t += 50_000)
        {
            if (t == 1_600_000)
            {
                middle = pn;
            }

            Send(r, App, pn++, t);
        }

        long last = pn - 1;
        Ack(r, App, 2_300_000, events, (last, last), (middle, middle));
        Assert.Equal(last - 2, events.Lost.Count);
        Assert.True(cc.CongestionWindow > cc.MinimumWindow, $"cwnd {cc.CongestionWindow}");
        Assert.Equal(0, r.Statistics.PersistentCongestionEvents);
    }

    [Fact]
    public void LossesBeforeFirstRttSample_DoNotEstablishPersistentCongestion()
    {
        var cc = new NewRenoCongestionController(Size);
        var r = new LossRecovery(cc) { HandshakeConfirmed = true };
        var events = new RecordingEvents();
        long pn = 0;
        for (long t = 0; t <= 3_000_000; t += 100_000)
        {
            Send(r, App, pn++, t);
        }

        long last = pn - 1;
        Ack(r, App, 3_100_000, events, (last, last));
        Assert.Equal(last, events.Lost.Count);
        Assert.True(cc.CongestionWindow > cc.MinimumWindow);
    }

    [Fact]
    public void DiscardPacketNumberSpace_RemovesBytesWithoutLoss()
    {
        var cc = new NewRenoCongestionController(Size);
        var r = new LossRecovery(cc);
        var events = new RecordingEvents();
        for (int pn = 0; pn < 3; pn++)
        {
            Send(r, PacketNumberSpace.Initial, pn, 0);
        }

        Send(r, PacketNumberSpace.Handshake, 0, 0);
        r.DiscardPacketNumberSpace(PacketNumberSpace.Initial, 1_000, events);
        Assert.Equal([0L, 1, 2], events.Discarded.Select(d => d.Pn));
        Assert.Empty(events.Lost);
        Assert.Equal(Size, r.BytesInFlight);
        Assert.Equal(12_000, cc.CongestionWindow);
        Assert.Equal(0, r.AckElicitingInFlight(PacketNumberSpace.Initial));

        // Late ACKs for the discarded space are ignored; sending in it is a programming error.
        Assert.Equal(AckOutcome.Accepted, Ack(r, PacketNumberSpace.Initial, 2_000, events, (0, 2)));
        Assert.Empty(events.Acked);
        Assert.Throws<InvalidOperationException>(() => Send(r, PacketNumberSpace.Initial, 3, 3_000));
    }

    [Fact]
    public void Retry_ReportsInitialPacketsLostWithoutCongestionSignal()
    {
        var cc = new NewRenoCongestionController(Size);
        var r = new LossRecovery(cc) { PeerAwaitingAddressValidation = true };
        var events = new RecordingEvents();
        Send(r, PacketNumberSpace.Initial, 0, 0);
        r.OnRetryReceived(30_000, events);
        Assert.Equal([0L], events.LostPns);
        Assert.Equal(0, r.BytesInFlight);
        Assert.Equal(12_000, cc.CongestionWindow);
        Assert.Null(cc.RecoveryStartTime);
        // Packet numbers continue after a Retry (RFC 9000 §17.2.5.3).
        Assert.Throws<ArgumentException>(() => Send(r, PacketNumberSpace.Initial, 0, 31_000));
        Send(r, PacketNumberSpace.Initial, 1, 31_000);
    }

    [Fact]
    public void NonIncreasingPacketNumber_IsRejected()
    {
        var r = NewServer();
        Send(r, App, 5, 0);
        Assert.Throws<ArgumentException>(() => Send(r, App, 5, 1));
        Assert.Throws<ArgumentException>(() => Send(r, App, 4, 1));
    }

    [Fact]
    public void ReentrantCall_FromEventHandler_Throws()
    {
        var r = NewServer();
        Send(r, App, 0, 0);
        Send(r, App, 1, 0);
        var reentrant = new ReentrantEvents(r);
        Assert.Throws<InvalidOperationException>(() => r.OnAckReceived(App, [new AckRange(0, 0)], 0, 10_000, reentrant));
        // The guard is released afterwards: ordinary processing still works.
        Assert.Equal(AckOutcome.Accepted, r.OnAckReceived(App, [new AckRange(1, 1)], 0, 11_000, new RecordingEvents()));
    }

    [Fact]
    public void SteadyState_KeepsRecordStorageBoundedByWhatIsInFlight()
    {
        var r = NewServer();
        var events = new NullEvents();
        long now = 0;
        long pn = 0;
        // 100k packets, each acknowledged 20 packets later.
        for (int i = 0; i < 100_000; i++)
        {
            now += 100;
            r.OnPacketSent(App, pn, Size, true, true, now, null);
            if (pn >= 20)
            {
                Assert.Equal(AckOutcome.Accepted, r.OnAckReceived(App, [new AckRange(0, pn - 20)], 0, now, events));
            }

            pn++;
        }

        Assert.True(r.TrackedRecordCount(App) <= 21, $"{r.TrackedRecordCount(App)} records");
    }

    [Fact]
    public void SteadyStateWithLosses_AllocatesNothingPerPacket()
    {
        var r = NewServer();
        var events = new NullEvents();
        var ranges = new AckRange[2];
        long now = 0;
        long pn = 0;
        int rejected = 0;

        // Every 10th packet is never acknowledged; each ACK reports two ranges around it.
        void Run(int packets)
        {
            for (int i = 0; i < packets; i++)
            {
                now += 100;
                r.OnPacketSent(App, pn, Size, true, true, now, null);
                if (pn % 10 == 9 && pn >= 20)
                {
                    long hole = pn - 5;
                    ranges[0] = new AckRange(hole + 1, pn);
                    ranges[1] = new AckRange(hole - 4, hole - 1);
                    // Count rather than assert here: the assertion library allocates.
                    rejected += r.OnAckReceived(App, ranges, 0, now, events) == AckOutcome.Accepted ? 0 : 1;
                }

                pn++;
            }
        }

        Run(10_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(100_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(0, rejected);
        Assert.True(r.Statistics.PacketsLost >= 10_000);
    }

    [Fact]
    public void RandomAckPatterns_AccountEveryPacketExactlyOnce()
    {
        // Property: whatever the peer acknowledges (valid ranges), every sent packet ends up acked,
        // lost or still tracked, never twice, and bytes in flight match the outstanding packets.
        var deadline = DateTime.UtcNow.AddSeconds(3);
        var random = new Random(1234);
        for (int round = 0; round < 300 && DateTime.UtcNow < deadline; round++)
        {
            var r = NewServer();
            var seen = new Dictionary<long, string>();
            var events = new CheckingEvents(seen);
            long now = 0;
            long nextPn = 0;
            for (int step = 0; step < 60; step++)
            {
                now += random.Next(1, 20_000);
                int burst = random.Next(0, 4);
                for (int i = 0; i < burst; i++)
                {
                    nextPn += random.Next(1, 3); // sender-induced gaps are allowed
                    r.OnPacketSent(App, nextPn, Size, true, true, now, nextPn);
                    seen[nextPn] = "out";
                }

                if (random.Next(3) == 0 && r.LossDetectionDeadline is { } d && d <= now + 50_000)
                {
                    now = Math.Max(now, d);
                    r.OnLossDetectionTimeout(now, events);
                }

                if (nextPn > 0 && random.Next(2) == 0)
                {
                    var ranges = RandomRanges(random, nextPn);
                    Assert.Equal(AckOutcome.Accepted, r.OnAckReceived(App, ranges, random.Next(0, 30_000), now, events));
                }

                long outstanding = seen.Count(kv => kv.Value == "out");
                Assert.Equal(outstanding * Size, r.BytesInFlight);
                Assert.Equal(outstanding, r.AckElicitingInFlight(App));
            }
        }
    }

    private static AckRange[] RandomRanges(Random random, long largestSent)
    {
        var list = new List<AckRange>();
        long top = random.Next(0, 4) == 0 ? largestSent : random.NextInt64(0, largestSent + 1);
        while (top >= 0 && list.Count < 5)
        {
            long smallest = Math.Max(0, top - random.Next(0, 5));
            list.Add(new AckRange(smallest, top));
            top = smallest - 2 - random.Next(0, 4);
        }

        return [.. list];
    }

    private sealed class CheckingEvents(Dictionary<long, string> seen) : IRecoveryEvents
    {
        public void OnPacketAcked(PacketNumberSpace space, long packetNumber, object? frames) => Move(packetNumber, frames, "acked");

        public void OnPacketLost(PacketNumberSpace space, long packetNumber, object? frames) => Move(packetNumber, frames, "lost");

        public void OnPacketDiscarded(PacketNumberSpace space, long packetNumber, object? frames) => Move(packetNumber, frames, "discarded");

        private void Move(long pn, object? frames, string to)
        {
            Assert.Equal(pn, (long)frames!);
            Assert.Equal("out", seen[pn]);
            seen[pn] = to;
        }
    }

    private sealed class NullEvents : IRecoveryEvents
    {
        public void OnPacketAcked(PacketNumberSpace space, long packetNumber, object? frames)
        {
        }

        public void OnPacketLost(PacketNumberSpace space, long packetNumber, object? frames)
        {
        }

        public void OnPacketDiscarded(PacketNumberSpace space, long packetNumber, object? frames)
        {
        }
    }

    private sealed class ReentrantEvents(LossRecovery recovery) : IRecoveryEvents
    {
        public void OnPacketAcked(PacketNumberSpace space, long packetNumber, object? frames) =>
            recovery.OnAckReceived(space, [new AckRange(packetNumber, packetNumber)], 0, 0, this);

        public void OnPacketLost(PacketNumberSpace space, long packetNumber, object? frames)
        {
        }

        public void OnPacketDiscarded(PacketNumberSpace space, long packetNumber, object? frames)
        {
        }
    }
}

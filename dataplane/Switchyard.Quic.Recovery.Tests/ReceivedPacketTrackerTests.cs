namespace Switchyard.Quic.Recovery.Tests;

public sealed class ReceivedPacketTrackerTests
{
    private const PacketNumberSpace App = PacketNumberSpace.ApplicationData;

    private static AckRange[] Ranges(ReceivedPacketTracker tracker)
    {
        var buffer = new AckRange[tracker.MaxRanges];
        int n = tracker.CopyAckRanges(buffer);
        return buffer[..n];
    }

    /// <summary>The model: contiguous runs of a set, descending.</summary>
    private static AckRange[] ModelRanges(IEnumerable<long> set)
    {
        var result = new List<AckRange>();
        foreach (long pn in set.OrderDescending())
        {
            if (result.Count > 0 && result[^1].Smallest == pn + 1)
            {
                result[^1] = result[^1] with { Smallest = pn };
            }
            else
            {
                result.Add(new AckRange(pn, pn));
            }
        }

        return [.. result];
    }

    [Fact]
    public void InOrderPackets_FormOneRange()
    {
        var t = new ReceivedPacketTracker(App);
        for (int pn = 0; pn < 10; pn++)
        {
            Assert.True(t.OnPacketReceived(pn, true, pn));
        }

        Assert.Equal([new AckRange(0, 9)], Ranges(t));
        Assert.Equal(9, t.LargestReceived);
    }

    [Fact]
    public void GapsAndFills_MergeRanges()
    {
        var t = new ReceivedPacketTracker(App);
        foreach (long pn in new long[] { 0, 1, 5, 6, 3, 9 })
        {
            t.OnPacketReceived(pn, false, 0);
        }

        Assert.Equal([new AckRange(9, 9), new AckRange(5, 6), new AckRange(3, 3), new AckRange(0, 1)], Ranges(t));
        t.OnPacketReceived(2, false, 0);
        t.OnPacketReceived(4, false, 0);
        Assert.Equal([new AckRange(9, 9), new AckRange(0, 6)], Ranges(t));
        t.OnPacketReceived(8, false, 0);
        t.OnPacketReceived(7, false, 0);
        Assert.Equal([new AckRange(0, 9)], Ranges(t));
    }

    [Fact]
    public void Duplicate_IsRejectedAndNotCounted()
    {
        var t = new ReceivedPacketTracker(App);
        Assert.True(t.OnPacketReceived(4, true, 0));
        Assert.True(t.IsDuplicate(4));
        Assert.False(t.OnPacketReceived(4, true, 1));
        // Only one ack-eliciting packet counted: the ACK may still wait for max_ack_delay.
        Assert.False(t.ShouldSendAckNow);
    }

    [Fact]
    public void RandomReorderingAndDuplication_MatchesSetModel()
    {
        var deadline = DateTime.UtcNow.AddSeconds(3);
        var random = new Random(42);
        for (int round = 0; round < 2_000 && DateTime.UtcNow < deadline; round++)
        {
            var t = new ReceivedPacketTracker(App, maxRanges: 1_000);
            var model = new HashSet<long>();
            int n = random.Next(1, 200);
            for (int i = 0; i < n; i++)
            {
                // Mostly increasing with reordering, duplicates and holes.
                long pn = Math.Max(0, i + random.Next(-8, 8));
                if (random.Next(10) == 0)
                {
                    continue;
                }

                bool expectedNew = !model.Contains(pn);
                Assert.Equal(expectedNew, t.OnPacketReceived(pn, random.Next(2) == 0, i));
                model.Add(pn);
                Assert.Equal(ModelRanges(model), Ranges(t));
            }
        }
    }

    [Fact]
    public void RandomArrivals_WithBoundedRanges_NeverAcceptDuplicatesAndReportASuffix()
    {
        var deadline = DateTime.UtcNow.AddSeconds(3);
        var random = new Random(7);
        for (int round = 0; round < 1_000 && DateTime.UtcNow < deadline; round++)
        {
            int maxRanges = random.Next(1, 10);
            var t = new ReceivedPacketTracker(App, maxRanges: maxRanges);
            var model = new HashSet<long>();
            for (int i = 0; i < 300; i++)
            {
                long pn = random.NextInt64(0, 400);
                bool accepted = t.OnPacketReceived(pn, true, i);
                if (accepted)
                {
                    Assert.DoesNotContain(pn, model);
                    model.Add(pn);
                }

                var reported = Ranges(t);
                Assert.True(reported.Length <= maxRanges);
                Assert.True(t.RangeCount <= maxRanges);
                if (reported.Length == 0)
                {
                    continue;
                }

                // The reported ranges are exactly the model above the oldest reported packet number.
                long floor = reported[^1].Smallest;
                Assert.Equal(ModelRanges(model.Where(x => x >= floor)), reported);
                Assert.Equal(model.Max(), reported[0].Largest);
            }
        }
    }

    [Fact]
    public void BoundedRanges_DropOldestAndTreatThemAsDuplicates()
    {
        var t = new ReceivedPacketTracker(App, maxRanges: 4);
        for (long pn = 0; pn < 20; pn += 2)
        {
            t.OnPacketReceived(pn, false, 0);
        }

        Assert.Equal([new AckRange(18, 18), new AckRange(16, 16), new AckRange(14, 14), new AckRange(12, 12)], Ranges(t));
        // Packet 3 was never received but is now below the floor: dropped as a possible duplicate (RFC 9000 §12.3).
        Assert.True(t.IsDuplicate(3));
        Assert.False(t.OnPacketReceived(3, true, 0));
        // Packet 13 is still above it.
        Assert.True(t.OnPacketReceived(13, true, 0));
        Assert.Equal([new AckRange(18, 18), new AckRange(16, 16), new AckRange(12, 14)], Ranges(t));
    }

    [Fact]
    public void ApplicationData_FirstAckElicitingWaitsForMaxAckDelay()
    {
        var t = new ReceivedPacketTracker(App, maxAckDelayMicros: 25_000);
        t.OnPacketReceived(0, true, 1_000);
        Assert.False(t.ShouldSendAckNow);
        Assert.Equal(26_000, t.AckDeadline);
        Assert.False(t.IsAckDue(25_999));
        Assert.True(t.IsAckDue(26_000));
        Assert.True(t.HasAckToSend);
    }

    [Fact]
    public void SecondAckEliciting_TriggersImmediateAck()
    {
        var t = new ReceivedPacketTracker(App);
        t.OnPacketReceived(0, true, 1_000);
        t.OnPacketReceived(1, true, 2_000);
        Assert.True(t.ShouldSendAckNow);
        Assert.Equal(2_000, t.AckDeadline);
    }

    [Fact]
    public void NonAckEliciting_NeverArmsDeadline()
    {
        var t = new ReceivedPacketTracker(App);
        for (int pn = 0; pn < 5; pn++)
        {
            t.OnPacketReceived(pn, false, pn);
        }

        Assert.Null(t.AckDeadline);
        Assert.False(t.ShouldSendAckNow);
        Assert.True(t.HasAckToSend);
    }

    [Theory]
    // Out of order: 5 then 3.
    [InlineData(5, 3)]
    // A gap: 0 then 2 (1 missing).
    [InlineData(0, 2)]
    public void ReorderingOrGap_TriggersImmediateAck(long first, long second)
    {
        var t = new ReceivedPacketTracker(App);
        t.OnPacketReceived(first, false, 0);
        t.OnPacketReceived(second, true, 10);
        Assert.True(t.ShouldSendAckNow);
        Assert.Equal(10, t.AckDeadline);
    }

    [Theory]
    [InlineData(PacketNumberSpace.Initial)]
    [InlineData(PacketNumberSpace.Handshake)]
    public void HandshakeSpaces_AckImmediately(PacketNumberSpace space)
    {
        var t = new ReceivedPacketTracker(space);
        t.OnPacketReceived(0, true, 7);
        Assert.True(t.ShouldSendAckNow);
        Assert.Equal(7, t.AckDeadline);
    }

    [Fact]
    public void AckSent_ResetsTriggers()
    {
        var t = new ReceivedPacketTracker(App);
        t.OnPacketReceived(0, true, 0);
        t.OnPacketReceived(1, true, 0);
        t.OnAckSent(5);
        Assert.False(t.ShouldSendAckNow);
        Assert.Null(t.AckDeadline);
        Assert.False(t.HasAckToSend);
        // The ranges are still reported in later ACKs until an ACK of them is acknowledged.
        Assert.Equal([new AckRange(0, 1)], Ranges(t));
    }

    [Fact]
    public void AckDelay_IsMeasuredFromLargestArrival()
    {
        var t = new ReceivedPacketTracker(App);
        Assert.Equal(0, t.GetAckDelay(100));
        t.OnPacketReceived(5, true, 1_000);
        t.OnPacketReceived(3, true, 4_000);
        Assert.Equal(9_000, t.GetAckDelay(10_000));
    }

    [Fact]
    public void AckOfAck_StopsReportingOldRangesButKeepsDuplicateDetection()
    {
        var t = new ReceivedPacketTracker(App);
        foreach (long pn in new long[] { 0, 1, 2, 4, 5, 8, 9 })
        {
            t.OnPacketReceived(pn, true, 0);
        }

        t.OnAckOfAckReceived(4);
        Assert.Equal([new AckRange(8, 9), new AckRange(5, 5)], Ranges(t));
        Assert.True(t.IsDuplicate(1));
        Assert.True(t.IsDuplicate(4));
        Assert.False(t.IsDuplicate(3));

        // A late packet below the floor is accepted once but neither reported nor urgent.
        t.OnAckSent(0);
        Assert.True(t.OnPacketReceived(3, true, 1));
        Assert.False(t.ShouldSendAckNow);
        Assert.False(t.HasAckToSend);
        Assert.False(t.OnPacketReceived(3, true, 2));

        t.OnAckOfAckReceived(9);
        Assert.Empty(Ranges(t));
        Assert.Equal(0, t.ReportableRangeCount);
    }

    [Fact]
    public void ShortDestination_KeepsNewestRanges()
    {
        var t = new ReceivedPacketTracker(App);
        foreach (long pn in new long[] { 0, 2, 4, 6 })
        {
            t.OnPacketReceived(pn, false, 0);
        }

        var two = new AckRange[2];
        Assert.Equal(2, t.CopyAckRanges(two));
        Assert.Equal([new AckRange(6, 6), new AckRange(4, 4)], two);
    }
}

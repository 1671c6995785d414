using Switchyard.Processors.Accounting;

namespace Switchyard.Processors.Tests.Accounting;

public sealed class DeliveryDeduplicatorTests
{
    [Fact]
    public void KeysDifferingInAnyPart_AreDistinct()
    {
        var dedup = new DeliveryDeduplicator(16);

        Assert.True(dedup.TryMark("a", 2, 1));
        Assert.True(dedup.TryMark("b", 2, 1));
        Assert.True(dedup.TryMark("a", 6, 1));
        Assert.True(dedup.TryMark("a", 2, 2));
        Assert.False(dedup.TryMark("a", 2, 1));
        Assert.False(dedup.TryMark("b", 2, 1));
    }

    [Fact]
    public void ManyStreams_StayWithinTheBound()
    {
        var dedup = new DeliveryDeduplicator(100);

        for (var stream = 0; stream < 10_000; stream++)
        {
            Assert.True(dedup.TryMark("s", stream, 1));
            Assert.InRange(dedup.Count, 1, 100);
        }
    }

    [Fact]
    public void Eviction_ForgetsTheLeastRecentlyUsedStreamsFirst()
    {
        var dedup = new DeliveryDeduplicator(4);
        dedup.TryMark("s", 0, 1);
        dedup.TryMark("s", 1, 1);
        dedup.TryMark("s", 2, 1);
        dedup.TryMark("s", 3, 1);

        // Stream 0 is touched again, so streams 1 and 2 are now the oldest; a fifth stream evicts them.
        Assert.True(dedup.TryMark("s", 0, 2));
        Assert.True(dedup.TryMark("s", 4, 1));

        Assert.False(dedup.TryMark("s", 0, 2));
        Assert.False(dedup.TryMark("s", 3, 1));
        Assert.True(dedup.TryMark("s", 1, 1));
    }
}

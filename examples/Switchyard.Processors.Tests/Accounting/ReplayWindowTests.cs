using Switchyard.Processors.Accounting;

namespace Switchyard.Processors.Tests.Accounting;

public sealed class ReplayWindowTests
{
    [Fact]
    public void InOrderSequence_IsNewOnceThenDuplicate()
    {
        var window = new ReplayWindow();

        for (long seq = 1; seq <= 1000; seq++)
        {
            Assert.True(window.TryMark(seq));
            Assert.False(window.TryMark(seq));
        }
    }

    [Fact]
    public void FirstSequenceMayBeAnything_IncludingZero()
    {
        var window = new ReplayWindow();

        Assert.True(window.TryMark(0));
        Assert.False(window.TryMark(0));
        Assert.True(window.TryMark(long.MaxValue));
        Assert.False(window.TryMark(long.MaxValue));
    }

    [Fact]
    public void GapThenLateArrivalInsideTheWindow_IsNew()
    {
        var window = new ReplayWindow();

        Assert.True(window.TryMark(1));
        Assert.True(window.TryMark(10));
        Assert.True(window.TryMark(5));
        Assert.False(window.TryMark(5));
        Assert.False(window.TryMark(1));
        Assert.True(window.TryMark(10 - ReplayWindow.Size + 1));
    }

    [Fact]
    public void ArrivalOlderThanTheWindow_IsTakenAsDuplicate()
    {
        var window = new ReplayWindow();

        Assert.True(window.TryMark(1000));
        Assert.False(window.TryMark(1000 - ReplayWindow.Size));
    }

    [Fact]
    public void RandomOrders_AgreeWithASetInsideTheWindow()
    {
        // Against a reference that remembers everything: inside the window the answers agree; below it, the window
        // says "duplicate" (documented) and the reference may say either.
        var deadline = DateTime.UtcNow.AddSeconds(2);
        var random = new Random(1234);
        while (DateTime.UtcNow < deadline)
        {
            var window = new ReplayWindow();
            var seen = new HashSet<long>();
            long highest = -1;
            for (var i = 0; i < 500; i++)
            {
                var seq = Math.Max(0, highest + random.Next(-80, 5));
                var fresh = window.TryMark(seq);
                if (highest >= 0 && highest - seq >= ReplayWindow.Size)
                {
                    Assert.False(fresh);
                    continue;
                }

                Assert.Equal(seen.Add(seq), fresh);
                highest = Math.Max(highest, seq);
            }
        }
    }
}

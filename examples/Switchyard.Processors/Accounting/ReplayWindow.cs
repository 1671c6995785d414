namespace Switchyard.Processors.Accounting;

/// <summary>
/// Remembers which message sequence numbers of one stream were already counted, in constant memory: the highest
/// sequence seen plus a 64-bit bitmap of the ones just below it (the anti-replay window of RFC 4303 §3.4.3).
/// </summary>
/// <remarks>
/// The gateway delivers each stream's messages in order and at least once, so a retry repeats a sequence number at or
/// below the high-water mark. The bitmap also tolerates a little reordering (two routing rules of one stream sending to
/// the same backend). A sequence older than the window is taken as a duplicate: it cannot be told apart without a set
/// of every key, which is exactly the unbounded memory this avoids.
/// </remarks>
internal sealed class ReplayWindow
{
    /// <summary>How far below the high-water mark a late first delivery is still recognised.</summary>
    public const int Size = 64;

    private long _highest = long.MinValue;
    private ulong _seen;

    /// <summary>When this stream was last touched, for evicting idle streams.</summary>
    public long LastTouched { get; set; }

    /// <summary>Marks <paramref name="sequence"/> as seen; true when it had not been seen before. Not thread-safe.</summary>
    public bool TryMark(long sequence)
    {
        if (_seen == 0 || sequence > _highest)
        {
            var shift = _seen == 0 ? Size : sequence - _highest;
            _seen = shift >= Size ? 1UL : (_seen << (int)shift) | 1UL;
            _highest = sequence;
            return true;
        }

        var distance = _highest - sequence;
        if (distance >= Size)
        {
            return false;
        }

        var bit = 1UL << (int)distance;
        if ((_seen & bit) != 0)
        {
            return false;
        }

        _seen |= bit;
        return true;
    }
}

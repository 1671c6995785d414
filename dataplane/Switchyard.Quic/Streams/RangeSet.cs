namespace Switchyard.Quic.Streams;

/// <summary>
/// A set of half-open byte ranges [start, end), kept merged and sorted. Used for received stream data, acknowledged
/// and lost send data. Its size is bounded by the caller (ranges only come from frames within a flow-control window).
/// </summary>
internal sealed class RangeSet
{
    private readonly List<(long Start, long End)> _ranges = new();

    public int Count => _ranges.Count;

    public bool IsEmpty => _ranges.Count == 0;

    public (long Start, long End) this[int index] => _ranges[index];

    public void Clear() => _ranges.Clear();

    /// <summary>Adds [start, end), merging with neighbours.</summary>
    public void Add(long start, long end)
    {
        if (end <= start)
        {
            return;
        }

        var i = LowerBound(start);

        // Merge with the previous range if it touches.
        if (i > 0 && _ranges[i - 1].End >= start)
        {
            i--;
            start = Math.Min(start, _ranges[i].Start);
        }

        var j = i;
        while (j < _ranges.Count && _ranges[j].Start <= end)
        {
            end = Math.Max(end, _ranges[j].End);
            start = Math.Min(start, _ranges[j].Start);
            j++;
        }

        if (j > i)
        {
            _ranges.RemoveRange(i, j - i);
        }

        _ranges.Insert(i, (start, end));
    }

    /// <summary>Removes [start, end).</summary>
    public void Remove(long start, long end)
    {
        if (end <= start)
        {
            return;
        }

        for (var i = 0; i < _ranges.Count; i++)
        {
            var (s, e) = _ranges[i];
            if (e <= start)
            {
                continue;
            }

            if (s >= end)
            {
                break;
            }

            _ranges.RemoveAt(i);
            var insert = i;
            if (s < start)
            {
                _ranges.Insert(insert++, (s, start));
            }

            if (e > end)
            {
                _ranges.Insert(insert++, (end, e));
            }

            i = insert - 1;
        }
    }

    /// <summary>True when every byte of [start, end) is in the set.</summary>
    public bool Contains(long start, long end)
    {
        if (end <= start)
        {
            return true;
        }

        var i = LowerBound(start + 1) - 1;
        return i >= 0 && _ranges[i].Start <= start && _ranges[i].End >= end;
    }

    /// <summary>The end of the range that starts at or before <paramref name="offset"/> and covers it, or <paramref name="offset"/>.</summary>
    public long ContiguousEnd(long offset)
    {
        var i = LowerBound(offset + 1) - 1;
        return i >= 0 && _ranges[i].Start <= offset && _ranges[i].End > offset ? _ranges[i].End : offset;
    }

    // Index of the first range whose start is >= value.
    private int LowerBound(long value)
    {
        int lo = 0, hi = _ranges.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >> 1;
            if (_ranges[mid].Start < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}

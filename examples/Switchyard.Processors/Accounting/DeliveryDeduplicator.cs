namespace Switchyard.Processors.Accounting;

/// <summary>
/// Recognises retried deliveries by (<c>X-Session-Id</c>, <c>X-Stream-Id</c>, <c>X-Message-Seq</c>) with one
/// <see cref="ReplayWindow"/> per stream, and at most <see cref="MaxStreams"/> streams remembered.
/// </summary>
internal sealed class DeliveryDeduplicator
{
    private readonly Dictionary<(string Session, long Stream), ReplayWindow> _streams = [];
    private readonly Lock _gate = new();
    private long _clock;

    /// <summary>Creates a deduplicator that remembers up to <paramref name="maxStreams"/> streams.</summary>
    public DeliveryDeduplicator(int maxStreams)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxStreams, 1);
        MaxStreams = maxStreams;
    }

    /// <summary>Streams remembered before the least recently used half is forgotten.</summary>
    public int MaxStreams { get; }

    /// <summary>Streams remembered now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _streams.Count;
            }
        }
    }

    /// <summary>True the first time a key is offered, false for a repeat.</summary>
    public bool TryMark(string session, long stream, long sequence)
    {
        // One lock for all streams: the work under it is a dictionary lookup and a few bit operations, far cheaper
        // than the HTTP request around it.
        lock (_gate)
        {
            var key = (session, stream);
            if (!_streams.TryGetValue(key, out var window))
            {
                if (_streams.Count >= MaxStreams)
                {
                    EvictLeastRecentlyUsedHalf();
                }

                window = new ReplayWindow();
                _streams.Add(key, window);
            }

            window.LastTouched = ++_clock;
            return window.TryMark(sequence);
        }
    }

    private void EvictLeastRecentlyUsedHalf()
    {
        // A forgotten stream whose retry arrives later is counted again: the price of bounded memory, paid only by
        // streams idle for longer than MaxStreams / 2 newer streams took to appear.
        var touched = new long[_streams.Count];
        var i = 0;
        foreach (var window in _streams.Values)
        {
            touched[i++] = window.LastTouched;
        }

        Array.Sort(touched);
        var cutoff = touched[touched.Length / 2];
        foreach (var (key, window) in _streams)
        {
            if (window.LastTouched < cutoff)
            {
                _streams.Remove(key);
            }
        }
    }
}

using System.Collections.Concurrent;

namespace Switchyard.Delivery.Tests;

/// <summary>Records what the pipeline reports: outcome counts and payload bytes per label, buffered bytes and their peak.</summary>
internal sealed class RecordingObserver : IDeliveryObserver
{
    private readonly ConcurrentDictionary<(string, DeliveryOutcome), long> _counts = new();
    private readonly ConcurrentDictionary<(string, DeliveryOutcome), long> _bytes = new();
    private long _buffered;
    private long _maxBuffered;
    private int _bufferFull;

    public long Buffered => Interlocked.Read(ref _buffered);

    public long MaxBuffered => Interlocked.Read(ref _maxBuffered);

    public int BufferFull => Volatile.Read(ref _bufferFull);

    public long Count(string type, DeliveryOutcome outcome) => _counts.GetValueOrDefault((type, outcome));

    public long Bytes(string type, DeliveryOutcome outcome) => _bytes.GetValueOrDefault((type, outcome));

    public long Total(string type) => _counts.Where(kv => kv.Key.Item1 == type).Sum(kv => kv.Value);

    public void OnMessage(string trackType, DeliveryOutcome outcome, long payloadBytes, TimeSpan duration)
    {
        _counts.AddOrUpdate((trackType, outcome), 1, (_, n) => n + 1);
        _bytes.AddOrUpdate((trackType, outcome), payloadBytes, (_, n) => n + payloadBytes);
    }

    public void OnFragmentedMessage()
    {
    }

    public void OnBufferedBytesChanged(long delta)
    {
        var now = Interlocked.Add(ref _buffered, delta);
        long seen;
        while (now > (seen = Interlocked.Read(ref _maxBuffered)) && Interlocked.CompareExchange(ref _maxBuffered, now, seen) != seen)
        {
        }
    }

    public void OnBufferFull() => Interlocked.Increment(ref _bufferFull);
}

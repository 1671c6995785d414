namespace Switchyard.Delivery;

/// <summary>What the delivery pipeline reports, for metrics. Implementations must be cheap and must not throw.</summary>
public interface IDeliveryObserver
{
    /// <summary>A message reached its outcome.</summary>
    /// <param name="trackType">The rule's configured track type, or a fixed label when the message matched none
    /// (the header's own value is client-controlled and would make label cardinality unbounded).</param>
    /// <param name="outcome">What became of it.</param>
    /// <param name="payloadBytes">Its payload size.</param>
    /// <param name="duration">Time spent delivering it (zero when it was never sent).</param>
    void OnMessage(string trackType, DeliveryOutcome outcome, long payloadBytes, TimeSpan duration);

    /// <summary>
    /// <paramref name="messages"/> messages of one track reached the same outcome at once: <c>Stream</c> delivery settles
    /// every message of a streaming request when its final response arrives, and keeps only their count and byte sum.
    /// </summary>
    /// <remarks>The default reports them one by one through <see cref="OnMessage"/>, the first carrying every byte, so
    /// counters of messages and bytes come out exact.</remarks>
    /// <param name="trackType">As for <see cref="OnMessage"/>.</param>
    /// <param name="outcome">What became of them.</param>
    /// <param name="messages">How many messages.</param>
    /// <param name="payloadBytes">Their payload bytes, summed.</param>
    /// <param name="duration">Their mean delivery time.</param>
    void OnMessages(string trackType, DeliveryOutcome outcome, long messages, long payloadBytes, TimeSpan duration)
    {
        for (long i = 0; i < messages; i++)
        {
            OnMessage(trackType, outcome, i == 0 ? payloadBytes : 0, duration);
        }
    }

    /// <summary>A message needed more than one read of its stream to arrive whole.</summary>
    void OnFragmentedMessage();

    /// <summary>Bytes buffered for delivery changed by <paramref name="delta"/>.</summary>
    void OnBufferedBytesChanged(long delta);

    /// <summary>A stream reached its in-flight byte bound and stopped being read until delivery caught up.</summary>
    void OnBufferFull();
}

/// <summary>An observer that records nothing.</summary>
public sealed class NullDeliveryObserver : IDeliveryObserver
{
    /// <summary>The shared instance.</summary>
    public static NullDeliveryObserver Instance { get; } = new();

    /// <inheritdoc />
    public void OnMessage(string trackType, DeliveryOutcome outcome, long payloadBytes, TimeSpan duration)
    {
    }

    /// <inheritdoc />
    public void OnFragmentedMessage()
    {
    }

    /// <inheritdoc />
    public void OnBufferedBytesChanged(long delta)
    {
    }

    /// <inheritdoc />
    public void OnBufferFull()
    {
    }
}

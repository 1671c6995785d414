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

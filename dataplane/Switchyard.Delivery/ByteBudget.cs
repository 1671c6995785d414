namespace Switchyard.Delivery;

/// <summary>
/// Bounds the bytes a stream may have waiting for delivery. The stream's single reader waits for room before it takes
/// the next message, so a slow backend stops the reading and QUIC flow control pushes back on the sender.
/// </summary>
internal sealed class ByteBudget
{
    private readonly object _gate = new();
    private readonly long _limit;
    private long _used;
    private long _waitingFor;
    private TaskCompletionSource? _waiter;
    private bool _cancelled;

    public ByteBudget(long limit) => _limit = limit;

    public long Used
    {
        get
        {
            lock (_gate)
            {
                return _used;
            }
        }
    }

    /// <summary>Takes <paramref name="bytes"/> at once when there is room. A message larger than the whole budget is let
    /// through only when nothing else is in flight, so it cannot wedge the stream.</summary>
    public bool TryTake(long bytes)
    {
        lock (_gate)
        {
            if (_used == 0 || _used + bytes <= _limit)
            {
                _used += bytes;
                return true;
            }

            return false;
        }
    }

    /// <summary>Waits until <paramref name="bytes"/> fit, then takes them. Returns false when <see cref="Cancel"/> was called.</summary>
    public async ValueTask<bool> TakeAsync(long bytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_cancelled)
                {
                    return false;
                }

                if (_used == 0 || _used + bytes <= _limit)
                {
                    _used += bytes;
                    return true;
                }

                _waitingFor = bytes;
                _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _waiter.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Release(long bytes)
    {
        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            _used -= bytes;
            if (_waiter is not null && (_used == 0 || _used + _waitingFor <= _limit))
            {
                wake = _waiter;
                _waiter = null;
            }
        }

        wake?.TrySetResult();
    }

    /// <summary>Wakes the reader for good: the stream failed and will not be read further.</summary>
    public void Cancel()
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            _cancelled = true;
            wake = _waiter;
            _waiter = null;
        }

        wake?.TrySetResult();
    }
}

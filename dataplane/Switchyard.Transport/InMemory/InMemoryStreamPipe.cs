namespace Switchyard.Transport.InMemory;

/// <summary>
/// One direction of an in-memory stream: a bounded byte queue with FIN, RESET_STREAM (writer aborts) and
/// STOP_SENDING (reader aborts). One reader and one writer at a time, as <see cref="IQuicStream"/> requires.
/// </summary>
internal sealed class InMemoryStreamPipe
{
    private readonly object _lock = new();
    private readonly Queue<byte[]> _chunks = new();
    private readonly int _capacity;
    private readonly InMemoryQuicConnection _reader;
    private readonly InMemoryQuicConnection _writer;
    private int _headOffset;
    private int _buffered;
    private bool _finWritten;
    private bool _finRead;
    private long? _resetCode;           // RESET_STREAM from the writer
    private long? _stopCode;            // STOP_SENDING from the reader
    private bool _readerAbortedLocally;
    private bool _writerAbortedLocally;
    private TaskCompletionSource? _readWaiter;
    private TaskCompletionSource? _writeWaiter;
    private readonly TaskCompletionSource _readsClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _writesClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action _onTerminal;
    private int _terminalSignalled;

    public InMemoryStreamPipe(InMemoryQuicConnection writer, InMemoryQuicConnection reader, int capacity, Action onTerminal)
    {
        _writer = writer;
        _reader = reader;
        _capacity = Math.Max(1, capacity);
        _onTerminal = onTerminal;
        _readsClosed.Task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        _writesClosed.Task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    public Task ReadsClosed => _readsClosed.Task;

    public Task WritesClosed => _writesClosed.Task;

    public bool WriteCompleted
    {
        get { lock (_lock) { return _finWritten || _resetCode.HasValue || _writerAbortedLocally; } }
    }

    public bool ReadCompleted
    {
        get { lock (_lock) { return _finRead || _resetCode.HasValue || _readerAbortedLocally; } }
    }

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_readerAbortedLocally)
                {
                    throw new QuicException(QuicError.OperationAborted, null, null, "The read half was aborted locally.");
                }

                if (_resetCode is long reset)
                {
                    throw new QuicException(QuicError.StreamAborted, reset, null, $"The peer reset the stream with code 0x{reset:x} (RESET_STREAM, RFC 9000 §19.4).");
                }

                if (_buffered > 0)
                {
                    if (buffer.Length == 0)
                    {
                        return 0;
                    }

                    int copied = 0;
                    while (copied < buffer.Length && _chunks.Count > 0)
                    {
                        byte[] head = _chunks.Peek();
                        int n = Math.Min(head.Length - _headOffset, buffer.Length - copied);
                        head.AsSpan(_headOffset, n).CopyTo(buffer.Span[copied..]);
                        copied += n;
                        _headOffset += n;
                        if (_headOffset == head.Length)
                        {
                            _chunks.Dequeue();
                            _headOffset = 0;
                        }
                    }

                    _buffered -= copied;
                    Wake(ref _writeWaiter);
                    if (_buffered == 0 && _finWritten)
                    {
                        FinishRead();
                    }

                    return copied;
                }

                if (_finWritten)
                {
                    FinishRead();
                    return 0;
                }

                if (_reader.TerminalError is Exception closed)
                {
                    throw closed;
                }

                _readWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _readWaiter.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, bool fin, Action announce, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                ThrowIfCannotWrite();
                if (data.IsEmpty)
                {
                    if (fin)
                    {
                        _finWritten = true;
                        if (_buffered == 0)
                        {
                            _writesClosed.TrySetResult();
                        }

                        Wake(ref _readWaiter);
                    }

                    break;
                }

                int space = _capacity - _buffered;
                if (space > 0)
                {
                    int n = Math.Min(space, data.Length);
                    _chunks.Enqueue(data[..n].ToArray());
                    _buffered += n;
                    data = data[n..];
                    Wake(ref _readWaiter);
                    continue;
                }

                _writeWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _writeWaiter.Task;
            }

            announce();
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        announce();
    }

    public void CompleteWrites()
    {
        lock (_lock)
        {
            if (_finWritten || _resetCode.HasValue || _writerAbortedLocally || _stopCode.HasValue)
            {
                return;
            }

            _finWritten = true;
            if (_buffered == 0)
            {
                _writesClosed.TrySetResult();
            }

            Wake(ref _readWaiter);
        }
    }

    /// <summary>RESET_STREAM: the writer abandons the data (RFC 9000 §3.1).</summary>
    public void ResetByWriter(long code)
    {
        lock (_lock)
        {
            if (_writerAbortedLocally || (_finWritten && _buffered == 0 && _finRead))
            {
                return;
            }

            _writerAbortedLocally = true;
            if (!_finRead)
            {
                _resetCode = code;
                _chunks.Clear();
                _buffered = 0;
                _readsClosed.TrySetException(new QuicException(QuicError.StreamAborted, code, null, $"The peer reset the stream with code 0x{code:x}."));
            }

            _writesClosed.TrySetException(new QuicException(QuicError.OperationAborted, null, null, "The write half was aborted locally."));
            Wake(ref _readWaiter);
            Wake(ref _writeWaiter);
        }

        SignalTerminal();
    }

    /// <summary>STOP_SENDING: the reader asks the writer to stop (RFC 9000 §3.5).</summary>
    public void StopByReader(long code)
    {
        lock (_lock)
        {
            if (_readerAbortedLocally || _finRead || _resetCode.HasValue)
            {
                _readerAbortedLocally = true;
                return;
            }

            _readerAbortedLocally = true;
            _chunks.Clear();
            _buffered = 0;
            if (!_writerAbortedLocally && !(_finWritten && _buffered == 0))
            {
                _stopCode = code;
            }

            _writesClosed.TrySetException(new QuicException(QuicError.StreamAborted, code, null, $"The peer sent STOP_SENDING with code 0x{code:x}."));
            _readsClosed.TrySetException(new QuicException(QuicError.OperationAborted, null, null, "The read half was aborted locally."));
            Wake(ref _readWaiter);
            Wake(ref _writeWaiter);
        }

        SignalTerminal();
    }

    /// <summary>The connection closed: every waiter wakes and sees the connection's error.</summary>
    public void OnConnectionClosed()
    {
        lock (_lock)
        {
            if (_reader.TerminalError is Exception readerError)
            {
                _readsClosed.TrySetException(readerError);
            }

            if (_writer.TerminalError is Exception writerError)
            {
                _writesClosed.TrySetException(writerError);
            }

            Wake(ref _readWaiter);
            Wake(ref _writeWaiter);
        }
    }

    private void ThrowIfCannotWrite()
    {
        if (_writerAbortedLocally)
        {
            throw new QuicException(QuicError.OperationAborted, null, null, "The write half was aborted locally.");
        }

        if (_stopCode is long stop)
        {
            throw new QuicException(QuicError.StreamAborted, stop, null, $"The peer sent STOP_SENDING with code 0x{stop:x} (RFC 9000 §19.5).");
        }

        if (_finWritten)
        {
            throw new InvalidOperationException("Writes were already completed on this stream.");
        }

        if (_writer.TerminalError is Exception closed)
        {
            throw closed;
        }
    }

    private void FinishRead()
    {
        if (!_finRead)
        {
            _finRead = true;
            _readsClosed.TrySetResult();
            _writesClosed.TrySetResult();
            ThreadPool.UnsafeQueueUserWorkItem(static self => self.SignalTerminal(), this, preferLocal: false);
        }
    }

    private void SignalTerminal()
    {
        if (Interlocked.Exchange(ref _terminalSignalled, 1) == 0)
        {
            _onTerminal();
        }
    }

    private static void Wake(ref TaskCompletionSource? waiter)
    {
        TaskCompletionSource? w = waiter;
        waiter = null;
        w?.TrySetResult();
    }
}

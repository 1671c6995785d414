using System.Runtime.CompilerServices;
using Switchyard.Quic.Streams;
using Switchyard.Transport;

namespace Switchyard.Quic.Udp;

/// <summary>
/// <see cref="IQuicStream"/> over a stream of the sans-I/O connection. A writer waits while the send buffer is full,
/// and a reader that stops reading stops the window updates, so the peer is pushed back (RFC 9000 §4).
/// </summary>
internal sealed class ManagedQuicStream : IQuicStream
{
    private static readonly ConditionalWeakTable<ManagedQuicConnection, List<WeakReference<ManagedQuicStream>>> Streams = new();

    private readonly ManagedQuicConnection _connection;
    private readonly TaskCompletionSource _readsClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _writesClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _readWaiter;
    private TaskCompletionSource? _writeWaiter;
    private long? _peerStopSendingCode;

    public ManagedQuicStream(ManagedQuicConnection connection, long id)
    {
        _connection = connection;
        Id = id;
        Type = QuicStreamState.IsBidi(id) ? QuicStreamType.Bidirectional : QuicStreamType.Unidirectional;
        var local = QuicStreamState.IsClientInitiated(id) != connection.Connection.IsServer;
        CanRead = Type == QuicStreamType.Bidirectional || !local;
        CanWrite = Type == QuicStreamType.Bidirectional || local;
        if (!CanRead)
        {
            _readsClosed.TrySetResult();
        }

        if (!CanWrite)
        {
            _writesClosed.TrySetResult();
        }

        var list = Streams.GetOrCreateValue(connection);
        lock (list)
        {
            list.RemoveAll(w => !w.TryGetTarget(out _));
            list.Add(new WeakReference<ManagedQuicStream>(this));
        }
    }

    public long Id { get; }

    public QuicStreamType Type { get; }

    public bool CanRead { get; }

    public bool CanWrite { get; }

    public Task ReadsClosed => _readsClosed.Task;

    public Task WritesClosed => _writesClosed.Task;

    internal static IEnumerable<ManagedQuicStream> All(ManagedQuicConnection connection)
    {
        if (!Streams.TryGetValue(connection, out var list))
        {
            return [];
        }

        lock (list)
        {
            return list.Select(w => w.TryGetTarget(out var s) ? s : null).Where(s => s is not null).ToList()!;
        }
    }

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var connection = _connection.Connection;
        while (true)
        {
            var (count, waiter) = await _connection.Loop.Invoke(() =>
            {
                try
                {
                    var n = connection.StreamRead(Id, buffer.Span, out var finished);
                    if (finished)
                    {
                        _readsClosed.TrySetResult();
                    }

                    if (n > 0 || finished)
                    {
                        return (n, (Task?)null);
                    }
                }
                catch (QuicException)
                {
                    _readsClosed.TrySetResult();
                    throw;
                }

                _readWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return (0, _readWaiter.Task);
            }).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (waiter is null)
            {
                return count;
            }

            await waiter.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, bool completeWrites, CancellationToken cancellationToken = default)
    {
        var connection = _connection.Connection;
        while (!buffer.IsEmpty)
        {
            var current = buffer;
            var (taken, waiter) = await _connection.Loop.Invoke(() =>
            {
                if (_peerStopSendingCode is { } stopped)
                {
                    throw new QuicException(QuicError.StreamAborted, stopped, null, $"The peer sent STOP_SENDING with code {stopped}.");
                }

                var n = connection.StreamWrite(Id, current.Span);
                if (n > 0)
                {
                    return (n, (Task?)null);
                }

                _writeWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return (0, _writeWaiter.Task);
            }).WaitAsync(cancellationToken).ConfigureAwait(false);
            buffer = buffer[taken..];
            if (waiter is not null)
            {
                await waiter.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        if (completeWrites)
        {
            CompleteWrites();
        }
    }

    public void CompleteWrites() => _connection.Loop.Post(() =>
    {
        try
        {
            _connection.Connection.StreamFinish(Id);
        }
        catch (QuicException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    });

    public void Abort(QuicAbortDirection direction, long errorCode)
    {
        _connection.Loop.Post(() =>
        {
            if (direction.HasFlag(QuicAbortDirection.Read) && CanRead)
            {
                _connection.Connection.StreamAbortRead(Id, errorCode);
                _readsClosed.TrySetResult();
            }

            if (direction.HasFlag(QuicAbortDirection.Write) && CanWrite)
            {
                _connection.Connection.StreamAbortWrite(Id, errorCode);
                _writesClosed.TrySetResult();
            }
        });
    }

    /// <summary>Called on the loop thread when data (or a reset, or the close) can be read.</summary>
    internal void SignalReadable()
    {
        var waiter = _readWaiter;
        _readWaiter = null;
        waiter?.TrySetResult();
    }

    /// <summary>Called on the loop thread when buffer space or credit appeared, or the stream was stopped.</summary>
    internal void SignalWritable()
    {
        if (CanWrite)
        {
            // The connection forgets the stream once its answering RESET_STREAM is acknowledged; remember the code so
            // that every later write still reports why (STOP_SENDING with its code), not "cannot be written".
            _peerStopSendingCode ??= _connection.Connection.StreamPeerStopSendingCode(Id);
        }

        var waiter = _writeWaiter;
        _writeWaiter = null;
        waiter?.TrySetResult();
        if (CanWrite && _connection.Connection.StreamWritesClosed(Id))
        {
            _writesClosed.TrySetResult();
        }
    }

    public ValueTask DisposeAsync()
    {
        if (CanWrite && !_writesClosed.Task.IsCompleted)
        {
            CompleteWrites();
        }

        if (CanRead && !_readsClosed.Task.IsCompleted)
        {
            Abort(QuicAbortDirection.Read, 0);
        }

        return ValueTask.CompletedTask;
    }
}

namespace Switchyard.Transport.InMemory;

/// <summary>
/// One side of an in-memory QUIC stream. A bidirectional stream is two <see cref="InMemoryStreamPipe"/>s, one per
/// direction; a unidirectional stream is one. The peer sees the stream once its opener first writes, completes or
/// aborts it, as a QUIC peer only learns of a stream from its first frame (RFC 9000 §2.1).
/// </summary>
public sealed class InMemoryQuicStream : IQuicStream
{
    private readonly InMemoryQuicConnection _owner;
    private readonly InMemoryStreamPipe? _readPipe;
    private readonly InMemoryStreamPipe? _writePipe;
    private readonly Action _announce;
    private int _disposed;

    internal InMemoryQuicStream(long id, QuicStreamType type, InMemoryQuicConnection owner, InMemoryStreamPipe? readPipe, InMemoryStreamPipe? writePipe, Action announce)
    {
        Id = id;
        Type = type;
        _owner = owner;
        _readPipe = readPipe;
        _writePipe = writePipe;
        _announce = announce;
    }

    /// <inheritdoc />
    public long Id { get; }

    /// <inheritdoc />
    public QuicStreamType Type { get; }

    /// <inheritdoc />
    public bool CanRead => _readPipe is not null;

    /// <inheritdoc />
    public bool CanWrite => _writePipe is not null;

    /// <inheritdoc />
    public Task ReadsClosed => _readPipe?.ReadsClosed ?? Task.CompletedTask;

    /// <inheritdoc />
    public Task WritesClosed => _writePipe?.WritesClosed ?? Task.CompletedTask;

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_readPipe is null)
        {
            throw new InvalidOperationException($"Stream {Id} is a unidirectional stream opened by this endpoint: it cannot be read (RFC 9000 §2.1).");
        }

        return _readPipe.ReadAsync(buffer, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, bool completeWrites, CancellationToken cancellationToken = default)
    {
        if (_writePipe is null)
        {
            throw new InvalidOperationException($"Stream {Id} is a unidirectional stream opened by the peer: it cannot be written (RFC 9000 §2.1).");
        }

        return _writePipe.WriteAsync(buffer, completeWrites, _announce, cancellationToken);
    }

    /// <inheritdoc />
    public void CompleteWrites()
    {
        if (_writePipe is null)
        {
            throw new InvalidOperationException($"Stream {Id} cannot be written.");
        }

        _writePipe.CompleteWrites();
        _announce();
    }

    /// <inheritdoc />
    public void Abort(QuicAbortDirection direction, long errorCode)
    {
        if ((direction & QuicAbortDirection.Read) != 0 && _readPipe is not null)
        {
            _readPipe.StopByReader(errorCode);
        }

        if ((direction & QuicAbortDirection.Write) != 0 && _writePipe is not null)
        {
            _writePipe.ResetByWriter(errorCode);
            _announce();
        }
    }

    /// <summary>
    /// Completes writes gracefully and stops reading with the connection's default stream error code when the read
    /// half has not finished, as <c>System.Net.Quic.QuicStream.DisposeAsync</c> does.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        if (_writePipe is not null && !_writePipe.WriteCompleted && _owner.TerminalError is null)
        {
            _writePipe.CompleteWrites();
            _announce();
        }

        if (_readPipe is not null && !_readPipe.ReadCompleted)
        {
            _readPipe.StopByReader(_owner.Options.DefaultStreamErrorCode);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override string ToString() => $"in-memory stream {Id} ({Type})";
}

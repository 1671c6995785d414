using Switchyard.Transport;

namespace Switchyard.Http3.Connection;

/// <summary>
/// A stream handed to an extension after HTTP/3 read its first bytes: reads return the bytes HTTP/3 had buffered
/// past the stream type (or signal value) before reading the underlying stream.
/// </summary>
internal sealed class PrefixedQuicStream : IQuicStream
{
    private readonly IQuicStream _inner;
    private ReadOnlyMemory<byte> _prefix;
    private readonly bool _finAfterPrefix;

    public PrefixedQuicStream(IQuicStream inner, byte[] prefix, bool finAfterPrefix)
    {
        _inner = inner;
        _prefix = prefix;
        _finAfterPrefix = finAfterPrefix;
    }

    public long Id => _inner.Id;

    public QuicStreamType Type => _inner.Type;

    public bool CanRead => _inner.CanRead;

    public bool CanWrite => _inner.CanWrite;

    public Task ReadsClosed => _inner.ReadsClosed;

    public Task WritesClosed => _inner.WritesClosed;

    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_prefix.IsEmpty)
        {
            int n = Math.Min(buffer.Length, _prefix.Length);
            _prefix.Span[..n].CopyTo(buffer.Span);
            _prefix = _prefix[n..];
            return ValueTask.FromResult(n);
        }

        return _finAfterPrefix ? ValueTask.FromResult(0) : _inner.ReadAsync(buffer, cancellationToken);
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, bool completeWrites, CancellationToken cancellationToken = default) =>
        _inner.WriteAsync(buffer, completeWrites, cancellationToken);

    public void CompleteWrites() => _inner.CompleteWrites();

    public void Abort(QuicAbortDirection direction, long errorCode) => _inner.Abort(direction, errorCode);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    public override string? ToString() => _inner.ToString();
}

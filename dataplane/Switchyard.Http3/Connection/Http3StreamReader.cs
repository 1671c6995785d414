using System.Buffers;
using Switchyard.Http3.Frames;
using Switchyard.Transport;

namespace Switchyard.Http3.Connection;

/// <summary>
/// A pooled read buffer over one QUIC stream. Parsers look at <see cref="Buffered"/>, call <see cref="Consume"/> for
/// what they used and <see cref="ReadMoreAsync"/> when they need more; large payloads bypass the buffer.
/// </summary>
internal sealed class Http3StreamReader : IDisposable
{
    private const int InitialSize = 4096;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _fin;

    public Http3StreamReader(IQuicStream stream)
    {
        Stream = stream;
        _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
    }

    public IQuicStream Stream { get; }

    public ReadOnlySpan<byte> Buffered => _buffer.AsSpan(_start, _end - _start);

    public ReadOnlyMemory<byte> BufferedMemory => _buffer.AsMemory(_start, _end - _start);

    public int BufferedLength => _end - _start;

    /// <summary>True once the peer's FIN has been read: no more bytes will arrive.</summary>
    public bool IsFinished => _fin;

    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    /// <summary>Reads more bytes into the buffer, growing it up to <paramref name="maxBuffered"/>. False at FIN.</summary>
    public async ValueTask<bool> ReadMoreAsync(int maxBuffered, CancellationToken cancellationToken)
    {
        if (_fin)
        {
            return false;
        }

        if (_end == _buffer.Length)
        {
            int used = _end - _start;
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, used);
                _start = 0;
                _end = used;
            }
            else
            {
                if (_buffer.Length >= maxBuffered)
                {
                    throw new InvalidOperationException("The stream buffer limit was reached.");
                }

                byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Min(maxBuffered, _buffer.Length * 2));
                Buffer.BlockCopy(_buffer, _start, bigger, 0, used);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
                _start = 0;
                _end = used;
            }
        }

        int n = await Stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (n == 0)
        {
            _fin = true;
            return false;
        }

        _end += n;
        return true;
    }

    /// <summary>Ensures <paramref name="count"/> bytes are buffered; false when FIN comes first.</summary>
    public async ValueTask<bool> EnsureAsync(int count, CancellationToken cancellationToken)
    {
        while (BufferedLength < count)
        {
            if (!await ReadMoreAsync(Math.Max(count, InitialSize), cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Reads one variable-length integer. Returns null at a clean FIN before its first byte.
    /// </summary>
    /// <exception cref="Http3ConnectionException">H3_FRAME_ERROR when FIN arrives inside the integer (RFC 9114 §7.1).</exception>
    public async ValueTask<long?> ReadVarintAsync(CancellationToken cancellationToken)
    {
        if (BufferedLength == 0 && !await ReadMoreAsync(InitialSize, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        int length = VariableLengthInteger.GetLength(Buffered[0]);
        if (!await EnsureAsync(length, cancellationToken).ConfigureAwait(false))
        {
            throw new Http3ConnectionException(Http3ErrorCode.FrameError, "The stream ends inside a variable-length integer (RFC 9114 §7.1).");
        }

        VariableLengthInteger.TryRead(Buffered, out long value, out int n);
        Consume(n);
        return value;
    }

    /// <summary>Discards <paramref name="count"/> bytes without buffering them all; false when FIN comes first.</summary>
    public async ValueTask<bool> SkipAsync(long count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            if (BufferedLength == 0 && !await ReadMoreAsync(InitialSize, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            int n = (int)Math.Min(count, BufferedLength);
            Consume(n);
            count -= n;
        }

        return true;
    }

    /// <summary>Reads into <paramref name="destination"/>: buffered bytes first, else straight from the stream. 0 at FIN.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (BufferedLength > 0)
        {
            int n = Math.Min(destination.Length, BufferedLength);
            Buffered[..n].CopyTo(destination.Span);
            Consume(n);
            return n;
        }

        if (_fin || destination.IsEmpty)
        {
            return 0;
        }

        int read = await Stream.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            _fin = true;
        }

        return read;
    }

    public void Dispose()
    {
        byte[] buffer = Interlocked.Exchange(ref _buffer, Array.Empty<byte>());
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

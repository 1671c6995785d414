using Switchyard.Transport;

namespace Switchyard.WebTransport.Sessions;

/// <summary>
/// One WebTransport stream of a session (draft-02 §4): a QUIC stream whose WebTransport header (type or signal and
/// session ID) has been consumed or written. Abort codes are WebTransport codes, mapped into the HTTP/3 space.
/// </summary>
public sealed class WebTransportStream : IAsyncDisposable
{
    private readonly IQuicStream _stream;

    internal WebTransportStream(IQuicStream stream, WebTransportSession session, bool isLocal)
    {
        _stream = stream;
        Session = session;
        IsLocallyInitiated = isLocal;
    }

    /// <summary>The QUIC stream ID.</summary>
    public long Id => _stream.Id;

    /// <summary>The session the stream belongs to.</summary>
    public WebTransportSession Session { get; }

    /// <summary>True for a bidirectional stream.</summary>
    public bool IsBidirectional => _stream.Type == QuicStreamType.Bidirectional;

    /// <summary>True when this endpoint opened the stream.</summary>
    public bool IsLocallyInitiated { get; }

    /// <summary>True when this endpoint can read.</summary>
    public bool CanRead => _stream.CanRead;

    /// <summary>True when this endpoint can write.</summary>
    public bool CanWrite => _stream.CanWrite;

    /// <summary>Completes when both halves this endpoint uses are finished.</summary>
    public Task Completion => Task.WhenAll(_stream.ReadsClosed, _stream.WritesClosed).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Reads payload bytes; 0 at the peer's FIN.</summary>
    /// <exception cref="WebTransportStreamException">The peer reset the stream.</exception>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (QuicException e) when (e.QuicError == QuicError.StreamAborted && e.ApplicationErrorCode is long code)
        {
            throw new WebTransportStreamException(code, e);
        }
    }

    /// <summary>Writes payload bytes, waiting under flow control; FIN follows when <paramref name="completeWrites"/>.</summary>
    /// <exception cref="WebTransportStreamException">The peer sent STOP_SENDING.</exception>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, bool completeWrites = false, CancellationToken cancellationToken = default)
    {
        try
        {
            await _stream.WriteAsync(buffer, completeWrites, cancellationToken).ConfigureAwait(false);
        }
        catch (QuicException e) when (e.QuicError == QuicError.StreamAborted && e.ApplicationErrorCode is long code)
        {
            throw new WebTransportStreamException(code, e);
        }
    }

    /// <summary>Sends FIN.</summary>
    public void CompleteWrites() => _stream.CompleteWrites();

    /// <summary>Aborts with a WebTransport application error code (mapped per draft-02 §4.3).</summary>
    public void Abort(QuicAbortDirection direction, uint errorCode) => _stream.Abort(direction, WebTransportErrorCodes.ToHttp3(errorCode));

    /// <summary>Aborts with a raw HTTP/3 code (for session teardown).</summary>
    internal void AbortRaw(QuicAbortDirection direction, long http3Code) => _stream.Abort(direction, http3Code);

    /// <summary>Completes writes and releases the stream.</summary>
    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}

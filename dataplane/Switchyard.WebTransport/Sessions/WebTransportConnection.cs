using System.Collections.Concurrent;
using Switchyard.Http3;
using Switchyard.Http3.Connection;
using Switchyard.Http3.Frames;
using Switchyard.Transport;

namespace Switchyard.WebTransport.Sessions;

/// <summary>
/// The per-connection WebTransport state: claims stream type 0x54 and signal 0x41 from HTTP/3, reads the session ID
/// that follows, and routes the stream to its session, buffering a few for sessions not yet established (draft-02 §4.4).
/// </summary>
internal sealed class WebTransportConnection : IHttp3ConnectionExtension
{
    private readonly ConcurrentDictionary<long, WebTransportSession> _sessions = new();
    private readonly object _bufferLock = new();
    private readonly Dictionary<long, List<IQuicStream>> _buffered = new();
    private int _bufferedCount;
    private int _reservedSessions;
    private volatile bool _closed;

    public WebTransportConnection(Http3Connection connection, WebTransportOptions options)
    {
        Connection = connection;
        Options = options;
    }

    public Http3Connection Connection { get; }

    public WebTransportOptions Options { get; }

    public int SessionCount => _sessions.Count;

    public bool TryAcceptUnidirectionalStream(long streamType, IQuicStream stream)
    {
        if (streamType != WebTransportProtocol.UnidirectionalStreamType)
        {
            return false;
        }

        _ = RouteAsync(stream);
        return true;
    }

    public bool TryAcceptBidirectionalStream(long signal, IQuicStream stream)
    {
        if (signal != WebTransportProtocol.BidirectionalSignal)
        {
            return false;
        }

        _ = RouteAsync(stream);
        return true;
    }

    public void OnConnectionClosed()
    {
        _closed = true;
        foreach (WebTransportSession session in _sessions.Values)
        {
            session.Abandon("The HTTP/3 connection closed.");
        }

        lock (_bufferLock)
        {
            foreach (IQuicStream stream in _buffered.Values.SelectMany(s => s))
            {
                stream.Abort(QuicAbortDirection.Both, WebTransportProtocol.BufferedStreamRejectedErrorCode);
            }

            _buffered.Clear();
            _bufferedCount = 0;
        }
    }

    /// <summary>Reserves a session slot; false when the connection already carries the maximum.</summary>
    public bool TryReserveSession()
    {
        if (Interlocked.Increment(ref _reservedSessions) > Options.MaxSessionsPerConnection)
        {
            Interlocked.Decrement(ref _reservedSessions);
            return false;
        }

        return true;
    }

    /// <summary>Releases a slot reserved for a session that was not established.</summary>
    public void ReleaseReservation(long sessionId)
    {
        Interlocked.Decrement(ref _reservedSessions);
        RejectBuffered(sessionId);
    }

    /// <summary>Registers an established session and hands it the streams that arrived before it.</summary>
    public void Add(WebTransportSession session)
    {
        _sessions[session.Id] = session;
        List<IQuicStream>? early = null;
        lock (_bufferLock)
        {
            if (_buffered.Remove(session.Id, out early))
            {
                _bufferedCount -= early.Count;
            }
        }

        foreach (IQuicStream stream in early ?? [])
        {
            Deliver(session, stream);
        }

        if (_closed)
        {
            session.Abandon("The HTTP/3 connection closed.");
        }
    }

    public void Remove(WebTransportSession session)
    {
        if (_sessions.TryRemove(new KeyValuePair<long, WebTransportSession>(session.Id, session)))
        {
            Interlocked.Decrement(ref _reservedSessions);
        }
    }

    private static void Deliver(WebTransportSession session, IQuicStream stream)
    {
        if (!session.TryAddIncoming(stream))
        {
            stream.Abort(QuicAbortDirection.Both, WebTransportProtocol.BufferedStreamRejectedErrorCode);
        }
    }

    private async Task RouteAsync(IQuicStream stream)
    {
        long sessionId;
        try
        {
            long? id = await ReadVarintExactAsync(stream).ConfigureAwait(false);
            if (id is null)
            {
                // The stream ended before naming its session: nothing to deliver.
                stream.Abort(QuicAbortDirection.Both, (long)Http3ErrorCode.StreamCreationError);
                return;
            }

            sessionId = id.Value;
        }
        catch (QuicException)
        {
            return;
        }

        // Draft-02 §4: the session ID is a client-initiated bidirectional stream ID.
        if (sessionId % 4 != 0)
        {
            await Connection.CloseAsync(Http3ErrorCode.IdError, $"WebTransport stream names session {sessionId}, which is not a client-initiated bidirectional stream (draft-ietf-webtrans-http3-02 §4).").ConfigureAwait(false);
            return;
        }

        if (_sessions.TryGetValue(sessionId, out WebTransportSession? session))
        {
            Deliver(session, stream);
            return;
        }

        // Streams may race ahead of their CONNECT (draft-02 §4.4): buffer a few on the server, whose peer opened the session.
        if (Connection.IsServer && !_closed)
        {
            lock (_bufferLock)
            {
                if (_bufferedCount < Options.MaxBufferedStreams)
                {
                    if (!_buffered.TryGetValue(sessionId, out List<IQuicStream>? list))
                    {
                        _buffered[sessionId] = list = new List<IQuicStream>();
                    }

                    list.Add(stream);
                    _bufferedCount++;
                    return;
                }
            }
        }

        stream.Abort(QuicAbortDirection.Both, WebTransportProtocol.BufferedStreamRejectedErrorCode);
    }

    private void RejectBuffered(long sessionId)
    {
        List<IQuicStream>? early;
        lock (_bufferLock)
        {
            if (!_buffered.Remove(sessionId, out early))
            {
                return;
            }

            _bufferedCount -= early.Count;
        }

        foreach (IQuicStream stream in early)
        {
            stream.Abort(QuicAbortDirection.Both, WebTransportProtocol.BufferedStreamRejectedErrorCode);
        }
    }

    /// <summary>Reads one variable-length integer without reading past it, so the stream payload stays untouched.</summary>
    private static async Task<long?> ReadVarintExactAsync(IQuicStream stream)
    {
        byte[] bytes = new byte[8];
        if (!await ReadExactAsync(stream, bytes.AsMemory(0, 1)).ConfigureAwait(false))
        {
            return null;
        }

        int length = VariableLengthInteger.GetLength(bytes[0]);
        if (length > 1 && !await ReadExactAsync(stream, bytes.AsMemory(1, length - 1)).ConfigureAwait(false))
        {
            return null;
        }

        VariableLengthInteger.TryRead(bytes.AsSpan(0, length), out long value, out _);
        return value;
    }

    private static async Task<bool> ReadExactAsync(IQuicStream stream, Memory<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int n = await stream.ReadAsync(destination).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            destination = destination[n..];
        }

        return true;
    }
}

using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Switchyard.Http3;
using Switchyard.Http3.Connection;
using Switchyard.Http3.Frames;
using Switchyard.Transport;
using Switchyard.WebTransport.Capsules;

namespace Switchyard.WebTransport.Sessions;

/// <summary>
/// One WebTransport session (draft-ietf-webtrans-http3-02): the extended CONNECT that opened it, the streams and
/// datagrams that carry its session ID, and the capsules on its CONNECT stream. The session ID is the CONNECT stream ID.
/// </summary>
public sealed class WebTransportSession : IAsyncDisposable
{
    private readonly WebTransportConnection _owner;
    private readonly IConnectStream _connect;
    private readonly WebTransportOptions _options;
    private readonly Channel<WebTransportStream> _incoming = Channel.CreateUnbounded<WebTransportStream>();
    private readonly Channel<ReadOnlyMemory<byte>> _datagrams;
    private readonly ConcurrentDictionary<long, WebTransportStream> _streams = new();
    private readonly TaskCompletionSource<WebTransportCloseInfo> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _drain = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private IDisposable? _datagramRegistration;
    private Task _readLoop = Task.CompletedTask;
    private int _incomingOpen;
    private int _finSent;
    private int _localClose;

    internal WebTransportSession(WebTransportConnection owner, long id, IConnectStream connect, string? path, string? authority, string? origin, IReadOnlyList<HeaderField> headers)
    {
        _owner = owner;
        _connect = connect;
        _options = owner.Options;
        Id = id;
        Path = path ?? string.Empty;
        Authority = authority ?? string.Empty;
        Origin = origin;
        Headers = headers;
        _datagrams = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(Math.Max(1, _options.DatagramQueueLength)) { FullMode = BoundedChannelFullMode.DropWrite });
    }

    /// <summary>The session ID: the stream ID of the CONNECT request (draft-02 §2).</summary>
    public long Id { get; }

    /// <summary>The CONNECT <c>:path</c>.</summary>
    public string Path { get; }

    /// <summary>The CONNECT <c>:authority</c>.</summary>
    public string Authority { get; }

    /// <summary>The <c>origin</c> header of the CONNECT, if any.</summary>
    public string? Origin { get; }

    /// <summary>The CONNECT request's regular headers (server side) or the response's (client side).</summary>
    public IReadOnlyList<HeaderField> Headers { get; }

    /// <summary>The HTTP/3 connection carrying the session.</summary>
    public Http3Connection Connection => _owner.Connection;

    /// <summary>Completes when the session has ended, saying how.</summary>
    public Task<WebTransportCloseInfo> Closed => _closed.Task;

    /// <summary>Completes when the peer sent DRAIN_WEBTRANSPORT_SESSION: it asks for a graceful end.</summary>
    public Task DrainRequested => _drain.Task;

    /// <summary>True once the session has ended.</summary>
    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>Largest payload <see cref="TrySendDatagram"/> can send now (0 when datagrams are not negotiated).</summary>
    public int MaxDatagramPayloadSize => Connection.DatagramsEnabled
        ? Math.Max(0, Connection.Quic.MaxDatagramPayloadSize - VariableLengthInteger.GetByteCount(Id / 4))
        : 0;

    /// <summary>Peer-opened streams of this session currently open.</summary>
    public int IncomingStreamCount => Volatile.Read(ref _incomingOpen);

    /// <summary>Waits for the next stream the peer opens in this session (unidirectional or bidirectional).</summary>
    /// <exception cref="WebTransportSessionException">The session ended.</exception>
    public async ValueTask<WebTransportStream> AcceptStreamAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _incoming.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new WebTransportSessionException("The session has ended.");
        }
    }

    /// <summary>Opens a unidirectional stream: stream type 0x54 and the session ID are written first (draft-02 §4.1).</summary>
    public ValueTask<WebTransportStream> OpenUnidirectionalStreamAsync(CancellationToken cancellationToken = default) =>
        OpenStreamAsync(QuicStreamType.Unidirectional, WebTransportProtocol.UnidirectionalStreamType, cancellationToken);

    /// <summary>Opens a bidirectional stream: signal 0x41 and the session ID are written first (draft-02 §4.2).</summary>
    public ValueTask<WebTransportStream> OpenBidirectionalStreamAsync(CancellationToken cancellationToken = default) =>
        OpenStreamAsync(QuicStreamType.Bidirectional, WebTransportProtocol.BidirectionalSignal, cancellationToken);

    /// <summary>Sends a datagram (RFC 9297 §2.1, quarter stream ID = session ID / 4). False when it does not fit or the session ended.</summary>
    public bool TrySendDatagram(ReadOnlySpan<byte> payload) => !IsClosed && Connection.TrySendDatagram(Id, payload);

    /// <summary>Waits for the next datagram of this session.</summary>
    /// <exception cref="WebTransportSessionException">The session ended.</exception>
    public async ValueTask<ReadOnlyMemory<byte>> ReceiveDatagramAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _datagrams.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new WebTransportSessionException("The session has ended.");
        }
    }

    /// <summary>Asks the peer to end the session gracefully: DRAIN_WEBTRANSPORT_SESSION.</summary>
    public async ValueTask DrainAsync(CancellationToken cancellationToken = default)
    {
        var capsule = new ArrayBufferWriter<byte>();
        CapsuleParser.WriteDrain(capsule);
        await WriteCapsuleAsync(capsule.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the session (draft-02 §5): sends CLOSE_WEBTRANSPORT_SESSION with <paramref name="errorCode"/> and
    /// <paramref name="reason"/>, then FIN on the CONNECT stream, and resets the session's streams. Idempotent.
    /// </summary>
    public async ValueTask CloseAsync(uint errorCode = 0, string reason = "", CancellationToken cancellationToken = default)
    {
        if (IsClosed || Interlocked.Exchange(ref _localClose, 1) != 0)
        {
            return;
        }

        try
        {
            var capsule = new ArrayBufferWriter<byte>();
            CapsuleParser.WriteClose(capsule, errorCode, reason);
            await WriteCapsuleAsync(capsule.WrittenMemory, cancellationToken).ConfigureAwait(false);
            await SendFinAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is QuicException or Http3StreamException or InvalidOperationException)
        {
            // The CONNECT stream is already gone; the session ends all the same.
        }

        Terminate(new WebTransportCloseInfo(errorCode, reason, ClosedByPeer: false, Abrupt: false));

        // The peer answers with its FIN; if it does not, stop reading after a grace period.
        _ = Task.Delay(_options.CloseTimeout).ContinueWith(
            _ =>
            {
                if (!_readLoop.IsCompleted)
                {
                    _connect.StopReading((long)Http3ErrorCode.NoError);
                    _stop.Cancel();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Closes the session with code 0.</summary>
    public async ValueTask DisposeAsync() => await CloseAsync().ConfigureAwait(false);

    /// <summary>Starts reading capsules and routing datagrams.</summary>
    internal void Start()
    {
        if (Connection.Options.EnableDatagrams)
        {
            _datagramRegistration = Connection.RegisterDatagramHandler(Id, d => _datagrams.Writer.TryWrite(d.ToArray()));
        }

        _readLoop = ReadCapsulesAsync();
    }

    /// <summary>Completes when the CONNECT stream's read side is finished.</summary>
    internal Task ReadLoop => _readLoop;

    /// <summary>Takes a peer-opened stream positioned after its session ID; false when over the limit or closed.</summary>
    internal bool TryAddIncoming(IQuicStream stream)
    {
        if (IsClosed || Interlocked.Increment(ref _incomingOpen) > _options.MaxIncomingStreamsPerSession)
        {
            Interlocked.Decrement(ref _incomingOpen);
            return false;
        }

        var wt = new WebTransportStream(stream, this, isLocal: false);
        Track(wt, incoming: true);
        if (!_incoming.Writer.TryWrite(wt))
        {
            return false;
        }

        return true;
    }

    /// <summary>Ends the session abruptly because the connection or CONNECT stream went away.</summary>
    internal void Abandon(string reason) => Terminate(new WebTransportCloseInfo(0, reason, ClosedByPeer: true, Abrupt: true));

    private async ValueTask<WebTransportStream> OpenStreamAsync(QuicStreamType type, long prefix, CancellationToken cancellationToken)
    {
        if (IsClosed)
        {
            throw new WebTransportSessionException("The session has ended.");
        }

        IQuicStream stream = await Connection.Quic.OpenOutboundStreamAsync(type, cancellationToken).ConfigureAwait(false);
        byte[] header = new byte[16];
        int n = VariableLengthInteger.Write(header, prefix);
        n += VariableLengthInteger.Write(header.AsSpan(n), Id);
        await stream.WriteAsync(header.AsMemory(0, n), false, cancellationToken).ConfigureAwait(false);
        var wt = new WebTransportStream(stream, this, isLocal: true);
        Track(wt, incoming: false);
        if (IsClosed)
        {
            wt.AbortRaw(QuicAbortDirection.Both, WebTransportProtocol.SessionGoneErrorCode);
            throw new WebTransportSessionException("The session has ended.");
        }

        return wt;
    }

    private void Track(WebTransportStream stream, bool incoming)
    {
        _streams[stream.Id] = stream;
        _ = stream.Completion.ContinueWith(
            completed =>
            {
                if (_streams.TryRemove(stream.Id, out _) && incoming)
                {
                    Interlocked.Decrement(ref _incomingOpen);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async ValueTask WriteCapsuleAsync(ReadOnlyMemory<byte> capsule, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _finSent) != 0)
            {
                throw new InvalidOperationException("The CONNECT stream is already finished.");
            }

            await _connect.WriteAsync(capsule, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask SendFinAsync()
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (Interlocked.Exchange(ref _finSent, 1) == 0)
            {
                await _connect.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <remarks>
    /// 1. Read DATA from the CONNECT stream and split it into capsules (RFC 9297 §3.2).
    /// 2. CLOSE ends the session; nothing may follow it but FIN (draft-02 §5). DRAIN is noted; DATAGRAM is queued;
    ///    unknown capsules are skipped whatever their size (RFC 9297 §3.2).
    /// 3. FIN without CLOSE ends the session with code 0; a reset ends it abruptly.
    /// </remarks>
    private async Task ReadCapsulesAsync()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Min(_options.MaxCapsuleLength + 32, 4096));
        int start = 0, end = 0;
        long skip = 0;
        bool closeReceived = false;
        try
        {
            while (true)
            {
                // :: Step 1
                if (end == buffer.Length)
                {
                    int used = end - start;
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, used);
                    }
                    else
                    {
                        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxCapsuleLength + 32));
                        if (bigger.Length <= buffer.Length)
                        {
                            throw new Http3StreamException(Http3ErrorCode.ExcessiveLoad, "A capsule exceeds the configured limit (RFC 9297 §3.2).");
                        }

                        Buffer.BlockCopy(buffer, 0, bigger, 0, used);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    start = 0;
                    end = used;
                }

                int n = await _connect.ReadAsync(buffer.AsMemory(end), _stop.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    // :: Step 3
                    if (end > start || skip > 0)
                    {
                        throw new Http3StreamException(Http3ErrorCode.MessageError, "The CONNECT stream ends inside a capsule (RFC 9297 §3.3).");
                    }

                    if (!closeReceived)
                    {
                        Terminate(new WebTransportCloseInfo(0, string.Empty, ClosedByPeer: true, Abrupt: false));
                    }

                    await SendFinAsync().ConfigureAwait(false);
                    return;
                }

                end += n;
                if (closeReceived)
                {
                    throw new Http3StreamException(Http3ErrorCode.MessageError, "Data after CLOSE_WEBTRANSPORT_SESSION (draft-ietf-webtrans-http3-02 §5).");
                }

                // :: Step 2
                while (end > start)
                {
                    if (skip > 0)
                    {
                        int s = (int)Math.Min(skip, end - start);
                        start += s;
                        skip -= s;
                        continue;
                    }

                    if (!CapsuleParser.TryReadHeader(buffer.AsSpan(start, end - start), out long type, out long length, out int headerLength))
                    {
                        break;
                    }

                    bool known = type is WebTransportProtocol.CloseSessionCapsule or WebTransportProtocol.DrainSessionCapsule or WebTransportProtocol.DatagramCapsule;
                    if (!known)
                    {
                        start += headerLength;
                        skip = length;
                        continue;
                    }

                    if (length > _options.MaxCapsuleLength)
                    {
                        throw new Http3StreamException(Http3ErrorCode.ExcessiveLoad, $"Capsule 0x{type:x} of {length} bytes exceeds the limit of {_options.MaxCapsuleLength} (RFC 9297 §3.2).");
                    }

                    if (end - start < headerLength + length)
                    {
                        break;
                    }

                    ReadOnlySpan<byte> value = buffer.AsSpan(start + headerLength, (int)length);
                    start += headerLength + (int)length;
                    switch (type)
                    {
                        case WebTransportProtocol.CloseSessionCapsule:
                            (uint code, string reason) = CapsuleParser.ParseClose(value);
                            if (end > start)
                            {
                                throw new Http3StreamException(Http3ErrorCode.MessageError, "Data after CLOSE_WEBTRANSPORT_SESSION (draft-ietf-webtrans-http3-02 §5).");
                            }

                            closeReceived = true;
                            Terminate(new WebTransportCloseInfo(code, reason, ClosedByPeer: true, Abrupt: false));
                            await SendFinAsync().ConfigureAwait(false);
                            break;
                        case WebTransportProtocol.DrainSessionCapsule:
                            _drain.TrySetResult();
                            break;
                        default:
                            _datagrams.Writer.TryWrite(value.ToArray());
                            break;
                    }
                }

                if (start == end)
                {
                    start = end = 0;
                }
            }
        }
        catch (Http3StreamException e)
        {
            _connect.Abort((long)e.ErrorCode);
            Terminate(new WebTransportCloseInfo(0, e.Message, ClosedByPeer: true, Abrupt: true));
        }
        catch (Exception e) when (e is QuicException or Http3ConnectionException or OperationCanceledException or InvalidOperationException)
        {
            Terminate(new WebTransportCloseInfo(0, e.Message, ClosedByPeer: true, Abrupt: true));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Terminate(WebTransportCloseInfo info)
    {
        if (!_closed.TrySetResult(info))
        {
            return;
        }

        // Closing a session resets all its streams (draft-02 §5).
        foreach (WebTransportStream stream in _streams.Values)
        {
            stream.AbortRaw(QuicAbortDirection.Both, WebTransportProtocol.SessionGoneErrorCode);
        }

        _streams.Clear();
        _incoming.Writer.TryComplete();
        while (_incoming.Reader.TryRead(out WebTransportStream? pending))
        {
            pending.AbortRaw(QuicAbortDirection.Both, WebTransportProtocol.SessionGoneErrorCode);
        }

        _datagrams.Writer.TryComplete();
        _datagramRegistration?.Dispose();
        _owner.Remove(this);
    }
}

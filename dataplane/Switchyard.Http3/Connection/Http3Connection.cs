using System.Buffers;
using System.Collections.Concurrent;
using Switchyard.Http3.Frames;
using Switchyard.Http3.Qpack;
using Switchyard.Transport;

namespace Switchyard.Http3.Connection;

/// <summary>
/// What HTTP/3 server and client connections share (RFC 9114 §6): the control streams and their SETTINGS, the QPACK
/// encoder and decoder streams (RFC 9204 §4.2), GOAWAY, HTTP datagrams (RFC 9297) and the hooks extensions use.
/// </summary>
/// <remarks>
/// Errors are typed by scope: an <see cref="Http3ConnectionException"/> raised anywhere closes the QUIC connection with
/// its code; an <see cref="Http3StreamException"/> resets one stream.
/// </remarks>
public abstract class Http3Connection : IAsyncDisposable
{
    private readonly TaskCompletionSource<Http3Settings> _peerSettings = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<long, Action<ReadOnlyMemory<byte>>> _datagramHandlers = new();
    private readonly SemaphoreSlim _controlLock = new(1, 1);
    private readonly SemaphoreSlim _decoderLock = new(1, 1);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly List<IHttp3ConnectionExtension> _extensions = new();
    private IQuicStream? _controlStream;
    private IQuicStream? _encoderStream;
    private IQuicStream? _decoderStream;
    private int _peerControlStream;
    private int _peerEncoderStream;
    private int _peerDecoderStream;
    private int _closing;
    private long _peerMaxPushId = -1;

    /// <summary>Creates the connection; <see cref="StartAsync"/> opens its streams.</summary>
    protected Http3Connection(IQuicConnection quic, Http3ConnectionOptions options, bool isServer)
    {
        ArgumentNullException.ThrowIfNull(quic);
        ArgumentNullException.ThrowIfNull(options);
        Quic = quic;
        Options = options;
        IsServer = isServer;
        Decoder = new QpackDecoder(options.QpackMaxTableCapacity, options.QpackBlockedStreams, options.MaxFieldSectionSize);
        foreach (Http3ExtensionFactory factory in options.Extensions)
        {
            _extensions.Add(factory(this));
        }
    }

    /// <summary>The QUIC connection underneath.</summary>
    public IQuicConnection Quic { get; }

    /// <summary>This connection's settings and limits.</summary>
    public Http3ConnectionOptions Options { get; }

    /// <summary>True on the server side.</summary>
    public bool IsServer { get; }

    /// <summary>Completes with the peer's SETTINGS once its control stream delivered them (RFC 9114 §6.2.1).</summary>
    public Task<Http3Settings> PeerSettings => _peerSettings.Task;

    /// <summary>Completes when the connection has closed; <see cref="CloseError"/> then says why, when it was an error.</summary>
    public Task Closed => _closed.Task;

    /// <summary>The connection error that closed the connection, if this side detected one.</summary>
    public Http3ConnectionException? CloseError { get; private set; }

    /// <summary>The error code the peer closed the connection with, if it did.</summary>
    public long? PeerCloseErrorCode { get; private set; }

    /// <summary>The stream ID the peer sent in GOAWAY (RFC 9114 §5.2), or null.</summary>
    public long? PeerGoAwayId { get; private set; }

    /// <summary>True when both sides enabled HTTP datagrams (RFC 9297 §2.1.1) and the transport can carry them.</summary>
    public bool DatagramsEnabled => Options.EnableDatagrams && _peerSettings.Task.IsCompletedSuccessfully && _peerSettings.Task.Result.H3Datagram && Quic.MaxDatagramPayloadSize > 0;

    /// <summary>Cancelled when the connection closes.</summary>
    public CancellationToken ConnectionClosing => _shutdown.Token;

    internal QpackDecoder Decoder { get; }

    /// <summary>The per-connection instance of an extension, or null when none of type <typeparamref name="T"/> is configured.</summary>
    public T? GetExtension<T>()
        where T : class => _extensions.OfType<T>().FirstOrDefault();

    /// <summary>
    /// Sends an HTTP datagram for the request stream <paramref name="streamId"/>: a QUIC DATAGRAM carrying the
    /// quarter stream ID and the payload (RFC 9297 §2.1). False when datagrams are not negotiated or the frame does not fit.
    /// </summary>
    public bool TrySendDatagram(long streamId, ReadOnlySpan<byte> payload)
    {
        if (!DatagramsEnabled)
        {
            return false;
        }

        long quarter = streamId / 4;
        int prefix = VariableLengthInteger.GetByteCount(quarter);
        int total = prefix + payload.Length;
        if (total > Quic.MaxDatagramPayloadSize)
        {
            return false;
        }

        byte[]? rented = null;
        Span<byte> frame = total <= 1500 ? stackalloc byte[total] : (rented = ArrayPool<byte>.Shared.Rent(total)).AsSpan(0, total);
        try
        {
            VariableLengthInteger.Write(frame, quarter);
            payload.CopyTo(frame[prefix..]);
            return Quic.TrySendDatagram(frame);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Routes HTTP datagrams for <paramref name="streamId"/> to <paramref name="handler"/> until the returned handle is
    /// disposed. Datagrams for streams without a handler are dropped (RFC 9297 §2.1 allows it).
    /// </summary>
    public IDisposable RegisterDatagramHandler(long streamId, Action<ReadOnlyMemory<byte>> handler)
    {
        if (!_datagramHandlers.TryAdd(streamId, handler))
        {
            throw new InvalidOperationException($"A datagram handler is already registered for stream {streamId}.");
        }

        return new Registration(() => _datagramHandlers.TryRemove(new KeyValuePair<long, Action<ReadOnlyMemory<byte>>>(streamId, handler)));
    }

    /// <summary>Closes the connection with an error code (RFC 9114 §5.2, §8).</summary>
    public async ValueTask CloseAsync(Http3ErrorCode errorCode, string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        if (errorCode != Http3ErrorCode.NoError)
        {
            CloseError ??= new Http3ConnectionException(errorCode, reason);
        }

        try
        {
            await Quic.CloseAsync((long)errorCode).ConfigureAwait(false);
        }
        catch (QuicException)
        {
            // Already closed by the peer.
        }

        OnClosed();
    }

    /// <summary>Closes the connection with H3_NO_ERROR.</summary>
    public virtual async ValueTask DisposeAsync()
    {
        await CloseAsync(Http3ErrorCode.NoError, "disposed").ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Opens our control stream with SETTINGS and the QPACK encoder and decoder streams (RFC 9114 §6.2.1, RFC 9204 §4.2),
    /// then starts accepting the peer's streams and datagrams.
    /// </summary>
    protected async Task StartAsync(CancellationToken cancellationToken)
    {
        _controlStream = await Quic.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, cancellationToken).ConfigureAwait(false);
        var control = new ArrayBufferWriter<byte>();
        VariableLengthInteger.Write(control, (long)Http3StreamType.Control);
        Http3FrameWriter.WriteSettings(control, BuildSettings());
        await _controlStream.WriteAsync(control.WrittenMemory, false, cancellationToken).ConfigureAwait(false);

        _encoderStream = await Quic.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, cancellationToken).ConfigureAwait(false);
        await _encoderStream.WriteAsync(VariableLengthInteger.Encode((long)Http3StreamType.QpackEncoder), false, cancellationToken).ConfigureAwait(false);
        _decoderStream = await Quic.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, cancellationToken).ConfigureAwait(false);
        await _decoderStream.WriteAsync(VariableLengthInteger.Encode((long)Http3StreamType.QpackDecoder), false, cancellationToken).ConfigureAwait(false);

        _ = AcceptLoopAsync();
        if (Options.EnableDatagrams)
        {
            _ = DatagramLoopAsync();
        }
    }

    /// <summary>Handles a bidirectional stream the peer opened: a request on the server, an extension's or an error on the client.</summary>
    private protected abstract Task HandleBidirectionalStreamAsync(IQuicStream stream);

    /// <summary>Called when the peer's GOAWAY arrives, after validation.</summary>
    private protected virtual void OnGoAwayReceived(long id)
    {
    }

    /// <summary>Sends GOAWAY on our control stream (RFC 9114 §5.2, §7.2.6).</summary>
    private protected async ValueTask SendGoAwayAsync(long id)
    {
        var frame = new ArrayBufferWriter<byte>();
        Http3FrameWriter.WriteIdFrame(frame, Http3FrameType.GoAway, id);
        await _controlLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_controlStream is not null)
            {
                await _controlStream.WriteAsync(frame.WrittenMemory, false).ConfigureAwait(false);
            }
        }
        finally
        {
            _controlLock.Release();
        }
    }

    /// <summary>Offers a bidirectional stream to the extensions; true when one took it (it then owns the stream).</summary>
    private protected bool OfferBidirectionalToExtensions(long signal, Http3StreamReader reader)
    {
        foreach (IHttp3ConnectionExtension extension in _extensions)
        {
            var handoff = new PrefixedQuicStream(reader.Stream, reader.Buffered.ToArray(), reader.IsFinished);
            if (extension.TryAcceptBidirectionalStream(signal, handoff))
            {
                reader.Consume(reader.BufferedLength);
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Decodes a field section for <paramref name="streamId"/>, waiting while it is blocked on the dynamic table, and
    /// acknowledges it on our decoder stream when it referenced the table (RFC 9204 §2.2.2, §4.4.1).
    /// </summary>
    internal async ValueTask<List<HeaderField>> DecodeFieldSectionAsync(long streamId, ReadOnlyMemory<byte> section, CancellationToken cancellationToken)
    {
        var fields = new List<HeaderField>();
        while (true)
        {
            QpackDecodeStatus status;
            long required;
            try
            {
                status = Decoder.DecodeFieldSection(section.Span, fields, out required);
            }
            catch (QpackFieldSectionTooLargeException tooLarge) when (tooLarge.RequiredInsertCount > 0)
            {
                await SendDecoderInstructionAsync(w => QpackDecoder.WriteSectionAcknowledgment(w, streamId)).ConfigureAwait(false);
                throw;
            }

            if (status == QpackDecodeStatus.Completed)
            {
                if (required > 0)
                {
                    await SendDecoderInstructionAsync(w => QpackDecoder.WriteSectionAcknowledgment(w, streamId)).ConfigureAwait(false);
                }

                return fields;
            }

            fields.Clear();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
            await Decoder.WaitForInsertCountAsync(required, linked.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Tells the peer's encoder a stream was abandoned (RFC 9204 §4.4.2); only meaningful when it may use the table.</summary>
    internal void CancelStreamForQpack(long streamId)
    {
        if (Options.QpackMaxTableCapacity > 0 && _closing == 0)
        {
            _ = SendDecoderInstructionAsync(w => QpackDecoder.WriteStreamCancellation(w, streamId)).AsTask();
        }
    }

    /// <summary>Runs a stream task, turning connection errors into a connection close.</summary>
    private protected async Task GuardAsync(Func<Task> body)
    {
        try
        {
            await body().ConfigureAwait(false);
        }
        catch (Http3ConnectionException e)
        {
            await CloseAsync(e.ErrorCode, e.Message).ConfigureAwait(false);
        }
        catch (QuicException)
        {
            // The connection or stream went away; the close path reports it.
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async ValueTask SendDecoderInstructionAsync(Action<ArrayBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        await _decoderLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_decoderStream is not null && _closing == 0)
            {
                await _decoderStream.WriteAsync(buffer.WrittenMemory, false).ConfigureAwait(false);
            }
        }
        catch (QuicException)
        {
        }
        finally
        {
            _decoderLock.Release();
        }
    }

    private IEnumerable<KeyValuePair<long, long>> BuildSettings()
    {
        var settings = new List<KeyValuePair<long, long>>();
        if (Options.QpackMaxTableCapacity > 0)
        {
            settings.Add(new(Http3SettingId.QpackMaxTableCapacity, Options.QpackMaxTableCapacity));
            settings.Add(new(Http3SettingId.QpackBlockedStreams, Options.QpackBlockedStreams));
        }

        settings.Add(new(Http3SettingId.MaxFieldSectionSize, Options.MaxFieldSectionSize));
        if (Options.EnableExtendedConnect)
        {
            settings.Add(new(Http3SettingId.EnableConnectProtocol, 1));
        }

        if (Options.EnableDatagrams)
        {
            settings.Add(new(Http3SettingId.H3Datagram, 1));
        }

        foreach (KeyValuePair<long, long> extra in Options.AdditionalSettings)
        {
            if (!settings.Any(s => s.Key == extra.Key))
            {
                settings.Add(extra);
            }
        }

        if (Options.SendGreaseSetting)
        {
            // A reserved identifier 0x1f * N + 0x21 (RFC 9114 §7.2.4.1).
            long n = Random.Shared.Next(1, 1000);
            settings.Add(new((0x1f * n) + 0x21, Random.Shared.Next(0, 1 << 14)));
        }

        return settings;
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            IQuicStream stream;
            try
            {
                stream = await Quic.AcceptInboundStreamAsync(_shutdown.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is QuicException or OperationCanceledException or ObjectDisposedException)
            {
                if (e is QuicException { QuicError: QuicError.ConnectionAborted } aborted)
                {
                    PeerCloseErrorCode = aborted.ApplicationErrorCode;
                }

                OnClosed();
                return;
            }

            if (stream.Type == QuicStreamType.Unidirectional)
            {
                _ = GuardAsync(() => HandleUnidirectionalStreamAsync(stream));
            }
            else
            {
                _ = HandleBidirectionalStreamAsync(stream);
            }
        }
    }

    private async Task HandleUnidirectionalStreamAsync(IQuicStream stream)
    {
        var reader = new Http3StreamReader(stream);
        bool handedOff = false;
        try
        {
            long? type = await reader.ReadVarintAsync(_shutdown.Token).ConfigureAwait(false);
            if (type is null)
            {
                return;
            }

            switch (type.Value)
            {
                case (long)Http3StreamType.Control:
                    if (Interlocked.Exchange(ref _peerControlStream, 1) != 0)
                    {
                        throw new Http3ConnectionException(Http3ErrorCode.StreamCreationError, "A second control stream was opened (RFC 9114 §6.2.1).");
                    }

                    await ProcessControlStreamAsync(reader).ConfigureAwait(false);
                    return;
                case (long)Http3StreamType.QpackEncoder:
                    if (Interlocked.Exchange(ref _peerEncoderStream, 1) != 0)
                    {
                        throw new Http3ConnectionException(Http3ErrorCode.StreamCreationError, "A second QPACK encoder stream was opened (RFC 9204 §4.2).");
                    }

                    await ProcessEncoderStreamAsync(reader).ConfigureAwait(false);
                    return;
                case (long)Http3StreamType.QpackDecoder:
                    if (Interlocked.Exchange(ref _peerDecoderStream, 1) != 0)
                    {
                        throw new Http3ConnectionException(Http3ErrorCode.StreamCreationError, "A second QPACK decoder stream was opened (RFC 9204 §4.2).");
                    }

                    await ProcessDecoderStreamAsync(reader).ConfigureAwait(false);
                    return;
                case (long)Http3StreamType.Push:
                    if (IsServer)
                    {
                        throw new Http3ConnectionException(Http3ErrorCode.StreamCreationError, "A client opened a push stream (RFC 9114 §6.2.2).");
                    }

                    throw new Http3ConnectionException(Http3ErrorCode.IdError, "The server opened a push stream, but no MAX_PUSH_ID was sent (RFC 9114 §4.6).");
                default:
                    foreach (IHttp3ConnectionExtension extension in _extensions)
                    {
                        var handoff = new PrefixedQuicStream(stream, reader.Buffered.ToArray(), reader.IsFinished);
                        if (extension.TryAcceptUnidirectionalStream(type.Value, handoff))
                        {
                            handedOff = true;
                            return;
                        }
                    }

                    // §6.2: unknown stream types are ignored; reading stops with H3_STREAM_CREATION_ERROR.
                    stream.Abort(QuicAbortDirection.Read, (long)Http3ErrorCode.StreamCreationError);
                    return;
            }
        }
        finally
        {
            reader.Dispose();
            if (!handedOff)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task ProcessControlStreamAsync(Http3StreamReader reader)
    {
        // Read without the closing token: frames the peer sent before closing (a final GOAWAY) are still processed,
        // and the transport ends the read when the connection is gone.
        bool first = true;
        try
        {
            while (true)
            {
                long? type = await reader.ReadVarintAsync(CancellationToken.None).ConfigureAwait(false);
                if (type is null)
                {
                    throw new Http3ConnectionException(Http3ErrorCode.ClosedCriticalStream, "The peer closed its control stream (RFC 9114 §6.2.1).");
                }

                long? length = await reader.ReadVarintAsync(CancellationToken.None).ConfigureAwait(false)
                    ?? throw new Http3ConnectionException(Http3ErrorCode.FrameError, "The control stream ends inside a frame header (RFC 9114 §7.1).");

                if (first && type != (long)Http3FrameType.Settings)
                {
                    throw new Http3ConnectionException(Http3ErrorCode.MissingSettings, $"The control stream starts with frame type 0x{type:x}, not SETTINGS (RFC 9114 §6.2.1).");
                }

                bool known = type is (long)Http3FrameType.Settings or (long)Http3FrameType.GoAway or (long)Http3FrameType.MaxPushId or (long)Http3FrameType.CancelPush;
                if (type is (long)Http3FrameType.Data or (long)Http3FrameType.Headers or (long)Http3FrameType.PushPromise || Http3FrameReader.IsReservedHttp2FrameType(type.Value))
                {
                    throw new Http3ConnectionException(Http3ErrorCode.FrameUnexpected, $"Frame type 0x{type:x} is not allowed on the control stream (RFC 9114 §7.2).");
                }

                if (!known)
                {
                    // §9: unknown frame types are ignored.
                    if (!await reader.SkipAsync(length.Value, CancellationToken.None).ConfigureAwait(false))
                    {
                        throw new Http3ConnectionException(Http3ErrorCode.ClosedCriticalStream, "The peer closed its control stream (RFC 9114 §6.2.1).");
                    }

                    continue;
                }

                if (length.Value > Options.MaxControlFramePayload)
                {
                    throw new Http3ConnectionException(Http3ErrorCode.ExcessiveLoad, $"A control frame of {length} bytes exceeds the limit of {Options.MaxControlFramePayload} (RFC 9114 §10.5).");
                }

                if (!await reader.EnsureAsync((int)length.Value, CancellationToken.None).ConfigureAwait(false))
                {
                    throw new Http3ConnectionException(Http3ErrorCode.ClosedCriticalStream, "The peer closed its control stream inside a frame (RFC 9114 §6.2.1).");
                }

                var payload = new ReadOnlySequence<byte>(reader.BufferedMemory[..(int)length.Value]);
                switch (type.Value)
                {
                    case (long)Http3FrameType.Settings:
                        if (!first)
                        {
                            throw new Http3ConnectionException(Http3ErrorCode.FrameUnexpected, "A second SETTINGS frame arrived (RFC 9114 §7.2.4).");
                        }

                        _peerSettings.TrySetResult(Http3Settings.Parse(payload));
                        first = false;
                        break;
                    case (long)Http3FrameType.GoAway:
                        HandleGoAway(ReadSingleVarint(payload, "GOAWAY"));
                        break;
                    case (long)Http3FrameType.MaxPushId:
                        if (!IsServer)
                        {
                            throw new Http3ConnectionException(Http3ErrorCode.FrameUnexpected, "A server sent MAX_PUSH_ID (RFC 9114 §7.2.7).");
                        }

                        long maxPushId = ReadSingleVarint(payload, "MAX_PUSH_ID");
                        if (maxPushId < _peerMaxPushId)
                        {
                            throw new Http3ConnectionException(Http3ErrorCode.IdError, "MAX_PUSH_ID decreased (RFC 9114 §7.2.7).");
                        }

                        _peerMaxPushId = maxPushId;
                        break;
                    case (long)Http3FrameType.CancelPush:
                        long pushId = ReadSingleVarint(payload, "CANCEL_PUSH");
                        throw new Http3ConnectionException(Http3ErrorCode.IdError, $"CANCEL_PUSH for push ID {pushId}, which was never promised (RFC 9114 §7.2.3).");
                }

                reader.Consume((int)length.Value);
            }
        }
        catch (QuicException e) when (e.QuicError == QuicError.StreamAborted)
        {
            throw new Http3ConnectionException(Http3ErrorCode.ClosedCriticalStream, "The peer reset its control stream (RFC 9114 §6.2.1).");
        }
    }

    private void HandleGoAway(long id)
    {
        // §5.2: from a server, the ID is a client-initiated bidirectional stream ID; it never increases.
        if (!IsServer && id % 4 != 0)
        {
            throw new Http3ConnectionException(Http3ErrorCode.IdError, $"GOAWAY carries {id}, which is not a client-initiated bidirectional stream ID (RFC 9114 §5.2).");
        }

        if (PeerGoAwayId is long previous && id > previous)
        {
            throw new Http3ConnectionException(Http3ErrorCode.IdError, $"GOAWAY increased from {previous} to {id} (RFC 9114 §5.2).");
        }

        PeerGoAwayId = id;
        OnGoAwayReceived(id);
    }

    private static long ReadSingleVarint(ReadOnlySequence<byte> payload, string frame)
    {
        var reader = new SequenceReader<byte>(payload);
        if (!VariableLengthInteger.TryRead(ref reader, out long value) || !reader.End)
        {
            throw new Http3ConnectionException(Http3ErrorCode.FrameError, $"{frame} payload must be exactly one variable-length integer (RFC 9114 §7.1, §7.2).");
        }

        return value;
    }

    private async Task ProcessEncoderStreamAsync(Http3StreamReader reader)
    {
        int limit = Math.Max(1024, (Options.QpackMaxTableCapacity * 2) + 64);
        try
        {
            while (true)
            {
                // Bytes read together with the stream type are already buffered: process them before waiting.
                if (reader.BufferedLength == 0 && !await reader.ReadMoreAsync(limit, _shutdown.Token).ConfigureAwait(false))
                {
                    throw new Http3ConnectionException(Http3ErrorCode.ClosedCriticalStream, "The peer closed its QPACK encoder stream (RFC 9204 §4.2).");
                }

                int consumed = Decoder.ProcessEncoderInstructions(reader.Buffered);
                reader.Consume(consumed);
                if (reader.BufferedLength >= limit)
                {
                    throw new Http3ConnectionException(Http3ErrorCode.QpackEncoderStreamError, "An encoder instruction is larger than any valid one (RFC 9204 §4.3).");
                }

                if (consumed > 0)
                {
                    await SendDecoderInstructionAsync(w => Decoder.WriteInsertCountIncrement(w)).ConfigureAwait(false);
                }
                else if (!await reader.ReadMoreAsync(limit, _shutdown.Token).ConfigureAwait(false))
                {
                    throw new Http3ConnectionException(Http3ErrorCode.ClosedCriticalStream, "The peer closed its QPACK encoder stream (RFC 9204 §4.2).");
                }
            }
        }
        catch (InvalidOperationException)
        {
            throw new Http3ConnectionException(Http3ErrorCode.QpackEncoderStreamError, "An encoder instruction is larger than any valid one (RFC 9204 §4.3).");
        }
        catch (QuicException e) when (e.QuicError == QuicError.StreamAborted)
        {
            throw new Http3ConnectionException(Http3ErrorCode.ClosedCriticalStream, "The peer reset its QPACK encoder stream (RFC 9204 §4.2).");
        }
    }

    private async Task ProcessDecoderStreamAsync(Http3StreamReader reader)
    {
        const Http3ErrorCode code = Http3ErrorCode.QpackDecoderStreamError;
        try
        {
            bool first = true;
            while (true)
            {
                // Bytes read together with the stream type are already buffered: process them before waiting.
                if (!(first && reader.BufferedLength > 0) && !await reader.ReadMoreAsync(64, _shutdown.Token).ConfigureAwait(false))
                {
                    throw new Http3ConnectionException(Http3ErrorCode.ClosedCriticalStream, "The peer closed its QPACK decoder stream (RFC 9204 §4.2).");
                }

                first = false;
                while (reader.BufferedLength > 0)
                {
                    byte instruction = reader.Buffered[0];
                    int prefix = (instruction & 0x80) != 0 ? 7 : 6;
                    if (!QpackPrimitives.TryDecodeInteger(reader.Buffered, prefix, out long value, out int n, code))
                    {
                        if (reader.BufferedLength > 16)
                        {
                            throw new Http3ConnectionException(code, "A decoder instruction is malformed (RFC 9204 §4.4).");
                        }

                        break;
                    }

                    reader.Consume(n);

                    // Our encoder never inserts into the dynamic table, so nothing can be acknowledged (RFC 9204 §4.4.1, §4.4.3).
                    if ((instruction & 0x80) != 0)
                    {
                        throw new Http3ConnectionException(code, $"Section Acknowledgment for stream {value}, which has no unacknowledged section with a non-zero Required Insert Count (RFC 9204 §4.4.1).");
                    }

                    if ((instruction & 0x40) == 0)
                    {
                        throw new Http3ConnectionException(code, $"Insert Count Increment of {value}, but our encoder inserted nothing (RFC 9204 §4.4.3).");
                    }

                    // Stream Cancellation (§4.4.2): nothing to release.
                }
            }
        }
        catch (QuicException e) when (e.QuicError == QuicError.StreamAborted)
        {
            throw new Http3ConnectionException(Http3ErrorCode.ClosedCriticalStream, "The peer reset its QPACK decoder stream (RFC 9204 §4.2).");
        }
    }

    private async Task DatagramLoopAsync()
    {
        while (true)
        {
            ReadOnlyMemory<byte> datagram;
            try
            {
                datagram = await Quic.ReceiveDatagramAsync(_shutdown.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is QuicException or OperationCanceledException or ObjectDisposedException or NotSupportedException)
            {
                return;
            }

            // RFC 9297 §2.1: varint quarter stream ID, then the payload.
            if (!VariableLengthInteger.TryRead(datagram.Span, out long quarter, out int n) || quarter > VariableLengthInteger.MaxValue / 4)
            {
                await CloseAsync(Http3ErrorCode.DatagramError, "An HTTP datagram without a valid quarter stream ID (RFC 9297 §2.1).").ConfigureAwait(false);
                return;
            }

            if (_datagramHandlers.TryGetValue(quarter * 4, out Action<ReadOnlyMemory<byte>>? handler))
            {
                try
                {
                    handler(datagram[n..]);
                }
#pragma warning disable CA1031 // A handler's failure must not end the datagram loop of the whole connection.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }
        }
    }

    private void OnClosed()
    {
        if (_closed.Task.IsCompleted)
        {
            return;
        }

        Interlocked.Exchange(ref _closing, 1);

        _peerSettings.TrySetException(new Http3ConnectionException(Http3ErrorCode.NoError, "The connection closed before SETTINGS arrived."));
        _ = _peerSettings.Task.Exception;
        try
        {
            _shutdown.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        foreach (IHttp3ConnectionExtension extension in _extensions)
        {
            extension.OnConnectionClosed();
        }

        _closed.TrySetResult();
    }

    private sealed class Registration(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
